import { type Clock, systemClock } from '../../../lib/clock.js';
import { invalidArgument } from '../../../stores/internal/validate.js';
import { throttleKeys } from './keys.js';
import { throttleLimits, type WindowCount, waitFor } from './options.js';
import type { LoginThrottle, LoginThrottleOptions } from './types.js';

/** Options for {@link createMemoryLoginThrottle}. */
export interface MemoryLoginThrottleOptions extends LoginThrottleOptions {
  /** The clock, in epoch seconds (default the system clock); tests pass their own. */
  now?: Clock;
  /** The most counters kept (default 100,000); past it the oldest window is dropped. */
  maxKeys?: number;
}

interface Counter extends WindowCount {
  count: number;
  windowEnd: number;
}

/**
 * A login throttle in this process's memory: for the single-process server (SQLite). Processes do
 * not share its counts: a cluster uses {@link createRedisLoginThrottle} or
 * {@link createPostgresLoginThrottle}.
 *
 * Bounded: at most `maxKeys` counters (about 100 bytes each). A Map keeps them in the order their
 * windows started, so when it is full the counter dropped is the one whose window ends first. An
 * attacker who makes 100,000 keys in one window can push a counter out early: the price of a
 * bound; the account limit still holds for anyone slower than that.
 *
 * @example
 * ```ts
 * const throttle = createMemoryLoginThrottle({ accountLimit: 5 });
 * if ((await throttle.blockedFor('alice', '192.0.2.1')) > 0) refuse();
 * ```
 */
export function createMemoryLoginThrottle(options: MemoryLoginThrottleOptions = {}): LoginThrottle {
  const limits = throttleLimits(options);
  const now = options.now ?? systemClock;
  if (typeof now !== 'function') throw invalidArgument('now must be a function.');
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 2) {
    throw invalidArgument('maxKeys must be an integer of at least 2.');
  }
  const counters = new Map<string, Counter>();

  function live(key: string, at: number): Counter | undefined {
    const counter = counters.get(key);
    if (counter !== undefined && counter.windowEnd <= at) {
      counters.delete(key);
      return undefined;
    }
    return counter;
  }

  function count(key: string, at: number): void {
    const counter = live(key, at);
    if (counter !== undefined) {
      counter.count += 1;
      return;
    }
    counters.set(key, { count: 1, windowEnd: at + limits.window });
    while (counters.size > maxKeys) {
      const oldest = counters.keys().next();
      if (oldest.done === true) break;
      counters.delete(oldest.value);
    }
  }

  return {
    async blockedFor(account, address) {
      const keys = throttleKeys(account, address);
      const at = now();
      const forAccount = waitFor(live(keys.account, at), limits.accountLimit, at);
      const forAddress =
        keys.address === undefined ? 0 : waitFor(live(keys.address, at), limits.addressLimit, at);
      return Math.max(forAccount, forAddress);
    },
    async failed(account, address) {
      const keys = throttleKeys(account, address);
      const at = now();
      count(keys.account, at);
      if (keys.address !== undefined) count(keys.address, at);
    },
    async succeeded(account) {
      counters.delete(throttleKeys(account, undefined).account);
    },
    async close() {
      counters.clear();
    },
  };
}
