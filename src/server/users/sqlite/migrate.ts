import type Database from 'better-sqlite3';
import { RevocableError } from '../../../errors/revocable-error.js';
import { storeUnavailable } from '../../../stores/internal/driver-errors.js';
import { checkDatabase, driverDatabase } from '../../../stores/sqlite/database.js';
import type { SqliteDatabase } from '../../../stores/sqlite/driver-types.js';
import {
  DEFAULT_TABLE_PREFIX,
  SQLITE_USERS_SCHEMA_VERSION,
  USERS_COMPONENT,
  type UserTableNames,
  userMigrationSteps,
  userTableNames,
} from './schema.js';

/** Options for {@link migrateSqliteUserStore}: the same prefix as the store's. */
export interface MigrateSqliteUserStoreOptions {
  /** Prefix of the table names (default `revocable_`): letters, digits and underscores. */
  tablePrefix?: string;
}

function tooNew(tables: UserTableNames, version: number): RevocableError {
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `The ${tables.users} table is at version ${version} (in ${tables.components}), newer than ` +
      `this revocable knows (${SQLITE_USERS_SCHEMA_VERSION}): upgrade revocable first.`,
  );
}

function readVersion(database: Database.Database, tables: UserTableNames): number | undefined {
  const exists = database
    .prepare<[string], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
    )
    .get(tables.components);
  if (exists === undefined) return undefined;
  return database
    .prepare<[string], { version: number }>(
      `SELECT version FROM ${tables.components} WHERE component = ?`,
    )
    .get(USERS_COMPONENT)?.version;
}

function migrate(database: Database.Database, tables: UserTableNames): number {
  const current = readVersion(database, tables);
  if (current === SQLITE_USERS_SCHEMA_VERSION) return current;
  if (current !== undefined && current > SQLITE_USERS_SCHEMA_VERSION) {
    throw tooNew(tables, current);
  }
  const steps = userMigrationSteps(tables);
  const run = database.transaction(() => {
    database.exec(
      `CREATE TABLE IF NOT EXISTS ${tables.components} (
         component TEXT PRIMARY KEY,
         version INTEGER NOT NULL
       ) STRICT`,
    );
    // Read again under the write lock: another connection may have migrated meanwhile.
    const from = readVersion(database, tables) ?? 0;
    if (from > steps.length) throw tooNew(tables, from);
    for (const step of steps.slice(from)) database.exec(step);
    database
      .prepare<[string, number], never>(
        `INSERT INTO ${tables.components} (component, version) VALUES (?, ?)
         ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
      )
      .run(USERS_COMPONENT, steps.length);
    return steps.length;
  });
  return run.immediate();
}

/**
 * Brings the user table to the current version ({@link SQLITE_USERS_SCHEMA_VERSION}) and returns
 * it. The version is one row (`users`) of `<prefix>server_schema`, apart from the session store's
 * own version, so that the two migrate independently. Idempotent: a database already current is
 * only read, without the write lock. Otherwise the missing steps run in one `BEGIN IMMEDIATE`
 * transaction, so two processes migrating the same file take turns and a failed step leaves the
 * file as it was. Refuses tables newer than this code (`ERR_STORE_SCHEMA`).
 *
 * {@link createSqliteUserStore} calls it itself; call it directly to migrate ahead of time.
 *
 * @example
 * ```ts
 * const database = openSqliteDatabase('/var/lib/app/revocable.db');
 * migrateSqliteUserStore(database); // 1
 * ```
 */
export function migrateSqliteUserStore(
  database: SqliteDatabase,
  options: MigrateSqliteUserStoreOptions = {},
): number {
  checkDatabase(database);
  const tables = userTableNames(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
  try {
    return migrate(driverDatabase(database), tables);
  } catch (error) {
    // A SQL error here means tables of these names that revocable did not make.
    if ((error as { code?: unknown } | null)?.code === 'SQLITE_ERROR') {
      throw new RevocableError(
        'ERR_STORE_SCHEMA',
        `Tables named like the user store's (${tables.components}, ${tables.users}) exist but ` +
          "do not have revocable's layout: give the store another tablePrefix, or remove them.",
        { cause: error },
      );
    }
    throw storeUnavailable('Migrating the SQLite user store', error);
  }
}
