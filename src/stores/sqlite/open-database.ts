import Database from 'better-sqlite3';
import { invalidArgument } from '../internal/validate.js';

/** Options for {@link openSqliteDatabase}. */
export interface OpenSqliteDatabaseOptions {
  /**
   * How long a write waits for another connection's write lock before failing with
   * `SQLITE_BUSY`, in milliseconds (default 5000). better-sqlite3 waits synchronously.
   */
  busyTimeoutMs?: number;
}

/**
 * Opens (or creates) a SQLite database file set up for revocable, for
 * {@link createSqliteStore}:
 *
 * - `journal_mode = WAL`: readers never wait for the writer, and several processes can share the
 *   file;
 * - a busy timeout: a writer waits its turn behind a writer of another process instead of failing
 *   at once;
 * - `synchronous = NORMAL`: the usual pairing with WAL (a power loss may drop the last commits,
 *   never corrupt the file). The store raises it to FULL around each commit that revokes, so a
 *   logout that returned survives a power cut; logins and refreshes skip the fsync that FULL would
 *   cost each of them;
 * - `foreign_keys = ON`, which SQLite leaves off by default.
 *
 * The database is the caller's: close it when done. Loads better-sqlite3, which only this subpath
 * does.
 *
 * @example
 * ```ts
 * import { createSqliteStore, openSqliteDatabase } from 'revocable/sqlite';
 * const database = openSqliteDatabase('/var/lib/app/revocable.db');
 * const store = createSqliteStore({ database });
 * ```
 */
export function openSqliteDatabase(
  path: string,
  options: OpenSqliteDatabaseOptions = {},
): Database.Database {
  if (typeof path !== 'string' || path.length === 0) {
    throw invalidArgument('path must be a non-empty string.');
  }
  const timeout = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(timeout) || timeout < 0) {
    throw invalidArgument('busyTimeoutMs must be a non-negative integer.');
  }
  const database = new Database(path, { timeout });
  try {
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
  } catch (error) {
    database.close();
    throw error;
  }
  return database;
}
