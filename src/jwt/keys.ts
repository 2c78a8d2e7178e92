import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { RevocableError } from '../errors/revocable-error.js';
import { ALGORITHMS, type Algorithm, isAlgorithm, RSA_MINIMUM_MODULUS_BITS } from './algorithms.js';
import { encodeBase64Url, isBase64Url } from './base64url.js';

/** Where a key is in its life: `active` signs and verifies, `verify-only` verifies, `retired` refuses. */
export type KeyState = 'active' | 'verify-only' | 'retired';

const KEY_STATES: readonly KeyState[] = ['active', 'verify-only', 'retired'];

/** Whether a value is one of the three key states; internal to the jwt part. */
export function isKeyState(value: unknown): value is KeyState {
  return KEY_STATES.includes(value as KeyState);
}

/**
 * A key bound to exactly one algorithm. A key never verifies or signs for any other `alg`, which is
 * what makes algorithm confusion impossible by construction.
 */
export interface JwtKey {
  readonly kid: string;
  readonly alg: Algorithm;
  readonly state: KeyState;
  /** Epoch seconds when the key was made or added. */
  readonly createdAt: number;
  /** The key that verifies: the secret for HMAC, the public key otherwise. */
  readonly verifyKey: KeyObject;
  /** The key that signs: the secret for HMAC, the private key otherwise; null for a public-only key. */
  readonly signKey: KeyObject | null;
}

/**
 * The key members of a JSON Web Key (RFC 7517, 7518 and 8037) that revocable reads and writes,
 * declared here rather than taken from `@types/node`, whose `JsonWebKey` export has moved between
 * versions: a consumer's declarations must compile whichever version it has.
 */
export interface JwkMembers {
  kty?: string;
  crv?: string;
  x?: string;
  y?: string;
  d?: string;
  n?: string;
  e?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  k?: string;
  [member: string]: unknown;
}

/** A JWK as revocable stores it in a key ring document: the JWK members plus `state` and `created`. */
export interface KeyRingJwk extends JwkMembers {
  kid: string;
  alg: Algorithm;
  use?: 'sig';
  state?: KeyState;
  created?: number;
}

function fail(code: 'ERR_KEY_INVALID' | 'ERR_KEY_WEAK' | 'ERR_KEY_ALG_MISMATCH', message: string) {
  return new RevocableError(code, message);
}

/**
 * The Ed25519 points of small order (1, 2, 4, 8) as encoded public keys, without the sign bit
 * (the top bit of the last byte), in canonical and non-canonical forms. With such a key, the
 * signature (R = the identity, S = 0) verifies on many messages, so anyone could sign with it:
 * a JWKS or ring that lists one is refused, not trusted.
 */
const SMALL_ORDER_ED25519 = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((hex) => Buffer.from(hex, 'hex'));

function isSmallOrderEd25519(publicKey: KeyObject): boolean {
  const { x } = publicKey.export({ format: 'jwk' });
  const encoded = Buffer.from(typeof x === 'string' ? x : '', 'base64url');
  if (encoded.length !== 32) return false;
  encoded[31] = (encoded[31] as number) & 0x7f;
  return SMALL_ORDER_ED25519.some((point) => point.equals(encoded));
}

/** A random key id: 128 bits, base64url; it reveals nothing about the key. */
export function generateKid(): string {
  return encodeBase64Url(randomBytes(16));
}

function checkKid(kid: unknown): string {
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 256) {
    throw fail(
      'ERR_KEY_INVALID',
      'A key needs a kid: a non-empty string of at most 256 characters.',
    );
  }
  return kid;
}

/**
 * Checks that a key object fits `alg`: its type, curve, and size. Internal to the jwt part.
 */
