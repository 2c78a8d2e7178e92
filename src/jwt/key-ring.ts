import { RevocableError } from '../errors/revocable-error.js';
import { ALGORITHMS, type Algorithm } from './algorithms.js';
import {
  exportJwk,
  type GenerateKeyOptions,
  generateKey,
  importJwk,
  isKeyState,
  type JwtKey,
  type KeyRingJwk,
  type KeyState,
} from './keys.js';

/** A key ring document as written to disk: private parts included, with each key's state. */
export interface KeyRingDocument {
  keys: KeyRingJwk[];
}

/** A public JSON Web Key Set (RFC 7517 section 5), safe to publish. */
export interface Jwks {
  keys: KeyRingJwk[];
}

const MAX_KEYS = 100;

/**
 * The keys an issuer signs with and a verifier trusts. Each key is bound to one algorithm and is in
 * one state: at most one key is `active` (it signs), `verify-only` keys still verify tokens they
 * signed earlier, `retired` keys refuse everything (the emergency lever for a leaked key).
 *
 * The ring is mutable on purpose: verifiers look keys up on every call, so a rotation or a
 * retirement takes effect on the next verify without rebuilding anything.
 *
 * @example
 * ```ts
 * const ring = KeyRing.generate('EdDSA');
 * const next = ring.rotate(); // the new key signs; the old one only verifies
 * ring.retire(next.kid);
 * ```
 */
export class KeyRing {
  readonly #byKid = new Map<string, JwtKey>();
  #active: JwtKey | null = null;
  #revision = 0;

  /** A ring holding the given keys; see {@link KeyRing.add} for the rules. */
  constructor(keys: Iterable<JwtKey> = []) {
    for (const key of keys) this.add(key);
  }

  /**
   * A ring with one freshly generated active key.
   *
   * @example
   * ```ts
   * const ring = KeyRing.generate('ES256');
   * ```
   */
  static generate(alg: Algorithm, options: GenerateKeyOptions = {}): KeyRing {
    return new KeyRing([generateKey(alg, { ...options, state: 'active' })]);
  }

