import {
  type Accounts,
  createAccounts,
  createMemoryLoginThrottle,
  createSqliteUserStore,
  type LoginThrottle,
  type LoginThrottleOptions,
} from '../../../src/server/users/index.js';
import { openSqliteDatabase } from '../../stores/sqlite-support.js';
import { countingHasher, testClock } from './support.js';

/** A throttle that records its calls, around a real one. */
export function recordingThrottle(inner: LoginThrottle) {
  const calls: string[] = [];
  const throttle: LoginThrottle = {
    blockedFor: (account, address) => {
      calls.push(`blockedFor ${account} ${address}`);
      return inner.blockedFor(account, address);
    },
    failed: (account, address) => {
      calls.push(`failed ${account} ${address}`);
      return inner.failed(account, address);
    },
    succeeded: (account) => {
      calls.push(`succeeded ${account}`);
      return inner.succeeded(account);
    },
    close: () => inner.close(),
  };
  return { throttle, calls };
}

/** Accounts on a fresh SQLite file with the memory throttle, a test clock and a counting hasher. */
export function sqliteAccounts(path: string, limits: LoginThrottleOptions = {}) {
  const database = openSqliteDatabase(path);
  const clock = testClock();
  const { hasher, calls } = countingHasher();
  const users = createSqliteUserStore({ database });
  const recorded = recordingThrottle(createMemoryLoginThrottle({ ...limits, now: clock.now }));
  const accounts: Accounts = createAccounts({
    users,
    throttle: recorded.throttle,
    now: clock.now,
    passwords: hasher,
  });
  return {
    accounts,
    users,
    clock,
    calls,
    throttleCalls: recorded.calls,
    close: () => database.close(),
  };
}
