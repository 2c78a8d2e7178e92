// The attacks of the usual JWT attack corpora (jwt_tool, PortSwigger's JWT labs, RFC 8725 sections
// 2 and 3, the CVEs of JWT libraries) that attacks.test.ts, rfc7515.test.ts and
// strict-payload.test.ts do not already try, each refused with the code docs/jwt.md gives it.
// Tokens are forged with node:crypto directly, never with revocable's signer.
import assert from 'node:assert/strict';
import {
  constants,
  createHmac,
  sign as cryptoSign,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { describe, it } from 'node:test';
import {
  type ErrorCode,
  JwtClaimError,
  RevocableError,
  TokenRevokedError,
} from '../../src/errors/index.js';
import {
  createVerifier,
  exportJwk,
  type JwtKey,
  KeyRing,
  type VerifierOptions,
} from '../../src/jwt/index.js';
import {
  createRevocableVerifier,
  createRevocationIndex,
  createSessionRevocation,
  createTokenRevocation,
} from '../../src/revocation/index.js';

const NOW = 1_800_000_000;
const now = () => NOW;
const ISSUER = 'https://issuer.example';
const CLAIMS = {
  iss: ISSUER,
  aud: 'api',
  sub: 'u1',
  sid: 's1',
  jti: 'j1',
  iat: NOW,
  exp: NOW + 600,
};

function b64(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

/** Signs `input` the way RFC 7518 defines `alg`, with node:crypto. */
function rawSign(alg: string, key: KeyObject | string | Buffer, input: string): Buffer {
  const data = Buffer.from(input);
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('HS')) return createHmac(hash, key).update(data).digest();
  if (typeof key === 'string' || Buffer.isBuffer(key)) throw new Error('asymmetric needs a key');
  if (alg === 'EdDSA') return cryptoSign(null, data, key);
  if (alg.startsWith('RS')) return cryptoSign(hash, data, key);
  if (alg.startsWith('PS')) {
    return cryptoSign(hash, data, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    });
  }
  return cryptoSign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
}

/**
 * A compact token of exactly these header and payload texts or bytes (objects are JSON-encoded),
 * signed under `alg` (the header's by default) with `key`.
 */
function forge(
  header: Record<string, unknown> | string | Uint8Array,
  payload: Record<string, unknown> | string | Uint8Array,
  key: KeyObject | string | Buffer,
  alg?: string,
): string {
  const text = (part: Record<string, unknown> | string | Uint8Array) =>
    typeof part === 'string' || part instanceof Uint8Array ? part : JSON.stringify(part);
  const input = `${b64(text(header))}.${b64(text(payload))}`;
  const signAlg =
    alg ??
    (typeof header === 'object' && !(header instanceof Uint8Array) ? String(header.alg) : 'HS256');
  return `${input}.${b64(rawSign(signAlg, key, input))}`;
}

/** The token with its signature segment replaced by these bytes. */
function withSignature(token: string, signature: Uint8Array): string {
  return `${token.slice(0, token.lastIndexOf('.'))}.${b64(signature)}`;
}

function signatureOf(token: string): Buffer {
  return Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
}

function rejects(fn: () => unknown, code: ErrorCode, label?: string): RevocableError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `${label ?? code}: expected a throw, the token was accepted`);
  assert.ok(
    caught instanceof RevocableError,
    `${label ?? code}: expected a RevocableError, got ${String(caught)}`,
  );
  assert.equal(caught.code, code, `${label ?? ''}: ${caught.message}`);
  return caught;
}

function signer(key: JwtKey): KeyObject {
  assert.ok(key.signKey !== null);
  return key.signKey;
}

const rings = {
  HS256: KeyRing.generate('HS256', { kid: 'hs' }),
  RS256: KeyRing.generate('RS256', { kid: 'rs' }),
  PS256: KeyRing.generate('PS256', { kid: 'ps' }),
  ES256: KeyRing.generate('ES256', { kid: 'es' }),
  ES384: KeyRing.generate('ES384', { kid: 'es384' }),
  ES512: KeyRing.generate('ES512', { kid: 'es512' }),
  EdDSA: KeyRing.generate('EdDSA', { kid: 'ed' }),
} as const;
type Family = keyof typeof rings;
const FAMILIES = Object.keys(rings) as Family[];

function verifier(ring: KeyRing, options: Partial<VerifierOptions> = {}) {
  return createVerifier({ keys: ring, issuer: ISSUER, audience: 'api', now, ...options });
}

const verifiers = Object.fromEntries(FAMILIES.map((alg) => [alg, verifier(rings[alg])])) as Record<
  Family,
  ReturnType<typeof createVerifier>
>;

/** A token of the ring's own key, forged with node:crypto: the one every attack starts from. */
function genuine(alg: Family, claims: Record<string, unknown> = CLAIMS): string {
  const key = rings[alg].active;
  return forge({ alg, typ: 'at+jwt', kid: key.kid }, claims, signer(key));
}

const hsSecret = signer(rings.HS256.active);
const HS_HEADER = { alg: 'HS256', typ: 'at+jwt', kid: 'hs' };

describe('the forging helper is sound', () => {
  it('a token forged for each ring verifies', () => {
    for (const alg of FAMILIES) assert.equal(verifiers[alg].verify(genuine(alg)).sub, 'u1', alg);
  });
});

