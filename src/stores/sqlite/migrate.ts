import type Database from 'better-sqlite3';
import { RevocableError } from '../../errors/revocable-error.js';
import { storeUnavailable } from '../internal/driver-errors.js';
import { checkDatabase, driverDatabase } from './database.js';
import type { SqliteDatabase } from './driver-types.js';
import {
  DEFAULT_TABLE_PREFIX,
  migrationSteps,
  SQLITE_SCHEMA_VERSION,
  type TableNames,
  tableNames,
} from './schema.js';

/** Options for {@link migrateSqliteStore}. */
export interface MigrateSqliteStoreOptions {
  /** Prefix of every table name (default `revocable_`): letters, digits and underscores. */
  tablePrefix?: string;
}

function tooNew(tables: TableNames, version: number): RevocableError {
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `The ${tables.schema} table is at version ${version}, newer than this revocable knows ` +
      `(${SQLITE_SCHEMA_VERSION}): upgrade revocable before opening this database.`,
  );
}

function readVersion(database: Database.Database, tables: TableNames): number | undefined {
  const exists = database
    .prepare<[string], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
    )
    .get(tables.schema);
  if (exists === undefined) return undefined;
  return database
    .prepare<[], { version: number }>(`SELECT version FROM ${tables.schema} WHERE id = 1`)
    .get()?.version;
}

/**
 * Brings the store's tables to the current schema version ({@link SQLITE_SCHEMA_VERSION}) and
 * returns it. Versioned (one row in `<prefix>schema`) and idempotent: a database already current
 * is only read, without taking the write lock. Otherwise every missing step runs in one
 * `BEGIN IMMEDIATE` transaction, so a failed step leaves the database as it was and two processes
 * migrating the same file at once take turns (the second finds the work done). Refuses a database
 * whose schema is newer than this code.
 *
 * {@link createSqliteStore} calls it itself; call it directly to migrate ahead of time, e.g. in a
 * deploy step.
 *
 * @example
 * ```ts
 * import { migrateSqliteStore, openSqliteDatabase } from 'revocable/sqlite';
 * const database = openSqliteDatabase('/var/lib/app/revocable.db');
 * migrateSqliteStore(database, { tablePrefix: 'auth_' });
 * database.close();
 * ```
 */
export function migrateSqliteStore(
  database: SqliteDatabase,
  options: MigrateSqliteStoreOptions = {},
): number {
  checkDatabase(database);
  const tables = tableNames(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
  try {
    return migrate(driverDatabase(database), tables);
  } catch (error) {
    // A SQL error here (a table that already exists, a column that does not) means tables of
    // these names that revocable did not make; SQLITE_BUSY past the timeout, a read-only or full
    // disk are the driver's word, as ERR_STORE_UNAVAILABLE with the driver error as cause.
    if ((error as { code?: unknown } | null)?.code === 'SQLITE_ERROR') throw foreign(tables, error);
    throw storeUnavailable('Migrating the SQLite store', error);
  }
}

function foreign(tables: TableNames, cause: unknown): RevocableError {
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `Tables named like the store's (${tables.schema}, ${tables.sessions}, ...) exist but do not ` +
      `have revocable's layout (${cause instanceof Error ? cause.message : String(cause)}): give ` +
      'the store another tablePrefix, or remove those tables.',
    { cause },
  );
}

function migrate(database: Database.Database, tables: TableNames): number {
  const current = readVersion(database, tables);
  if (current === SQLITE_SCHEMA_VERSION) return current;
  if (current !== undefined && current > SQLITE_SCHEMA_VERSION) throw tooNew(tables, current);
  const steps = migrationSteps(tables);
  const migrate = database.transaction(() => {
    database.exec(
      `CREATE TABLE IF NOT EXISTS ${tables.schema} (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         version INTEGER NOT NULL
       ) STRICT`,
    );
    // Read again under the write lock: another connection may have migrated meanwhile.
    const from = readVersion(database, tables) ?? 0;
    if (from > steps.length) throw tooNew(tables, from);
    for (const step of steps.slice(from)) database.exec(step);
    database
      .prepare<[number], never>(
        `INSERT INTO ${tables.schema} (id, version) VALUES (1, ?)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
      )
      .run(steps.length);
    return steps.length;
  });
  return migrate.immediate();
}
