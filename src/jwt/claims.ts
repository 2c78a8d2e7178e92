import { JwtClaimError } from '../errors/revocable-error.js';
import { hasControlCharacter, isWellFormedText } from '../lib/text.js';
import { shownAccepted, shownClaim } from './claim-display.js';
import type { JwtClaims } from './types.js';

/** The claim checks of one verifier, fixed when it is created. */
export interface ClaimRules {
  readonly issuers: readonly string[] | null;
  readonly audiences: readonly string[] | null;
  readonly required: readonly string[];
  readonly tolerance: number;
  /** Whether `sub`, `sid` and `jti` must be well-formed text without control characters. */
  readonly identifiers: boolean;
  /** The longest `exp - iat` accepted, in seconds; null for no limit. */
  readonly maxLifetime: number | null;
}

/**
 * The longest `sub`, `sid` or `jti` a verifier accepts, in UTF-16 code units: the longest target a
 * revocation event can name.
 */
export const MAX_IDENTIFIER_LENGTH = 256;

/**
 * Whether a value is an identifier a revocation can name: a string of 1 to
 * {@link MAX_IDENTIFIER_LENGTH} characters, well-formed, without control characters. @internal
 */
export function isIdentifier(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_IDENTIFIER_LENGTH &&
    isWellFormedText(value) &&
    !hasControlCharacter(value)
  );
}

/**
 * The first sentence of an `ERR_JWT_ISSUER` message, and all that an HTTP answer says of it (see
 * `publicMessage`): the rest names the accepted issuers and the token's. @internal
 */
export const ISSUER_REFUSED = 'The issuer is not accepted.';

/** The same for `ERR_JWT_AUDIENCE`. @internal */
export const AUDIENCE_REFUSED = 'The token is not meant for this audience.';

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
 * `plainText` says that the payload's text can hold no lone surrogate and no control character.
 */
export function checkClaims(
  claims: JwtClaims,
  rules: ClaimRules,
  now: number,
  plainText = false,
): void {
  for (const claim of rules.required) {
    // Own members only: `constructor` or `toString` must not be "present" by way of the prototype.
    if (!Object.hasOwn(claims, claim)) {
      throw missing(claim);
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
  if (rules.maxLifetime !== null) checkLifetime(exp, iat, rules.maxLifetime);
  const text = rules.identifiers && !plainText;
  identifier(claims, 'sub', rules.identifiers, text);
  identifier(claims, 'sid', rules.identifiers, text);
  identifier(claims, 'jti', rules.identifiers, text);
  const iss = claims.iss;
  if (iss !== undefined && typeof iss !== 'string') throw invalid('iss', 'a string');
  if (rules.issuers !== null) {
    if (iss === undefined) {
      throw missing('iss');
    }
    if (!rules.issuers.includes(iss)) throw refused('iss', iss, rules.issuers);
  }
  const aud = claims.aud;
  if (aud !== undefined && typeof aud !== 'string' && !isStringArray(aud)) {
    throw invalid('aud', 'a string or an array of strings');
  }
  if (rules.audiences !== null) {
    if (aud === undefined) {
      throw missing('aud');
    }
    if (!audienceMatches(aud, rules.audiences)) throw refused('aud', aud, rules.audiences);
  }
}

// Said in full so that a service whose issuer is configured as https://auth.example, and whose
// tokens say https://auth.example/, learns why from the message, not by decoding tokens by hand.
// Built only here, once a token is refused: the checks above allocate nothing for it.
function refused(claim: 'iss' | 'aud', value: unknown, accepted: readonly string[]): JwtClaimError {
  const issuer = claim === 'iss';
  return new JwtClaimError(
    issuer ? 'ERR_JWT_ISSUER' : 'ERR_JWT_AUDIENCE',
    `${issuer ? ISSUER_REFUSED : AUDIENCE_REFUSED} The token's ${claim} is ${shownClaim(value)}; ` +
      `this verifier accepts ${shownAccepted(accepted)}.`,
    claim,
    'check_failed',
  );
}

function missing(claim: string): JwtClaimError {
  return new JwtClaimError(
    'ERR_JWT_CLAIM_MISSING',
    `The ${claim} claim is required.`,
    claim,
    'missing',
  );
}

// exp - iat is the difference of two readings of the issuer's own clock, so no clock skew enters it.
function checkLifetime(
  exp: number | undefined,
  iat: number | undefined,
  maxLifetime: number,
): void {
  if (exp === undefined) throw missing('exp');
  if (iat === undefined) throw missing('iat');
  if (exp - iat > maxLifetime) {
    throw new JwtClaimError(
      'ERR_JWT_LIFETIME',
      `The token lives longer than ${maxLifetime} seconds (exp - iat).`,
      'exp',
      'check_failed',
    );
  }
}

// sub, sid and jti are what revocations name. The revocation index and the stores key entries by
// them: a lone surrogate has no UTF-8 form, so a store or a snapshot would keep some other string
// (often with U+FFFD) and a revocation could miss the token or hit another; a control character
// forges log lines. A non-string sid would be skipped by the index, so a session revocation would
// miss the token: its type is checked whatever the rules say.
// An empty or longer one could be named by no revocation (their targets are 1 to this many
// characters): such a token could only be cut off with everyone's.
// `text` is false when the payload's text cannot hold what the character checks look for (see
// isPlainText); the length is checked all the same.
function identifier(
  claims: JwtClaims,
  claim: 'sub' | 'sid' | 'jti',
  length: boolean,
  text: boolean,
): void {
  const value = claims[claim];
  if (value === undefined) return;
  if (typeof value !== 'string') throw invalid(claim, 'a string');
  if (
    (length && (value.length === 0 || value.length > MAX_IDENTIFIER_LENGTH)) ||
    (text && (!isWellFormedText(value) || hasControlCharacter(value)))
  ) {
    throw invalid(
      claim,
      `well-formed text of 1 to ${MAX_IDENTIFIER_LENGTH} characters without control characters`,
    );
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
