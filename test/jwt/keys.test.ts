// Key ring behaviour: generation, rotation, states, import rules (algorithm binding, sizes), JWKS
// export, and key selection at verify time.
import assert from 'node:assert/strict';
import {
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  generateKeyPairSync,
  randomBytes,
} from 'node:crypto';
import { describe, it } from 'node:test';
import { type ErrorCode, RevocableError } from '../../src/errors/index.js';
import {
  ALGORITHM_NAMES,
  type Algorithm,
  createSigner,
  createVerifier,
  decodeUnverified,
  exportJwk,
  generateKey,
  importJwk,
  type JwtKey,
  KeyRing,
  type KeyState,
  signJwt,
} from '../../src/jwt/index.js';
import { createRevocableVerifier, createRevocationIndex } from '../../src/revocation/index.js';

// These tests are about other checks: any issuer and audience is accepted on purpose.
const ANY = { issuer: null, audience: null } as const;

const NOW = 1_800_000_000;
const now = () => NOW;
const ISSUER = 'https://auth.example';
// Every claim the default (at+jwt) verifier requires.
const CLAIMS = { iss: ISSUER, aud: 'api', sub: 'u1', jti: 'j1', iat: NOW, exp: NOW + 600 };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

function rejects(fn: () => unknown, code: ErrorCode, label?: string): RevocableError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof RevocableError, `${label ?? code}: got ${String(caught)}`);
  assert.equal(caught.code, code, `${label ?? ''} ${caught.message}`);
  return caught;
}

function kidOf(token: string): unknown {
  return decodeUnverified(token).header.kid;
}