  /**
   * Reads a key ring document or a plain JWKS (keys with `kid` and `alg`). Keys without private
   * parts become `verify-only`, so a resource server that has only the issuer's JWKS verifies the
   * same way the issuer does.
   *
   * @example
   * ```ts
   * const ring = KeyRing.fromJSON(JSON.parse(readFileSync('ring.json', 'utf8')));
   * ```
   */
  static fromJSON(document: unknown, options: { now?: () => number } = {}): KeyRing {
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      throw new RevocableError(
        'ERR_KEYRING_INVALID',
        'A key ring must be a JSON object with keys.',
      );
    }
    const keys = (document as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new RevocableError('ERR_KEYRING_INVALID', 'A key ring needs a non-empty keys array.');
    }
    if (keys.length > MAX_KEYS) {
      throw new RevocableError('ERR_KEYRING_INVALID', `A key ring holds at most ${MAX_KEYS} keys.`);
    }
    const ring = new KeyRing();
    for (const jwk of keys) {
      // `state` is the ring document's own member, not the JWK's: a bad one is a bad document.
      const state =
        typeof jwk === 'object' && jwk !== null ? (jwk as { state?: unknown }).state : undefined;
      if (state !== undefined && !isKeyState(state)) {
        throw new RevocableError(
          'ERR_KEYRING_INVALID',
          'A key state must be active, verify-only or retired.',
        );
      }
      ring.add(importJwk(jwk, options.now === undefined ? {} : { now: options.now }));
    }
    return ring;
  }

  /** The most keys a ring holds. */
  static readonly capacity: number = MAX_KEYS;

  /**
   * A number that changes whenever a key is added or changes state. A verifier that keeps the
   * results of earlier verifications (the `cache` option) drops them when it changes, so a key
   * retired or added takes effect on the next verify.
   */
  get revision(): number {
    return this.#revision;
  }

  /** The key with this `kid`, in whatever state, or undefined. */
  get(kid: string): JwtKey | undefined {
    return this.#byKid.get(kid);
  }

  /** Every key, in the order added. */
  keys(): JwtKey[] {
    return [...this.#byKid.values()];
  }

  /** The key that signs; throws `ERR_KEYRING_NO_ACTIVE_KEY` when there is none. */
  get active(): JwtKey {
    if (this.#active === null) {
      throw new RevocableError('ERR_KEYRING_NO_ACTIVE_KEY', 'The key ring has no active key.');
    }
    return this.#active;
  }

  /**
   * The single non-retired key for `alg`, for tokens that carry no `kid`. Undefined when there is
   * none; null when several could apply (the token must then name its key).
   */
  soleKeyFor(alg: Algorithm): JwtKey | null | undefined {
    let found: JwtKey | undefined;
    for (const key of this.#byKid.values()) {
      if (key.alg !== alg || key.state === 'retired') continue;
      if (found !== undefined) return null;
      found = key;
    }
    return found;
  }

  /**
   * Whether any key for `alg` is in the ring, retired ones included. Where {@link soleKeyFor}
   * finds none, it tells a token whose every possible key is retired from one no key here has
   * ever verified.
   */
  hasKeyFor(alg: Algorithm): boolean {
    for (const key of this.#byKid.values()) if (key.alg === alg) return true;
    return false;
  }

  /**
   * Adds a key. Its `kid` must be new. Adding an active key demotes the previous active key to
   * `verify-only`, so there is never more than one signer.
   */
  add(key: JwtKey): void {
    if (this.#byKid.has(key.kid)) {
      throw new RevocableError('ERR_KEYRING_INVALID', 'Two keys in a ring share one kid.');
    }
    if (this.#byKid.size >= MAX_KEYS) {
      throw new RevocableError('ERR_KEYRING_INVALID', `A key ring holds at most ${MAX_KEYS} keys.`);
    }
    if (key.state === 'active' && key.signKey === null) {
      throw new RevocableError(
        'ERR_KEY_NOT_PRIVATE',
        'A public-only key cannot be the active key.',
      );
    }
    this.#byKid.set(key.kid, key);
    this.#revision++;
    if (key.state === 'active') {
      if (this.#active !== null) this.#replace(this.#active, 'verify-only');
      this.#active = key;
    }
  }

  /**
   * Generates a new active key (by default with the current active key's algorithm) and demotes
   * the old active key to `verify-only`, so tokens it signed stay valid until they expire.
   *
   * @example
   * ```ts
   * const fresh = ring.rotate();
   * ```
   */
  rotate(alg?: Algorithm, options: GenerateKeyOptions = {}): JwtKey {
    const chosen = alg ?? this.#active?.alg;
    if (chosen === undefined) {
      throw new RevocableError(
        'ERR_INVALID_ARGUMENT',
        'A ring without an active key needs an algorithm to rotate to.',
      );
    }
    const key = generateKey(chosen, { ...options, state: 'active' });
    this.add(key);
    return key;
  }

  /** Moves a key to another state. Making a key active demotes the previous active key. */
  setState(kid: string, state: KeyState): JwtKey {
    // Checked at run time too: any other value would be stored and then treated as not retired.
    if (!isKeyState(state)) {
      throw new RevocableError(
        'ERR_INVALID_ARGUMENT',
        'A key state must be active, verify-only or retired.',
      );
    }
    const key = this.#byKid.get(kid);
    if (key === undefined) {
      throw new RevocableError('ERR_KEYRING_KID_UNKNOWN', 'The key ring has no key with that kid.');
    }
    if (state === 'active') {
      if (key.signKey === null) {
        throw new RevocableError(
          'ERR_KEY_NOT_PRIVATE',
          'A public-only key cannot be the active key.',
        );
      }
      if (this.#active !== null && this.#active !== key) this.#replace(this.#active, 'verify-only');
    }
    const updated = this.#replace(key, state);
    if (state === 'active') this.#active = updated;
    return updated;
  }

  /**
   * Retires a key: every token it signed is refused from now on (`ERR_JWT_KEY_RETIRED`; a token
   * without `kid` that another usable key of its alg is tried for fails that key's signature check
   * instead, `ERR_JWT_SIGNATURE`). Retiring the active key leaves the ring without a signer until
   * the next rotation.
   *
   * @example
   * ```ts
   * ring.retire('leaked-kid');
   * ring.rotate();
   * ```
   */
  retire(kid: string): JwtKey {
    return this.setState(kid, 'retired');
  }

  /**
   * Removes a retired key, to make room in a ring that follows a source (a JWKS, a shared store)
   * which no longer lists it: a ring holds at most {@link KeyRing.capacity} keys, and a process
   * that lives through many rotations would otherwise fill it with retired ones. Its tokens are
   * refused from then on as signed by an unknown key. Only a retired key can be forgotten
   * (`ERR_INVALID_ARGUMENT` otherwise): a key that still verifies must be retired first.
   */
  forget(kid: string): void {
    const key = this.#byKid.get(kid);
    if (key === undefined) {
      throw new RevocableError('ERR_KEYRING_KID_UNKNOWN', 'The key ring has no key with that kid.');
    }
    if (key.state !== 'retired') {
      throw new RevocableError('ERR_INVALID_ARGUMENT', 'Only a retired key can be forgotten.');
    }
    this.#byKid.delete(kid);
    this.#revision++;
  }

  #replace(key: JwtKey, state: KeyState): JwtKey {
    const updated: JwtKey = { ...key, state };
    this.#byKid.set(key.kid, updated);
    this.#revision++;
    if (this.#active === key && state !== 'active') this.#active = null;
    return updated;
  }

  /**
   * The ring document, private parts included: what `revocable keys generate` prints. Keep it
   * secret.
   */
  toJSON(): KeyRingDocument {
    return { keys: this.keys().map((key) => exportJwk(key, { includePrivate: true })) };
  }

  /**
   * The public JWKS: the public keys of every key that is not retired. HMAC keys are never
   * published (they are secrets).
   *
   * @example
   * ```ts
   * app.get('/.well-known/jwks.json', () => ring.jwks());
   * ```
   */
  jwks(): Jwks {
    const keys: KeyRingJwk[] = [];
    for (const key of this.#byKid.values()) {
      if (key.state === 'retired' || ALGORITHMS[key.alg].family === 'hmac') continue;
      keys.push(exportJwk(key));
    }
    return { keys };
  }
}