describe('alg none in every spelling (RFC 8725 2.1, jwt_tool -X a, CVE-2015-9235)', () => {
  const spellings = [
    'none',
    'none ',
    ' none',
    'none\u0000',
    'none\n',
    '\uff4e\uff4f\uff4e\uff45', // full-width "none"
    'non\u0435', // a Cyrillic e
    'n\u200bone', // a zero-width space
    'NoNe',
    '',
    'null',
  ];
  for (const family of ['HS256', 'RS256', 'ES256', 'EdDSA'] as const) {
    it(`${family}: refused with ERR_JWT_ALG, with or without kid and with any signature`, () => {
      const kid = rings[family].active.kid;
      for (const alg of spellings) {
        for (const header of [
          { alg, typ: 'at+jwt' },
          { alg, typ: 'at+jwt', kid },
        ]) {
          const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(CLAIMS))}`;
          const label = `${family} ${JSON.stringify(alg)}`;
          rejects(() => verifiers[family].verify(`${input}.`), 'ERR_JWT_ALG', label);
          rejects(() => verifiers[family].verify(`${input}.AAAA`), 'ERR_JWT_ALG', label);
          // The genuine signature of another token: still the header's alg that is refused.
          const real = genuine(family).split('.')[2];
          rejects(() => verifiers[family].verify(`${input}.${real}`), 'ERR_JWT_ALG', label);
        }
      }
    });
  }

  it('"none" spelt with JSON escapes is still none', () => {
    const input = `${b64('{"alg":"\\u006eone","typ":"at+jwt"}')}.${b64(JSON.stringify(CLAIMS))}`;
    rejects(() => verifiers.HS256.verify(`${input}.`), 'ERR_JWT_ALG');
    const escapedHs = '{"alg":"\\u0048S256","typ":"at+jwt","kid":"hs"}';
    assert.equal(verifiers.HS256.verify(forge(escapedHs, CLAIMS, hsSecret)).sub, 'u1');
  });
});

describe('empty and truncated signatures', () => {
  for (const alg of FAMILIES) {
    it(`${alg}: an empty signature, or one of a single zero byte, is ERR_JWT_SIGNATURE`, () => {
      const token = genuine(alg);
      rejects(
        () => verifiers[alg].verify(withSignature(token, Buffer.alloc(0))),
        'ERR_JWT_SIGNATURE',
      );
      rejects(
        () => verifiers[alg].verify(withSignature(token, Buffer.alloc(1))),
        'ERR_JWT_SIGNATURE',
      );
      rejects(
        () => verifiers[alg].verify(`${token.slice(0, token.lastIndexOf('.'))}`),
        'ERR_JWT_MALFORMED',
      );
    });
  }
});

// The group orders of the NIST curves, big-endian.
const ORDERS: Record<'ES256' | 'ES384' | 'ES512', bigint> = {
  ES256: BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551'),
  ES384: BigInt(
    '0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
  ),
  ES512: BigInt(
    '0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
  ),
};

function bytesOf(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

function bigOf(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
}

describe('ECDSA signatures (CVE-2022-21449 "psychic signatures", DER vs JOSE form)', () => {
  for (const alg of ['ES256', 'ES384', 'ES512'] as const) {
    const half = { ES256: 32, ES384: 48, ES512: 66 }[alg];
    const n = bytesOf(ORDERS[alg], half);
    const zero = Buffer.alloc(half);

    it(`${alg}: r = 0 or s = 0, r or s equal to the group order n, or all ones, is ERR_JWT_SIGNATURE`, () => {
      const token = genuine(alg);
      const good = signatureOf(token);
      const r = good.subarray(0, half);
      const s = good.subarray(half);
      const forged: [string, Buffer][] = [
        ['r = s = 0', Buffer.concat([zero, zero])],
        ['r = 0', Buffer.concat([zero, s])],
        ['s = 0', Buffer.concat([r, zero])],
        ['r = s = n', Buffer.concat([n, n])],
        ['r = n', Buffer.concat([n, s])],
        ['s = n', Buffer.concat([r, n])],
        ['all ones', Buffer.alloc(2 * half, 0xff)],
      ];
      // r + n and s + n, the same residues mod n, where they still fit the field size.
      const limit = 1n << BigInt(8 * half);
      if (bigOf(r) + ORDERS[alg] < limit) {
        forged.push(['r + n', Buffer.concat([bytesOf(bigOf(r) + ORDERS[alg], half), s])]);
      }
      if (bigOf(s) + ORDERS[alg] < limit) {
        forged.push(['s + n', Buffer.concat([r, bytesOf(bigOf(s) + ORDERS[alg], half)])]);
      }
      for (const [name, signature] of forged) {
        assert.equal(signature.length, 2 * half);
        rejects(
          () => verifiers[alg].verify(withSignature(token, signature)),
          'ERR_JWT_SIGNATURE',
          name,
        );
      }
    });

    it(`${alg}: the same signature in DER (ASN.1) form, or with a byte too few or too many, is ERR_JWT_SIGNATURE`, () => {
      const token = genuine(alg);
      const input = token.slice(0, token.lastIndexOf('.'));
      const der = cryptoSign(`sha${alg.slice(2)}`, Buffer.from(input), signer(rings[alg].active));
      assert.equal(der[0], 0x30, 'a DER SEQUENCE');
      rejects(() => verifiers[alg].verify(withSignature(token, der)), 'ERR_JWT_SIGNATURE', 'DER');
      const good = signatureOf(token);
      for (const signature of [
        good.subarray(1),
        good.subarray(0, -1),
        Buffer.concat([Buffer.alloc(1), good]),
        Buffer.concat([good, Buffer.alloc(1)]),
        // r and s each left-padded by one byte: the JOSE form of a larger curve.
        Buffer.concat([
          Buffer.alloc(1),
          good.subarray(0, half),
          Buffer.alloc(1),
          good.subarray(half),
        ]),
      ]) {
        rejects(() => verifiers[alg].verify(withSignature(token, signature)), 'ERR_JWT_SIGNATURE');
      }
      assert.equal(verifiers[alg].verify(token).sub, 'u1');
    });
  }

  it('a signature of another curve (ES384 by a P-384 key) under an ES256 header is refused', () => {
    const token = forge(
      { alg: 'ES256', typ: 'at+jwt', kid: 'es' },
      CLAIMS,
      signer(rings.ES384.active),
      'ES384',
    );
    rejects(() => verifiers.ES256.verify(token), 'ERR_JWT_SIGNATURE');
  });

  it('ECDSA is malleable: (r, n - s) verifies too, and it is the same token to every revocation', () => {
    // ECDSA itself accepts both s and n - s, RFC 7518 asks nothing more, and Node.js (OpenSSL),
    // jose and revocable's own signer make high-s signatures half the time: the twin cannot be
    // refused without refusing genuine tokens. It carries the same claims, so whatever revokes
    // the token (jti, sid, sub, a cut-off, its key) revokes its twin.
    const index = createRevocationIndex({ maxAccessTokenLifetime: '10m', now });
    const revocable = createRevocableVerifier({
      keys: rings.ES256,
      issuer: ISSUER,
      audience: 'api',
      index,
      now,
    });
    const timing = { maxAccessTokenLifetime: '10m', now };
    for (const [claims, revoke] of [
      [
        { ...CLAIMS, jti: 'twin-1' },
        () => index.apply(createTokenRevocation({ jti: 'twin-1', exp: NOW + 600 }, { now })),
      ],
      [
        { ...CLAIMS, sid: 'twin-2' },
        () => index.apply(createSessionRevocation({ sid: 'twin-2' }, timing)),
      ],
    ] as const) {
      const token = genuine('ES256', claims);
      const good = signatureOf(token);
      const s = bigOf(good.subarray(32));
      const twin = withSignature(
        token,
        Buffer.concat([good.subarray(0, 32), bytesOf(ORDERS.ES256 - s, 32)]),
      );
      assert.notEqual(twin, token);
      assert.deepEqual(revocable.verify(twin), revocable.verify(token));
      revoke();
      for (const presented of [token, twin]) {
        const error = rejects(() => revocable.verify(presented), 'ERR_TOKEN_REVOKED');
        assert.ok(error instanceof TokenRevokedError);
      }
    }
  });
});

// The order of the Ed25519 group, L.
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

function littleEndian(value: bigint): Buffer {
  return bytesOf(value, 32).reverse();
}

describe('Ed25519 signatures', () => {
  it('S + L (a non-canonical S, the malleability RFC 8032 forbids) is ERR_JWT_SIGNATURE', () => {
    const token = genuine('EdDSA');
    const good = signatureOf(token);
    const s = bigOf(Buffer.from(good.subarray(32)).reverse());
    const twin = Buffer.concat([good.subarray(0, 32), littleEndian(s + L)]);
    rejects(() => verifiers.EdDSA.verify(withSignature(token, twin)), 'ERR_JWT_SIGNATURE');
    const exactlyL = Buffer.concat([good.subarray(0, 32), littleEndian(L)]);
    rejects(() => verifiers.EdDSA.verify(withSignature(token, exactlyL)), 'ERR_JWT_SIGNATURE');
  });

  it('R = the identity with S = 0, and all zeros, are ERR_JWT_SIGNATURE for a sound key', () => {
    const token = genuine('EdDSA');
    const identity = Buffer.alloc(32);
    identity[0] = 1;
    for (const signature of [
      Buffer.concat([identity, Buffer.alloc(32)]),
      Buffer.alloc(64),
      Buffer.alloc(64, 0xff),
    ]) {
      rejects(() => verifiers.EdDSA.verify(withSignature(token, signature)), 'ERR_JWT_SIGNATURE');
    }
  });
});

describe('RSA signatures', () => {
  const modulus = (ring: KeyRing) => {
    const { n } = ring.active.verifyKey.export({ format: 'jwk' });
    return Buffer.from(String(n), 'base64url');
  };

  for (const alg of ['RS256', 'PS256'] as const) {
    it(`${alg}: a zero byte prepended, 0, 1, n - 1, n and all ones are ERR_JWT_SIGNATURE`, () => {
      const token = genuine(alg);
      const good = signatureOf(token);
      const n = modulus(rings[alg]);
      assert.equal(good.length, n.length);
      const one = Buffer.alloc(n.length);
      one[n.length - 1] = 1;
      for (const [name, signature] of [
        ['00 || signature', Buffer.concat([Buffer.alloc(1), good])],
        ['0', Buffer.alloc(n.length)],
        ['1', one],
        ['n - 1', bytesOf(bigOf(n) - 1n, n.length)],
        ['n', n],
        ['all ones', Buffer.alloc(n.length, 0xff)],
      ] as const) {
        rejects(
          () => verifiers[alg].verify(withSignature(token, signature)),
          'ERR_JWT_SIGNATURE',
          name,
        );
      }
    });
  }

  it('RS256: a PKCS#1 signature over SHA-1 or SHA-512 of the same input is ERR_JWT_SIGNATURE', () => {
    const token = genuine('RS256');
    const input = Buffer.from(token.slice(0, token.lastIndexOf('.')));
    for (const hash of ['sha1', 'sha512']) {
      const signature = cryptoSign(hash, input, signer(rings.RS256.active));
      rejects(
        () => verifiers.RS256.verify(withSignature(token, signature)),
        'ERR_JWT_SIGNATURE',
        hash,
      );
    }
  });

  it('PS256: a salt of another length than the hash (0, the maximum) is ERR_JWT_SIGNATURE', () => {
    const token = genuine('PS256');
    const input = Buffer.from(token.slice(0, token.lastIndexOf('.')));
    for (const saltLength of [0, 20, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
      const signature = cryptoSign('sha256', input, {
        key: signer(rings.PS256.active),
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength,
      });
      rejects(
        () => verifiers.PS256.verify(withSignature(token, signature)),
        'ERR_JWT_SIGNATURE',
        `salt ${saltLength}`,
      );
    }
  });

  it('PS256 on an RS256 key and RS256 on a PS256 key are ERR_JWT_ALG (one key, one algorithm)', () => {
    const rsKey = signer(rings.RS256.active);
    rejects(
      () =>
        verifiers.RS256.verify(forge({ alg: 'PS256', typ: 'at+jwt', kid: 'rs' }, CLAIMS, rsKey)),
      'ERR_JWT_ALG',
    );
    rejects(
      () => verifiers.RS256.verify(forge({ alg: 'PS256', typ: 'at+jwt' }, CLAIMS, rsKey)),
      'ERR_JWT_ALG',
    );
    const psKey = signer(rings.PS256.active);
    rejects(
      () =>
        verifiers.PS256.verify(forge({ alg: 'RS256', typ: 'at+jwt', kid: 'ps' }, CLAIMS, psKey)),
      'ERR_JWT_ALG',
    );
  });
});

describe('HMAC keyed with the public key (RS/HS confusion, CVE-2016-10555, jwt_tool -X k)', () => {
  for (const family of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) {
    it(`${family}: HS256, HS384 and HS512 keyed with every encoding of the public key are ERR_JWT_ALG`, () => {
      const key = rings[family].active;
      const pem = key.verifyKey.export({ type: 'spki', format: 'pem' }).toString();
      const jwk = exportJwk(key);
      const materials: [string, string | Buffer][] = [
        ['PEM', pem],
        ['PEM without its trailing newline', pem.trimEnd()],
        ['PEM with CRLF', pem.replace(/\n/g, '\r\n')],
        ['PEM body only', pem.split('\n').slice(1, -2).join('')],
        ['DER', key.verifyKey.export({ type: 'spki', format: 'der' })],
        ['JWK', JSON.stringify(jwk)],
        ['JWK with a trailing newline', `${JSON.stringify(jwk)}\n`],
        ['JWKS', JSON.stringify(rings[family].jwks())],
        ['the kid', key.kid],
      ];
      if (family === 'RS256' || family === 'PS256') {
        materials.push([
          'PKCS#1 PEM',
          key.verifyKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
        ]);
        materials.push(['PKCS#1 DER', key.verifyKey.export({ type: 'pkcs1', format: 'der' })]);
        materials.push(['n', Buffer.from(String(jwk.n), 'base64url')]);
      } else {
        materials.push(['x', Buffer.from(String(jwk.x), 'base64url')]);
        materials.push(['x as text', String(jwk.x)]);
      }
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        for (const [name, material] of materials) {
          for (const header of [
            { alg, typ: 'at+jwt', kid: key.kid },
            { alg, typ: 'at+jwt' },
          ]) {
            rejects(
              () => verifiers[family].verify(forge(header, CLAIMS, material)),
              'ERR_JWT_ALG',
              `${family} ${alg} ${name}`,
            );
          }
        }
      }
    });
  }
});

describe('algorithm downgrades and swaps across families', () => {
  it('a token of one family presented to a key of another is ERR_JWT_ALG, with the key kid or none', () => {
    const swaps: [Family, Family][] = [
      ['RS256', 'ES256'],
      ['ES256', 'RS256'],
      ['ES256', 'EdDSA'],
      ['EdDSA', 'ES256'],
      ['ES384', 'ES256'],
      ['ES256', 'ES512'],
      ['RS256', 'HS256'],
    ];
    for (const [from, to] of swaps) {
      const key = rings[from].active;
      for (const kid of [rings[to].active.kid, undefined]) {
        const header = { alg: from, typ: 'at+jwt', ...(kid === undefined ? {} : { kid }) };
        rejects(
          () => verifiers[to].verify(forge(header, CLAIMS, signer(key))),
          'ERR_JWT_ALG',
          `${from} to ${to}`,
        );
      }
    }
  });

  it('the key decides the algorithm: a ring holding keys of several families refuses the wrong pairing', () => {
    const mixed = new KeyRing([
      ...rings.RS256.keys(),
      ...rings.ES256.keys(),
      ...rings.EdDSA.keys(),
    ]);
    const v = verifier(mixed);
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      assert.equal(v.verify(genuine(alg)).sub, 'u1');
    }
    // Each header alg with another family's kid, signed by the kid's own key.
    rejects(
      () =>
        v.verify(
          forge({ alg: 'ES256', typ: 'at+jwt', kid: 'rs' }, CLAIMS, signer(rings.ES256.active)),
        ),
      'ERR_JWT_ALG',
    );
    rejects(
      () =>
        v.verify(
          forge({ alg: 'EdDSA', typ: 'at+jwt', kid: 'es' }, CLAIMS, signer(rings.EdDSA.active)),
        ),
      'ERR_JWT_ALG',
    );
    rejects(
      () => v.verify(forge({ alg: 'HS256', typ: 'at+jwt', kid: 'ed' }, CLAIMS, 'secret')),
      'ERR_JWT_ALG',
    );
  });
});

describe('embedded and remote keys (RFC 8725 3.10, CVE-2018-0114, jwt_tool -X i / -X s)', () => {
  const attacker = generateKeyPairSync('ed25519');
  const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), alg: 'EdDSA' };

  it('jwk, jku, x5u and x5c with empty, null or escaped names are ERR_JWT_HEADER', () => {
    const texts = [
      '"jwk":null',
      '"jwk":{}',
      '"jku":""',
      '"jku":null',
      '"x5u":""',
      '"x5c":[]',
      '"x5c":null',
      '"\\u006aku":"https://attacker.example/jwks.json"',
      '"\\u006a\\u0077\\u006b":{}',
      `"jwk":${JSON.stringify(attackerJwk)},"jku":"https://attacker.example/"`,
    ];
    for (const text of texts) {
      const header = `{"alg":"EdDSA","typ":"at+jwt","kid":"ed",${text}}`;
      for (const key of [attacker.privateKey, signer(rings.EdDSA.active)]) {
        rejects(
          () => verifiers.EdDSA.verify(forge(header, CLAIMS, key, 'EdDSA')),
          'ERR_JWT_HEADER',
          text,
        );
      }
    }
  });

  it('members that only hint at a key (x5t, x5t#S256, JWK in upper case) choose none: the ring decides', () => {
    for (const extra of [
      { x5t: 'AAAA' },
      { 'x5t#S256': 'AAAA' },
      { JWK: attackerJwk },
      { Jku: 'https://attacker.example/' },
    ]) {
      // Signed by the attacker: the ring's key refuses the signature.
      const forged = forge(
        { alg: 'EdDSA', typ: 'at+jwt', kid: 'ed', ...extra },
        CLAIMS,
        attacker.privateKey,
      );
      rejects(() => verifiers.EdDSA.verify(forged), 'ERR_JWT_SIGNATURE', Object.keys(extra)[0]);
      const noKid = forge({ alg: 'EdDSA', typ: 'at+jwt', ...extra }, CLAIMS, attacker.privateKey);
      rejects(() => verifiers.EdDSA.verify(noKid), 'ERR_JWT_SIGNATURE', Object.keys(extra)[0]);
    }
  });
});

describe('kid injection (jwt_tool -I -hc kid, PortSwigger "kid path traversal")', () => {
  const injections = [
    '../../../../../../dev/null',
    '/dev/null',
    '..\\..\\..\\windows\\win.ini',
    "' OR '1'='1",
    "hs' UNION SELECT 'AA==' --",
    '|whoami',
    '$(id)',
    '`id`',
    'hs;rm -rf /',
    'http://attacker.example/key.pem',
    'file:///etc/passwd',
    'hs ',
    ' hs',
    'HS',
    'h\u200bs',
    '\uff48\uff53', // full-width "hs"
    'hs/../hs',
    '__proto__',
    '{"kid":"hs"}',
  ];

  it('a kid naming no key in the ring is ERR_JWT_KID_UNKNOWN, signed with an empty key or the real one', () => {
    for (const kid of injections) {
      for (const key of [Buffer.alloc(0), Buffer.alloc(32), 'AA==', hsSecret]) {
        rejects(
          () => verifiers.HS256.verify(forge({ ...HS_HEADER, kid }, CLAIMS, key)),
          'ERR_JWT_KID_UNKNOWN',
          JSON.stringify(kid),
        );
      }
    }
  });

  it('a kid with a control character (NUL, CR, LF, DEL, C1) is ERR_JWT_MALFORMED', () => {
    for (const kid of [
      'hs\u0000',
      'hs\r\nX-Injected: 1',
      'hs\n',
      '\u007fhs',
      'hs\u0085',
      'h\u001bs',
    ]) {
      rejects(
        () => verifiers.HS256.verify(forge({ ...HS_HEADER, kid }, CLAIMS, hsSecret)),
        'ERR_JWT_MALFORMED',
        JSON.stringify(kid),
      );
    }
  });

  it('a kid that is not a string (0, false, true, a float, a negative number) is ERR_JWT_MALFORMED', () => {
    for (const kid of ['0', '-1', '1.5', 'false', 'true', '1e309']) {
      const text = `{"alg":"HS256","typ":"at+jwt","kid":${kid}}`;
      rejects(
        () => verifiers.HS256.verify(forge(text, CLAIMS, hsSecret)),
        'ERR_JWT_MALFORMED',
        text,
      );
    }
  });
});

describe('crit, b64, zip and JWE-shaped tokens (RFC 7515 4.1.11, RFC 7797, RFC 7516)', () => {
  it('crit naming an unknown extension that is present, or a registered member, is ERR_JWT_HEADER', () => {
    for (const text of [
      '"crit":["x-custom"],"x-custom":1',
      '"crit":["kid"]',
      '"crit":["alg"]',
      '"crit":["b64"],"b64":true',
      '"crit":["exp"],"exp":1',
      '"\\u0063rit":["x"]',
    ]) {
      const header = `{"alg":"HS256","typ":"at+jwt","kid":"hs",${text}}`;
      rejects(
        () => verifiers.HS256.verify(forge(header, CLAIMS, hsSecret)),
        'ERR_JWT_HEADER',
        text,
      );
    }
  });

  it('b64 false with an unencoded payload (RFC 7797) is ERR_JWT_HEADER, not a signature over other bytes', () => {
    const header = b64('{"alg":"HS256","typ":"at+jwt","kid":"hs","b64":false,"crit":["b64"]}');
    const payload = JSON.stringify(CLAIMS);
    const tag = createHmac('sha256', hsSecret).update(`${header}.${payload}`).digest('base64url');
    // The detached form (empty payload segment) and the payload as base64url with the RFC 7797 tag.
    rejects(() => verifiers.HS256.verify(`${header}..${tag}`), 'ERR_JWT_MALFORMED');
    rejects(() => verifiers.HS256.verify(`${header}.${b64(payload)}.${tag}`), 'ERR_JWT_HEADER');
  });

  it('a JWE compact token (five segments) is ERR_JWT_MALFORMED; a JWE header in three segments is ERR_JWT_ALG or ERR_JWT_HEADER', () => {
    const jweHeaders = [
      { alg: 'RSA-OAEP', enc: 'A256GCM', typ: 'at+jwt' },
      { alg: 'dir', enc: 'A128CBC-HS256', typ: 'at+jwt', kid: 'hs' },
      { alg: 'PBES2-HS256+A128KW', enc: 'A128GCM', p2s: 'AAAA', p2c: 1e9 },
      { alg: 'ECDH-ES', enc: 'A256GCM', epk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } },
    ];
    for (const header of jweHeaders) {
      const five = [JSON.stringify(header), 'key', 'iv', 'ciphertext', 'tag'].map(b64).join('.');
      rejects(() => verifiers.HS256.verify(five), 'ERR_JWT_MALFORMED', header.alg);
      rejects(
        () => verifiers.HS256.verify(forge(header, CLAIMS, hsSecret, 'HS256')),
        'ERR_JWT_ALG',
        header.alg,
      );
    }
    // A JWS header carrying enc or zip: the header member itself is refused.
    for (const extra of [{ enc: 'A256GCM' }, { zip: 'DEF' }, { enc: 'A256GCM', zip: 'DEF' }]) {
      rejects(
        () => verifiers.HS256.verify(forge({ ...HS_HEADER, ...extra }, CLAIMS, hsSecret)),
        'ERR_JWT_HEADER',
      );
    }
    // A deflated payload under zip, signed: refused for the zip member, never inflated.
    const deflated = Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    rejects(
      () => verifiers.HS256.verify(forge({ ...HS_HEADER, zip: 'DEF' }, deflated, hsSecret)),
      'ERR_JWT_HEADER',
    );
  });

  it('a nested JWT (cty JWT) is read as claims, never unwrapped: its inner token is not JSON', () => {
    const inner = genuine('HS256');
    rejects(
      () => verifiers.HS256.verify(forge({ ...HS_HEADER, cty: 'JWT' }, inner, hsSecret)),
      'ERR_JWT_MALFORMED',
    );
  });
});

/** The payload and header variants that are not one JSON object per RFC 8259. */
const NOT_JSON: [string, (text: string) => string | Buffer][] = [
  ['a UTF-8 BOM', (text) => `\ufeff${text}`],
  [
    'the BOM as bytes',
    (text) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
  ],
  ['UTF-16LE', (text) => Buffer.from(text, 'utf16le')],
  ['UTF-16BE with a BOM', (text) => Buffer.from(`\ufeff${text}`, 'utf16le').swap16()],
  ['trailing garbage', (text) => `${text}x`],
  ['a trailing NUL', (text) => `${text}\u0000`],
  ['a second object', (text) => `${text}${text}`],
  ['a block comment', (text) => `${text}/* c */`],
  ['a comment inside', (text) => text.replace('{', '{/* c */')],
  ['a line comment', (text) => `${text}// c`],
  ['a trailing comma', (text) => `${text.slice(0, -1)},}`],
  ['single quotes', (text) => text.replaceAll('"', "'")],
  ['an unquoted name', (text) => `${text.slice(0, -1)},x:1}`],
  ['NaN', (text) => `${text.slice(0, -1)},"x":NaN}`],
  ['Infinity', (text) => `${text.slice(0, -1)},"x":Infinity}`],
  ['a hex number', (text) => `${text.slice(0, -1)},"x":0x10}`],
  ['a leading zero', (text) => `${text.slice(0, -1)},"x":01}`],
  ['a raw control character in a string', (text) => `${text.slice(0, -1)},"x":"a\u0001b"}`],
  ['a raw tab in a string', (text) => `${text.slice(0, -1)},"x":"a\tb"}`],
  ['a bad escape', (text) => `${text.slice(0, -1)},"x":"\\x41"}`],
  ['an unterminated string', (text) => `${text.slice(0, -1)},"x":"abc}`],
  ['nothing but whitespace', () => ' \n\t'],
];

/** Bytes that are not UTF-8 inside a string of the text. */
const NOT_UTF8: [string, number[]][] = [
  ['a lone continuation byte', [0x80]],
  ['an overlong quote', [0xc0, 0xa2]],
  ['an overlong NUL', [0xc0, 0x80]],
  ['a UTF-8-encoded surrogate (CESU-8)', [0xed, 0xa0, 0x80]],
  ['a Latin-1 byte', [0xe9]],
  ['a code point past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['a truncated sequence', [0xe2, 0x82]],
];

function withBytes(text: string, bytes: number[]): Buffer {
  return Buffer.concat([
    Buffer.from(`${text.slice(0, -1)},"x":"`),
    Buffer.from(bytes),
    Buffer.from('"}'),
  ]);
}

describe('JSON that is not one object of valid UTF-8 (parser differentials)', () => {
  const headerText = JSON.stringify(HS_HEADER);
  const payloadText = JSON.stringify(CLAIMS);

  it('in the header: ERR_JWT_MALFORMED, before any key is looked up', () => {
    for (const [name, change] of NOT_JSON) {
      rejects(
        () => verifiers.HS256.verify(forge(change(headerText), CLAIMS, hsSecret)),
        'ERR_JWT_MALFORMED',
        name,
      );
    }
    for (const [name, bytes] of NOT_UTF8) {
      rejects(
        () => verifiers.HS256.verify(forge(withBytes(headerText, bytes), CLAIMS, hsSecret)),
        'ERR_JWT_MALFORMED',
        name,
      );
    }
  });

  it('in the payload, signed by the ring key: ERR_JWT_MALFORMED', () => {
    for (const [name, change] of NOT_JSON) {
      rejects(
        () => verifiers.HS256.verify(forge(HS_HEADER, change(payloadText), hsSecret)),
        'ERR_JWT_MALFORMED',
        name,
      );
    }
    for (const [name, bytes] of NOT_UTF8) {
      rejects(
        () => verifiers.HS256.verify(forge(HS_HEADER, withBytes(payloadText, bytes), hsSecret)),
        'ERR_JWT_MALFORMED',
        name,
      );
    }
  });

  it('in the payload, with the signature of the genuine payload: ERR_JWT_SIGNATURE (nothing unsigned is parsed)', () => {
    const token = genuine('HS256');
    const [h, , s] = token.split('.') as [string, string, string];
    for (const [name, change] of NOT_JSON) {
      rejects(
        () => verifiers.HS256.verify(`${h}.${b64(change(payloadText))}.${s}`),
        'ERR_JWT_SIGNATURE',
        name,
      );
    }
  });

  it('whitespace around and inside the JSON is JSON (RFC 8259), and is accepted', () => {
    const spaced = ` \r\n${JSON.stringify(CLAIMS, null, 2)}\n `;
    assert.equal(verifiers.HS256.verify(forge(` ${headerText}\n`, spaced, hsSecret)).sub, 'u1');
  });

  it('__proto__ and constructor in the header are ignored members, never a prototype', () => {
    const text =
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","__proto__":{"alg":"none","kid":"x"},"constructor":{"prototype":{"polluted":1}}}';
    const { header } = verifiers.HS256.verifyJwt(forge(text, CLAIMS, hsSecret));
    assert.equal(header.alg, 'HS256');
    assert.equal(header.kid, 'hs');
    assert.equal(Object.getPrototypeOf(header), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('the order of the checks (docs/jwt.md): a segment that is not canonical base64url is ERR_JWT_MALFORMED first', () => {
  // Each header would be refused later for its own reason; the shape of the token comes first, so
  // that a token that is not a JWS never costs a key lookup (nor, at a resource server, a key
  // reload for its kid).
  const headers: [string, Record<string, unknown>, ErrorCode][] = [
    ['an unknown kid', { ...HS_HEADER, kid: 'unknown' }, 'ERR_JWT_KID_UNKNOWN'],
    ['typ JWT', { ...HS_HEADER, typ: 'JWT' }, 'ERR_JWT_TYP'],
    ['alg none', { alg: 'none', typ: 'at+jwt' }, 'ERR_JWT_ALG'],
    ['a jku', { ...HS_HEADER, jku: 'https://attacker.example/' }, 'ERR_JWT_HEADER'],
    ['an alg no key has', { alg: 'ES256', typ: 'at+jwt' }, 'ERR_JWT_ALG'],
    ['the wrong alg for its kid', { ...HS_HEADER, alg: 'HS512' }, 'ERR_JWT_ALG'],
  ];
  const payload = b64(JSON.stringify(CLAIMS));

  it('a padded, spaced, standard-alphabet or empty payload, or a padded signature', () => {
    for (const [name, header, later] of headers) {
      const h = b64(JSON.stringify(header));
      const tag = createHmac('sha256', hsSecret).update(`${h}.${payload}`).digest('base64url');
      // The header's own refusal, with well-formed segments.
      rejects(() => verifiers.HS256.verify(`${h}.${payload}.${tag}`), later, name);
      for (const token of [
        `${h}.${payload}=.${tag}`,
        `${h}.${payload.slice(0, 8)} ${payload.slice(8)}.${tag}`,
        `${h}.${payload.slice(0, 8)}+${payload.slice(9)}.${tag}`,
        `${h}..${tag}`,
        `${h}.${payload}.${tag}=`,
        `${h}.${payload}.${tag.slice(0, 5)}/${tag.slice(6)}`,
      ]) {
        rejects(() => verifiers.HS256.verify(token), 'ERR_JWT_MALFORMED', name);
      }
    }
  });

  it('the same with a header seen before and one never seen, so the header cache changes nothing', () => {
    const v = verifier(rings.HS256);
    const good = genuine('HS256');
    const [h, p, s] = good.split('.') as [string, string, string];
    for (let round = 0; round < 2; round++) {
      assert.equal(v.verify(good).sub, 'u1');
      rejects(() => v.verify(`${h}.${p}=.${s}`), 'ERR_JWT_MALFORMED');
      // A new header each time, then the genuine token: its payload is read whole.
      const fresh = forge({ ...HS_HEADER, n: round }, CLAIMS, hsSecret);
      assert.equal(v.verify(fresh).sub, 'u1');
      assert.deepEqual(v.verify(good), CLAIMS);
    }
  });
});

describe('time claims of the wrong type or out of range', () => {
  const text = JSON.stringify(CLAIMS);
  const token = (payload: string) => forge(HS_HEADER, payload, hsSecret);

  function claimError(payload: string, code: ErrorCode, claim: string): void {
    const error = rejects(() => verifiers.HS256.verify(token(payload)), code, payload);
    assert.ok(error instanceof JwtClaimError);
    assert.equal(error.claim, claim);
  }

  it('a number beyond a double (1e309, -1e309) is no NumericDate: ERR_JWT_CLAIM_INVALID', () => {
    for (const claim of ['exp', 'iat']) {
      for (const value of ['1e309', '-1e309', '1E400']) {
        claimError(
          text.replace(new RegExp(`"${claim}":\\d+`), `"${claim}":${value}`),
          'ERR_JWT_CLAIM_INVALID',
          claim,
        );
      }
    }
    for (const value of ['1e309', '-1e309']) {
      claimError(`${text.slice(0, -1)},"nbf":${value}}`, 'ERR_JWT_CLAIM_INVALID', 'nbf');
    }
  });

  it('numeric strings, booleans, null, arrays and objects are ERR_JWT_CLAIM_INVALID', () => {
    for (const claim of ['exp', 'nbf', 'iat']) {
      for (const value of [
        `"${NOW}"`,
        '"0"',
        '"1e10"',
        'true',
        'null',
        `[${NOW}]`,
        `{"$date":${NOW}}`,
      ]) {
        const payload =
          claim === 'nbf'
            ? `${text.slice(0, -1)},"nbf":${value}}`
            : text.replace(new RegExp(`"${claim}":\\d+`), `"${claim}":${value}`);
        claimError(payload, 'ERR_JWT_CLAIM_INVALID', claim);
      }
    }
  });

  it('an exp of 0, -0, a negative number or a tiny fraction is ERR_JWT_EXPIRED', () => {
    for (const value of ['0', '-0', '-1', '-1e300', '1e-400', '0.5']) {
      claimError(text.replace(/"exp":\d+/, `"exp":${value}`), 'ERR_JWT_EXPIRED', 'exp');
    }
  });

  it('an iat far in the future is ERR_JWT_IAT_FUTURE; an nbf just after now is ERR_JWT_NOT_YET_VALID', () => {
    for (const value of ['1e308', `${NOW + 1}`, `${NOW}.001`]) {
      claimError(text.replace(/"iat":\d+/, `"iat":${value}`), 'ERR_JWT_IAT_FUTURE', 'iat');
    }
    claimError(`${text.slice(0, -1)},"nbf":${NOW}.001}`, 'ERR_JWT_NOT_YET_VALID', 'nbf');
  });

  it('an exp in the year 9999 or at the largest double is ERR_JWT_LIFETIME for the revocable verifier', () => {
    const index = createRevocationIndex({ maxAccessTokenLifetime: '10m', now });
    const revocable = createRevocableVerifier({
      keys: rings.HS256,
      issuer: ISSUER,
      audience: 'api',
      index,
      now,
    });
    for (const value of ['253402300799', '1e308', '1.7976931348623157e308', `${NOW + 601}`]) {
      rejects(
        () => revocable.verify(token(text.replace(/"exp":\d+/, `"exp":${value}`))),
        'ERR_JWT_LIFETIME',
        value,
      );
    }
    // An iat far in the past makes exp - iat as long.
    rejects(
      () => revocable.verify(token(text.replace(/"iat":\d+/, '"iat":-1e300'))),
      'ERR_JWT_LIFETIME',
    );
    assert.equal(revocable.verify(token(text)).sub, 'u1');
  });
});

describe('iss and aud that are almost right (RFC 8725 3.8, 3.9)', () => {
  const token = (claims: Record<string, unknown>) =>
    forge(HS_HEADER, { ...CLAIMS, ...claims }, hsSecret);

  it('an iss that differs in any character is ERR_JWT_ISSUER; one of the wrong type is ERR_JWT_CLAIM_INVALID', () => {
    for (const iss of [
      `${ISSUER}/`,
      `${ISSUER}//`,
      `${ISSUER} `,
      ` ${ISSUER}`,
      `${ISSUER}\u0000`,
      `${ISSUER}\u200b`,
      ISSUER.toUpperCase(),
      'HTTPS://issuer.example',
      'http://issuer.example',
      'https://issuer.example:443',
      'https://issuer.example.',
      'https://issuer.example.attacker.example',
      'https://attacker.example/https://issuer.example',
      'https://issuer.exampl\uff45',
      '',
    ]) {
      rejects(() => verifiers.HS256.verify(token({ iss })), 'ERR_JWT_ISSUER', JSON.stringify(iss));
    }
    for (const iss of [null, [ISSUER], { iss: ISSUER }, 1, true]) {
      rejects(
        () => verifiers.HS256.verify(token({ iss })),
        'ERR_JWT_CLAIM_INVALID',
        JSON.stringify(iss),
      );
    }
  });

  it('an aud that names no accepted audience is ERR_JWT_AUDIENCE; one of the wrong shape is ERR_JWT_CLAIM_INVALID', () => {
    for (const aud of [
      '',
      'api ',
      ' api',
      'API',
      'api/',
      'api\u0000',
      ['', 'API'],
      [`${ISSUER}`],
    ]) {
      rejects(
        () => verifiers.HS256.verify(token({ aud })),
        'ERR_JWT_AUDIENCE',
        JSON.stringify(aud),
      );
    }
    for (const aud of [null, [['api']], { api: true }, ['api', null], ['api', 1], [{}], 0, false]) {
      rejects(
        () => verifiers.HS256.verify(token({ aud })),
        'ERR_JWT_CLAIM_INVALID',
        JSON.stringify(aud),
      );
    }
  });
});

describe('sub, sid and jti of the wrong type', () => {
  it('null, numbers, booleans, arrays and objects are ERR_JWT_CLAIM_INVALID', () => {
    for (const claim of ['sub', 'sid', 'jti']) {
      for (const value of [null, 0, 1, true, false, ['u1'], { id: 'u1' }, []]) {
        const error = rejects(
          () => verifiers.HS256.verify(forge(HS_HEADER, { ...CLAIMS, [claim]: value }, hsSecret)),
          'ERR_JWT_CLAIM_INVALID',
          `${claim} ${JSON.stringify(value)}`,
        );
        assert.equal((error as JwtClaimError).claim, claim);
      }
    }
  });

  // Finding: a sub, sid or jti that no revocation can name is accepted. The revocation events
  // (src/revocation/events.ts) and the session manager's identifiers (src/sessions/input.ts) are
  // non-empty strings of at most 256 characters, so a token whose jti is "" or longer cannot be
  // revoked by its jti (ERR_REVOCATION_EVENT_INVALID), nor its session or subject: only a global
  // cut-off or its key reaches it. The identifier checks live in src/jwt/claims.ts.
  it('an empty sub, sid or jti, or one longer than any revocation target, is refused by both verifiers', () => {
    const index = createRevocationIndex({ maxAccessTokenLifetime: '10m', now });
    const revocable = createRevocableVerifier({
      keys: rings.HS256,
      issuer: ISSUER,
      audience: 'api',
      index,
      now,
    });
    const plain = createVerifier({ keys: rings.HS256, issuer: ISSUER, audience: 'api', now });
    for (const claim of ['sub', 'sid', 'jti']) {
      for (const value of ['', 'x'.repeat(257)]) {
        const token = forge(HS_HEADER, { ...CLAIMS, [claim]: value }, hsSecret);
        for (const verifier of [revocable, plain]) {
          rejects(
            () => verifier.verify(token),
            'ERR_JWT_CLAIM_INVALID',
            `${claim} of ${value.length} characters`,
          );
        }
      }
      // The longest a revocation can name is accepted.
      const longest = 'y'.repeat(256);
      const token = forge(HS_HEADER, { ...CLAIMS, [claim]: longest }, hsSecret);
      assert.equal(revocable.verify(token)[claim], longest);
      assert.equal(plain.verify(token)[claim], longest);
    }
  });
});

describe('typ confusion beyond the media-type spellings (RFC 8725 3.11, RFC 9068)', () => {
  it('a typ with parameters, whitespace, a NUL or lookalike characters is ERR_JWT_TYP', () => {
    for (const typ of [
      'at+jwt ',
      ' at+jwt',
      'at+jwt\u0000',
      'application/at+jwt; charset=utf-8',
      'application /at+jwt',
      'at-jwt',
      'at+jwt\u200b',
      'at\uff0bjwt',
      'AT+JWT/',
      'refresh_token',
      'id_token',
      'JOSE',
      'JOSE+JSON',
      'secevent+jwt',
      'dpop+jwt',
    ]) {
      rejects(
        () => verifiers.HS256.verify(forge({ ...HS_HEADER, typ }, CLAIMS, hsSecret)),
        'ERR_JWT_TYP',
        JSON.stringify(typ),
      );
    }
  });

  it('an ID token (typ JWT, aud a client id, no jti) is refused as an access token', () => {
    const idToken = forge(
      { alg: 'HS256', typ: 'JWT', kid: 'hs' },
      {
        iss: ISSUER,
        aud: 'client-1',
        sub: 'u1',
        iat: NOW,
        exp: NOW + 600,
        nonce: 'n',
        auth_time: NOW,
      },
      hsSecret,
    );
    rejects(() => verifiers.HS256.verify(idToken), 'ERR_JWT_TYP');
    // Without typ, too; and given an at+jwt typ, its missing jti gives it away.
    rejects(
      () =>
        verifiers.HS256.verify(
          forge(
            { alg: 'HS256', kid: 'hs' },
            { iss: ISSUER, aud: 'api', sub: 'u1', iat: NOW, exp: NOW + 600 },
            hsSecret,
          ),
        ),
      'ERR_JWT_TYP',
    );
    const error = rejects(
      () =>
        verifiers.HS256.verify(
          forge(
            HS_HEADER,
            { iss: ISSUER, aud: 'api', sub: 'u1', iat: NOW, exp: NOW + 600 },
            hsSecret,
          ),
        ),
      'ERR_JWT_CLAIM_MISSING',
    );
    assert.equal((error as JwtClaimError).claim, 'jti');
  });
});

describe('keys out of service', () => {
  it("a token of a key the ring has forgotten is ERR_JWT_KID_UNKNOWN; one of another issuer's key with the same kid is ERR_JWT_SIGNATURE", () => {
    const ring = KeyRing.generate('ES256', { kid: 'old' });
    const v = verifier(ring);
    const token = forge({ alg: 'ES256', typ: 'at+jwt', kid: 'old' }, CLAIMS, signer(ring.active));
    assert.equal(v.verify(token).sub, 'u1');
    ring.rotate();
    ring.retire('old');
    rejects(() => v.verify(token), 'ERR_JWT_KEY_RETIRED');
    ring.forget('old');
    rejects(() => v.verify(token), 'ERR_JWT_KID_UNKNOWN');
    // Another ring whose key has the active kid: same kid, other key.
    const impostor = KeyRing.generate('ES256', { kid: ring.active.kid });
    rejects(
      () =>
        v.verify(
          forge(
            { alg: 'ES256', typ: 'at+jwt', kid: ring.active.kid },
            CLAIMS,
            signer(impostor.active),
          ),
        ),
      'ERR_JWT_SIGNATURE',
    );
  });
});
