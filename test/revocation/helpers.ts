import assert from 'node:assert/strict';
import type { ErrorCode } from '../../src/errors/index.js';
import { isRevocableError } from '../../src/errors/index.js';
import {
  createRevocationIndex,
  type RevocationIndex,
  type RevocationIndexOptions,
} from '../../src/revocation/index.js';

/** An epoch second well inside the uint32 range, with room either side. */
export const T0 = 1_900_000_000;
export const LIFETIME = 600;
export const SKEW = 5;

/** A clock the test moves by hand. */
export interface ManualClock {
  (): number;
  set(time: number): void;
  advance(seconds: number): void;
}

export function manualClock(start = T0): ManualClock {
  let time = start;
  const clock = (() => time) as ManualClock;
  clock.set = (value) => {
    time = value;
  };
  clock.advance = (seconds) => {
    time += seconds;
  };
  return clock;
}

export function timingFor(now: () => number) {
  return { maxAccessTokenLifetime: LIFETIME, clockSkew: SKEW, now };
}

export function newIndex(
  now: () => number,
  options: Partial<RevocationIndexOptions> = {},
): RevocationIndex {
  return createRevocationIndex({
    maxAccessTokenLifetime: LIFETIME,
    clockSkew: SKEW,
    now,
    ...options,
  });
}

/** Asserts that `fn` throws a RevocableError with `code`. */
export function throwsCode(fn: () => unknown, code: ErrorCode, message?: string): void {
  assert.throws(fn, (error: unknown) => isRevocableError(error, code), message);
}
