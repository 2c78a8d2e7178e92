import { RevocableError } from '../../errors/revocable-error.js';
import { KeyRing } from '../../jwt/key-ring.js';
import type { JwtKey } from '../../jwt/keys.js';
import { applyKeyRing } from '../internal/apply-key-ring.js';

function invalid(message: string, cause?: unknown): RevocableError {
  return new RevocableError('ERR_KEYRING_INVALID', message, { cause });
}

/**
 * Whether a JWK is one for checking signatures, as RFC 7517 lets a set say: no `use`, or `use`
 * `sig` (section 4.2); no `key_ops`, or `key_ops` with `verify` (section 4.3); and an `alg`
 * (section 4.4 makes it optional, but a key here is bound to one algorithm, never guessed).
 */
function isVerificationKey(member: Readonly<Record<string, unknown>>): boolean {
  if (member.use !== undefined && member.use !== 'sig') return false;
  const ops = member.key_ops;
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return false;
  return member.alg !== undefined;
}

/**
 * The keys of a set that this reader can use, each read on its own: one of an algorithm, curve or
 * size revocable does not take (ES256K, Ed448, an RSA key under 2048 bits) is left out, as RFC
 * 7517 section 5 asks, rather than make the whole set unreadable and freeze the ring at every
 * refresh. A set with none left is refused, with the first key's reason.
 */
function importable(keys: readonly unknown[], shown: string): JwtKey[] {
  let firstError: unknown = null;
  const out: JwtKey[] = [];
  for (const jwk of keys) {
    try {
      out.push(...KeyRing.fromJSON({ keys: [jwk] }).keys());
    } catch (error) {
      firstError ??= error;
    }
  }
  if (out.length === 0) {
    const reason = firstError instanceof Error ? firstError.message : String(firstError);
    throw invalid(`The JWKS at ${shown} holds no key this reader can use: ${reason}`, firstError);
  }
  return out;
}

function readRing(read: () => KeyRing, shown: string): KeyRing {
  try {
    return read();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalid(`The JWKS at ${shown} is invalid: ${reason}`, error);
  }
}

/**
 * Reads the auth server's public JWKS as a ring of verify-only keys. A JWK with private or secret
 * parts (`d`, or an `oct` key) is refused, whatever else it holds: a key anyone who can read the
 * JWKS also holds would let anyone sign tokens this ring accepts. A key that is not for checking
 * signatures (an encryption key, one whose `key_ops` leave out `verify`, one without `alg`) is
 * left out, as RFC 7517 section 5 asks of keys a reader cannot use, so one such key beside the
 * signing keys does not stop the reader; so is a key of an algorithm, curve or size revocable does
 * not take (see `importable`). Any other problem (`KeyRing.fromJSON`'s checks, a set
 * left with no key) is `ERR_KEYRING_INVALID` too, with the original error as `cause`.
 */
export function readJwks(document: unknown, shown: string): KeyRing {
  const keys =
    typeof document === 'object' && document !== null
      ? (document as { keys?: unknown }).keys
      : undefined;
  let usable = document;
  if (Array.isArray(keys)) {
    for (const jwk of keys) {
      if (typeof jwk !== 'object' || jwk === null) continue;
      const member = jwk as Record<string, unknown>;
      if (member.d !== undefined || member.k !== undefined || member.kty === 'oct') {
        throw invalid(
          `The JWKS at ${shown} holds a private or secret key: a JWKS must hold public keys only.`,
        );
      }
    }
    const kept = keys.filter(
      (jwk) =>
        typeof jwk !== 'object' ||
        jwk === null ||
        isVerificationKey(jwk as Record<string, unknown>),
    );
    if (kept.length === 0 && keys.length > 0) {
      throw invalid(`The JWKS at ${shown} holds no key for checking signatures.`);
    }
    // Each key read once, on its own; a set longer than a ring holds is refused whole below.
    if (kept.length > 0 && kept.length <= KeyRing.capacity) {
      const imported = importable(kept, shown);
      return readRing(() => new KeyRing(imported), shown);
    }
    usable = { ...(document as object), keys: kept };
  }
  return readRing(() => KeyRing.fromJSON(usable), shown);
}

/** What a source remembers between JWKS reads. */
export interface JwksFollowState {
  /** Kids of retired keys dropped to make room: never added again (see `applyKeyRing`). */
  readonly forgotten: Set<string>;
  /** When each key the ring holds was first missing from a JWKS, in the index's seconds. */
  readonly missingSince: Map<string, number>;
  /**
   * Seconds a key the JWKS stopped listing is still held before it is retired. Several auth
   * server processes behind one URL reload a rotated ring each at its own poll: a read that lands
   * on one a poll behind lacks a key minutes old, which must not be retired for good on its word.
   */
  readonly grace: number;
}

/**
 * Brings `live` in line with a JWKS just read, in place (verifiers hold it): keys added, a key
 * retired here kept retired, a key the JWKS no longer lists retired once it has been missing for
 * `state.grace` seconds (a read that lists it again meanwhile clears that), and, when
 * the ring is full, retired keys the JWKS dropped forgotten for good (see `applyKeyRing`). A kid
 * whose key or algorithm changed from what `live` holds is refused before anything changes: a kid
 * names one key for good, and trusting a swapped one would be trusting whoever swapped it.
 */
export function applyJwks(
  live: KeyRing,
  loaded: KeyRing,
  shown: string,
  state: JwksFollowState,
  now: number,
): void {
  for (const key of loaded.keys()) {
    const local = live.get(key.kid);
    if (local === undefined) continue;
    if (local.alg !== key.alg || !local.verifyKey.equals(key.verifyKey)) {
      throw invalid(
        `The JWKS at ${shown} gives another key for a kid this ring already holds; the ring is kept as it was.`,
      );
    }
  }
  applyKeyRing(live, withKeysInGrace(live, loaded, state, now), state.forgotten);
  // What is retired or gone now waits for nothing.
  for (const kid of state.missingSince.keys()) {
    if (live.get(kid)?.state !== 'verify-only') state.missingSince.delete(kid);
  }
}

// `loaded`, plus the keys `live` holds that it lacks and that have not been missing for long.
function withKeysInGrace(
  live: KeyRing,
  loaded: KeyRing,
  { missingSince, grace }: JwksFollowState,
  now: number,
): KeyRing {
  const held = [];
  for (const local of live.keys()) {
    if (local.state === 'retired' || loaded.get(local.kid) !== undefined) {
      missingSince.delete(local.kid);
      continue;
    }
    const since = missingSince.get(local.kid) ?? now;
    missingSince.set(local.kid, since);
    if (now - since < grace) held.push(local);
  }
  if (held.length === 0 || loaded.keys().length + held.length > KeyRing.capacity) return loaded;
  return new KeyRing([...loaded.keys(), ...held]);
}
