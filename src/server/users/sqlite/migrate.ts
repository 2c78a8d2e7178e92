import { RevocableError } from '../../../errors/revocable-error.js';
import { storeUnavailable } from '../../../stores/internal/driver-errors.js';
import { checkDatabase, driverDatabase } from '../../../stores/sqlite/database.js';
import type { SqliteDatabase } from '../../../stores/sqlite/driver-types.js';
import {
  componentVersionRow,
  runVersionedMigration,
} from '../../../stores/sqlite/versioned-migration.js';
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
    return runVersionedMigration(driverDatabase(database), {
      row: componentVersionRow(tables.components, USERS_COMPONENT),
      steps: userMigrationSteps(tables),
      tooNew: (version) => tooNew(tables, version),
    });
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
