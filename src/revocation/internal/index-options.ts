import { RevocableError } from '../../errors/revocable-error.js';
import { type Clock, systemClock } from '../../lib/clock.js';
import { parseDuration } from '../../lib/duration.js';
import { assertKnownOptions, type OptionNames } from '../../lib/known-options.js';
import { DEFAULT_CLOCK_SKEW } from '../create-event.js';
import type { RevocationEvent } from '../events.js';
import type { RevocationIndexOptions } from '../types.js';

/** The options of an index, checked, with their defaults filled in. */
export interface ResolvedIndexOptions {
  readonly maxAccessTokenLifetime: number;
  readonly clockSkew: number;
  readonly now: Clock;
  readonly maxSubjectEntries: number;
  readonly subjectBuckets: number;
  readonly sweepEvery: number;
  readonly sweepAfter: number;
  /** Seconds between timer sweeps, or null for no timer. */
  readonly sweepInterval: number | null;
  readonly onListenerError: (error: unknown, event: RevocationEvent | null) => void;
}

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function defaultListenerError(error: unknown): void {
  process.emitWarning(
    error instanceof Error ? error : new Error(String(error)),
    'RevocationListenerWarning',
  );
}

function isPowerOfTwo(value: number, max: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= max && (value & (value - 1)) === 0;
}

const OPTION_NAMES: OptionNames<RevocationIndexOptions> = {
  maxAccessTokenLifetime: true,
  clockSkew: true,
  now: true,
  maxSubjectEntries: true,
  subjectBuckets: true,
  sweepEvery: true,
  sweepAfter: true,
  sweepInterval: true,
  onListenerError: true,
};

/** Checks the options of `createRevocationIndex`; `ERR_INVALID_ARGUMENT` names the bad one. */
export function resolveIndexOptions(options: RevocationIndexOptions): ResolvedIndexOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid('createRevocationIndex needs an options object.');
  }
  assertKnownOptions(options, OPTION_NAMES, 'createRevocationIndex');
  const now = options.now ?? systemClock;
  if (typeof now !== 'function') throw invalid('now must be a function returning seconds.');
  const maxSubjectEntries = options.maxSubjectEntries ?? 100_000;
  const unbounded = maxSubjectEntries === Number.POSITIVE_INFINITY;
  if (!unbounded && !(Number.isInteger(maxSubjectEntries) && maxSubjectEntries >= 0)) {
    throw invalid('maxSubjectEntries must be a non-negative integer or Infinity.');
  }
  const subjectBuckets = options.subjectBuckets ?? 4096;
  if (!isPowerOfTwo(subjectBuckets, 1 << 24)) {
    throw invalid('subjectBuckets must be a power of two between 1 and 2^24.');
  }
  const sweepEvery = options.sweepEvery ?? 1024;
  if (!Number.isInteger(sweepEvery) || sweepEvery < 1) {
    throw invalid('sweepEvery must be a positive integer.');
  }
  let sweepInterval: number | null = null;
  if (options.sweepInterval !== undefined) {
    sweepInterval = parseDuration(options.sweepInterval, 'sweepInterval');
    if (sweepInterval <= 0) throw invalid('sweepInterval must be positive.');
  }
  const onListenerError = options.onListenerError ?? defaultListenerError;
  if (typeof onListenerError !== 'function') throw invalid('onListenerError must be a function.');
  return {
    maxAccessTokenLifetime: parseDuration(options.maxAccessTokenLifetime, 'maxAccessTokenLifetime'),
    clockSkew: parseDuration(options.clockSkew ?? DEFAULT_CLOCK_SKEW, 'clockSkew'),
    now,
    maxSubjectEntries,
    subjectBuckets,
    sweepEvery,
    sweepAfter: parseDuration(options.sweepAfter ?? 60, 'sweepAfter'),
    sweepInterval,
    onListenerError,
  };
}
