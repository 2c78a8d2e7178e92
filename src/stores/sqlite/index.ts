/**
 * The SQLite store (`revocable/sqlite`), on better-sqlite3: the embedded default.
 *
 * @example
 * ```ts
 * import { createSqliteStore, openSqliteDatabase } from 'revocable/sqlite';
 * const store = createSqliteStore({ database: openSqliteDatabase('revocable.db') });
 * ```
 * @module
 */
export { openSqliteDatabase } from './open-database.js';
export { createSqliteStore, migrateSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
