import { sqlState } from './database.js';
import type { PostgresPool, PostgresPoolClient } from './driver-types.js';
import { MIGRATION_LOCK } from './names.js';

/**
 * The one way revocable's PostgreSQL tables are migrated (the session store's, the key ring's, the
 * server's components): numbered steps, the version they reached kept in one row, the missing
 * steps run in one transaction under the migration lock. Internal: never exported.
 *
 * @example
 * ```ts
 * const version = await runVersionedMigration(pool, {
 *   names: tables,
 *   row: singleVersionRow(tables.version),
 *   steps: migrationSteps(tables),
 *   tooNew: (found) => tooNew(tables, found),
 * });
 * ```
 * @module
 */

interface Statement {
  readonly text: string;
  readonly values: unknown[];
}

/** Where a set of tables keeps its version: one row, and the statements that make, read, write it. */
export interface VersionRow {
  readonly create: string;
  readonly select: Statement;
  write(version: number): Statement;
}

/** A version table of its own, holding a single row (`id = 1`). */
export function singleVersionRow(table: string): VersionRow {
  return {
    create: `CREATE TABLE IF NOT EXISTS ${table} (
       id integer PRIMARY KEY CHECK (id = 1),
       version integer NOT NULL
     )`,
    select: { text: `SELECT version FROM ${table} WHERE id = 1`, values: [] },
    write: (version) => ({
      text: `INSERT INTO ${table} (id, version) VALUES (1, $1)
     ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
      values: [version],
    }),
  };
}

/** One component's row of a version table that several components share. */
export function componentVersionRow(table: string, component: string): VersionRow {
  return {
    create: `CREATE TABLE IF NOT EXISTS ${table} (
       component text PRIMARY KEY,
       version integer NOT NULL
     )`,
    select: { text: `SELECT version FROM ${table} WHERE component = $1`, values: [component] },
    write: (version) => ({
      text: `INSERT INTO ${table} (component, version) VALUES ($1, $2)
     ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
      values: [component, version],
    }),
  };
}

// undefined_table, invalid_schema_name: the tables (or their schema) were never created.
const MISSING = new Set(['42P01', '3F000']);
// duplicate_table, duplicate_object (an index), duplicate_column, undefined_column, undefined_table.
const FOREIGN = new Set(['42P07', '42710', '42701', '42703', '42P01']);
// duplicate_schema, and unique_violation (two CREATE SCHEMA at once meet in the catalog).
const SCHEMA_RACE = new Set(['42P06', '23505']);

/**
 * The version in the row, read without any lock, and undefined when the schema or the version
 * table does not exist: the common case (already current) costs one read and needs no right to
 * create anything.
 */
export async function readVersion(
  pool: PostgresPool,
  row: VersionRow,
): Promise<number | undefined> {
  try {
    const { rows } = await pool.query(row.select.text, row.select.values);
    const version = (rows[0] as { version?: unknown } | undefined)?.version;
    return typeof version === 'number' ? version : undefined;
  } catch (error) {
    if (MISSING.has(sqlState(error) ?? '')) return undefined;
    throw error;
  }
}

/** Whether a migration failed on tables of its names that revocable did not make. */
export function metForeignTables(error: unknown): boolean {
  return FOREIGN.has(sqlState(error) ?? '');
}

/** One set of tables to migrate. */
export interface VersionedMigration {
  /** The quoted schema, its name as the catalog has it, and the migration lock's second key. */
  readonly names: {
    readonly schema: string;
    readonly schemaName: string;
    readonly lockKey: number;
  };
  readonly row: VersionRow;
  /** Step `i` takes the tables from version `i` to `i + 1`; never edited once released. */
  readonly steps: readonly string[];
  /** The error for tables at a version past `steps.length`, written by a newer revocable. */
  tooNew(version: number): Error;
  /**
   * Whether a CREATE SCHEMA that loses a race with a migrator under another lock (another prefix)
   * is forgiven under a savepoint: the server's components are; the stores' own migrations fail
   * then (`ERR_STORE_UNAVAILABLE`) and succeed when run again.
   */
  readonly forgiveSchemaRace?: boolean;
}

async function createSchema(connection: PostgresPoolClient, migration: VersionedMigration) {
  const { names } = migration;
  const found = await connection.query(
    'SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS present',
    [names.schemaName],
  );
  // CREATE SCHEMA IF NOT EXISTS would need the right to create schemas even when it exists.
  if ((found.rows[0] as { present?: unknown } | undefined)?.present === true) return;
  if (migration.forgiveSchemaRace !== true) {
    await connection.query(`CREATE SCHEMA ${names.schema}`);
    return;
  }
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
  migration: VersionedMigration,
): Promise<number> {
  const { row, steps } = migration;
  // Every migrator of one schema and prefix takes this lock first and holds it to commit,
  // whichever tables it brings, so two processes deploying at once take turns and the second
  // finds the work done.
  await connection.query('SELECT pg_advisory_xact_lock($1, $2)', [
    MIGRATION_LOCK,
    migration.names.lockKey,
  ]);
  await createSchema(connection, migration);
  await connection.query(row.create);
  const found = await connection.query(row.select.text, row.select.values);
  const from = (found.rows[0] as { version?: number } | undefined)?.version ?? 0;
  if (from > steps.length) throw migration.tooNew(from);
  for (const step of steps.slice(from)) await connection.query(step);
  const write = row.write(steps.length);
  await connection.query(write.text, write.values);
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
 * Brings the tables to `steps.length` and returns it. Tables already current cost one read and no
 * lock; otherwise every missing step runs in one transaction on one pooled connection, so a failed
 * step leaves the database as it was. Driver errors are thrown as they come, for the caller to
 * report in its own words.
 */
export async function runVersionedMigration(
  pool: PostgresPool,
  migration: VersionedMigration,
): Promise<number> {
  const latest = migration.steps.length;
  const current = await readVersion(pool, migration.row);
  if (current === latest) return current;
  if (current !== undefined && current > latest) throw migration.tooNew(current);
  return inTransaction(pool, (connection) => upgrade(connection, migration));
}
