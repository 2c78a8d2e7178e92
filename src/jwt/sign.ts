import { randomBytes } from 'node:crypto';
import { RevocableError } from '../errors/revocable-error.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import { encodeBase64Url } from './base64url.js';
import { isIdentifier, MAX_IDENTIFIER_LENGTH } from './claims.js';
import type { KeyRing } from './key-ring.js';
import type { JwtKey } from './keys.js';
import { createSignature } from './signature.js';
import type { JwtClaims } from './types.js';
import { ACCESS_TOKEN_TYP } from './verify.js';

/** Options for {@link signJwt}. */
export interface SignJwtOptions {
  /** The header `typ` (default `at+jwt`); `null` leaves it out. */
  typ?: string | null;
}

// One header segment per key and typ: the header of every token a key signs is the same string.
// Keyed by the typ itself, null included: a typ of '' must not share a segment with no typ.
const headerSegments = new WeakMap<JwtKey, Map<string | null, string>>();

function headerSegment(key: JwtKey, typ: string | null): string {
  let byTyp = headerSegments.get(key);
  if (byTyp === undefined) {
    byTyp = new Map();
    headerSegments.set(key, byTyp);
  }
  let segment = byTyp.get(typ);
  if (segment === undefined) {
    const header: Record<string, string> = { alg: key.alg };
    if (typ !== null) header.typ = typ;
    header.kid = key.kid;
    segment = encodeBase64Url(JSON.stringify(header));
    byTyp.set(typ, segment);
  }
  return segment;
}

/**
 * Signs a claims set with one key as a JWS compact token. The header holds `alg` (the key's own),
 * `typ` and `kid`; nothing is added to the claims. Most callers want {@link createSigner}.
 *
 * @example
 * ```ts
 * const token = signJwt({ sub: 'u1', exp: 1900000000 }, ring.active);
 * ```
 */
export function signJwt(claims: JwtClaims, key: JwtKey, options: SignJwtOptions = {}): string {
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'The claims must be a plain object.');
  }
  if (key.signKey === null) {
    throw new RevocableError('ERR_KEY_NOT_PRIVATE', 'This key can only verify.');
  }
  if (key.state !== 'active') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', `A ${key.state} key does not sign.`);
  }
  const typ = options.typ === undefined ? ACCESS_TOKEN_TYP : options.typ;
  const signingInput = `${headerSegment(key, typ)}.${encodeBase64Url(JSON.stringify(claims))}`;
  const signature = createSignature(
    key as JwtKey & { signKey: NonNullable<JwtKey['signKey']> },
    signingInput,
  );
  return `${signingInput}.${signature}`;
}

/** Options for {@link createSigner}. */
export interface SignerOptions {
  /** The ring whose active key signs (looked up on every call, so rotation takes effect at once). */
  keys: KeyRing;
  /** `iss` of every token. */
  issuer?: string;
  /** `aud` of every token. */
  audience?: string | string[];
  /** Lifetime: seconds or a string like `10m` (default 10 minutes). */
  ttl?: number | string;
  /** The header `typ` (default `at+jwt`); `null` leaves it out. */
  typ?: string | null;
  /** Add a random `jti` to every token that has none (default true). */
  jti?: boolean;
  /** The clock, in epoch seconds. */
  now?: Clock;
}

// A lifetime of 0 would mint tokens that are dead on arrival.
function lifetime(value: number | string): number {
  const seconds = parseDuration(value, 'ttl');
  if (seconds <= 0)
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'ttl must be at least one second.');
  return seconds;
}

/** A signer made by {@link createSigner}. */
export interface Signer {
  /**
   * Signs `claims` with `iat` (now), `exp` (`iat` + ttl), and the configured `iss`, `aud` and `jti`
   * added. The signer owns those times: an `iat` or `exp` in `claims` is replaced, never trusted.
   * A `sub`, `sid` or `jti` that the verifiers would refuse (not a string, empty, over 256
   * characters, a lone surrogate or a control character) is `ERR_INVALID_ARGUMENT`.
   */
  sign(claims?: JwtClaims, options?: { ttl?: number | string }): string;
}

const IDENTIFIER_CLAIMS = ['sub', 'sid', 'jti'] as const;

// What the verifiers refuse by default (their identifierClaims check), refused here before it is
// signed: a token no verifier of revocable takes, and no revocation could name, is a bug to report
// at its source, not a 401 to find later.
function assertIdentifier(value: unknown, claim: string): void {
  if (value !== undefined && !isIdentifier(value)) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      `The ${claim} claim must be well-formed text of 1 to ${MAX_IDENTIFIER_LENGTH} characters without control characters.`,
    );
  }
}

/**
 * Creates a signer that fills in the registered claims and signs with the ring's active key.
 *
 * @example
 * ```ts
 * const signer = createSigner({ keys: ring, issuer: 'https://auth.example', audience: 'api' });
 * const token = signer.sign({ sub: 'u1' });
 * ```
 */
export function createSigner(options: SignerOptions): Signer {
  if (typeof options?.keys?.get !== 'function') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'keys must be a KeyRing.');
  }
  const ring = options.keys;
  const defaultTtl = lifetime(options.ttl ?? 600);
  const now = options.now ?? systemClock;
  const typ = options.typ === undefined ? ACCESS_TOKEN_TYP : options.typ;
  const addJti = options.jti ?? true;
  return {
    sign(claims = {}, signOptions = {}) {
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'The claims must be a plain object.');
      }
      for (const claim of IDENTIFIER_CLAIMS) assertIdentifier(claims[claim], claim);
      const ttl = signOptions.ttl === undefined ? defaultTtl : lifetime(signOptions.ttl);
      const iat = Math.floor(now());
      const full: JwtClaims = { ...claims, iat, exp: iat + ttl };
      if (options.issuer !== undefined) full.iss = options.issuer;
      if (options.audience !== undefined) full.aud = options.audience;
      if (addJti && full.jti === undefined) full.jti = randomBytes(16).toString('base64url');
      return signJwt(full, ring.active, { typ });
    },
  };
}
