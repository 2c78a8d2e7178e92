import { RevocableError } from '../../errors/revocable-error.js';
import { storeUnavailable } from '../internal/driver-errors.js';
import { assertKeyRingSave, revisionOf } from '../internal/key-ring-input.js';
import { invalidArgument } from '../internal/validate.js';
import type { KeyRingStore } from '../key-ring-store.js';
import { checkPool, runStatement, sqlState } from './database.js';
import type { PostgresPool } from './driver-types.js';
import { type TableNames, tableNames } from './names.js';
import { runVersionedMigration, singleVersionRow } from './versioned-migration.js';

/** Options for {@link migratePostgresKeyRingStore}: the same names as the session store's. */
export interface MigratePostgresKeyRingStoreOptions {
  /** The schema of the table (default `public`), created if missing. */
  schema?: string;
  /** Prefix of the table names (default `revocable_`). */
  tablePrefix?: string;
}

/** Options for {@link createPostgresKeyRingStore}. */
export interface PostgresKeyRingStoreOptions extends MigratePostgresKeyRingStoreOptions {
  /** A pg Pool the application created; never ended by revocable. */
  client: PostgresPool;
}

interface KeyRingTables {
  readonly names: TableNames;
  readonly version: string;
  readonly ring: string;
}

function keyRingTables(options: MigratePostgresKeyRingStoreOptions): KeyRingTables {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('options must be an object.');
  }
  // The session store's name rules, so the key ring sits beside its tables under the same prefix.
  const names = tableNames({ schema: options.schema, tablePrefix: options.tablePrefix });
  return {
    names,
    version: `${names.schema}.${names.index('key_ring_version')}`,
    ring: `${names.schema}.${names.index('key_ring')}`,
  };
}

/**
 * The key ring's own numbered steps, versioned apart from the session store's tables (in
 * `<prefix>key_ring_version`), one statement each. A released step is never edited.
 */
function keyRingSteps(tables: KeyRingTables): readonly string[] {
  return [
    `CREATE TABLE ${tables.ring} (
       id integer PRIMARY KEY CHECK (id = 1),
       revision bigint NOT NULL CHECK (revision >= 1),
       sealed text NOT NULL
     )`,
  ];
}

/** The key ring table's schema version this code reads and writes. */
export const POSTGRES_KEY_RING_SCHEMA_VERSION = keyRingSteps(keyRingTables({})).length;

function tooNew(tables: KeyRingTables, version: number): RevocableError {
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `The ${tables.version} table is at version ${version}, newer than this revocable knows ` +
      `(${POSTGRES_KEY_RING_SCHEMA_VERSION}): upgrade revocable before using it.`,
  );
}

// undefined_table and invalid_schema_name: nothing was migrated yet.
function missingTable(error: unknown): boolean {
  return sqlState(error) === '42P01' || sqlState(error) === '3F000';
}

/**
 * Creates or upgrades the key ring table and returns its version
 * ({@link POSTGRES_KEY_RING_SCHEMA_VERSION}). Like `migratePostgresStore`: explicit (run it at
 * startup or in a deploy step), versioned, idempotent (one read when current), in one transaction
 * under the migration advisory lock, so processes migrating at once take turns.
 *
 * @example
 * ```ts
 * await migratePostgresStore(pool, { schema: 'auth' });
 * await migratePostgresKeyRingStore(pool, { schema: 'auth' });
 * const keyRingStore = createPostgresKeyRingStore({ client: pool, schema: 'auth' });
 * ```
 */
export async function migratePostgresKeyRingStore(
  client: PostgresPool,
  options: MigratePostgresKeyRingStoreOptions = {},
): Promise<number> {
  checkPool(client);
  const tables = keyRingTables(options);
  try {
    return await runVersionedMigration(client, {
      names: tables.names,
      row: singleVersionRow(tables.version),
      steps: keyRingSteps(tables),
      tooNew: (version) => tooNew(tables, version),
    });
  } catch (error) {
    throw storeUnavailable('Migrating the PostgreSQL key ring store', error);
  }
}

/**
 * A key ring store in PostgreSQL (pg 8): one row in `<prefix>key_ring`, for processes on several
 * machines. Run {@link migratePostgresKeyRingStore} first (a missing table is `ERR_STORE_SCHEMA`).
 * Each call is one statement; a save's compare-and-set is a conditional `UPDATE` (or an `INSERT
 * ... ON CONFLICT DO NOTHING` for the first one): under PostgreSQL's row locks, of concurrent
 * saves with the same expected revision exactly one changes the row.
 *
 * @example
 * ```ts
 * import { createPostgresKeyRingStore, migratePostgresKeyRingStore } from 'revocable/postgres';
 * await migratePostgresKeyRingStore(pool);
 * const keyRingStore = createPostgresKeyRingStore({ client: pool });
 * ```
 */
export function createPostgresKeyRingStore(options: PostgresKeyRingStoreOptions): KeyRingStore {
  const client = options?.client;
  checkPool(client);
  const tables = keyRingTables(options);

  async function run<R extends Record<string, unknown>>(text: string, values: unknown[]) {
    try {
      return await runStatement<R>(client, text, values);
    } catch (error) {
      if (!missingTable(error)) throw storeUnavailable('The PostgreSQL key ring store', error);
      throw new RevocableError(
        'ERR_STORE_SCHEMA',
        `The key ring table ${tables.ring} does not exist: run migratePostgresKeyRingStore first.`,
        { cause: error },
      );
    }
  }

  return {
    async load() {
      const { rows } = await run<{ revision: string; sealed: string }>(
        `SELECT revision::text AS revision, sealed FROM ${tables.ring} WHERE id = 1`,
        [],
      );
      const row = rows[0];
      return row === undefined ? null : { revision: revisionOf(row.revision), sealed: row.sealed };
    },
    async revision() {
      const { rows } = await run<{ revision: string }>(
        `SELECT revision::text AS revision FROM ${tables.ring} WHERE id = 1`,
        [],
      );
      return rows[0] === undefined ? 0 : revisionOf(rows[0].revision);
    },
    async save(expectedRevision, sealed) {
      assertKeyRingSave(expectedRevision, sealed);
      const { rowCount } =
        expectedRevision === 0
          ? await run(
              `INSERT INTO ${tables.ring} (id, revision, sealed) VALUES (1, 1, $1)
               ON CONFLICT (id) DO NOTHING`,
              [sealed],
            )
          : await run(
              `UPDATE ${tables.ring} SET revision = revision + 1, sealed = $1
               WHERE id = 1 AND revision = $2`,
              [sealed, expectedRevision],
            );
      return rowCount === 1;
    },
  };
}
