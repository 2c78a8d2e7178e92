import type Database from 'better-sqlite3';
import { storeUnavailable } from '../internal/driver-errors.js';
import { assertKeyRingSave, revisionOf } from '../internal/key-ring-input.js';
import type { KeyRingStore } from '../key-ring-store.js';
import { checkDatabase, driverDatabase } from './database.js';
import type { SqliteDatabase } from './driver-types.js';
import { checkDurability, durableTransaction } from './durability.js';
import { DEFAULT_TABLE_PREFIX, tableNames } from './schema.js';
import { newerThanKnown, runVersionedMigration, singleVersionRow } from './versioned-migration.js';

/** Options for {@link migrateSqliteKeyRingStore}. */
export interface MigrateSqliteKeyRingStoreOptions {
  /** Prefix of the table names (default `revocable_`), as for `createSqliteStore`. */
  tablePrefix?: string;
}

/** Options for {@link createSqliteKeyRingStore}. */
export interface SqliteKeyRingStoreOptions extends MigrateSqliteKeyRingStoreOptions {
  /** A better-sqlite3 database the application opened; never closed by revocable. */
  database: SqliteDatabase;
}

interface KeyRingTables {
  readonly schema: string;
  readonly ring: string;
}

function keyRingTables(prefix: unknown): KeyRingTables {
  // The same prefix rules as the session store's tables (checked there, pasted into SQL here).
  tableNames(prefix);
  return { schema: `${prefix}key_ring_schema`, ring: `${prefix}key_ring` };
}

/**
 * The key ring's own numbered migration steps, versioned apart from the session store's tables
 * (in `<prefix>key_ring_schema`): a deployment that never shares keys never gets the table, and
 * the two schemas evolve without waiting on each other. A released step is never edited.
 */
function keyRingSteps(tables: KeyRingTables): readonly string[] {
  return [
    `CREATE TABLE ${tables.ring} (
       id INTEGER PRIMARY KEY CHECK (id = 1),
       revision INTEGER NOT NULL CHECK (revision >= 1),
       sealed TEXT NOT NULL
     ) STRICT`,
  ];
}

/** The key ring table's schema version this code reads and writes. */
export const SQLITE_KEY_RING_SCHEMA_VERSION = keyRingSteps(
  keyRingTables(DEFAULT_TABLE_PREFIX),
).length;

/**
 * Creates or upgrades the key ring table (versioned, idempotent; in one `BEGIN IMMEDIATE`
 * transaction, so two processes migrating at once take turns) and returns its version.
 * {@link createSqliteKeyRingStore} calls it itself.
 *
 * @example
 * ```ts
 * migrateSqliteKeyRingStore(database, { tablePrefix: 'auth_' }); // 1
 * ```
 */
export function migrateSqliteKeyRingStore(
  given: SqliteDatabase,
  options: MigrateSqliteKeyRingStoreOptions = {},
): number {
  checkDatabase(given);
  try {
    return migrateKeyRing(driverDatabase(given), options);
  } catch (error) {
    throw unavailable(error);
  }
}

// Driver failures (SQLITE_BUSY past the busy timeout, a full disk) arrive as ERR_STORE_UNAVAILABLE
// with the driver error as cause, like the session store's.
function unavailable(error: unknown): Error {
  return storeUnavailable('The SQLite key ring store', error);
}

function migrateKeyRing(database: Database.Database, options: MigrateSqliteKeyRingStoreOptions) {
  const tables = keyRingTables(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
  return runVersionedMigration(database, {
    row: singleVersionRow(tables.schema),
    steps: keyRingSteps(tables),
    tooNew: (version) => newerThanKnown(tables.schema, version, SQLITE_KEY_RING_SCHEMA_VERSION),
  });
}

/**
 * A key ring store in a SQLite database (better-sqlite3): one row in `<prefix>key_ring`, for
 * processes on one machine sharing a file. The table is created by its own migration
 * ({@link migrateSqliteKeyRingStore}), which this runs. A save is one `BEGIN IMMEDIATE`
 * transaction committed with `synchronous = FULL` (a retirement must survive a power cut, like a
 * revocation), and its compare-and-set is a single conditional write.
 *
 * @example
 * ```ts
 * import { createSqliteKeyRingStore, openSqliteDatabase } from 'revocable/sqlite';
 * const keyRingStore = createSqliteKeyRingStore({ database: openSqliteDatabase('auth.db') });
 * ```
 */
export function createSqliteKeyRingStore(options: SqliteKeyRingStoreOptions): KeyRingStore {
  const given = options?.database;
  checkDatabase(given);
  try {
    return sqliteKeyRingStore(driverDatabase(given), options);
  } catch (error) {
    throw unavailable(error);
  }
}

function sqliteKeyRingStore(
  database: Database.Database,
  options: SqliteKeyRingStoreOptions,
): KeyRingStore {
  checkDurability(database);
  const tablePrefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  const tables = keyRingTables(tablePrefix);
  migrateSqliteKeyRingStore(database, { tablePrefix });
  const select = database.prepare<[], { revision: number; sealed: string }>(
    `SELECT revision, sealed FROM ${tables.ring} WHERE id = 1`,
  );
  const selectRevision = database.prepare<[], { revision: number }>(
    `SELECT revision FROM ${tables.ring} WHERE id = 1`,
  );
  const insert = database.prepare<[string], never>(
    `INSERT INTO ${tables.ring} (id, revision, sealed) VALUES (1, 1, ?) ON CONFLICT (id) DO NOTHING`,
  );
  const update = database.prepare<[string, number], never>(
    `UPDATE ${tables.ring} SET revision = revision + 1, sealed = ? WHERE id = 1 AND revision = ?`,
  );
  const save = durableTransaction(database, (expected: number, sealed: string): boolean => {
    const result = expected === 0 ? insert.run(sealed) : update.run(sealed, expected);
    return result.changes === 1;
  });
  const guarded = <R>(work: () => R): R => {
    try {
      return work();
    } catch (error) {
      throw unavailable(error);
    }
  };
  return {
    async load() {
      const row = guarded(() => select.get());
      return row === undefined ? null : { revision: revisionOf(row.revision), sealed: row.sealed };
    },
    async revision() {
      const row = guarded(() => selectRevision.get());
      return row === undefined ? 0 : revisionOf(row.revision);
    },
    async save(expectedRevision, sealed) {
      assertKeyRingSave(expectedRevision, sealed);
      return guarded(() => save(expectedRevision, sealed));
    },
  };
}
