import { invalidArgument } from '../internal/validate.js';

/** The table prefix when none is given. */
export const DEFAULT_TABLE_PREFIX = 'revocable_';

/** The names of a store's tables under one prefix. */
export interface TableNames {
  readonly schema: string;
  readonly sessions: string;
  readonly subjects: string;
  readonly log: string;
}

/**
 * Checks a table prefix and returns the table names. The prefix is pasted into SQL (identifiers
 * cannot be bound as parameters), so only letters, digits and underscores pass; `sqlite_` is
 * refused because SQLite reserves those names.
 */
export function tableNames(prefix: unknown): TableNames {
  if (
    typeof prefix !== 'string' ||
    !/^(?:[A-Za-z_][A-Za-z0-9_]{0,39})?$/.test(prefix) ||
    prefix.toLowerCase().startsWith('sqlite_')
  ) {
    throw invalidArgument(
      'tablePrefix must be at most 40 letters, digits and underscores, not starting with a digit or sqlite_.',
    );
  }
  return {
    schema: `${prefix}schema`,
    sessions: `${prefix}sessions`,
    subjects: `${prefix}subjects`,
    log: `${prefix}log`,
  };
}

/**
 * The schema as numbered steps: step `i` takes a database from version `i` to `i + 1`. A released
 * step is never edited; a change is a new step, so every database reaches the same shape by the
 * same path. Times are REAL (epoch seconds, fractions kept exactly as doubles); JSON is TEXT.
 * STRICT tables make SQLite refuse a value of the wrong type instead of storing it as it comes.
 * The log's `seq` is AUTOINCREMENT so that a position is never handed out twice, even after prune
 * deleted the newest rows (a plain rowid would reuse them and a follower would skip events).
 */
export function migrationSteps(tables: TableNames): readonly string[] {
  const { sessions, subjects, log } = tables;
  return [
    `CREATE TABLE ${sessions} (
       sid TEXT PRIMARY KEY,
       sub TEXT NOT NULL,
       created_at REAL NOT NULL,
       last_seen_at REAL NOT NULL,
       idle_expires_at REAL NOT NULL,
       absolute_expires_at REAL NOT NULL,
       auth_time REAL NOT NULL,
       device TEXT,
       ip TEXT,
       user_agent TEXT,
       claims TEXT NOT NULL,
       refresh_hash TEXT NOT NULL,
       previous_hash TEXT,
       rotated_at REAL,
       spent_hashes TEXT NOT NULL,
       revoked_at REAL,
       revoked_reason TEXT
     ) STRICT;
     CREATE INDEX ${sessions}_sub ON ${sessions} (sub, created_at);
     CREATE TABLE ${subjects} (
       sub TEXT PRIMARY KEY,
       gen INTEGER NOT NULL DEFAULT 0,
       banned INTEGER NOT NULL DEFAULT 0,
       banned_at REAL
     ) STRICT;
     CREATE TABLE ${log} (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       id TEXT NOT NULL UNIQUE,
       until REAL NOT NULL,
       body TEXT NOT NULL
     ) STRICT;
     CREATE INDEX ${log}_until ON ${log} (until);`,
  ];
}

/** The schema version this code reads and writes: the number of migration steps. */
export const SQLITE_SCHEMA_VERSION = migrationSteps(tableNames(DEFAULT_TABLE_PREFIX)).length;