function b64(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

/** A token whose header has no kid, signed with node:crypto by an Ed25519 key. */
function withoutKid(key: JwtKey): string {
  assert.ok(key.signKey !== null);
  const input = `${b64(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt' }))}.${b64(JSON.stringify(CLAIMS))}`;
  return `${input}.${b64(cryptoSign(null, Buffer.from(input), key.signKey))}`;
}

function activeKids(ring: KeyRing): string[] {
  return ring
    .keys()
    .filter((key) => key.state === 'active')
    .map((key) => key.kid);
}

describe('generate and rotate', () => {
  for (const alg of ALGORITHM_NAMES) {
    it(`${alg}: generate makes one active key bound to ${alg} with a random kid`, () => {
      const ring = KeyRing.generate(alg);
      const key = ring.active;
      assert.equal(key.alg, alg);
      assert.equal(key.state, 'active');
      assert.match(key.kid, /^[A-Za-z0-9_-]{22}$/);
      assert.notEqual(KeyRing.generate(alg).active.kid, key.kid);
      assert.deepEqual(activeKids(ring), [key.kid]);
    });
  }

  it('rotate: the new key signs, the old one becomes verify-only and still verifies', () => {
    const ring = KeyRing.generate('EdDSA', { kid: 'k1' });
    const signer = createSigner({ keys: ring, now, issuer: ISSUER, audience: 'api' });
    const verifier = createVerifier({ ...ANY, keys: ring, now });
    const before = signer.sign({ sub: 'u1' });
    const fresh = ring.rotate(undefined, { kid: 'k2' });
    assert.equal(fresh.kid, 'k2');
    assert.equal(fresh.alg, 'EdDSA');
    assert.equal(ring.get('k1')?.state, 'verify-only');
    assert.equal(ring.active.kid, 'k2');
    const after = signer.sign({ sub: 'u2' });
    assert.equal(kidOf(before), 'k1');
    assert.equal(kidOf(after), 'k2');
    assert.equal(verifier.verify(before).sub, 'u1');
    assert.equal(verifier.verify(after).sub, 'u2');
    // The old key no longer signs.
    rejects(() => signJwt(CLAIMS, ring.get('k1')!), 'ERR_INVALID_ARGUMENT');
    assert.deepEqual(activeKids(ring), ['k2']);
  });

  it('rotate can move to another algorithm, and generateKey refuses unknown ones', () => {
    const ring = KeyRing.generate('HS256', { kid: 'h' });
    const next = ring.rotate('ES256', { kid: 'e' });
    assert.equal(next.alg, 'ES256');
    assert.equal(ring.active.alg, 'ES256');
    const verifier = createVerifier({ ...ANY, keys: ring, now });
    assert.equal(verifier.verify(signJwt(CLAIMS, next)).sub, 'u1');
    rejects(() => generateKey('none' as Algorithm), 'ERR_INVALID_ARGUMENT');
    rejects(() => ring.rotate('HS1' as Algorithm), 'ERR_INVALID_ARGUMENT');
  });

  it('generated keys have the right size and curve', () => {
    assert.equal(generateKey('HS256').verifyKey.symmetricKeySize, 32);
    assert.equal(generateKey('HS384').verifyKey.symmetricKeySize, 48);
    assert.equal(generateKey('HS512').verifyKey.symmetricKeySize, 64);
    assert.equal(generateKey('ES384').verifyKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
    assert.equal(generateKey('ES512').verifyKey.asymmetricKeyDetails?.namedCurve, 'secp521r1');
    assert.equal(generateKey('PS256').verifyKey.asymmetricKeyDetails?.modulusLength, 2048);
    rejects(() => generateKey('RS256', { modulusLength: 1024 }), 'ERR_KEY_WEAK');
    rejects(() => generateKey('PS256', { modulusLength: 2047 }), 'ERR_KEY_WEAK');
    rejects(() => generateKey('HS256', { kid: '' }), 'ERR_KEY_INVALID');
    rejects(() => generateKey('HS256', { kid: 'k'.repeat(257) }), 'ERR_KEY_INVALID');
  });
});

describe('states', () => {
  it('retire: tokens of a retired key are ERR_JWT_KEY_RETIRED; the ring loses its signer when the active key retires', () => {
    const ring = KeyRing.generate('HS256', { kid: 'a' });
    const token = signJwt(CLAIMS, ring.active);
    const verifier = createVerifier({ ...ANY, keys: ring, now });
    const retired = ring.retire('a');
    assert.equal(retired.state, 'retired');
    rejects(() => verifier.verify(token), 'ERR_JWT_KEY_RETIRED');
    rejects(() => ring.active, 'ERR_KEYRING_NO_ACTIVE_KEY');
    rejects(
      () => createSigner({ keys: ring, now, issuer: ISSUER, audience: 'api' }).sign({}),
      'ERR_KEYRING_NO_ACTIVE_KEY',
    );
    rejects(() => ring.rotate(), 'ERR_INVALID_ARGUMENT');
    rejects(() => ring.retire('missing'), 'ERR_KEYRING_KID_UNKNOWN');
    const fresh = ring.rotate('HS256');
    assert.equal(ring.active.kid, fresh.kid);
    assert.equal(verifier.verify(signJwt(CLAIMS, fresh)).sub, 'u1');
    rejects(() => verifier.verify(token), 'ERR_JWT_KEY_RETIRED');
  });

  it('setState: making a key active demotes the previous one; there is only ever one active key', () => {
    const ring = new KeyRing([
      generateKey('EdDSA', { kid: 'a' }),
      generateKey('EdDSA', { kid: 'b' }),
      generateKey('EdDSA', { kid: 'c' }),
    ]);
    // Each active key added demotes the one before it.
    assert.deepEqual(activeKids(ring), ['c']);
    assert.equal(ring.get('a')?.state, 'verify-only');
    ring.setState('a', 'active');
    assert.deepEqual(activeKids(ring), ['a']);
    assert.equal(ring.get('c')?.state, 'verify-only');
    assert.equal(ring.active.kid, 'a');
    ring.setState('a', 'active');
    assert.deepEqual(activeKids(ring), ['a']);
    ring.setState('a', 'verify-only');
    assert.deepEqual(activeKids(ring), []);
    rejects(() => ring.active, 'ERR_KEYRING_NO_ACTIVE_KEY');
    ring.add(generateKey('EdDSA', { kid: 'd' }));
    assert.deepEqual(activeKids(ring), ['d']);
    ring.setState('b', 'retired');
    ring.setState('b', 'verify-only');
    assert.equal(ring.get('b')?.state, 'verify-only');
    rejects(() => ring.setState('zzz', 'active'), 'ERR_KEYRING_KID_UNKNOWN');
  });

  it('setState refuses a state that is not one of the three', () => {
    const ring = KeyRing.generate('HS256', { kid: 'a' });
    for (const state of ['bogus', 'Active', '', undefined, null]) {
      rejects(() => ring.setState('a', state as KeyState), 'ERR_INVALID_ARGUMENT', String(state));
    }
    assert.equal(ring.get('a')?.state, 'active');
  });

  it('a duplicate kid is ERR_KEYRING_INVALID, through add, the constructor and fromJSON', () => {
    const ring = KeyRing.generate('HS256', { kid: 'same' });
    rejects(
      () => ring.add(generateKey('EdDSA', { kid: 'same', state: 'verify-only' })),
      'ERR_KEYRING_INVALID',
    );
    rejects(
      () => new KeyRing([generateKey('HS256', { kid: 'x' }), generateKey('HS256', { kid: 'x' })]),
      'ERR_KEYRING_INVALID',
    );
    const jwk = ring.toJSON().keys[0]!;
    rejects(
      () => KeyRing.fromJSON({ keys: [jwk, { ...jwk, state: 'verify-only' }] }),
      'ERR_KEYRING_INVALID',
    );
  });

  it('a ring holds at most 100 keys', () => {
    const keys = Array.from({ length: 100 }, (_, index) =>
      generateKey('HS256', { kid: `k${index}`, state: 'verify-only' }),
    );
    const ring = new KeyRing(keys);
    rejects(() => ring.add(generateKey('HS256', { kid: 'one-more' })), 'ERR_KEYRING_INVALID');
    const document = ring.toJSON();
    document.keys.push(exportJwk(generateKey('HS256', { kid: 'extra' }), { includePrivate: true }));
    rejects(() => KeyRing.fromJSON(document), 'ERR_KEYRING_INVALID');
  });

  it('a public-only key cannot be active (ERR_KEY_NOT_PRIVATE) and cannot sign', () => {
    const full = generateKey('ES256', { kid: 'e' });
    const publicJwk = exportJwk(full);
    rejects(() => importJwk(publicJwk, { state: 'active' }), 'ERR_KEY_NOT_PRIVATE');
    rejects(
      () => KeyRing.fromJSON({ keys: [{ ...publicJwk, state: 'active' }] }),
      'ERR_KEY_NOT_PRIVATE',
    );
    const publicKey = importJwk(publicJwk);
    assert.equal(publicKey.state, 'verify-only');
    assert.equal(publicKey.signKey, null);
    rejects(() => new KeyRing([{ ...publicKey, state: 'active' }]), 'ERR_KEY_NOT_PRIVATE');
    const ring = new KeyRing([publicKey]);
    rejects(() => ring.setState('e', 'active'), 'ERR_KEY_NOT_PRIVATE');
    rejects(() => ring.active, 'ERR_KEYRING_NO_ACTIVE_KEY');
    rejects(() => signJwt(CLAIMS, publicKey), 'ERR_KEY_NOT_PRIVATE');
    rejects(() => signJwt(CLAIMS, { ...publicKey, state: 'active' }), 'ERR_KEY_NOT_PRIVATE');
  });
});

describe('import rules', () => {
  function oct(bytes: number, alg: Algorithm): Record<string, unknown> {
    return { kty: 'oct', k: randomBytes(bytes).toString('base64url'), alg, kid: 'h' };
  }

  it('HMAC secrets shorter than the hash output are ERR_KEY_WEAK (RFC 7518 3.2)', () => {
    rejects(() => importJwk(oct(31, 'HS256')), 'ERR_KEY_WEAK');
    rejects(() => importJwk(oct(47, 'HS384')), 'ERR_KEY_WEAK');
    rejects(() => importJwk(oct(63, 'HS512')), 'ERR_KEY_WEAK');
    rejects(() => importJwk(oct(0, 'HS256')), 'ERR_KEY_INVALID');
    assert.equal(importJwk(oct(32, 'HS256')).alg, 'HS256');
    assert.equal(importJwk(oct(48, 'HS384')).alg, 'HS384');
    assert.equal(importJwk(oct(64, 'HS512')).alg, 'HS512');
    assert.equal(importJwk(oct(100, 'HS256')).verifyKey.symmetricKeySize, 100);
  });

  it('an oct k that is not canonical base64url is ERR_KEY_INVALID', () => {
    const k = randomBytes(32).toString('base64url');
    for (const bad of [`${k}=`, `${k}AA`, `${k.slice(0, 42)}+`, `${k} `, `${k.slice(0, -1)}B`, 7]) {
      rejects(
        () => importJwk({ kty: 'oct', k: bad, alg: 'HS256', kid: 'h' }),
        'ERR_KEY_INVALID',
        String(bad),
      );
    }
  });

  it('RSA moduli under 2048 bits are ERR_KEY_WEAK for every RSA algorithm', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const publicJwk = small.publicKey.export({ format: 'jwk' });
    const privateJwk = small.privateKey.export({ format: 'jwk' });
    for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const) {
      rejects(() => importJwk({ ...publicJwk, alg, kid: 'r' }), 'ERR_KEY_WEAK', alg);
      rejects(() => importJwk({ ...privateJwk, alg, kid: 'r' }), 'ERR_KEY_WEAK', alg);
    }
  });

  it('an RSA public exponent of 1, or an even one, is ERR_KEY_WEAK: with e = 1 anyone can sign', () => {
    const { n } = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      format: 'jwk',
    });
    for (const e of ['AQ', 'Ag', 'AQAA']) {
      for (const alg of ['RS256', 'PS256'] as const) {
        rejects(
          () => importJwk({ kty: 'RSA', n, e, alg, kid: 'r' }),
          'ERR_KEY_WEAK',
          `${e} ${alg}`,
        );
      }
    }
    assert.equal(importJwk({ kty: 'RSA', n, e: 'AQAB', alg: 'RS256', kid: 'r' }).alg, 'RS256');
    assert.equal(importJwk({ kty: 'RSA', n, e: 'Aw', alg: 'RS256', kid: 'r' }).alg, 'RS256');
  });

  it('an Ed25519 public key of small order is ERR_KEY_WEAK, in either sign and non-canonical forms', () => {
    const smallOrder = [
      '0100000000000000000000000000000000000000000000000000000000000000',
      '0100000000000000000000000000000000000000000000000000000000000080',
      '0000000000000000000000000000000000000000000000000000000000000000',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    ];
    for (const hex of smallOrder) {
      const x = Buffer.from(hex, 'hex').toString('base64url');
      rejects(
        () => importJwk({ kty: 'OKP', crv: 'Ed25519', x, alg: 'EdDSA', kid: 'e' }),
        'ERR_KEY_WEAK',
        hex,
      );
    }
    const fine = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    assert.equal(importJwk({ ...fine, alg: 'EdDSA', kid: 'e' }).alg, 'EdDSA');
  });

  it("an EC private JWK whose public point is not its d's is ERR_KEY_INVALID", () => {
    for (const [alg, curve] of [
      ['ES256', 'P-256'],
      ['ES384', 'P-384'],
      ['ES512', 'P-521'],
    ] as const) {
      const one = generateKeyPairSync('ec', { namedCurve: curve }).privateKey.export({
        format: 'jwk',
      });
      const other = generateKeyPairSync('ec', { namedCurve: curve }).privateKey.export({
        format: 'jwk',
      });
      rejects(
        () => importJwk({ ...one, x: other.x, y: other.y, alg, kid: 'c' }),
        'ERR_KEY_INVALID',
        alg,
      );
      assert.equal(importJwk({ ...one, alg, kid: 'c' }).state, 'active');
    }
  });

  it('a key of the wrong type or curve for its alg is ERR_KEY_ALG_MISMATCH', () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      format: 'jwk',
    });
    const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey.export({
      format: 'jwk',
    });
    const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({
      format: 'jwk',
    });
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
    const rsa = exportJwk(generateKey('RS256'));
    const secret = { kty: 'oct', k: randomBytes(64).toString('base64url') };
    const cases: [object, Algorithm][] = [
      [p256, 'ES384'],
      [p256, 'ES512'],
      [p521, 'ES256'],
      [ed, 'ES256'],
      [x25519, 'EdDSA'],
      [p256, 'EdDSA'],
      [rsa, 'ES256'],
      [rsa, 'EdDSA'],
      [rsa, 'HS256'],
      [ed, 'HS256'],
      [p256, 'RS256'],
      [secret, 'RS256'],
      [secret, 'ES256'],
      [secret, 'EdDSA'],
    ];
    for (const [jwk, alg] of cases) {
      rejects(
        () => importJwk({ ...jwk, alg, kid: 'x' }),
        'ERR_KEY_ALG_MISMATCH',
        `${JSON.stringify(jwk).slice(0, 30)} ${alg}`,
      );
    }
    // secp256k1 is a curve node knows but no algorithm here uses (ES256K is not supported).
    rejects(() => importJwk({ ...secp256k1, alg: 'ES256', kid: 'x' }), 'ERR_KEY_ALG_MISMATCH');
  });

  it('a JWK without alg, or with an unsupported alg, is refused rather than guessed', () => {
    const jwk = exportJwk(generateKey('EdDSA', { kid: 'k' }));
    const { alg: _alg, ...withoutAlg } = jwk;
    rejects(() => importJwk(withoutAlg), 'ERR_KEY_INVALID');
    rejects(() => KeyRing.fromJSON({ keys: [withoutAlg] }), 'ERR_KEY_INVALID');
    for (const alg of ['none', 'Ed25519', 'eddsa', 'ES256K', 'RSA-OAEP', 7, null]) {
      rejects(() => importJwk({ ...withoutAlg, alg }), 'ERR_KEY_INVALID', String(alg));
    }
    // An explicit option fills a missing alg, but never overrides one that is present.
    assert.equal(importJwk(withoutAlg, { alg: 'EdDSA' }).alg, 'EdDSA');
    rejects(() => importJwk(jwk, { alg: 'ES256' }), 'ERR_KEY_ALG_MISMATCH');
  });

  it('a JWK without kid, with a use other than sig, or with non-string members is ERR_KEY_INVALID', () => {
    const jwk = exportJwk(generateKey('EdDSA', { kid: 'k' }));
    const { kid: _kid, ...withoutKid } = jwk;
    rejects(() => importJwk(withoutKid), 'ERR_KEY_INVALID');
    assert.equal(importJwk(withoutKid, { kid: 'given' }).kid, 'given');
    rejects(() => importJwk({ ...jwk, kid: '' }), 'ERR_KEY_INVALID');
    rejects(() => importJwk({ ...jwk, use: 'enc' }), 'ERR_KEY_INVALID');
    rejects(() => importJwk({ ...jwk, x: 12 }), 'ERR_KEY_INVALID');
    rejects(() => importJwk({ ...jwk, x: 'AAAA' }), 'ERR_KEY_INVALID');
    rejects(() => importJwk({ ...jwk, created: 'yesterday' }), 'ERR_KEY_INVALID');
    rejects(() => importJwk({ ...jwk, kty: 'nope' }), 'ERR_KEY_INVALID');
    for (const value of [null, 'jwk', 1, [jwk]]) rejects(() => importJwk(value), 'ERR_KEY_INVALID');
  });
});