export function assertKeyFitsAlgorithm(key: KeyObject, alg: Algorithm): void {
  const spec = ALGORITHMS[alg];
  if (spec.family === 'hmac') {
    if (key.type !== 'secret') {
      throw fail('ERR_KEY_ALG_MISMATCH', `${alg} needs a secret key, not a ${key.type} key.`);
    }
    if ((key.symmetricKeySize ?? 0) < spec.size) {
      throw fail('ERR_KEY_WEAK', `${alg} needs a secret of at least ${spec.size} bytes.`);
    }
    return;
  }
  if (key.type === 'secret') {
    throw fail('ERR_KEY_ALG_MISMATCH', `${alg} needs an asymmetric key, not a secret.`);
  }
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (spec.family === 'rsa' || spec.family === 'rsa-pss') {
    // An RSA key serves RS* and PS*; a key generated as RSA-PSS is restricted by Node to PSS.
    const fits = type === 'rsa' || (spec.family === 'rsa-pss' && type === 'rsa-pss');
    if (!fits) throw fail('ERR_KEY_ALG_MISMATCH', `${alg} needs an RSA key, not ${type}.`);
    if ((details.modulusLength ?? 0) < RSA_MINIMUM_MODULUS_BITS) {
      throw fail(
        'ERR_KEY_WEAK',
        `${alg} needs an RSA modulus of at least ${RSA_MINIMUM_MODULUS_BITS} bits.`,
      );
    }
    // With e = 1 a signature is the padded message itself, so anyone could sign; an even e is no
    // RSA key at all.
    const exponent = details.publicExponent ?? 0n;
    if (exponent < 3n || exponent % 2n === 0n) {
      throw fail('ERR_KEY_WEAK', `${alg} needs an odd RSA public exponent of at least 3 (65537).`);
    }
    return;
  }
  if (spec.family === 'ec') {
    const curve = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' }[
      spec.curve as 'P-256' | 'P-384' | 'P-521'
    ];
    if (type !== 'ec' || details.namedCurve !== curve) {
      throw fail('ERR_KEY_ALG_MISMATCH', `${alg} needs an EC key on ${spec.curve}.`);
    }
    return;
  }
  if (type !== 'ed25519') {
    throw fail('ERR_KEY_ALG_MISMATCH', `${alg} needs an Ed25519 key, not ${type}.`);
  }
  if (isSmallOrderEd25519(key.type === 'private' ? createPublicKey(key) : key)) {
    throw fail(
      'ERR_KEY_WEAK',
      'This Ed25519 public key is a point of small order: anyone could sign with it.',
    );
  }
}

/** Options for {@link generateKey}. */
export interface GenerateKeyOptions {
  kid?: string;
  state?: KeyState;
  /** RSA modulus bits (default 2048, minimum 2048). */
  modulusLength?: number;
  now?: () => number;
}

// The pair comes out as DER and is imported again, never as the KeyObjects of the generation:
// on Node.js 20, a garbage collection during the JWK export of such a KeyObject (a JWKS, a key
// ring written to the store) can run the generation job's destructor, which waits on a lock the
// export holds, and the process hangs for good (seen here within 50,000 generate-and-export turns;
// none in 250,000 this way). A key is generated at a rotation, so the import's cost is nothing.
const SPKI_DER = { type: 'spki', format: 'der' } as const;
const PKCS8_DER = { type: 'pkcs8', format: 'der' } as const;

/**
 * Generates a new key for `alg` with `node:crypto`.
 *
 * @example
 * ```ts
 * const key = generateKey('EdDSA');
 * key.alg; // 'EdDSA'
 * ```
 */
