/**
 * What the SQLite store needs of a better-sqlite3 `Database`, written out here so that the
 * declarations of `revocable/sqlite` do not import `better-sqlite3`: without
 * `@types/better-sqlite3` (and with `skipLibCheck`, the usual setting) an import of a missing module
 * turns into `any`, and `createSqliteStore({ database: 42 })` would type-check. A better-sqlite3
 * `Database` satisfies this interface.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * import type { SqliteDatabase } from 'revocable/sqlite';
 * const database: SqliteDatabase = new Database('revocable.db');
 * ```
 * @module
 */

/**
 * An open better-sqlite3 database, by the members the store uses. Cast it back to better-sqlite3's
 * `Database` (`as Database.Database`) for anything else, such as `backup()`.
 *
 * @example
 * ```ts
 * const database: SqliteDatabase = openSqliteDatabase('revocable.db');
 * database.close();
 * ```
 */
export interface SqliteDatabase {
  /** False once closed: a closed database is refused. */
  readonly open: boolean;
  /** True for an in-memory or temporary database, which dies with its connection. */
  readonly memory: boolean;
  readonly inTransaction: boolean;
  prepare(source: string): unknown;
  transaction(fn: (...args: never[]) => unknown): unknown;
  exec(source: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
}
