import { RevocableError } from '../../errors/revocable-error.js';
import { reasonOf, storeUnavailable } from '../internal/driver-errors.js';
import { invalidArgument } from '../internal/validate.js';
import { checkPool } from './database.js';
import type { PostgresPool } from './driver-types.js';
import { type NameOptions, tableNames } from './names.js';
import { migrationSteps } from './schema.js';
import { tooNew } from './version.js';
import {
  metForeignTables,
  runVersionedMigration,
  singleVersionRow,
} from './versioned-migration.js';

/** Options for {@link migratePostgresStore}: the same names as the store's. */
export interface MigratePostgresStoreOptions {
  /** The schema of the tables (default `public`), created if missing. */
  schema?: string;
  /** Prefix of every table name (default `revocable_`). */
  tablePrefix?: string;
}

/**
 * Brings the store's tables to the current schema version ({@link POSTGRES_SCHEMA_VERSION}) and
 * returns it. Run it before the store is used: at startup or in a deploy step (the store does
 * not migrate by itself, so the application's everyday role needs no right to create tables).
 *
 * Versioned (one row in `<prefix>schema_version`) and idempotent: tables already current cost one
 * read and no lock. Otherwise every missing step runs in one transaction on one pooled connection,
 * under a transaction-level advisory lock, so a failed step leaves the database as it was and two
 * processes migrating at once take turns. Refuses tables whose version is newer than this code.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresStore, migratePostgresStore } from 'revocable/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgresStore(pool, { schema: 'auth' });
 * const store = createPostgresStore({ client: pool, schema: 'auth' });
 * ```
 */
export async function migratePostgresStore(
  client: PostgresPool,
  options: MigratePostgresStoreOptions = {},
): Promise<number> {
  checkPool(client);
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('options must be an object.');
  }
  const names: NameOptions = { schema: options.schema, tablePrefix: options.tablePrefix };
  const tables = tableNames(names);
  try {
    return await runVersionedMigration(client, {
      names: tables,
      row: singleVersionRow(tables.version),
      steps: migrationSteps(tables),
      tooNew: (version) => tooNew(tables, version),
    });
  } catch (error) {
    // Tables of the store's names that revocable did not make (one exists already, or lacks a
    // column) are a schema problem; a lost connection or a missing right (to create the schema or
    // tables) is the driver's word, as ERR_STORE_UNAVAILABLE with the driver error as cause.
    if (metForeignTables(error)) {
      throw new RevocableError(
        'ERR_STORE_SCHEMA',
        `Tables named like the store's (${tables.version}, ${tables.sessions}, ...) exist but do ` +
          `not have revocable's layout (${reasonOf(error)}): give the store another schema or ` +
          'tablePrefix, or remove those tables.',
        { cause: error },
      );
    }
    throw storeUnavailable('Migrating the PostgreSQL store', error);
  }
}