export function generateKey(alg: Algorithm, options: GenerateKeyOptions = {}): JwtKey {
  if (!isAlgorithm(alg)) throw new RevocableError('ERR_INVALID_ARGUMENT', 'Unknown algorithm.');
  const spec = ALGORITHMS[alg];
  const kid = options.kid === undefined ? generateKid() : checkKid(options.kid);
  const state = options.state ?? 'active';
  const createdAt = Math.floor(options.now?.() ?? Date.now() / 1000);
  if (spec.family === 'hmac') {
    const secret = createSecretKey(randomBytes(spec.size));
    return { kid, alg, state, createdAt, verifyKey: secret, signKey: secret };
  }
  let pair: { publicKey: Buffer; privateKey: Buffer };
  if (spec.family === 'rsa' || spec.family === 'rsa-pss') {
    const modulusLength = options.modulusLength ?? 2048;
    if (!Number.isInteger(modulusLength) || modulusLength < RSA_MINIMUM_MODULUS_BITS) {
      throw fail('ERR_KEY_WEAK', `RSA keys need at least ${RSA_MINIMUM_MODULUS_BITS} bits.`);
    }
    pair = generateKeyPairSync('rsa', {
      modulusLength,
      publicKeyEncoding: SPKI_DER,
      privateKeyEncoding: PKCS8_DER,
    });
  } else if (spec.family === 'ec') {
    pair = generateKeyPairSync('ec', {
      namedCurve: spec.curve as string,
      publicKeyEncoding: SPKI_DER,
      privateKeyEncoding: PKCS8_DER,
    });
  } else {
    pair = generateKeyPairSync('ed25519', {
      publicKeyEncoding: SPKI_DER,
      privateKeyEncoding: PKCS8_DER,
    });
  }
  return {
    kid,
    alg,
    state,
    createdAt,
    verifyKey: createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' }),
    signKey: createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' }),
  };
}

/** Options for {@link importJwk}. */
export interface ImportJwkOptions {
  /** Used when the JWK has no `alg` member. */
  alg?: Algorithm;
  /** Used when the JWK has no `kid` member. */
  kid?: string;
  /** Overrides the JWK's `state`; a public-only key defaults to `verify-only`. */
  state?: KeyState;
  now?: () => number;
}

/**
 * Imports one JWK (private, public or `oct`) as a key bound to its algorithm. The algorithm comes
 * from the JWK's `alg` or from `options.alg`; a JWK with neither is refused rather than guessed.
 *
 * @example
 * ```ts
 * const key = importJwk({ kty: 'OKP', crv: 'Ed25519', x: '...', kid: 'k1', alg: 'EdDSA' });
 * ```
 */
export function importJwk(jwk: unknown, options: ImportJwkOptions = {}): JwtKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw fail('ERR_KEY_INVALID', 'A JWK must be a JSON object.');
  }
  const member = jwk as Record<string, unknown>;
  const alg = member.alg ?? options.alg;
  if (!isAlgorithm(alg)) {
    throw fail('ERR_KEY_INVALID', 'A JWK must name one supported algorithm in alg.');
  }
  if (options.alg !== undefined && member.alg !== undefined && member.alg !== options.alg) {
    throw fail('ERR_KEY_ALG_MISMATCH', 'The JWK alg differs from the requested algorithm.');
  }
  if (member.use !== undefined && member.use !== 'sig') {
    throw fail('ERR_KEY_INVALID', 'A signing JWK may only have use "sig".');
  }
  const kid = checkKid(member.kid ?? options.kid);
  const declaredState = options.state ?? member.state;
  if (declaredState !== undefined && !isKeyState(declaredState)) {
    throw fail('ERR_KEY_INVALID', 'A key state must be active, verify-only or retired.');
  }
  const created = member.created;
  if (created !== undefined && (typeof created !== 'number' || !Number.isFinite(created))) {
    throw fail('ERR_KEY_INVALID', 'A key created time must be epoch seconds.');
  }
  const createdAt = created ?? Math.floor(options.now?.() ?? Date.now() / 1000);

  const material = jwkMaterial(member);
  let verifyKey: KeyObject;
  let signKey: KeyObject | null;
  try {
    if (member.kty === 'oct') {
      // Canonical base64url only: Node's decoder would quietly drop a stray character or bits.
      if (typeof member.k !== 'string' || member.k.length === 0 || !isBase64Url(member.k)) {
        throw fail('ERR_KEY_INVALID', 'An oct JWK needs k in base64url.');
      }
      verifyKey = createSecretKey(Buffer.from(member.k, 'base64url'));
      signKey = verifyKey;
    } else if (member.d !== undefined) {
      signKey = createPrivateKey({ key: material, format: 'jwk' });
      verifyKey = createPublicKey(signKey);
    } else {
      verifyKey = createPublicKey({ key: material, format: 'jwk' });
      signKey = null;
    }
  } catch (error) {
    if (error instanceof RevocableError) throw error;
    throw new RevocableError('ERR_KEY_INVALID', 'The JWK could not be imported.', { cause: error });
  }
  assertKeyFitsAlgorithm(verifyKey, alg);
  if (signKey !== null) assertPrivateJwkIsOneKey(alg, member, signKey, verifyKey);
  const state: KeyState =
    (declaredState as KeyState | undefined) ?? (signKey === null ? 'verify-only' : 'active');
  if (state === 'active' && signKey === null) {
    throw new RevocableError('ERR_KEY_NOT_PRIVATE', 'A public-only key cannot be the active key.');
  }
  return { kid, alg, state, createdAt, verifyKey, signKey };
}

