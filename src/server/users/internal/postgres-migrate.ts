import { RevocableError } from '../../../errors/revocable-error.js';
import { reasonOf, storeUnavailable } from '../../../stores/internal/driver-errors.js';
import { checkPool, sqlState } from '../../../stores/postgres/database.js';
import type { PostgresPool, PostgresPoolClient } from '../../../stores/postgres/driver-types.js';
import { MIGRATION_LOCK } from '../../../stores/postgres/names.js';
import type { ServerTableNames } from './postgres-names.js';

/**
 * Versioned migrations of the server's PostgreSQL tables, one component (users, login throttle)
 * at a time, each with its row in `<prefix>server_schema`. Internal: never exported.
 *
 * @example
 * ```ts
 * await migrateComponent(pool, names, { name: 'users', steps, label: 'user store', call });
 * ```
 * @module
 */

/** One component's migration: its name, its steps, and how to name it in messages. */
export interface Component {
  readonly name: string;
  /** Step `i` takes the component's tables from version `i` to `i + 1`; never edited once released. */
  readonly steps: readonly string[];
  /** `user store`, `login throttle`. */
  readonly label: string;
  /** The call that migrates it, as a message shows it. */
  readonly call: string;
}

// undefined_table, invalid_schema_name: never created.
const MISSING = new Set(['42P01', '3F000']);
// duplicate_table, duplicate_object, duplicate_column, undefined_column, undefined_table.
const FOREIGN = new Set(['42P07', '42710', '42701', '42703', '42P01']);
// duplicate_schema, and unique_violation (two CREATE SCHEMA at once meet in the catalog).
const SCHEMA_RACE = new Set(['42P06', '23505']);

/** The version a component's tables are at (undefined: never migrated), without any lock. */
export async function componentVersion(
  pool: PostgresPool,
  names: ServerTableNames,
  component: string,
): Promise<number | undefined> {
  try {
    const { rows } = await pool.query(
      `SELECT version FROM ${names.components} WHERE component = $1`,
      [component],
    );
    const version = (rows[0] as { version?: unknown } | undefined)?.version;
    return typeof version === 'number' ? version : undefined;
  } catch (error) {
    if (MISSING.has(sqlState(error) ?? '')) return undefined;
    throw error;
  }
}

function tooNew(names: ServerTableNames, component: Component, version: number): RevocableError {
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `The ${component.label} tables in schema "${names.schemaName}" are at version ${version}, ` +
      `newer than this revocable knows (${component.steps.length}): upgrade revocable first.`,
  );
}

/**
 * The error of a statement that met tables missing or of another version: names the migration to
 * run, since a raw `relation ... does not exist` says nothing of revocable's migrations.
 */
export function notMigrated(
  names: ServerTableNames,
  component: Component,
  cause: unknown,
): RevocableError {
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `The ${component.label} tables in schema "${names.schemaName}" (table prefix ` +
      `"${names.prefix}") are missing or not at version ${component.steps.length}: run ` +
      `${component.call} once (at startup or in a deploy step).`,
    { cause },
  );
}

async function createSchema(connection: PostgresPoolClient, names: ServerTableNames) {
  const found = await connection.query(
    'SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present',
    [names.schemaName],
  );
  if ((found.rows[0] as { present?: unknown } | undefined)?.present === true) return;
  // CREATE SCHEMA IF NOT EXISTS would need the right to create schemas even when it exists. A
  // migrator of other tables (another prefix) may create the schema at the same moment: the
  // savepoint lets this transaction go on once it finds the schema made.
  await connection.query('SAVEPOINT create_schema');
  try {
    await connection.query(`CREATE SCHEMA ${names.schema}`);
  } catch (error) {
    if (!SCHEMA_RACE.has(sqlState(error) ?? '')) throw error;
    await connection.query('ROLLBACK TO SAVEPOINT create_schema');
  }
}

async function upgrade(
  connection: PostgresPoolClient,
  names: ServerTableNames,
  component: Component,
): Promise<number> {
  // The session store's migration lock for this schema and prefix: every migrator of tables
  // there takes it first and holds it to commit, so two processes starting at once take turns
  // and the second finds the work done.
  await connection.query('SELECT pg_advisory_xact_lock($1, $2)', [MIGRATION_LOCK, names.lockKey]);
  await createSchema(connection, names);
  await connection.query(
    `CREATE TABLE IF NOT EXISTS ${names.components} (
       component text PRIMARY KEY,
       version integer NOT NULL
     )`,
  );
  const found = await connection.query(
    `SELECT version FROM ${names.components} WHERE component = $1`,
    [component.name],
  );
  const from = (found.rows[0] as { version?: number } | undefined)?.version ?? 0;
  const { steps } = component;
  if (from > steps.length) throw tooNew(names, component, from);
  for (const step of steps.slice(from)) await connection.query(step);
  await connection.query(
    `INSERT INTO ${names.components} (component, version) VALUES ($1, $2)
     ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
    [component.name, steps.length],
  );
  return steps.length;
}

async function inTransaction(
  pool: PostgresPool,
  work: (connection: PostgresPoolClient) => Promise<number>,
): Promise<number> {
  const connection = await pool.connect();
  let broken = false;
  try {
    await connection.query('BEGIN');
    const result = await work(connection);
    await connection.query('COMMIT');
    return result;
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

/**
 * Brings one component's tables to its latest version and returns it. Idempotent: tables already
 * current cost one read and no lock. Otherwise every missing step runs in one transaction under
 * the migration lock. Tables of these names that revocable did not make are `ERR_STORE_SCHEMA`;
 * a driver failure (or a missing right to create the schema) `ERR_STORE_UNAVAILABLE`.
 */
export async function migrateComponent(
  pool: unknown,
  names: ServerTableNames,
  component: Component,
): Promise<number> {
  checkPool(pool);
  const latest = component.steps.length;
  try {
    const current = await componentVersion(pool, names, component.name);
    if (current === latest) return current;
    if (current !== undefined && current > latest) throw tooNew(names, component, current);
    return await inTransaction(pool, (connection) => upgrade(connection, names, component));
  } catch (error) {
    if (FOREIGN.has(sqlState(error) ?? '')) {
      throw new RevocableError(
        'ERR_STORE_SCHEMA',
        `Tables named like the ${component.label}'s exist in schema "${names.schemaName}" but ` +
          `do not have revocable's layout (${reasonOf(error)}): give it another schema or ` +
          'tablePrefix, or remove those tables.',
        { cause: error },
      );
    }
    throw storeUnavailable(`Migrating the PostgreSQL ${component.label}`, error);
  }
}
