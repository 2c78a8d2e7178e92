/**
 * The SQLite store (`revocable/sqlite`) on better-sqlite3 12: the embedded default, for one
 * process or several on one machine sharing a file. This subpath is the only one that loads
 * better-sqlite3, and only in {@link openSqliteDatabase}; its declarations describe the database
 * structurally ({@link SqliteDatabase}), so they need no `@types/better-sqlite3`.
 *
 * Migrations: {@link createSqliteStore} brings the schema up to date itself (idempotent, a plain
 * read when current); {@link migrateSqliteStore} does the same ahead of time, e.g. in a deploy
 * step.
 *
 * Crashes: the commits that revoke are synced (`synchronous = FULL` around them) and survive a
 * power cut; logins and refreshes keep the connection's level. A file database running with
 * `synchronous = OFF` is refused (`ERR_STORE_UNSAFE`). See {@link createSqliteStore}.
 *
 * @example
 * ```ts
 * import { createSqliteStore, openSqliteDatabase } from 'revocable/sqlite';
 * const database = openSqliteDatabase('revocable.db');
 * const store = createSqliteStore({ database });
 * ```
 * @module
 */
export type { SqliteDatabase } from './driver-types.js';

export {
  createSqliteKeyRingStore,
  type MigrateSqliteKeyRingStoreOptions,
  migrateSqliteKeyRingStore,
  SQLITE_KEY_RING_SCHEMA_VERSION,
  type SqliteKeyRingStoreOptions,
} from './key-ring-store.js';
export { type MigrateSqliteStoreOptions, migrateSqliteStore } from './migrate.js';
export { type OpenSqliteDatabaseOptions, openSqliteDatabase } from './open-database.js';
export { SQLITE_SCHEMA_VERSION } from './schema.js';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
