import Database from 'better-sqlite3';

/**
 * Opens (or creates) a SQLite database file set up for revocable: WAL journal (readers never wait
 * for the writer), a busy timeout (writers from other processes wait their turn instead of failing),
 * `synchronous = NORMAL` (durable at each checkpoint, the usual pairing with WAL).
 *
 * @example
 * ```ts
 * const database = openSqliteDatabase('/var/lib/app/revocable.db');
 * ```
 */
export function openSqliteDatabase(
  path: string,
  options: { busyTimeoutMs?: number } = {},
): Database.Database {
  const database = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  return database;
}
