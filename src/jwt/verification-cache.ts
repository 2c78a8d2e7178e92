import { RevocableError } from '../errors/revocable-error.js';
import { isExpired, isIssuedInFuture, isNotYetValid } from './claims.js';
import type { ParsedHeader } from './header.js';
import type { JwtClaims } from './types.js';

/** The number of tokens a verifier created with `cache: true` remembers. */
const DEFAULT_CACHE_SIZE = 1024;
const MAX_CACHE_SIZE = 1_000_000;

/**
 * What one successful verification established. Everything in it but the time claims holds for as
 * long as the key ring is unchanged: the signature, the header, `iss`, `aud`, the claim types.
 */
export interface Verification {
  readonly token: string;
  readonly claims: JwtClaims;
  readonly header: ParsedHeader;
  // The time claims, an absent one stored as the bound that never fails.
  readonly exp: number;
  readonly nbf: number;
  readonly iat: number;
}

/** Whether a remembered verification still holds at `now`: the time checks of `checkClaims`. */
export function timesHold(entry: Verification, now: number, tolerance: number): boolean {
  return !(
    isExpired(entry.exp, now, tolerance) ||
    isNotYetValid(entry.nbf, now, tolerance) ||
    isIssuedInFuture(entry.iat, now, tolerance)
  );
}

/**
 * The results of a verifier's recent successful verifications, by token. A client sends the same
 * access token with every request until it expires, and the signature and the claims of a token
 * cannot change, so a verifier need not recompute them: a hit costs a lookup by the signature
 * segment (short, and sliced from the token anyway) and one comparison of the whole token.
 *
 * Only tokens that verified are kept, so a stream of forgeries cannot fill it; when it is full the
 * oldest entry goes. Everything is forgotten when the key ring's revision changes (a key added or
 * retired), and the time claims are checked again on every hit.
 */
export class VerificationCache {
  readonly #entries = new Map<string, Verification>();
  readonly #capacity: number;
  #revision: number;

  constructor(capacity: number, revision: number) {
    this.#capacity = capacity;
    this.#revision = revision;
  }

  /**
   * The verification of exactly `token`, whose signature segment is `signature`, under this ring
   * revision; or undefined.
   */
  lookup(signature: string, token: string, revision: number): Verification | undefined {
    if (revision !== this.#revision) {
      this.#entries.clear();
      this.#revision = revision;
      return undefined;
    }
    if (this.#entries.size === 0) return undefined;
    const entry = this.#entries.get(signature);
    return entry !== undefined && entry.token === token ? entry : undefined;
  }

  /**
   * Keeps the verification of `token`. Its claims are frozen first: every later hit hands the same
   * object to its caller, so one caller's change must not become the next one's claims.
   */
  remember(signature: string, token: string, claims: JwtClaims, header: ParsedHeader): void {
    deepFreeze(claims);
    if (this.#entries.size >= this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(signature, {
      token,
      claims,
      header,
      exp: claims.exp ?? Number.POSITIVE_INFINITY,
      nbf: claims.nbf ?? Number.NEGATIVE_INFINITY,
      iat: claims.iat ?? Number.NEGATIVE_INFINITY,
    });
  }

  /** Forgets the token with this signature segment (its time claims no longer hold). */
  forget(signature: string): void {
    this.#entries.delete(signature);
  }
}

/** The capacity the `cache` option asks for: 0 for none. */
export function cacheCapacity(option: unknown): number {
  if (option === undefined || option === false) return 0;
  if (option === true) return DEFAULT_CACHE_SIZE;
  if (
    typeof option === 'number' &&
    Number.isInteger(option) &&
    option >= 0 &&
    option <= MAX_CACHE_SIZE
  ) {
    return option;
  }
  throw new RevocableError(
    'ERR_INVALID_ARGUMENT',
    `cache must be a boolean or an integer from 0 to ${MAX_CACHE_SIZE}.`,
  );
}

/** Freezes a claims set and everything in it (without recursion: a payload may nest deeply). */
function deepFreeze(root: object): void {
  const pending: object[] = [root];
  for (let value = pending.pop(); value !== undefined; value = pending.pop()) {
    if (Object.isFrozen(value)) continue;
    Object.freeze(value);
    for (const member of Object.values(value)) {
      if (typeof member === 'object' && member !== null) pending.push(member);
    }
  }
}
