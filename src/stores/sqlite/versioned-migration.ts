import type Database from 'better-sqlite3';
import { RevocableError } from '../../errors/revocable-error.js';

/**
 * The one way revocable's SQLite tables are migrated (the session store's, the key ring's, the
 * server's users): numbered steps, the version they reached kept in one row, the missing steps run
 * in one `BEGIN IMMEDIATE` transaction. Internal: never exported.
 *
 * @example
 * ```ts
 * const version = runVersionedMigration(database, {
 *   row: singleVersionRow(tables.schema),
 *   steps: migrationSteps(tables),
 *   tooNew: (found) => newerThanKnown(tables.schema, found, SQLITE_SCHEMA_VERSION),
 * });
 * ```
 * @module
 */

interface Statement {
  readonly text: string;
  readonly values: readonly (string | number)[];
}

/** Where a set of tables keeps its version: one row, and the statements that make, read, write it. */
export interface VersionRow {
  readonly table: string;
  readonly create: string;
  readonly select: Statement;
  write(version: number): Statement;
}

/** A version table of its own, holding a single row (`id = 1`). */
export function singleVersionRow(table: string): VersionRow {
  return {
    table,
    create: `CREATE TABLE IF NOT EXISTS ${table} (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         version INTEGER NOT NULL
       ) STRICT`,
    select: { text: `SELECT version FROM ${table} WHERE id = 1`, values: [] },
    write: (version) => ({
      text: `INSERT INTO ${table} (id, version) VALUES (1, ?)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
      values: [version],
    }),
  };
}

/** One component's row of a version table that several components share. */
export function componentVersionRow(table: string, component: string): VersionRow {
  return {
    table,
    create: `CREATE TABLE IF NOT EXISTS ${table} (
         component TEXT PRIMARY KEY,
         version INTEGER NOT NULL
       ) STRICT`,
    select: { text: `SELECT version FROM ${table} WHERE component = ?`, values: [component] },
    write: (version) => ({
      text: `INSERT INTO ${table} (component, version) VALUES (?, ?)
         ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
      values: [component, version],
    }),
  };
}

// Looked up first, so that reading a database never migrated raises nothing.
function readVersion(database: Database.Database, row: VersionRow): number | undefined {
  const exists = database
    .prepare<[string], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
    )
    .get(row.table);
  if (exists === undefined) return undefined;
  return database
    .prepare<(string | number)[], { version: number }>(row.select.text)
    .get(...row.select.values)?.version;
}

/** The refusal of a version table of its own that a newer revocable wrote. */
export function newerThanKnown(table: string, version: number, known: number): RevocableError {
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `The ${table} table is at version ${version}, newer than this revocable knows ` +
      `(${known}): upgrade revocable before opening this database.`,
  );
}

/** One set of tables to migrate. */
export interface VersionedMigration {
  readonly row: VersionRow;
  /** Step `i` takes the tables from version `i` to `i + 1`; never edited once released. */
  readonly steps: readonly string[];
  /** The error for tables at a version past `steps.length`, written by a newer revocable. */
  tooNew(version: number): Error;
}

/**
 * Brings the tables to `steps.length` and returns it. A database already current is only read,
 * without taking the write lock; otherwise the missing steps run in one `BEGIN IMMEDIATE`
 * transaction, so a failed step leaves the file as it was and two connections migrating it at once
 * take turns. Driver errors are thrown as they come, for the caller to report in its own words.
 */
export function runVersionedMigration(
  database: Database.Database,
  migration: VersionedMigration,
): number {
  const { row, steps } = migration;
  const current = readVersion(database, row);
  if (current === steps.length) return current;
  if (current !== undefined && current > steps.length) throw migration.tooNew(current);
  const migrate = database.transaction(() => {
    database.exec(row.create);
    // Read again under the write lock: another connection may have migrated meanwhile.
    const from = readVersion(database, row) ?? 0;
    if (from > steps.length) throw migration.tooNew(from);
    for (const step of steps.slice(from)) database.exec(step);
    const write = row.write(steps.length);
    database.prepare<(string | number)[], never>(write.text).run(...write.values);
    return steps.length;
  });
  return migrate.immediate();
}
