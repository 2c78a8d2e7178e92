import { invalidArgument } from '../internal/validate.js';
import type { PostgresPool } from './driver-types.js';

/**
 * Refuses anything but a pg Pool (or an object with a Pool's `query` and `connect`). A `pg.Client`
 * is refused too: one connection cannot keep apart the statements of concurrent calls, and the
 * store never manages a connection it was not given by a pool.
 */
export function checkPool(client: unknown): asserts client is PostgresPool {
  const candidate = client as Partial<PostgresPool> & {
    escapeLiteral?: unknown;
    release?: unknown;
  };
  if (typeof candidate?.query !== 'function' || typeof candidate.connect !== 'function') {
    throw invalidArgument('client must be a pg Pool.');
  }
  // A Client (and a PoolClient checked out of a pool) has escapeLiteral; a Pool does not.
  if (typeof candidate.escapeLiteral === 'function' || typeof candidate.release === 'function') {
    throw invalidArgument('client must be a pg Pool, not a single Client.');
  }
}

/** The SQLSTATE of a driver error, if it has one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** The constraint a driver error names (a unique violation's index or constraint), if any. */
export function constraintOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('constraint' in error)) return undefined;
  return typeof error.constraint === 'string' ? error.constraint : undefined;
}

// serialization_failure and deadlock_detected: the statement was rolled back whole, so running it
// again is safe. Under READ COMMITTED (PostgreSQL's default) the store's statements do not raise
// the first; a database whose default isolation is REPEATABLE READ or SERIALIZABLE raises it
// whenever two calls write the same row, and a retry (with a new snapshot) is the answer.
const RETRYABLE = new Set(['40001', '40P01']);
const ATTEMPTS = 8;

function pause(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(50, 2 ** attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs one statement on the pool: one round trip (pg sends parse, bind and execute together), in
 * its own implicit transaction. A statement rolled back by a serialization failure or a deadlock
 * is run again, a few times, after a short random pause.
 */
export async function runStatement<R extends object>(
  pool: PostgresPool,
  text: string,
  values: readonly unknown[],
): Promise<{ rows: R[]; rowCount: number | null }> {
  for (let attempt = 1; ; attempt++) {
    try {
      // The rows are what the statement selects; each caller names their columns as R.
      const result = await pool.query(text, values as unknown[]);
      return { rows: result.rows as R[], rowCount: result.rowCount };
    } catch (error) {
      if (attempt >= ATTEMPTS || !RETRYABLE.has(sqlState(error) ?? '')) throw error;
    }
    await pause(attempt);
  }
}