describe('a private JWK is one key', () => {
  // Each mismatched JWK takes members from two real key pairs. Node.js 20 imports every one of them
  // (checked first, so that each case tests revocable's check and not node's), and its public
  // members then say one key while its private members are another.
  const PROBE = Buffer.from('probe');
  // The members a test reads; those a key's type lacks are undefined at run time.
  type Jwk = Record<
    'kty' | 'crv' | 'x' | 'y' | 'n' | 'e' | 'd' | 'p' | 'q' | 'dp' | 'dq' | 'qi',
    string
  >;

  // A private JWK straight from the key generation: exported while the generation job runs. On
  // Node.js 20 a KeyObject exported later can deadlock, when a garbage collection in the middle of
  // the export finalizes the job that made the key (its destructor takes the mutex the export holds).
  function privateJwk(type: 'rsa' | 'ec' | 'ed25519', options: object = {}): Jwk {
    const jwk = { format: 'jwk' };
    const pair = (
      generateKeyPairSync as (type: string, options: object) => { privateKey: unknown }
    )(type, { ...options, publicKeyEncoding: jwk, privateKeyEncoding: jwk });
    return pair.privateKey as Jwk;
  }

  function nodeImports(jwk: Jwk): boolean {
    try {
      createPrivateKey({ key: jwk, format: 'jwk' });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Whether what node:crypto signs with the JWK verifies with the JWK's public members; null when
   * this Node.js refuses the JWK itself.
   */
  function publicMembersVerify(jwk: Jwk, hash: string | null): boolean | null {
    if (!nodeImports(jwk)) return null;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicMembers } = jwk;
    const signature = cryptoSign(hash, PROBE, createPrivateKey({ key: jwk, format: 'jwk' }));
    return cryptoVerify(
      hash,
      PROBE,
      createPublicKey({ key: publicMembers, format: 'jwk' }),
      signature,
    );
  }

  // Node.js 20 imports every JWK below, and only revocable's own check, whose message is matched,
  // refuses it; later versions refuse some by themselves, and the refusal is ERR_KEY_INVALID
  // either way.
  function refused(jwk: Jwk, alg: Algorithm, label: string, message: RegExp): void {
    const error = rejects(() => importJwk({ ...jwk, alg, kid: 'k' }), 'ERR_KEY_INVALID', label);
    if (nodeImports(jwk)) assert.match(error.message, message, label);
    rejects(
      () => KeyRing.fromJSON({ keys: [{ ...jwk, alg, kid: 'k' }] }),
      'ERR_KEY_INVALID',
      label,
    );
  }

  it('RSA: n or e of another key, or private members of another key, are ERR_KEY_INVALID', () => {
    const rsa = () => privateJwk('rsa', { modulusLength: 2048 });
    const a = rsa();
    const b = rsa();
    const notOneKey = /^The RSA JWK's members are not one key: /;
    // Tokens that the published key refuses: the signature is made with n and e as given.
    const broken: [string, Jwk][] = [
      ['n and e of another key', { ...a, n: b.n, e: b.e }],
      ['n of another key', { ...a, n: b.n }],
      ['e of 3 beside private members made for 65537', { ...a, e: 'Aw' }],
      ['the private members of another key', { ...b, n: a.n, e: a.e }],
    ];
    for (const [label, jwk] of broken) {
      assert.notEqual(publicMembersVerify(jwk, 'sha256'), true, label);
      refused(jwk, 'RS256', label, notOneKey);
    }
    refused({ ...a, n: b.n }, 'PS256', 'PS256: n of another key', notOneKey);
    // CRT members out of step with d: OpenSSL's recheck signs again with d, so the tokens verify
    // and no sign and verify probe would see anything wrong.
    const hidden: [string, Jwk, RegExp][] = [
      ['d of another key', { ...a, d: b.d }, /dp and dq do not agree with d/],
      ['p and q of another key', { ...a, p: b.p, q: b.q }, /n is not p q/],
      ['p and q swapped', { ...a, p: a.q, q: a.p }, /dp and dq|e does not fit/],
      ['dp of another key', { ...a, dp: b.dp }, /e does not fit the private exponents/],
      ['dq of another key', { ...a, dq: b.dq }, /e does not fit the private exponents/],
      ['qi of another key', { ...a, qi: b.qi }, /qi is not the inverse of q mod p/],
    ];
    for (const [label, jwk, message] of hidden) {
      assert.notEqual(publicMembersVerify(jwk, 'sha256'), false, label);
      refused(jwk, 'RS256', label, message);
    }
    // node:crypto drops oth, so a key of three primes would be imported as some other key.
    const error = rejects(
      () => importJwk({ ...a, oth: [{ r: a.p, d: a.dp, t: a.qi }], alg: 'RS256', kid: 'k' }),
      'ERR_KEY_INVALID',
    );
    assert.match(error.message, /Multi-prime RSA keys \(oth\) are not supported/);
    // RFC 8017 asks only e dp = 1 mod (p - 1): a dp that is not the least such one is one key too.
    const big = (member: string) => BigInt(`0x${Buffer.from(member, 'base64url').toString('hex')}`);
    const hex = (big(a.dp) + big(a.p) - 1n).toString(16);
    const dp = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex').toString('base64url');
    assert.equal(publicMembersVerify({ ...a, dp }, 'sha256'), true);
    assert.equal(importJwk({ ...a, dp, alg: 'RS256', kid: 'k' }).state, 'active');
    // The key as generated is one key, for RS* and PS* alike, and its JWKS verifies its tokens.
    for (const alg of ['RS256', 'PS512'] as const) {
      const ring = new KeyRing([importJwk({ ...a, alg, kid: 'k' })]);
      const token = createSigner({ keys: ring, now, issuer: ISSUER, audience: 'api' }).sign({
        sub: 'u1',
        jti: 'j1',
      });
      const published = KeyRing.fromJSON(ring.jwks());
      assert.equal(createVerifier({ ...ANY, keys: published, now }).verify(token).sub, 'u1');
    }
  });

  it("Ed25519: an x that is not d's is ERR_KEY_INVALID (node:crypto ignores x and derives it)", () => {
    const a = privateJwk('ed25519');
    const b = privateJwk('ed25519');
    const message = /^The JWK's public key \(x\) is not its private key's \(d\)\.$/;
    const other = { ...a, x: b.x };
    // The key signs as d's, so the JWK's own public member refuses its tokens.
    assert.notEqual(publicMembersVerify(other, null), true);
    refused(other, 'EdDSA', 'x of another key', message);
    // Not a public key at all, and x spelt other than canonical base64url.
    refused({ ...a, x: 'AAAA' }, 'EdDSA', 'x of 3 bytes', message);
    refused({ ...a, x: `${a.x}=` }, 'EdDSA', 'x with padding', message);
    assert.equal(importJwk({ ...a, alg: 'EdDSA', kid: 'k' }).state, 'active');
  });

  it('EC: x and y of another key stay ERR_KEY_INVALID, by a sign and verify probe', () => {
    for (const [alg, curve] of [
      ['ES256', 'P-256'],
      ['ES512', 'P-521'],
    ] as const) {
      const a = privateJwk('ec', { namedCurve: curve });
      const b = privateJwk('ec', { namedCurve: curve });
      const jwk = { ...a, x: b.x, y: b.y } as Jwk;
      assert.notEqual(publicMembersVerify(jwk, 'sha256'), true, alg);
      refused(jwk, alg, alg, /^The JWK's public point \(x, y\) is not its private key's \(d\)\.$/);
    }
  });

  it('EC: a d longer than the curve order is ERR_KEY_INVALID, not an OpenSSL error of the probe', () => {
    // node:crypto imports it, and then every signature with it fails in OpenSSL ("too small
    // buffer"): the probe's failure is the key's, and a RevocableError like every other.
    for (const [alg, curve] of [
      ['ES256', 'P-256'],
      ['ES384', 'P-384'],
      ['ES512', 'P-521'],
    ] as const) {
      const a = privateJwk('ec', { namedCurve: curve });
      const d = Buffer.from(a.d, 'base64url');
      const jwk = { ...a, d: b64(Buffer.concat([Buffer.from([0x11]), d])) } as Jwk;
      refused(jwk, alg, alg, /^The JWK's public point \(x, y\) is not its private key's \(d\)\.$/);
    }
  });
});

describe('export', () => {
  function mixedRing(): KeyRing {
    const ring = KeyRing.generate('RS256', { kid: 'rs' });
    ring.add(generateKey('PS256', { kid: 'ps', state: 'verify-only' }));
    ring.add(generateKey('ES512', { kid: 'es', state: 'verify-only' }));
    ring.add(generateKey('HS256', { kid: 'hs', state: 'verify-only' }));
    ring.add(generateKey('EdDSA', { kid: 'old', state: 'retired' }));
    ring.rotate('EdDSA', { kid: 'ed' });
    return ring;
  }

  it('the JWKS has public members only, omits retired and HMAC keys, keeps verify-only ones', () => {
    const ring = mixedRing();
    const jwks = ring.jwks();
    assert.deepEqual(jwks.keys.map((key) => key.kid).sort(), ['ed', 'es', 'ps', 'rs']);
    for (const jwk of jwks.keys) {
      for (const member of PRIVATE_MEMBERS) assert.ok(!(member in jwk), `${jwk.kid} has ${member}`);
      assert.equal(jwk.use, 'sig');
      assert.ok(!('state' in jwk) && !('created' in jwk));
      assert.equal(jwk.alg, ring.get(jwk.kid)?.alg);
    }
    const text = JSON.stringify(jwks);
    for (const key of ring.keys()) {
      if (key.alg === 'HS256')
        assert.ok(!text.includes(key.verifyKey.export().toString('base64url')));
    }
    assert.deepEqual(KeyRing.generate('HS512').jwks(), { keys: [] });
  });

  it('exportJwk is public by default, refuses an HMAC secret without includePrivate', () => {
    const ed = generateKey('EdDSA', { kid: 'e' });
    assert.ok(!('d' in exportJwk(ed)));
    assert.ok('d' in exportJwk(ed, { includePrivate: true }));
    rejects(() => exportJwk(generateKey('HS256')), 'ERR_INVALID_ARGUMENT');
    assert.ok('k' in exportJwk(generateKey('HS256'), { includePrivate: true }));
  });

  it('toJSON keeps private parts and states; fromJSON restores a ring that signs and verifies the same', () => {
    const ring = mixedRing();
    const document = JSON.parse(JSON.stringify(ring.toJSON()));
    const copy = KeyRing.fromJSON(document);
    for (const key of ring.keys()) {
      const restored = copy.get(key.kid);
      assert.ok(restored !== undefined);
      assert.equal(restored.alg, key.alg);
      assert.equal(restored.state, key.state);
      assert.equal(restored.createdAt, key.createdAt);
      assert.ok(restored.signKey !== null);
    }
    assert.equal(copy.active.kid, 'ed');
    const token = createSigner({ keys: copy, now, issuer: ISSUER, audience: 'api' }).sign({
      sub: 'u1',
    });
    assert.equal(createVerifier({ ...ANY, keys: ring, now }).verify(token).sub, 'u1');
  });
});

describe('fromJSON of bad documents', () => {
  it('refuses what is not a key ring with ERR_KEYRING_INVALID', () => {
    const documents: unknown[] = [
      null,
      undefined,
      'keys',
      42,
      [],
      [{ keys: [] }],
      {},
      { keys: null },
      { keys: {} },
      { keys: 'k' },
      { keys: [] },
      { Keys: [exportJwk(generateKey('EdDSA'))] },
    ];
    for (const document of documents) {
      rejects(() => KeyRing.fromJSON(document), 'ERR_KEYRING_INVALID', JSON.stringify(document));
    }
  });

  it('refuses a key with a bad state with ERR_KEYRING_INVALID', () => {
    const jwk = exportJwk(generateKey('EdDSA', { kid: 'e' }), { includePrivate: true });
    for (const state of ['bogus', 'ACTIVE', '', 1, null]) {
      rejects(
        () => KeyRing.fromJSON({ keys: [{ ...jwk, state }] }),
        'ERR_KEYRING_INVALID',
        String(state),
      );
    }
  });

  it('refuses a key that is not a JWK with the key error', () => {
    rejects(() => KeyRing.fromJSON({ keys: [null] }), 'ERR_KEY_INVALID');
    rejects(() => KeyRing.fromJSON({ keys: ['k'] }), 'ERR_KEY_INVALID');
    rejects(
      () => KeyRing.fromJSON({ keys: [{ kty: 'oct', alg: 'HS256', kid: 'h' }] }),
      'ERR_KEY_INVALID',
    );
  });

  it('a document with several active keys yields exactly one active key: the last one', () => {
    const a = exportJwk(generateKey('EdDSA', { kid: 'a' }), { includePrivate: true });
    const b = exportJwk(generateKey('EdDSA', { kid: 'b' }), { includePrivate: true });
    const ring = KeyRing.fromJSON({ keys: [a, b] });
    assert.deepEqual(activeKids(ring), ['b']);
    assert.equal(ring.get('a')?.state, 'verify-only');
  });
});

describe('verifying with a ring read from the JWKS', () => {
  it('verifies like the issuer: the same tokens pass, the same forgeries fail', () => {
    const issuer = KeyRing.generate('ES256', { kid: 'one' });
    const oldToken = createSigner({ keys: issuer, now, issuer: ISSUER, audience: 'api' }).sign({
      sub: 'old',
    });
    issuer.rotate('RS256', { kid: 'two' });
    issuer.rotate('EdDSA', { kid: 'three' });
    const newToken = createSigner({ keys: issuer, now, issuer: ISSUER, audience: 'api' }).sign({
      sub: 'new',
    });
    const server = KeyRing.fromJSON(JSON.parse(JSON.stringify(issuer.jwks())));
    for (const key of server.keys()) {
      assert.equal(key.state, 'verify-only');
      assert.equal(key.signKey, null);
    }
    rejects(() => server.active, 'ERR_KEYRING_NO_ACTIVE_KEY');
    const atIssuer = createVerifier({ ...ANY, keys: issuer, now });
    const atServer = createVerifier({ ...ANY, keys: server, now });
    for (const token of [oldToken, newToken]) {
      assert.deepEqual(atServer.verify(token), atIssuer.verify(token));
      const forged = `${token.slice(0, token.lastIndexOf('.'))}.${b64(randomBytes(64))}`;
      rejects(() => atIssuer.verify(forged), 'ERR_JWT_SIGNATURE');
      rejects(() => atServer.verify(forged), 'ERR_JWT_SIGNATURE');
    }
    // Retiring at the issuer: the issuer says retired; the next JWKS no longer has the key.
    issuer.retire('one');
    rejects(() => atIssuer.verify(oldToken), 'ERR_JWT_KEY_RETIRED');
    const refreshed = createVerifier({ ...ANY, keys: KeyRing.fromJSON(issuer.jwks()), now });
    rejects(() => refreshed.verify(oldToken), 'ERR_JWT_KID_UNKNOWN');
    assert.equal(refreshed.verify(newToken).sub, 'new');
  });
});

describe('tokens without kid', () => {
  it('verify when exactly one usable key has the alg; ERR_JWT_KID_MISSING when several do', () => {
    const ring = KeyRing.generate('EdDSA', { kid: 'ed1' });
    ring.add(generateKey('HS256', { kid: 'hs', state: 'verify-only' }));
    const verifier = createVerifier({ ...ANY, keys: ring, now });
    const first = ring.active;
    assert.equal(verifier.verify(withoutKid(first)).sub, 'u1');
    const second = ring.rotate(undefined, { kid: 'ed2' });
    rejects(() => verifier.verify(withoutKid(first)), 'ERR_JWT_KID_MISSING');
    rejects(() => verifier.verify(withoutKid(second)), 'ERR_JWT_KID_MISSING');
    // A retired key no longer counts: the one remaining key is chosen.
    ring.retire('ed1');
    assert.equal(verifier.verify(withoutKid(second)).sub, 'u1');
    rejects(() => verifier.verify(withoutKid(first)), 'ERR_JWT_SIGNATURE');
    // Every key for the alg retired: the answer the token's kid would have got.
    ring.retire('ed2');
    rejects(() => verifier.verify(withoutKid(second)), 'ERR_JWT_KEY_RETIRED');
    rejects(() => verifier.verify(withoutKid(first)), 'ERR_JWT_KEY_RETIRED');
  });

  it('a ring whose only key is retired says ERR_JWT_KEY_RETIRED with or without kid', () => {
    const ring = KeyRing.generate('EdDSA', { kid: 'ed' });
    const key = ring.active;
    const signer = createSigner({ keys: ring, now, issuer: ISSUER, audience: 'api' });
    const withKid = signer.sign({ sub: 'u1' });
    const verifier = createVerifier({ ...ANY, keys: ring, now });
    ring.retire('ed');
    const revision = ring.revision;
    rejects(() => verifier.verify(withKid), 'ERR_JWT_KEY_RETIRED');
    rejects(() => verifier.verify(withoutKid(key)), 'ERR_JWT_KEY_RETIRED');
    // A forgery gets the same answer: a retired key is never asked to verify anything.
    rejects(() => verifier.verify(withoutKid(generateKey('EdDSA'))), 'ERR_JWT_KEY_RETIRED');
    assert.equal(ring.revision, revision);
    // It is the retirement alone that refuses the token.
    ring.setState('ed', 'verify-only');
    assert.equal(verifier.verify(withoutKid(key)).sub, 'u1');
  });

  it('an alg no key has stays ERR_JWT_ALG, even beside retired keys of another alg', () => {
    const ring = KeyRing.generate('EdDSA', { kid: 'ed' });
    ring.add(generateKey('ES256', { kid: 'es', state: 'retired' }));
    const verifier = createVerifier({ ...ANY, keys: ring, now });
    const hs256 = `${b64(JSON.stringify({ alg: 'HS256', typ: 'at+jwt' }))}.${b64(JSON.stringify(CLAIMS))}`;
    const forged = `${hs256}.${b64(randomBytes(32))}`;
    rejects(() => verifier.verify(forged), 'ERR_JWT_ALG');
    ring.retire('ed');
    rejects(() => verifier.verify(forged), 'ERR_JWT_ALG');
    const empty = createVerifier({ ...ANY, keys: new KeyRing(), now });
    rejects(() => empty.verify(withoutKid(generateKey('EdDSA'))), 'ERR_JWT_ALG');
  });

  it('beside a usable key of the alg, a retired key is never tried: its tokens fail the signature', () => {
    const ring = KeyRing.generate('EdDSA', { kid: 'a' });
    const a = ring.active;
    const b = ring.rotate(undefined, { kid: 'b' });
    const c = ring.rotate(undefined, { kid: 'c' });
    const verifier = createVerifier({ ...ANY, keys: ring, now });
    ring.retire('a');
    // Two usable keys still could have signed it, whichever the retired one is.
    rejects(() => verifier.verify(withoutKid(a)), 'ERR_JWT_KID_MISSING');
    rejects(() => verifier.verify(withoutKid(b)), 'ERR_JWT_KID_MISSING');
    ring.retire('b');
    assert.equal(verifier.verify(withoutKid(c)).sub, 'u1');
    rejects(() => verifier.verify(withoutKid(a)), 'ERR_JWT_SIGNATURE');
    rejects(() => verifier.verify(withoutKid(b)), 'ERR_JWT_SIGNATURE');
    ring.retire('c');
    for (const key of [a, b, c]) {
      rejects(() => verifier.verify(withoutKid(key)), 'ERR_JWT_KEY_RETIRED', key.kid);
    }
    // The same through the revocable verifier, which counts the sole key's kid for revocations.
    ring.setState('b', 'verify-only');
    const index = createRevocationIndex({ maxAccessTokenLifetime: '10m', now });
    const revocable = createRevocableVerifier({ ...ANY, keys: ring, index });
    assert.equal(revocable.verify(withoutKid(b)).sub, 'u1');
    rejects(() => revocable.verify(withoutKid(a)), 'ERR_JWT_SIGNATURE');
    ring.retire('b');
    rejects(() => revocable.verify(withoutKid(b)), 'ERR_JWT_KEY_RETIRED');
  });

  it('hasKeyFor counts keys in every state; soleKeyFor only the ones that verify', () => {
    const ring = KeyRing.generate('EdDSA', { kid: 'ed' });
    ring.add(generateKey('HS256', { kid: 'hs', state: 'retired' }));
    assert.equal(ring.hasKeyFor('EdDSA'), true);
    assert.equal(ring.hasKeyFor('HS256'), true);
    assert.equal(ring.hasKeyFor('ES256'), false);
    assert.equal(ring.soleKeyFor('HS256'), undefined);
    ring.retire('ed');
    assert.equal(ring.soleKeyFor('EdDSA'), undefined);
    assert.equal(ring.hasKeyFor('EdDSA'), true);
    ring.forget('ed');
    assert.equal(ring.hasKeyFor('EdDSA'), false);
    // The verifier asks a ring for it, so a ring-like object without it is refused when it is made.
    const lookalike = { get: ring.get.bind(ring), soleKeyFor: ring.soleKeyFor.bind(ring) };
    rejects(
      () => createVerifier({ ...ANY, keys: lookalike as unknown as KeyRing, now }),
      'ERR_INVALID_ARGUMENT',
    );
  });
});
