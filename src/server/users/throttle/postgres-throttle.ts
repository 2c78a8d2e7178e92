import { type Clock, systemClock } from '../../../lib/clock.js';
import { invalidArgument } from '../../../stores/internal/validate.js';
import { checkPool, runStatement } from '../../../stores/postgres/database.js';
import type { PostgresPool } from '../../../stores/postgres/driver-types.js';
import { isSchemaState } from '../../../stores/postgres/version.js';
import { notMigrated } from '../internal/postgres-migrate.js';
import { serverTableNames } from '../internal/postgres-names.js';
import { translateStoreFailures } from '../internal/translate.js';
import { throttleKeys } from './keys.js';
import { throttleLimits, waitFor } from './options.js';
import { throttleComponent } from './postgres-migrate.js';
import type { LoginThrottle, LoginThrottleOptions } from './types.js';

/** Options for {@link createPostgresLoginThrottle}. */
export interface PostgresLoginThrottleOptions extends LoginThrottleOptions {
  /** A `pg` Pool the application created; the throttle never ends it. */
  client: PostgresPool;
  /** The schema of the table (default `revocable`). */
  schema?: string;
  /** Prefix of the table names (default `revocable_`). */
  tablePrefix?: string;
  /** The clock, in epoch seconds (default the system clock); tests pass their own. */
  now?: Clock;
}

// Every this many failures counted by one process, it deletes up to SWEEP_BATCH ended windows,
// so the table holds about the keys of one window and never grows without bound.
const SWEEP_EVERY = 200;
const SWEEP_BATCH = 1000;
// A count never needs to go past its limit by much; the cap keeps it far from integer overflow.
const MAX_COUNT = 1_000_000_000;

interface CounterRow {
  key: string;
  count: number;
  window_end: number;
}

/**
 * A login throttle in PostgreSQL: every process using the same schema and prefix shares the
 * counts. A failure is one statement for both keys: an upsert that starts a new window when the
 * key has none or its window has ended, and counts one more otherwise, row-locked so that
 * concurrent failures of several processes all count. `blockedFor` is one read of both rows.
 *
 * Windows run on the processes' clock (`now`); give the machines of a cluster synchronized
 * clocks. Run {@link migratePostgresLoginThrottle} first; a missing table is `ERR_STORE_SCHEMA`
 * naming it, a driver failure `ERR_STORE_UNAVAILABLE` (a throttle that cannot count refuses the
 * login rather than allow unlimited guesses).
 *
 * @example
 * ```ts
 * await migratePostgresLoginThrottle(pool);
 * const throttle = createPostgresLoginThrottle({ client: pool, accountLimit: 5 });
 * ```
 */
export function createPostgresLoginThrottle(options: PostgresLoginThrottleOptions): LoginThrottle {
  const limits = throttleLimits(options);
  const names = serverTableNames(options);
  const pool = options.client;
  checkPool(pool);
  const now = options.now ?? systemClock;
  if (typeof now !== 'function') throw invalidArgument('now must be a function.');
  const table = names.throttle;
  const component = throttleComponent(names);
  let counted = 0;

  async function run<R extends object>(text: string, values: readonly unknown[]) {
    try {
      return await runStatement<R>(pool, text, values);
    } catch (error) {
      throw isSchemaState(error) ? notMigrated(names, component, error) : error;
    }
  }

  async function sweep(at: number): Promise<void> {
    await run(
      `DELETE FROM ${table} WHERE key IN
         (SELECT key FROM ${table} WHERE window_end <= $1 LIMIT ${SWEEP_BATCH})`,
      [at],
    ).catch(() => {
      // Best effort: the next sweep deletes what this one left.
    });
  }

  const throttle: LoginThrottle = {
    async blockedFor(account, address) {
      const keys = throttleKeys(account, address);
      const at = now();
      const { rows } = await run<CounterRow>(
        `SELECT key, count, window_end FROM ${table} WHERE key = ANY($1::text[])`,
        [[keys.account, ...(keys.address === undefined ? [] : [keys.address])]],
      );
      const counter = (key: string | undefined) => {
        const row = rows.find((candidate) => candidate.key === key);
        return row === undefined ? undefined : { count: row.count, windowEnd: row.window_end };
      };
      return Math.max(
        waitFor(counter(keys.account), limits.accountLimit, at),
        keys.address === undefined ? 0 : waitFor(counter(keys.address), limits.addressLimit, at),
      );
    },
    async failed(account, address) {
      const keys = throttleKeys(account, address);
      const at = now();
      await run(
        `INSERT INTO ${table} AS t (key, count, window_end)
         SELECT key, 1, $2::double precision + $3::double precision
           FROM unnest($1::text[]) AS key
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN t.window_end <= $2 THEN 1 ELSE LEAST(t.count + 1, ${MAX_COUNT}) END,
           window_end = CASE WHEN t.window_end <= $2 THEN excluded.window_end ELSE t.window_end END`,
        [[keys.account, ...(keys.address === undefined ? [] : [keys.address])], at, limits.window],
      );
      counted += 1;
      if (counted % SWEEP_EVERY === 0) await sweep(at);
    },
    async succeeded(account) {
      await run(`DELETE FROM ${table} WHERE key = $1`, [throttleKeys(account, undefined).account]);
    },
    async close() {},
  };
  return translateStoreFailures('The PostgreSQL login throttle', throttle);
}
