import { RevocableError } from '../../../errors/revocable-error.js';
import { withDeadline } from '../../../lib/deadline.js';
import { parseDuration } from '../../../lib/duration.js';
import { storeUnavailable } from '../../../stores/internal/driver-errors.js';
import { invalidArgument } from '../../../stores/internal/validate.js';
import {
  createScriptRunner,
  LuaScript,
  type RedisClient,
} from '../../../stores/redis/lua-script.js';
import { checkRedisClient } from '../../../stores/redis/migrate.js';
import { throttleKeys } from './keys.js';
import { throttleLimits } from './options.js';
import type { LoginThrottle, LoginThrottleOptions } from './types.js';

/** Options for {@link createRedisLoginThrottle}. */
export interface RedisLoginThrottleOptions extends LoginThrottleOptions {
  /** An ioredis `Redis` or `Cluster` without a `keyPrefix`; the throttle never quits it. */
  client: RedisClient;
  /** What every key starts with (default `revocable:`), as for the Redis store. */
  prefix?: string;
  /**
   * How long a call waits for Redis before it fails with `ERR_STORE_UNAVAILABLE` (default 5
   * seconds). ioredis queues commands while it reconnects and waits for ever on a connection
   * that takes bytes and never answers: without this, every login would hang with it.
   */
  timeout?: number | string;
}

// One key per script, so that on a Cluster the account's and the address's counters may live in
// different slots. INCR keeps a key's TTL, so the window is set only by the failure that creates
// the key (`PTTL < 0`: the key is new, or somehow lost its TTL and would otherwise live forever).
const COUNT = new LuaScript(
  'throttleCount',
  `local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`,
);
const PEEK = new LuaScript(
  'throttlePeek',
  `local n = redis.call('GET', KEYS[1])
if not n then return {0, 0} end
return {tonumber(n), redis.call('PTTL', KEYS[1])}`,
);

function peeked(reply: unknown): { count: number; ttlMs: number } {
  if (Array.isArray(reply) && typeof reply[0] === 'number' && typeof reply[1] === 'number') {
    return { count: reply[0], ttlMs: reply[1] };
  }
  throw new RevocableError(
    'ERR_STORE_SCHEMA',
    'A login throttle key holds what the throttle did not write: give it a prefix of its own.',
  );
}

/**
 * A login throttle in Redis: every process using the same server and prefix shares the counts.
 * Keys: `<prefix>throttle:a:<account>` and `<prefix>throttle:ip:<network>` (see
 * {@link LoginThrottle} for how names and addresses become keys), strings holding the count, each
 * expiring when its window ends, so Redis forgets them by itself. A failure is one script per key
 * (`INCR`, and `PEXPIRE` when the key is new: atomic, so two processes never both start a window),
 * and `blockedFor` reads each count with its TTL in one script; the two keys' calls go out
 * together. Windows run on Redis's clock, so processes whose clocks differ agree.
 *
 * Failures of Redis arrive as `ERR_STORE_UNAVAILABLE`: a throttle that cannot count refuses the
 * login rather than allow unlimited guesses.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const client = new Redis(process.env.REDIS_URL);
 * const throttle = createRedisLoginThrottle({ client, prefix: 'app:' });
 * ```
 */
export function createRedisLoginThrottle(options: RedisLoginThrottleOptions): LoginThrottle {
  const limits = throttleLimits(options);
  const client = options.client;
  checkRedisClient(client);
  const prefix = options.prefix ?? 'revocable:';
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 256) {
    throw invalidArgument('prefix must be a non-empty string of at most 256 characters.');
  }
  const timeout = parseDuration(options.timeout ?? 5, 'timeout');
  if (!(timeout > 0) || timeout > 3600) {
    throw invalidArgument('timeout must be longer than zero and at most an hour.');
  }
  const run = createScriptRunner(client, 'throttle');
  const windowMs = String(limits.window * 1000);
  const key = (name: string) => `${prefix}throttle:${name}`;

  async function wait(name: string | undefined, limit: number): Promise<number> {
    if (name === undefined) return 0;
    const { count, ttlMs } = peeked(await run(PEEK, [key(name)], []));
    return count >= limit && ttlMs > 0 ? Math.ceil(ttlMs / 1000) : 0;
  }

  const guarded =
    <A extends unknown[], R>(body: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await withDeadline(
          body(...args),
          timeout,
          () =>
            new RevocableError(
              'ERR_STORE_UNAVAILABLE',
              `The Redis login throttle: Redis did not answer within ${timeout} s.`,
            ),
        );
      } catch (error) {
        throw storeUnavailable('The Redis login throttle', error);
      }
    };

  return {
    blockedFor: guarded(async (account: string, address?: string) => {
      const keys = throttleKeys(account, address);
      const waits = await Promise.all([
        wait(keys.account, limits.accountLimit),
        wait(keys.address, limits.addressLimit),
      ]);
      return Math.max(...waits);
    }),
    failed: guarded(async (account: string, address?: string) => {
      const keys = throttleKeys(account, address);
      const names = keys.address === undefined ? [keys.account] : [keys.account, keys.address];
      await Promise.all(names.map((name) => run(COUNT, [key(name)], [windowMs])));
    }),
    succeeded: guarded(async (account: string) => {
      await client.unlink(key(throttleKeys(account, undefined).account));
    }),
    async close() {},
  };
}
