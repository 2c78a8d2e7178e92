import { RevocableError } from '../errors/revocable-error.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import { assertKnownOptions, type OptionNames } from '../lib/known-options.js';
import { emitRevocableWarning } from '../lib/warning.js';
import type { ClaimRules } from './claims.js';
import { canonicalTyp } from './header.js';
import type { KeyRing } from './key-ring.js';
import { type PayloadRules, resolvePayloadChecks } from './payload-checks.js';
import { cacheCapacity } from './verification-cache.js';
import {
  ACCESS_TOKEN_CLAIMS,
  ACCESS_TOKEN_TYP,
  DEFAULT_MAX_TOKEN_LENGTH,
  MAX_CLOCK_TOLERANCE,
  type VerifierOptions,
} from './verify.js';

/** The options of a verifier, checked, with their defaults filled in. @internal */
export interface ResolvedVerifierOptions {
  readonly ring: KeyRing;
  /** The canonical `typ` to demand, or null for any. */
  readonly expectedTyp: string | null;
  readonly maxLength: number;
  readonly rules: ClaimRules;
  readonly payload: PayloadRules;
  readonly now: Clock;
  /** The verification cache's capacity; 0 for none. */
  readonly capacity: number;
}

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function toList(
  value: string | readonly string[] | null | undefined,
  name: string,
): readonly string[] | null {
  if (value === undefined || value === null) return null;
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string')
  ) {
    throw invalid(`${name} must be a string or a non-empty array of strings.`);
  }
  return [...list];
}

/** Every option of `createVerifier`, for the check of unknown ones. @internal */
export const VERIFIER_OPTION_NAMES: OptionNames<VerifierOptions> = Object.freeze({
  keys: true,
  issuer: true,
  audience: true,
  typ: true,
  clockTolerance: true,
  requiredClaims: true,
  maxTokenLifetime: true,
  payloadChecks: true,
  maxTokenLength: true,
  now: true,
  cache: true,
});

/** Checks the options of `createVerifier`; `ERR_INVALID_ARGUMENT` names the bad one. @internal */
export function resolveVerifierOptions(options: VerifierOptions): ResolvedVerifierOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid('createVerifier needs an options object.');
  }
  assertKnownOptions(options, VERIFIER_OPTION_NAMES, 'createVerifier');
  const ring = options.keys;
  if (
    typeof ring?.get !== 'function' ||
    typeof ring.soleKeyFor !== 'function' ||
    typeof ring.hasKeyFor !== 'function'
  ) {
    throw invalid('keys must be a KeyRing.');
  }
  const typOption = options.typ === undefined ? ACCESS_TOKEN_TYP : options.typ;
  if (typOption !== null && (typeof typOption !== 'string' || typOption.length === 0)) {
    throw invalid('typ must be a non-empty string or null.');
  }
  const expectedTyp = typOption === null ? null : canonicalTyp(typOption);
  const maxLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  if (!Number.isInteger(maxLength) || maxLength < 16) {
    throw invalid('maxTokenLength must be an integer of at least 16.');
  }
  // Every access token revocable signs carries the RFC 9068 claims, so a verifier of access tokens
  // can demand them; a verifier of other types keeps the one claim any expiring token has.
  const required =
    options.requiredClaims ?? (expectedTyp === ACCESS_TOKEN_TYP ? ACCESS_TOKEN_CLAIMS : ['exp']);
  if (!Array.isArray(required) || !required.every((claim) => typeof claim === 'string')) {
    throw invalid('requiredClaims must be an array of claim names.');
  }
  const tolerance = parseDuration(options.clockTolerance ?? 0, 'clockTolerance');
  // Every token outlives its exp by the tolerance: '3650d' would keep each token it accepts valid
  // for ten more years.
  if (tolerance > MAX_CLOCK_TOLERANCE) {
    throw invalid(`clockTolerance must be at most ${MAX_CLOCK_TOLERANCE} seconds (5m).`);
  }
  const payload = resolvePayloadChecks(options.payloadChecks);
  const rules: ClaimRules = {
    issuers: toList(options.issuer, 'issuer'),
    audiences: toList(options.audience, 'audience'),
    required: [...required],
    tolerance,
    identifiers: payload.identifierClaims,
    maxLifetime:
      options.maxTokenLifetime === undefined
        ? null
        : parseDuration(options.maxTokenLifetime, 'maxTokenLifetime'),
  };
  const now = options.now ?? systemClock;
  if (typeof now !== 'function') throw invalid('now must be a function returning epoch seconds.');
  const capacity = cacheCapacity(options.cache);
  // The cache is emptied when the ring's revision changes; a ring without one could change unseen.
  if (capacity !== 0 && typeof ring.revision !== 'number') {
    throw invalid('cache needs keys to be a KeyRing.');
  }
  return { ring, expectedTyp, maxLength, rules, payload, now, capacity };
}

// The codes of the warnings a verifier emits when it is made. Programs filter on them, so they are
// as stable as error codes (docs/jwt.md lists them).
type VerifierWarningCode = 'REVOCABLE_ANY_AUDIENCE' | 'REVOCABLE_ANY_ISSUER';

function warn(code: VerifierWarningCode, message: string): void {
  emitRevocableWarning(code, message);
}

/**
 * Warns, once per verifier and when it is made, about each of `audience` and `issuer` that was
 * left out. Both are optional because some verifiers really accept any, but leaving one out by
 * oversight is the classic hole: a token the same issuer minted for another service (or, with a
 * shared JWKS, another issuer) passes. `null` says "any, on purpose" and silences it; a warning at
 * construction, not per verify, costs nothing on the hot path and cannot flood a log.
 * @internal
 */
export function warnIfUnscoped(options: VerifierOptions, caller: string): void {
  if (options.audience === undefined) {
    warn(
      'REVOCABLE_ANY_AUDIENCE',
      `${caller} was given no audience, so it accepts tokens minted for any audience, another ` +
        "service's included. Pass audience: 'your-api' (the aud your tokens carry), or " +
        'audience: null to accept every audience on purpose.',
    );
  }
  if (options.issuer === undefined) {
    warn(
      'REVOCABLE_ANY_ISSUER',
      `${caller} was given no issuer, so it accepts tokens from any issuer whose key is in its ` +
        "ring. Pass issuer: 'https://your-issuer', or issuer: null to accept every issuer on " +
        'purpose.',
    );
  }
}