/**
 * A private JWK repeats its public key beside the private one (RSA `n` and `e` beside `d`, `p`, `q`,
 * `dp`, `dq`, `qi`; EC `x` and `y` beside `d`; Ed25519 `x` beside `d`), and node:crypto (Node.js 20,
 * OpenSSL 3.0) imports each without checking that the two halves are one key. What goes wrong then
 * differs by type, so each is checked its own way:
 * - RSA and EC keep the public members as given: every token the key signs fails against the
 *   public key published for it. With an RSA `n` that is not the private key's, OpenSSL's blinding
 *   works modulo that `n`, and the signatures of one message differ each time: values made from
 *   the private key that no one should be handed.
 * - Ed25519 ignores `x` and derives the public key from `d`: the key works, but the JWK says it is
 *   another key, and a JWKS or a ring made from the JWK's public members would refuse its tokens.
 * - RSA's CRT members (`p`, `q`, `dp`, `dq`, `qi`) out of step with `d`: OpenSSL notices that the
 *   CRT result does not verify and signs again with `d` alone, so the tokens verify and the
 *   mistake stays hidden, every signature at about eight times the cost; a library without that
 *   recheck would publish the faulty CRT signature, which reveals a factor of `n`.
 */
function assertPrivateJwkIsOneKey(
  alg: Algorithm,
  member: Record<string, unknown>,
  signKey: KeyObject,
  verifyKey: KeyObject,
): void {
  const family = ALGORITHMS[alg].family;
  if (family === 'ec') assertEcPairMatches(signKey, verifyKey);
  else if (family === 'eddsa') assertEd25519PairMatches(member, verifyKey);
  else if (family === 'rsa' || family === 'rsa-pss') assertRsaPartsAgree(member, signKey);
}

// A sign and verify with node:crypto settles it: the public point is used as given. A d that
// node:crypto imports but OpenSSL cannot sign with (one longer than the curve order) fails the
// probe by throwing: that is the key's fault too, and an ERR_KEY_INVALID like the rest.
function assertEcPairMatches(signKey: KeyObject, verifyKey: KeyObject): void {
  const probe = Buffer.from('revocable: does this key pair belong together?');
  let matches: boolean;
  try {
    matches = verify('sha256', probe, verifyKey, sign('sha256', probe, signKey));
  } catch {
    matches = false;
  }
  if (!matches) {
    throw fail('ERR_KEY_INVALID', "The JWK's public point (x, y) is not its private key's (d).");
  }
}

// verifyKey was derived from d, so no probe could tell: x is compared with what d gives. As
// strings: a canonical base64url text is the one spelling of its bytes.
function assertEd25519PairMatches(member: Record<string, unknown>, verifyKey: KeyObject): void {
  if (member.x !== verifyKey.export({ format: 'jwk' }).x) {
    throw fail('ERR_KEY_INVALID', "The JWK's public key (x) is not its private key's (d).");
  }
}

