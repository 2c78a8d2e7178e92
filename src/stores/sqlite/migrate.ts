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
import { newerThanKnown, runVersionedMigration, singleVersionRow } from './versioned-migration.js';

/** Options for {@link migrateSqliteStore}. */
export interface MigrateSqliteStoreOptions {
  /** Prefix of every table name (default `revocable_`): letters, digits and underscores. */
  tablePrefix?: string;
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
    return runVersionedMigration(driverDatabase(database), {
      row: singleVersionRow(tables.schema),
      steps: migrationSteps(tables),
      tooNew: (version) => newerThanKnown(tables.schema, version, SQLITE_SCHEMA_VERSION),
    });
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
