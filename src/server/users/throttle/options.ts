import { invalidArgument } from '../../../stores/internal/validate.js';
import type { LoginThrottleOptions } from './types.js';

/** The throttle's limits with their defaults applied and checked. Internal. */
export interface ThrottleLimits {
  readonly accountLimit: number;
  readonly addressLimit: number;
  readonly window: number;
}

const MAX_LIMIT = 1_000_000;
const MAX_WINDOW = 366 * 86_400;

function limit(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_LIMIT) {
    throw invalidArgument(`${name} must be an integer from 1 to ${MAX_LIMIT}.`);
  }
  return value;
}

/**
 * Applies the defaults (10 per account, 100 per address, 900 s) and refuses anything but whole
 * positive numbers, so that a limit of `'10'` or a window of `NaN` never silently means "no
 * throttle".
 *
 * @example
 * ```ts
 * const limits = throttleLimits({ window: 60 });
 * ```
 */
export function throttleLimits(options: LoginThrottleOptions): ThrottleLimits {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('options must be an object.');
  }
  const window = options.window ?? 900;
  if (
    typeof window !== 'number' ||
    !Number.isSafeInteger(window) ||
    window < 1 ||
    window > MAX_WINDOW
  ) {
    throw invalidArgument(`window must be a whole number of seconds from 1 to ${MAX_WINDOW}.`);
  }
  return {
    accountLimit: limit(options.accountLimit, 'accountLimit', 10),
    addressLimit: limit(options.addressLimit, 'addressLimit', 100),
    window,
  };
}

/** One counter as a backend holds it: failures so far, and when its window ends (epoch s). */
export interface WindowCount {
  readonly count: number;
  readonly windowEnd: number;
}

/** Whole seconds until a counter at `limit` lets attempts through again; 0 when it does now. */
export function waitFor(counter: WindowCount | undefined, limit: number, now: number): number {
  if (counter === undefined || counter.count < limit || counter.windowEnd <= now) return 0;
  return Math.max(1, Math.ceil(counter.windowEnd - now));
}