/**
 * Checks that the members of an RSA private key are one key, with the relations of RFC 8017
 * section 3.2: n = p q, e dp = 1 mod (p - 1) and e dq = 1 mod (q - 1), d = dp mod (p - 1) and
 * d = dq mod (q - 1) (so e d = 1 mod lcm(p - 1, q - 1)), q qi = 1 mod p. A sign and verify probe
 * would not do: OpenSSL's recheck hides CRT members out of step (see above). node:crypto has no
 * call that checks a key, so this is BigInt arithmetic. It is not constant-time, which is
 * acceptable only because it runs once per key when a ring is loaded, never per token or request,
 * so no one can run it at will to time it. The members are read back from the key node:crypto
 * holds, not from the JWK's text, which Node.js decodes leniently.
 */
function assertRsaPartsAgree(member: Record<string, unknown>, signKey: KeyObject): void {
  // Node.js drops `oth` on import: a key of three or more primes would be imported as another key.
  if (member.oth !== undefined) {
    throw fail('ERR_KEY_INVALID', 'Multi-prime RSA keys (oth) are not supported.');
  }
  const jwk = signKey.export({ format: 'jwk' });
  const [n, e, d, p, q, dp, dq, qi] = [
    jwk.n,
    jwk.e,
    jwk.d,
    jwk.p,
    jwk.q,
    jwk.dp,
    jwk.dq,
    jwk.qi,
  ].map((value) => {
    const bytes = Buffer.from(typeof value === 'string' ? value : '', 'base64url');
    return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
  }) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
  const notOneKey = (why: string) =>
    fail('ERR_KEY_INVALID', `The RSA JWK's members are not one key: ${why}.`);
  if (p < 3n || q < 3n || p * q !== n) throw notOneKey('n is not p q');
  const p1 = p - 1n;
  const q1 = q - 1n;
  if ((e * dp) % p1 !== 1n || (e * dq) % q1 !== 1n) {
    throw notOneKey('e does not fit the private exponents dp and dq');
  }
  // RFC 8017 lets dp and dq be any such exponents, not only the least.
  if (d % p1 !== dp % p1 || d % q1 !== dq % q1) throw notOneKey('dp and dq do not agree with d');
  if ((q * qi) % p !== 1n) throw notOneKey('qi is not the inverse of q mod p');
}

// Only the key members go to node:crypto; revocable's own members stay out of its way.
function jwkMaterial(member: Record<string, unknown>): JwkMembers {
  const out: JwkMembers = {};
  for (const name of ['kty', 'crv', 'x', 'y', 'd', 'n', 'e', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
    const value = member[name];
    if (value === undefined) continue;
    if (typeof value !== 'string')
      throw fail('ERR_KEY_INVALID', `The JWK member ${name} must be a string.`);
    out[name] = value;
  }
  return out;
}

/** Options for {@link exportJwk}. */
export interface ExportJwkOptions {
  /** Include the private or secret parts (default false: public parts only). */
  includePrivate?: boolean;
}

/**
 * Exports a key as a JWK with `kid`, `alg`, `use: "sig"`, and, when private parts are included, the
 * ring members `state` and `created`. A secret (HMAC) key has no public form and is refused unless
 * `includePrivate` is set.
 *
 * @example
 * ```ts
 * const publicJwk = exportJwk(key); // safe to publish
 * ```
 */
export function exportJwk(key: JwtKey, options: ExportJwkOptions = {}): KeyRingJwk {
  const includePrivate = options.includePrivate === true;
  let material: JwkMembers;
  if (ALGORITHMS[key.alg].family === 'hmac') {
    if (!includePrivate) {
      throw new RevocableError('ERR_INVALID_ARGUMENT', 'An HMAC secret has no public form.');
    }
    material = key.verifyKey.export({ format: 'jwk' });
  } else if (includePrivate && key.signKey !== null) {
    material = key.signKey.export({ format: 'jwk' });
  } else {
    material = key.verifyKey.export({ format: 'jwk' });
  }
  const jwk: KeyRingJwk = { ...material, kid: key.kid, alg: key.alg, use: 'sig' };
  if (includePrivate) {
    jwk.state = key.state;
    jwk.created = key.createdAt;
  }
  return jwk;
}
