import { JwtClaimError } from '../errors/revocable-error.js';
import type { JwtClaims } from './types.js';

/** The claim checks of one verifier, fixed when it is created. */
export interface ClaimRules {
  readonly issuers: readonly string[] | null;
  readonly audiences: readonly string[] | null;
  readonly required: readonly string[];
  readonly tolerance: number;
}

function invalid(claim: string, what: string): JwtClaimError {
  return new JwtClaimError(
    'ERR_JWT_CLAIM_INVALID',
    `The ${claim} claim must be ${what}.`,
    claim,
    'invalid',
  );
}

function numericDate(claims: JwtClaims, claim: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = claims[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(claim, 'a NumericDate');
  return value;
}

// The three time comparisons, shared with the verification cache, which repeats them on every hit.
// Each is false for an absent claim passed as the bound that never fails (+/-Infinity).

/** RFC 7519 4.1.4: the token must not be accepted on or after `exp`. */
export function isExpired(exp: number, now: number, tolerance: number): boolean {
  return now - tolerance >= exp;
}

export function isNotYetValid(nbf: number, now: number, tolerance: number): boolean {
  return now + tolerance < nbf;
}

export function isIssuedInFuture(iat: number, now: number, tolerance: number): boolean {
  return iat > now + tolerance;
}

/**
 * Checks the registered claims against `now` (epoch seconds). Throws a {@link JwtClaimError} on the
 * first failure; returns nothing, so the verified claims object is handed back untouched.
 */
export function checkClaims(claims: JwtClaims, rules: ClaimRules, now: number): void {
  for (const claim of rules.required) {
    // Own members only: `constructor` or `toString` must not be "present" by way of the prototype.
    if (!Object.hasOwn(claims, claim)) {
      throw new JwtClaimError(
        'ERR_JWT_CLAIM_MISSING',
        `The ${claim} claim is required.`,
        claim,
        'missing',
      );
    }
  }
  const exp = numericDate(claims, 'exp');
  if (exp !== undefined && isExpired(exp, now, rules.tolerance)) {
    throw new JwtClaimError('ERR_JWT_EXPIRED', 'The token has expired.', 'exp', 'check_failed');
  }
  const nbf = numericDate(claims, 'nbf');
  if (nbf !== undefined && isNotYetValid(nbf, now, rules.tolerance)) {
    throw new JwtClaimError(
      'ERR_JWT_NOT_YET_VALID',
      'The token is not valid yet.',
      'nbf',
      'check_failed',
    );
  }
  const iat = numericDate(claims, 'iat');
  if (iat !== undefined && isIssuedInFuture(iat, now, rules.tolerance)) {
    throw new JwtClaimError(
      'ERR_JWT_IAT_FUTURE',
      'The token was issued in the future.',
      'iat',
      'check_failed',
    );
  }
  if (claims.sub !== undefined && typeof claims.sub !== 'string') throw invalid('sub', 'a string');
  if (claims.jti !== undefined && typeof claims.jti !== 'string') throw invalid('jti', 'a string');
  const iss = claims.iss;
  if (iss !== undefined && typeof iss !== 'string') throw invalid('iss', 'a string');
  if (rules.issuers !== null) {
    if (iss === undefined) {
      throw new JwtClaimError(
        'ERR_JWT_CLAIM_MISSING',
        'The iss claim is required.',
        'iss',
        'missing',
      );
    }
    if (!rules.issuers.includes(iss)) {
      throw new JwtClaimError(
        'ERR_JWT_ISSUER',
        'The issuer is not accepted.',
        'iss',
        'check_failed',
      );
    }
  }
  const aud = claims.aud;
  if (aud !== undefined && typeof aud !== 'string' && !isStringArray(aud)) {
    throw invalid('aud', 'a string or an array of strings');
  }
  if (rules.audiences !== null) {
    if (aud === undefined) {
      throw new JwtClaimError(
        'ERR_JWT_CLAIM_MISSING',
        'The aud claim is required.',
        'aud',
        'missing',
      );
    }
    if (!audienceMatches(aud, rules.audiences)) {
      throw new JwtClaimError(
        'ERR_JWT_AUDIENCE',
        'The token is not meant for this audience.',
        'aud',
        'check_failed',
      );
    }
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function audienceMatches(aud: string | string[], accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud);
  for (const item of aud) if (accepted.includes(item)) return true;
  return false;
}
