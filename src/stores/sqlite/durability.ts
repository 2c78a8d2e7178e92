import type Database from 'better-sqlite3';
import { RevocableError } from '../../errors/revocable-error.js';

// SQLite's `synchronous` levels: OFF 0, NORMAL 1, FULL 2, EXTRA 3.
const OFF = 0;
const FULL = 2;

// Through database.pragma (prepared anew each time), not statements prepared once: SQLite applies
// `PRAGMA synchronous = n` while compiling it, so preparing a setter would already change the level
// and running it again later would not.
function synchronousLevel(database: Database.Database): number {
  return Number(database.pragma('synchronous', { simple: true }));
}

/**
 * Refuses a file database whose connection runs with `synchronous = OFF`. Without any sync a power
 * cut may not only drop the last commits (logouts that returned among them) but corrupt the file,
 * and a checkpoint run by this connection would copy even a revocation committed with FULL into
 * the database file without syncing it. A warning would end up in a log nobody reads while the
 * store kept breaking its promise, so the store refuses to start. In-memory and temporary
 * databases are exempt: there is nothing on disk to make durable.
 */
export function checkDurability(database: Database.Database): void {
  if (database.memory) return;
  if (synchronousLevel(database) === OFF) {
    throw new RevocableError(
      'ERR_STORE_UNSAFE',
      'The database runs with synchronous = OFF: a power cut could lose revocations that ' +
        'returned, or corrupt the file. Use NORMAL or FULL (openSqliteDatabase sets NORMAL).',
    );
  }
}

/**
 * Makes transactions that run `body` (in `BEGIN IMMEDIATE ... COMMIT`, like better-sqlite3's
 * `transaction().immediate`), for the commits that revoke: a logout that returned must survive a
 * power cut. With WAL and `synchronous = NORMAL` (what openSqliteDatabase sets) a commit is not
 * synced and a power cut may drop it, so these run with the connection's level raised to FULL,
 * which syncs the WAL at commit; the level is put back after. SQLite refuses to change the level
 * inside a transaction, hence around it. Syncing the WAL also makes every earlier commit in it
 * durable, so a revocation never survives while a login it ended is lost.
 *
 * Logins and refreshes stay at the connection's level: losing one to a power cut logs a device out,
 * which is safe, and syncing each would cost an fsync per request under the file's write lock.
 *
 * When the connection is already inside the application's transaction, the body runs in a
 * savepoint and the commit that counts is the application's: the level cannot change there and is
 * left as it is.
 */
export function durableTransaction<A extends unknown[], R>(
  database: Database.Database,
  body: (...args: A) => R,
): (...args: A) => R {
  const transaction = database.transaction(body);
  return (...args: A): R => {
    if (database.inTransaction) return transaction.immediate(...args);
    const level = synchronousLevel(database);
    if (level >= FULL) return transaction.immediate(...args);
    database.pragma(`synchronous = ${FULL}`);
    try {
      return transaction.immediate(...args);
    } finally {
      database.pragma(`synchronous = ${level}`);
    }
  };
}
