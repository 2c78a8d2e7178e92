import { RevocableError } from '../../errors/revocable-error.js';
import { reasonOf, storeUnavailable } from '../internal/driver-errors.js';
import { invalidArgument } from '../internal/validate.js';
import { checkPool, sqlState } from './database.js';
import type { PostgresPool, PostgresPoolClient } from './driver-types.js';
import { MIGRATION_LOCK, type NameOptions, type TableNames, tableNames } from './names.js';
import { migrationSteps, POSTGRES_SCHEMA_VERSION } from './schema.js';
import { readVersion, tooNew } from './version.js';

// duplicate_table, duplicate_object (an index), duplicate_column, undefined_column, undefined_table.
const FOREIGN_STATES = new Set(['42P07', '42710', '42701', '42703', '42P01']);

/** Options for {@link migratePostgresStore}: the same names as the store's. */
export interface MigratePostgresStoreOptions {
  /** The schema of the tables (default `public`), created if missing. */
  schema?: string;
  /** Prefix of every table name (default `revocable_`). */
  tablePrefix?: string;
}

async function upgrade(connection: PostgresPoolClient, tables: TableNames): Promise<number> {
  // Every migrator of these tables takes this lock first and holds it to commit, so two processes
  // deploying at once take turns and the second finds the work done.
  await connection.query('SELECT pg_advisory_xact_lock($1, $2)', [MIGRATION_LOCK, tables.lockKey]);
  const schema = await connection.query(
    'SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present',
    [tables.schemaName],
  );
  // CREATE SCHEMA IF NOT EXISTS would need the right to create schemas even when it exists.
  if ((schema.rows[0] as { present?: unknown } | undefined)?.present !== true)
    await connection.query(`CREATE SCHEMA ${tables.schema}`);
  await connection.query(
    `CREATE TABLE IF NOT EXISTS ${tables.version} (
       id integer PRIMARY KEY CHECK (id = 1),
       version integer NOT NULL
     )`,
  );
  const found = await connection.query(`SELECT version FROM ${tables.version} WHERE id = 1`);
  const from = (found.rows[0] as { version?: number } | undefined)?.version ?? 0;
  const steps = migrationSteps(tables);
  if (from > steps.length) throw tooNew(tables, from);
  for (const step of steps.slice(from)) await connection.query(step);
  await connection.query(
    `INSERT INTO ${tables.version} (id, version) VALUES (1, $1)
     ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
    [steps.length],
  );
  return steps.length;
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
    return await migrate(client, tables);
  } catch (error) {
    // Tables of the store's names that revocable did not make (one exists already, or lacks a
    // column) are a schema problem; a lost connection or a missing right (to create the schema or
    // tables) is the driver's word, as ERR_STORE_UNAVAILABLE with the driver error as cause.
    if (FOREIGN_STATES.has(sqlState(error) ?? '')) {
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

async function migrate(client: PostgresPool, tables: TableNames): Promise<number> {
  const current = await readVersion(client, tables);
  if (current === POSTGRES_SCHEMA_VERSION) return current;
  if (current !== undefined && current > POSTGRES_SCHEMA_VERSION) throw tooNew(tables, current);
  const connection = await client.connect();
  let broken = false;
  try {
    await connection.query('BEGIN');
    const version = await upgrade(connection, tables);
    await connection.query('COMMIT');
    return version;
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw error;
  } finally {
    // A connection that could not even roll back is destroyed, never handed to the next caller.
    connection.release(broken);
  }
}
