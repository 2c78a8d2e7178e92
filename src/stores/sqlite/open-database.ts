import type Database from 'better-sqlite3';
import { RevocableError } from '../../errors/revocable-error.js';
import { loadDriver, reasonOf } from '../internal/driver-errors.js';
import { invalidArgument } from '../internal/validate.js';
import type { SqliteDatabase } from './driver-types.js';

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
 * The database is the caller's: close it when done. Loads better-sqlite3 at its first call (not
 * when `revocable/sqlite` is imported): without it installed this throws `ERR_DRIVER_MISSING`,
 * naming the package to install. A file that cannot be opened (a missing directory, no right to
 * write, not a database) throws `ERR_STORE_UNAVAILABLE` with the path and the reason.
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
): SqliteDatabase {
  if (typeof path !== 'string' || path.length === 0) {
    throw invalidArgument('path must be a non-empty string.');
  }
  const timeout = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(timeout) || timeout < 0) {
    throw invalidArgument('busyTimeoutMs must be a non-negative integer.');
  }
  const Driver = loadDriver<typeof Database>({
    name: 'better-sqlite3',
    types: '@types/better-sqlite3',
    subpath: 'revocable/sqlite',
  });
  let database: Database.Database | undefined;
  try {
    database = new Driver(path, { timeout });
    // The first statements read the file: one that is not a database fails here, not later.
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
  } catch (error) {
    database?.close();
    throw new RevocableError(
      'ERR_STORE_UNAVAILABLE',
      `Could not open the SQLite database ${JSON.stringify(path)}: ${reasonOf(error)}.`,
      { cause: error },
    );
  }
  return database;
}
