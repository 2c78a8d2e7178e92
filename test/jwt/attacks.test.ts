// The attacks of RFC 8725 (JWT Best Current Practices) and the OWASP JWT cheat sheet, each refused
// with its exact code. Tokens are forged with node:crypto directly, never with revocable's signer,
// so a bug in the signer cannot hide a bug in the verifier.
import assert from 'node:assert/strict';
import {
  constants,
  createHmac,
  sign as cryptoSign,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { describe, it } from 'node:test';
import { type ErrorCode, JwtClaimError, RevocableError } from '../../src/errors/index.js';
import {
  createSigner,
  createVerifier,
  decodeUnverified,
  exportJwk,
  generateKey,
  type JwtKey,
  KeyRing,
  MAX_CLOCK_TOLERANCE,
  signJwt,
  type VerifierOptions,
} from '../../src/jwt/index.js';
import { signatureMatches } from '../../src/jwt/signature.js';

// These tests are about other checks: any issuer and audience is accepted on purpose.
const ANY = { issuer: null, audience: null } as const;

const NOW = 1_800_000_000;
const now = () => NOW;
// The claims RFC 9068 requires of an access token, which the default verifier demands.
const CLAIMS = {
  iss: 'https://issuer.example',
  aud: 'api',
  sub: 'u1',
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
 * A compact token from a header and a payload (objects, or raw JSON text), signed under the
 * header's alg with `key`; `key` null leaves the signature empty.
 */
function forge(
  header: Record<string, unknown> | string,
  payload: Record<string, unknown> | string,
  key: KeyObject | string | Buffer | null,
  alg?: string,
): string {
  const headerText = typeof header === 'string' ? header : JSON.stringify(header);
  const payloadText = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  if (key === null) return `${input}.`;
  const signAlg = alg ?? (typeof header === 'string' ? 'HS256' : String(header.alg));
  return `${input}.${b64(rawSign(signAlg, key, input))}`;
}

function rejects(fn: () => unknown, code: ErrorCode, label?: string): RevocableError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `${label ?? code}: expected a throw`);
  assert.ok(
    caught instanceof RevocableError,
    `${label ?? code}: expected a RevocableError, got ${String(caught)}`,
  );
  assert.equal(caught.code, code, `${label ?? ''} ${caught.message}`);
  return caught;
}

function signer(key: JwtKey): KeyObject {
  assert.ok(key.signKey !== null);
  return key.signKey;
}

// One ring per family, each key with a fixed kid.
const hsRing = KeyRing.generate('HS256', { kid: 'hs' });
const hsKey = hsRing.active;
const hsSecret = signer(hsKey);
const edRing = KeyRing.generate('EdDSA', { kid: 'ed' });
const edKey = edRing.active;
const rsRing = KeyRing.generate('RS256', { kid: 'rs' });
const rsKey = rsRing.active;
const esRing = KeyRing.generate('ES256', { kid: 'es' });
const esKey = esRing.active;

function verifier(keys: KeyRing, options: Partial<VerifierOptions> = {}) {
  return createVerifier({ ...ANY, keys, now, ...options });
}

const hsVerifier = verifier(hsRing);
const AT = { typ: 'at+jwt' };

describe('alg none (RFC 8725 2.1, 3.1)', () => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    it(`refuses alg ${alg} with an empty signature and with a signature, with and without kid`, () => {
      for (const kid of [undefined, 'hs']) {
        const header = { alg, ...AT, ...(kid === undefined ? {} : { kid }) };
        rejects(() => hsVerifier.verify(forge(header, CLAIMS, null)), 'ERR_JWT_ALG', alg);
        rejects(() => hsVerifier.verify(forge(header, CLAIMS, hsSecret, 'HS256')), 'ERR_JWT_ALG');
        rejects(
          () => verifier(hsRing, { typ: null }).verify(forge(header, CLAIMS, null)),
          'ERR_JWT_ALG',
        );
      }
    });
  }

  it('refuses a missing alg, a non-string alg, and names that are not exactly a supported one', () => {
    const odd: unknown[] = [undefined, null, 256, true, ['HS256'], { HS256: 1 }, 'hs256', 'HS256 '];
    for (const alg of [
      ...odd,
      ' HS256',
      'HS256\u0000',
      'HS-256',
      'RSA-OAEP',
      'A128GCM',
      'ES256K',
    ]) {
      const header: Record<string, unknown> = { ...AT, kid: 'hs' };
      if (alg !== undefined) header.alg = alg;
      rejects(() => hsVerifier.verify(forge(header, CLAIMS, hsSecret, 'HS256')), 'ERR_JWT_ALG');
    }
  });
});

describe('HMAC signed with public key material (algorithm confusion, RFC 8725 2.1)', () => {
  const asymmetric: [string, KeyRing, JwtKey][] = [
    ['RSA', rsRing, rsKey],
    ['EC', esRing, esKey],
    ['Ed25519', edRing, edKey],
  ];
  for (const [name, ring, key] of asymmetric) {
    it(`refuses HS256 keyed with the ${name} public key as PEM, DER or JWK, with ERR_JWT_ALG`, () => {
      const materials: (string | Buffer)[] = [
        key.verifyKey.export({ type: 'spki', format: 'pem' }).toString(),
        key.verifyKey.export({ type: 'spki', format: 'der' }),
        JSON.stringify(exportJwk(key)),
        JSON.stringify(key.verifyKey.export({ format: 'jwk' })),
      ];
      if (name === 'RSA') materials.push(key.verifyKey.export({ type: 'pkcs1', format: 'pem' }));
      const v = verifier(ring);
      for (const material of materials) {
        for (const kid of [key.kid, undefined]) {
          const header = { alg: 'HS256', ...AT, ...(kid === undefined ? {} : { kid }) };
          rejects(() => v.verify(forge(header, CLAIMS, material)), 'ERR_JWT_ALG', name);
        }
      }
    });
  }

  it('refuses an alg swapped within a family: RS256 key with PS256, RS384, RS512 headers', () => {
    const v = verifier(rsRing);
    for (const alg of ['PS256', 'PS384', 'PS512', 'RS384', 'RS512']) {
      const token = forge({ alg, ...AT, kid: 'rs' }, CLAIMS, signer(rsKey));
      rejects(() => v.verify(token), 'ERR_JWT_ALG', alg);
    }
  });

  it('refuses ES384 on an ES256 key, HS512 on an HS256 key, and EdDSA on an ES256 key', () => {
    rejects(
      () =>
        verifier(esRing).verify(forge({ alg: 'ES384', ...AT, kid: 'es' }, CLAIMS, signer(esKey))),
      'ERR_JWT_ALG',
    );
    rejects(
      () => hsVerifier.verify(forge({ alg: 'HS512', ...AT, kid: 'hs' }, CLAIMS, hsSecret)),
      'ERR_JWT_ALG',
    );
    rejects(
      () =>
        verifier(esRing).verify(forge({ alg: 'EdDSA', ...AT, kid: 'es' }, CLAIMS, signer(edKey))),
      'ERR_JWT_ALG',
    );
  });

  it('a correctly forged token for the same headers verifies (the forging helper is sound)', () => {
    for (const [ring, key] of [
      [hsRing, hsKey],
      [edRing, edKey],
      [rsRing, rsKey],
      [esRing, esKey],
    ] as const) {
      const token = forge({ alg: key.alg, ...AT, kid: key.kid }, CLAIMS, signer(key));
      assert.equal(verifier(ring).verify(token).sub, 'u1');
    }
  });
});

describe('signature tampering', () => {
  const rings: [KeyRing, JwtKey][] = [
    [hsRing, hsKey],
    [edRing, edKey],
    [rsRing, rsKey],
    [esRing, esKey],
  ];

  for (const [ring, key] of rings) {
    it(`${key.alg}: a stripped signature (empty third segment) is ERR_JWT_SIGNATURE`, () => {
      const token = signJwt(CLAIMS, key);
      const stripped = token.slice(0, token.lastIndexOf('.') + 1);
      rejects(() => verifier(ring).verify(stripped), 'ERR_JWT_SIGNATURE');
    });

    it(`${key.alg}: a truncated signature is ERR_JWT_MALFORMED when it is no longer base64url, ERR_JWT_SIGNATURE when it is`, () => {
      const token = signJwt(CLAIMS, key);
      const v = verifier(ring);
      const dot = token.lastIndexOf('.');
      const signature = token.slice(dot + 1);
      // A length of 1 mod 4 is never base64url.
      let cut = signature.length - 1;
      while (cut % 4 !== 1) cut--;
      rejects(() => v.verify(token.slice(0, dot + 1 + cut)), 'ERR_JWT_MALFORMED');
      // Whole quartets always decode: a well-formed but short signature does not verify.
      const whole = signature.length - (signature.length % 4 || 4);
      rejects(() => v.verify(token.slice(0, dot + 1 + whole)), 'ERR_JWT_SIGNATURE');
      rejects(() => v.verify(`${token.slice(0, dot + 1)}AAAA`), 'ERR_JWT_SIGNATURE');
      rejects(() => v.verify(`${token}AAAA`), 'ERR_JWT_SIGNATURE');
    });

    it(`${key.alg}: a signature from another key with the same kid is ERR_JWT_SIGNATURE`, () => {
      const impostor = generateKey(key.alg, { kid: key.kid });
      rejects(() => verifier(ring).verify(signJwt(CLAIMS, impostor)), 'ERR_JWT_SIGNATURE');
    });

    it(`${key.alg}: a bit flipped in the payload or the signature is ERR_JWT_SIGNATURE`, () => {
      const token = signJwt(CLAIMS, key);
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const v = verifier(ring);
      const json = Buffer.from(payload, 'base64url');
      for (const index of [0, 5, json.length - 2]) {
        const flipped = Buffer.from(json);
        flipped[index]! ^= 0x01;
        rejects(() => v.verify(`${header}.${b64(flipped)}.${signature}`), 'ERR_JWT_SIGNATURE');
      }
      const raw = Buffer.from(signature, 'base64url');
      for (const index of [0, raw.length >> 1, raw.length - 1]) {
        const flipped = Buffer.from(raw);
        flipped[index]! ^= 0x80;
        rejects(() => v.verify(`${header}.${payload}.${b64(flipped)}`), 'ERR_JWT_SIGNATURE');
      }
      // The claims changed the way an attacker wants them, keeping the original signature.
      const admin = b64(JSON.stringify({ ...CLAIMS, sub: 'admin' }));
      rejects(() => v.verify(`${header}.${admin}.${signature}`), 'ERR_JWT_SIGNATURE');
    });
  }

  // HMAC tags are compared as base64url text: every other character, at every position, including
  // characters outside ASCII whose low byte is the right one, must be refused.
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    it(`${alg}: any one character of the tag replaced, by any other character, is refused`, () => {
      const ring = KeyRing.generate(alg);
      const key = ring.active;
      const v = verifier(ring);
      const token = signJwt(CLAIMS, key);
      const dot = token.lastIndexOf('.');
      const signature = token.slice(dot + 1);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      for (let at = 0; at < signature.length; at++) {
        const original = signature.charCodeAt(at);
        // The same low byte as the original, in a character outside ASCII.
        const lookalikes = [
          String.fromCharCode(original + 0x100),
          String.fromCharCode(original + 0x80),
        ];
        for (const replacement of [...alphabet, ...lookalikes]) {
          if (replacement === signature[at]) continue;
          const tampered = `${token.slice(0, dot + 1)}${signature.slice(0, at)}${replacement}${signature.slice(at + 1)}`;
          assert.throws(
            () => v.verify(tampered),
            (error: unknown) =>
              error instanceof RevocableError &&
              (error.code === 'ERR_JWT_SIGNATURE' || error.code === 'ERR_JWT_MALFORMED'),
          );
        }
      }
      assert.equal(v.verify(token).sub, 'u1');
    });
  }

  it('an RSA signature shorter than the modulus (its leading zero byte left out) is ERR_JWT_SIGNATURE, for PKCS#1 and PSS', () => {
    for (const alg of ['RS256', 'PS256', 'PS512'] as const) {
      const ring = KeyRing.generate(alg);
      const v = verifier(ring);
      // About one signature in 256 starts with a zero byte.
      let token: string;
      let signature: Buffer;
      do {
        token = signJwt({ ...CLAIMS, jti: randomBytes(8).toString('hex') }, ring.active);
        signature = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
      } while (signature[0] !== 0);
      assert.equal(v.verify(token).sub, CLAIMS.sub);
      const shorter = `${token.slice(0, token.lastIndexOf('.') + 1)}${signature.subarray(1).toString('base64url')}`;
      rejects(() => v.verify(shorter), 'ERR_JWT_SIGNATURE', alg);
    }
  });

  it('the tag comparison itself refuses a lookalike outside ASCII, even without the base64url check', () => {
    const ring = KeyRing.generate('HS256');
    const token = signJwt(CLAIMS, ring.active);
    const dot = token.lastIndexOf('.');
    const input = token.slice(0, dot);
    const tag = token.slice(dot + 1);
    assert.equal(signatureMatches(ring.active, input, tag), true);
    for (const shift of [0x80, 0x100, 0xff00]) {
      const lookalike = `${String.fromCharCode(tag.charCodeAt(0) + shift)}${tag.slice(1)}`;
      assert.equal(signatureMatches(ring.active, input, lookalike), false);
    }
    assert.equal(signatureMatches(ring.active, input, tag.slice(1)), false);
    assert.equal(signatureMatches(ring.active, input, `${tag}A`), false);
  });

  it('a signature with padding, "+" or "/", or whitespace is ERR_JWT_MALFORMED', () => {
    const token = signJwt(CLAIMS, hsKey);
    const dot = token.lastIndexOf('.');
    const input = token.slice(0, dot);
    const signature = token.slice(dot + 1);
    const raw = Buffer.from(signature, 'base64url');
    const variants = [
      `${signature}=`,
      `${signature}==`,
      raw.toString('base64'), // padded standard base64
      `+${signature.slice(1)}`,
      `/${signature.slice(1)}`,
      `${signature.slice(0, 10)}+${signature.slice(11)}`,
      ` ${signature}`,
      `${signature} `,
      `${signature}\n`,
      `${signature.slice(0, 20)} ${signature.slice(20)}`,
      `${signature.slice(0, 20)}\t${signature.slice(20)}`,
      `${signature.slice(0, 20)}\r\n${signature.slice(20)}`,
      `${signature.slice(0, 20)}%${signature.slice(21)}`,
    ];
    for (const variant of variants) {
      rejects(
        () => hsVerifier.verify(`${input}.${variant}`),
        'ERR_JWT_MALFORMED',
        JSON.stringify(variant),
      );
    }
  });

  it('non-canonical trailing bits in any segment are ERR_JWT_MALFORMED, though they decode to the same bytes', () => {
    // HS256 signatures are 32 bytes: 43 characters whose last one carries 2 unused bits.
    const token = signJwt(CLAIMS, hsKey);
    const dot = token.lastIndexOf('.');
    const signature = token.slice(dot + 1);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(signature.at(-1)!);
    for (const bits of [1, 2, 3]) {
      const variant = `${signature.slice(0, -1)}${alphabet[last | bits]}`;
      assert.deepEqual(Buffer.from(variant, 'base64url'), Buffer.from(signature, 'base64url'));
      rejects(() => hsVerifier.verify(`${token.slice(0, dot)}.${variant}`), 'ERR_JWT_MALFORMED');
    }
    // A header and a payload whose encodings end in a partial group, re-signed over the
    // non-canonical text: the signature holds, the segment is still refused.
    const header = b64('{"alg":"HS256","typ":"at+jwt","kid":"hs"}');
    const payload = b64(JSON.stringify({ ...CLAIMS, pad: 'x' }));
    assert.notEqual(header.length % 4, 0);
    assert.notEqual(payload.length % 4, 0);
    const bump = (segment: string) =>
      `${segment.slice(0, -1)}${alphabet[alphabet.indexOf(segment.at(-1)!) | 1]}`;
    for (const [h, p] of [
      [bump(header), payload],
      [header, bump(payload)],
    ] as const) {
      assert.deepEqual(Buffer.from(h, 'base64url'), Buffer.from(header, 'base64url'));
      assert.deepEqual(Buffer.from(p, 'base64url'), Buffer.from(payload, 'base64url'));
      const input = `${h}.${p}`;
      const resigned = `${input}.${b64(rawSign('HS256', hsSecret, input))}`;
      rejects(() => hsVerifier.verify(resigned), 'ERR_JWT_MALFORMED');
      // Keeping the original signature: still malformed, not a signature failure.
      rejects(() => hsVerifier.verify(`${input}.${signature}`), 'ERR_JWT_MALFORMED');
    }
  });
});

describe('key selection', () => {
  it('an unknown kid is ERR_JWT_KID_UNKNOWN', () => {
    rejects(
      () => hsVerifier.verify(forge({ alg: 'HS256', ...AT, kid: 'nope' }, CLAIMS, hsSecret)),
      'ERR_JWT_KID_UNKNOWN',
    );
    const other = generateKey('HS256');
    rejects(() => hsVerifier.verify(signJwt(CLAIMS, other)), 'ERR_JWT_KID_UNKNOWN');
  });

  it('a retired kid is ERR_JWT_KEY_RETIRED, even for a token that verified before', () => {
    const ring = KeyRing.generate('EdDSA', { kid: 'old' });
    const token = signJwt(CLAIMS, ring.active);
    const v = verifier(ring);
    assert.equal(v.verify(token).sub, 'u1');
    ring.rotate();
    assert.equal(v.verify(token).sub, 'u1');
    ring.retire('old');
    rejects(() => v.verify(token), 'ERR_JWT_KEY_RETIRED');
  });

  it('a kid that is not a non-empty string of at most 256 characters is ERR_JWT_MALFORMED', () => {
    for (const kid of ['', 7, null, ['hs'], { kid: 'hs' }, 'k'.repeat(257)]) {
      rejects(
        () => hsVerifier.verify(forge({ alg: 'HS256', ...AT, kid }, CLAIMS, hsSecret)),
        'ERR_JWT_MALFORMED',
        JSON.stringify(kid),
      );
    }
  });

  it('kid names that look like object members find no key', () => {
    for (const kid of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      rejects(
        () => hsVerifier.verify(forge({ alg: 'HS256', ...AT, kid }, CLAIMS, hsSecret)),
        'ERR_JWT_KID_UNKNOWN',
      );
    }
  });
});

describe('typ confusion (RFC 8725 3.11, RFC 9068)', () => {
  it('the default verifier refuses typ JWT, refresh+jwt, other types and no typ with ERR_JWT_TYP', () => {
    for (const typ of [
      'JWT',
      'jwt',
      'refresh+jwt',
      'id+jwt',
      'at+jwt2',
      'at+jwt;x=1',
      'application/jwt',
      'xapplication/at+jwt',
      '',
    ]) {
      rejects(() => hsVerifier.verify(signJwt(CLAIMS, hsKey, { typ })), 'ERR_JWT_TYP', typ);
    }
    rejects(() => hsVerifier.verify(signJwt(CLAIMS, hsKey, { typ: null })), 'ERR_JWT_TYP');
  });

  it('accepts at+jwt in any case, with or without the application/ prefix', () => {
    for (const typ of [
      'at+jwt',
      'application/at+jwt',
      'AT+JWT',
      'Application/At+Jwt',
      'APPLICATION/AT+JWT',
    ]) {
      assert.equal(hsVerifier.verify(signJwt(CLAIMS, hsKey, { typ })).sub, 'u1', typ);
    }
  });

  it('a non-string typ is ERR_JWT_MALFORMED', () => {
    for (const typ of [1, null, ['at+jwt'], { typ: 'at+jwt' }]) {
      rejects(
        () => hsVerifier.verify(forge({ alg: 'HS256', typ, kid: 'hs' }, CLAIMS, hsSecret)),
        'ERR_JWT_MALFORMED',
      );
    }
  });

  it('a refresh-token verifier refuses access tokens; typ null accepts any typ or none', () => {
    const refresh = verifier(hsRing, { typ: 'refresh+jwt' });
    rejects(() => refresh.verify(signJwt(CLAIMS, hsKey)), 'ERR_JWT_TYP');
    assert.equal(refresh.verify(signJwt(CLAIMS, hsKey, { typ: 'refresh+jwt' })).sub, 'u1');
    const lenient = verifier(hsRing, { typ: null });
    for (const typ of [null, 'JWT', 'at+jwt', 'refresh+jwt']) {
      assert.equal(lenient.verify(signJwt(CLAIMS, hsKey, { typ })).sub, 'u1');
    }
  });
});

describe('header members revocable never accepts', () => {
  const attacker = generateKeyPairSync('ed25519');
  const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), alg: 'EdDSA' };
  const embedded: Record<string, unknown> = {
    jwk: attackerJwk,
    jku: 'https://attacker.example/jwks.json',
    x5u: 'https://attacker.example/cert.pem',
    x5c: ['MIIBszCCAVmgAwIBAgIUAttacker'],
  };

  for (const [member, value] of Object.entries(embedded)) {
    it(`an embedded key (${member}) is ERR_JWT_HEADER, even when the token is signed by that key`, () => {
      for (const kid of ['ed', undefined]) {
        const header = {
          alg: 'EdDSA',
          ...AT,
          ...(kid === undefined ? {} : { kid }),
          [member]: value,
        };
        rejects(
          () => verifier(edRing).verify(forge(header, CLAIMS, attacker.privateKey)),
          'ERR_JWT_HEADER',
          member,
        );
        // Signed by the ring's own key as well: the member alone is refused.
        rejects(
          () => verifier(edRing).verify(forge(header, CLAIMS, signer(edKey))),
          'ERR_JWT_HEADER',
          member,
        );
      }
    });
  }

  it('crit with any value, b64, zip and enc are ERR_JWT_HEADER', () => {
    const refused: [string, unknown][] = [
      ['crit', []],
      ['crit', ['exp']],
      ['crit', ['b64']],
      ['crit', 'exp'],
      ['crit', null],
      ['crit', {}],
      ['crit', false],
      ['b64', false],
      ['b64', true],
      ['zip', 'DEF'],
      ['enc', 'A256GCM'],
    ];
    for (const [member, value] of refused) {
      const header = { alg: 'HS256', ...AT, kid: 'hs', [member]: value };
      rejects(
        () => hsVerifier.verify(forge(header, CLAIMS, hsSecret)),
        'ERR_JWT_HEADER',
        `${member} ${JSON.stringify(value)}`,
      );
    }
  });

  it('a repeated header member is ERR_JWT_MALFORMED, also when one spelling uses \\u escapes', () => {
    const texts = [
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","alg":"none"}',
      '{"alg":"none","typ":"at+jwt","kid":"hs","alg":"HS256"}',
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","kid":"other"}',
      '{"alg":"HS256","typ":"JWT","kid":"hs","typ":"at+jwt"}',
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","\\u0061lg":"HS256"}',
      '{"\\u0061\\u006c\\u0067":"none","typ":"at+jwt","kid":"hs","alg":"HS256"}',
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","k\\u0069d":"hs"}',
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","x":1,"x":1}',
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","__proto__":1,"__proto__":2}',
      '{ "alg" : "HS256" ,\r\n "typ":"at+jwt", "kid":"hs",\t"alg"\n:\n"HS256" }',
    ];
    for (const text of texts) {
      rejects(() => hsVerifier.verify(forge(text, CLAIMS, hsSecret)), 'ERR_JWT_MALFORMED', text);
    }
  });

  it('names repeated only inside nested values or inside strings are not top-level duplicates', () => {
    const texts = [
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","x":{"alg":"none","alg":"none"}}',
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","x":[{"kid":1},{"kid":2}]}',
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","note":"\\"alg\\":\\"none\\""}',
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","a\\\\":1,"a":2}',
    ];
    for (const text of texts) {
      assert.equal(hsVerifier.verify(forge(text, CLAIMS, hsSecret)).sub, 'u1', text);
    }
  });

  it('a repeated payload member is ERR_JWT_MALFORMED; with duplicateMembers off the LAST one wins (RFC 7519 section 4, like JSON.parse)', () => {
    const header = { alg: 'HS256', ...AT, kid: 'hs' };
    const full = JSON.stringify(CLAIMS).slice(1, -1);
    const twice = `{${full},"sub":"first","exp":${NOW - 10},"sub":"last","exp":${NOW + 10}}`;
    rejects(() => hsVerifier.verify(forge(header, twice, hsSecret)), 'ERR_JWT_MALFORMED');
    const lenient = verifier(hsRing, { payloadChecks: { duplicateMembers: false } });
    const claims = lenient.verify(forge(header, twice, hsSecret));
    assert.equal(claims.sub, 'last');
    assert.equal(claims.exp, NOW + 10);
    // And the other way round the last exp decides: expired.
    rejects(
      () =>
        lenient.verify(forge(header, `{${full},"exp":${NOW + 10},"exp":${NOW - 10}}`, hsSecret)),
      'ERR_JWT_EXPIRED',
    );
  });
});

describe('size limit (checked before anything is decoded)', () => {
  it('a token over 8192 characters is ERR_JWT_TOO_LARGE, whatever it holds', () => {
    rejects(() => hsVerifier.verify('x'.repeat(8193)), 'ERR_JWT_TOO_LARGE');
    rejects(() => hsVerifier.verify('.'.repeat(9000)), 'ERR_JWT_TOO_LARGE');
    rejects(() => decodeUnverified('x'.repeat(8193)), 'ERR_JWT_TOO_LARGE');
    const big = signJwt({ ...CLAIMS, blob: 'x'.repeat(7000) }, hsKey);
    assert.ok(big.length > 8192);
    rejects(() => hsVerifier.verify(big), 'ERR_JWT_TOO_LARGE');
  });

  it('a token of exactly 8192 characters is accepted', () => {
    const base = signJwt({ ...CLAIMS, blob: '' }, hsKey).length;
    // Each 3 payload bytes add 4 characters; pad to land exactly on the limit.
    let token = '';
    for (let pad = Math.floor(((8192 - base) * 3) / 4) - 3; pad < 8192; pad++) {
      token = signJwt({ ...CLAIMS, blob: 'x'.repeat(pad) }, hsKey);
      if (token.length >= 8192) break;
    }
    assert.equal(token.length, 8192);
    assert.equal(hsVerifier.verify(token).sub, 'u1');
    rejects(() => verifier(hsRing, { maxTokenLength: 8191 }).verify(token), 'ERR_JWT_TOO_LARGE');
  });

  it('a custom maxTokenLength is honoured', () => {
    const token = signJwt(CLAIMS, hsKey);
    const v = verifier(hsRing, { maxTokenLength: token.length });
    assert.equal(v.verify(token).sub, 'u1');
    rejects(
      () => verifier(hsRing, { maxTokenLength: token.length - 1 }).verify(token),
      'ERR_JWT_TOO_LARGE',
    );
    rejects(
      () => verifier(hsRing, { maxTokenLength: 64 }).verify(`${'!'.repeat(65)}`),
      'ERR_JWT_TOO_LARGE',
    );
  });
});

describe('malformed tokens are ERR_JWT_MALFORMED', () => {
  const good = signJwt(CLAIMS, hsKey);
  const [h, p, s] = good.split('.') as [string, string, string];
  const header = { alg: 'HS256', ...AT, kid: 'hs' };

  it('refuses the wrong number of segments and empty segments', () => {
    const tokens = [
      '',
      '.',
      '..',
      '...',
      h,
      `${h}.${p}`,
      `${h}.${p}.${s}.${s}`,
      `${h}.${p}.${s}.`,
      `${h}.${p}..${s}`,
      `.${p}.${s}`,
      `${h}..${s}`,
      `${h}..`,
      `..${s}`,
      `${h}.${p}.${s}.x.y`,
    ];
    for (const token of tokens) rejects(() => hsVerifier.verify(token), 'ERR_JWT_MALFORMED', token);
  });

  it('refuses a header or payload that is not base64url JSON', () => {
    rejects(() => hsVerifier.verify(`${b64('not json')}.${p}.${s}`), 'ERR_JWT_MALFORMED');
    rejects(() => hsVerifier.verify(`${h}!.${p}.${s}`), 'ERR_JWT_MALFORMED');
    rejects(() => hsVerifier.verify(`${h}.${p}!.${s}`), 'ERR_JWT_MALFORMED');
    rejects(() => hsVerifier.verify(`${h}.${p}=.${s}`), 'ERR_JWT_MALFORMED');
    rejects(
      () =>
        hsVerifier.verify(
          `${Buffer.from('{"alg":"HS256","typ":"at+jwt","kid":"hs"}').toString('base64')}.${p}.${s}`,
        ),
      'ERR_JWT_MALFORMED',
    );
    rejects(() => hsVerifier.verify(forge(header, 'not json', hsSecret)), 'ERR_JWT_MALFORMED');
    rejects(() => hsVerifier.verify(forge(header, '{"sub":"u1"', hsSecret)), 'ERR_JWT_MALFORMED');
    rejects(() => hsVerifier.verify(forge(header, '', hsSecret)), 'ERR_JWT_MALFORMED');
  });

  it('refuses JSON that is not an object, in the header and in the payload', () => {
    for (const text of ['[]', '["HS256"]', 'null', '1', '"HS256"', 'true', '[{"alg":"HS256"}]']) {
      rejects(() => hsVerifier.verify(`${b64(text)}.${p}.${s}`), 'ERR_JWT_MALFORMED', text);
      rejects(() => hsVerifier.verify(forge(header, text, hsSecret)), 'ERR_JWT_MALFORMED', text);
    }
  });

  it('refuses a token that is not a string', () => {
    const values: unknown[] = [
      123,
      undefined,
      null,
      {},
      [good],
      Buffer.from(good),
      new String(good),
      true,
    ];
    for (const value of values) {
      rejects(() => hsVerifier.verify(value as string), 'ERR_JWT_MALFORMED', String(value));
      rejects(() => decodeUnverified(value as string), 'ERR_JWT_MALFORMED', String(value));
    }
  });
});

describe('registered claims', () => {
  const header = { alg: 'HS256', ...AT, kid: 'hs' };
  const token = (claims: Record<string, unknown>) => forge(header, claims, hsSecret);
  const without = (claim: string) =>
    Object.fromEntries(Object.entries(CLAIMS).filter(([name]) => name !== claim));

  function claimError(fn: () => unknown, code: ErrorCode, claim: string, reason: string): void {
    const error = rejects(fn, code);
    assert.ok(error instanceof JwtClaimError);
    assert.equal(error.claim, claim);
    assert.equal(error.reason, reason);
  }

  it('exp: expired and exactly at exp are ERR_JWT_EXPIRED; within clockTolerance is accepted', () => {
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, exp: NOW - 1 })),
      'ERR_JWT_EXPIRED',
      'exp',
      'check_failed',
    );
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, exp: NOW })),
      'ERR_JWT_EXPIRED',
      'exp',
      'check_failed',
    );
    assert.equal(hsVerifier.verify(token({ ...CLAIMS, exp: NOW + 1 })).exp, NOW + 1);
    const fractional = verifier(hsRing, { now: () => NOW + 0.25 });
    rejects(() => fractional.verify(token({ ...CLAIMS, exp: NOW })), 'ERR_JWT_EXPIRED');
    const lenient = verifier(hsRing, { clockTolerance: 30 });
    assert.equal(lenient.verify(token({ ...CLAIMS, exp: NOW - 29 })).exp, NOW - 29);
    rejects(() => lenient.verify(token({ ...CLAIMS, exp: NOW - 30 })), 'ERR_JWT_EXPIRED');
    assert.equal(
      verifier(hsRing, { clockTolerance: '1m' }).verify(token({ ...CLAIMS, exp: NOW - 59 })).exp,
      NOW - 59,
    );
  });

  it('nbf in the future is ERR_JWT_NOT_YET_VALID; at nbf or within tolerance is accepted', () => {
    const exp = NOW + 600;
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, exp, nbf: NOW + 1 })),
      'ERR_JWT_NOT_YET_VALID',
      'nbf',
      'check_failed',
    );
    assert.equal(hsVerifier.verify(token({ ...CLAIMS, exp, nbf: NOW })).nbf, NOW);
    assert.equal(
      verifier(hsRing, { clockTolerance: 5 }).verify(token({ ...CLAIMS, exp, nbf: NOW + 5 })).nbf,
      NOW + 5,
    );
    rejects(
      () => verifier(hsRing, { clockTolerance: 5 }).verify(token({ ...CLAIMS, exp, nbf: NOW + 6 })),
      'ERR_JWT_NOT_YET_VALID',
    );
  });

  it('iat in the future beyond the tolerance is ERR_JWT_IAT_FUTURE', () => {
    const exp = NOW + 600;
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, exp, iat: NOW + 1 })),
      'ERR_JWT_IAT_FUTURE',
      'iat',
      'check_failed',
    );
    const lenient = verifier(hsRing, { clockTolerance: 60 });
    assert.equal(lenient.verify(token({ ...CLAIMS, exp, iat: NOW + 60 })).iat, NOW + 60);
    rejects(() => lenient.verify(token({ ...CLAIMS, exp, iat: NOW + 61 })), 'ERR_JWT_IAT_FUTURE');
  });

  it('clockTolerance is at most MAX_CLOCK_TOLERANCE (5 minutes), refused when the verifier is made', (t) => {
    assert.equal(MAX_CLOCK_TOLERANCE, 300);
    for (const most of [MAX_CLOCK_TOLERANCE, '300', '300s', '5m']) {
      const lenient = verifier(hsRing, { clockTolerance: most });
      const label = String(most);
      assert.equal(lenient.verify(token({ ...CLAIMS, exp: NOW - 299 })).exp, NOW - 299, label);
      rejects(() => lenient.verify(token({ ...CLAIMS, exp: NOW - 300 })), 'ERR_JWT_EXPIRED', label);
      const exp = NOW + 600;
      assert.equal(lenient.verify(token({ ...CLAIMS, exp, nbf: NOW + 300 })).nbf, NOW + 300);
      assert.equal(lenient.verify(token({ ...CLAIMS, exp, iat: NOW + 300 })).iat, NOW + 300);
    }
    const warned = t.mock.method(process, 'emitWarning', () => {});
    const tooMuch = [300.5, 301, '301', '301s', '6m', '1h', '3650d', 1e12, Number.MAX_VALUE];
    for (const clockTolerance of tooMuch) {
      // Left without issuer and audience: a verifier made would warn, a refused one must not.
      const options = Object.freeze({ keys: hsRing, now, clockTolerance });
      const revision = hsRing.revision;
      const error = rejects(
        () => createVerifier(options),
        'ERR_INVALID_ARGUMENT',
        String(clockTolerance),
      );
      assert.match(error.message, /^clockTolerance must be at most 300 seconds/);
      assert.equal(hsRing.revision, revision);
    }
    assert.equal(warned.mock.callCount(), 0);
    // What is no duration at all was refused before the bound and still is.
    const notDurations = [
      -1,
      -0.5,
      '-1',
      '-1s',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      '',
      ' ',
      '1.5m',
      '5 m',
      '10y',
      '0x10',
      '1e3',
      true,
      {},
      [],
      [30],
      5n,
    ];
    for (const clockTolerance of notDurations) {
      const error = rejects(
        () => verifier(hsRing, { clockTolerance: clockTolerance as number }),
        'ERR_INVALID_ARGUMENT',
        typeof clockTolerance === 'bigint' ? '5n' : JSON.stringify(clockTolerance),
      );
      assert.match(error.message, /^clockTolerance must be a duration/);
    }
  });

  it('iss: a wrong issuer is ERR_JWT_ISSUER, a missing one ERR_JWT_CLAIM_MISSING, a non-string one ERR_JWT_CLAIM_INVALID', () => {
    const v = verifier(hsRing, { issuer: ['https://a.example', 'https://b.example'] });
    assert.equal(v.verify(token({ ...CLAIMS, iss: 'https://b.example' })).iss, 'https://b.example');
    claimError(
      () => v.verify(token({ ...CLAIMS, iss: 'https://evil.example' })),
      'ERR_JWT_ISSUER',
      'iss',
      'check_failed',
    );
    claimError(
      () => v.verify(token({ ...CLAIMS, iss: 'https://A.example' })),
      'ERR_JWT_ISSUER',
      'iss',
      'check_failed',
    );
    claimError(() => v.verify(token(without('iss'))), 'ERR_JWT_CLAIM_MISSING', 'iss', 'missing');
    claimError(
      () => v.verify(token({ ...CLAIMS, iss: ['https://a.example'] })),
      'ERR_JWT_CLAIM_INVALID',
      'iss',
      'invalid',
    );
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, iss: 42 })),
      'ERR_JWT_CLAIM_INVALID',
      'iss',
      'invalid',
    );
  });

  it('aud: no accepted audience, as a string or an array, is ERR_JWT_AUDIENCE', () => {
    const v = verifier(hsRing, { audience: 'api' });
    assert.equal(v.verify(token({ ...CLAIMS, aud: 'api' })).aud, 'api');
    assert.deepEqual(v.verify(token({ ...CLAIMS, aud: ['other', 'api'] })).aud, ['other', 'api']);
    claimError(
      () => v.verify(token({ ...CLAIMS, aud: 'other' })),
      'ERR_JWT_AUDIENCE',
      'aud',
      'check_failed',
    );
    claimError(
      () => v.verify(token({ ...CLAIMS, aud: 'API' })),
      'ERR_JWT_AUDIENCE',
      'aud',
      'check_failed',
    );
    claimError(
      () => v.verify(token({ ...CLAIMS, aud: ['other', 'more'] })),
      'ERR_JWT_AUDIENCE',
      'aud',
      'check_failed',
    );
    claimError(
      () => v.verify(token({ ...CLAIMS, aud: [] })),
      'ERR_JWT_AUDIENCE',
      'aud',
      'check_failed',
    );
    claimError(() => v.verify(token(without('aud'))), 'ERR_JWT_CLAIM_MISSING', 'aud', 'missing');
    claimError(
      () => v.verify(token({ ...CLAIMS, aud: 7 })),
      'ERR_JWT_CLAIM_INVALID',
      'aud',
      'invalid',
    );
    claimError(
      () => v.verify(token({ ...CLAIMS, aud: ['api', 7] })),
      'ERR_JWT_CLAIM_INVALID',
      'aud',
      'invalid',
    );
    const many = verifier(hsRing, { audience: ['api', 'admin'] });
    assert.equal(many.verify(token({ ...CLAIMS, aud: 'admin' })).aud, 'admin');
  });

  it('claims of the wrong type are ERR_JWT_CLAIM_INVALID; a missing exp is ERR_JWT_CLAIM_MISSING', () => {
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, exp: String(NOW + 600) })),
      'ERR_JWT_CLAIM_INVALID',
      'exp',
      'invalid',
    );
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, exp: null })),
      'ERR_JWT_CLAIM_INVALID',
      'exp',
      'invalid',
    );
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, exp: [NOW + 600] })),
      'ERR_JWT_CLAIM_INVALID',
      'exp',
      'invalid',
    );
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, exp: NOW + 600, nbf: 'now' })),
      'ERR_JWT_CLAIM_INVALID',
      'nbf',
      'invalid',
    );
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, exp: NOW + 600, iat: true })),
      'ERR_JWT_CLAIM_INVALID',
      'iat',
      'invalid',
    );
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, exp: NOW + 600, sub: 1 })),
      'ERR_JWT_CLAIM_INVALID',
      'sub',
      'invalid',
    );
    claimError(
      () => hsVerifier.verify(token({ ...CLAIMS, exp: NOW + 600, jti: {} })),
      'ERR_JWT_CLAIM_INVALID',
      'jti',
      'invalid',
    );
    // 1e400 parses as Infinity, which is not a NumericDate.
    rejects(
      () =>
        hsVerifier.verify(
          forge(header, JSON.stringify(CLAIMS).replace(/"exp":\d+/, '"exp":1e400'), hsSecret),
        ),
      'ERR_JWT_CLAIM_INVALID',
    );
    claimError(
      () => hsVerifier.verify(token(without('exp'))),
      'ERR_JWT_CLAIM_MISSING',
      'exp',
      'missing',
    );
    const needsSub = verifier(hsRing, { requiredClaims: ['exp', 'sub', 'jti'] });
    claimError(
      () => needsSub.verify(token({ exp: NOW + 600, sub: 'u1' })),
      'ERR_JWT_CLAIM_MISSING',
      'jti',
      'missing',
    );
  });

  it('required claims are looked up on the claims themselves, never on Object.prototype', () => {
    // The payload rule that refuses a constructor member is relaxed, to reach the lookup itself.
    const v = verifier(hsRing, {
      requiredClaims: ['exp', 'constructor', 'toString'],
      payloadChecks: { prototypeMembers: false },
    });
    claimError(() => v.verify(token(CLAIMS)), 'ERR_JWT_CLAIM_MISSING', 'constructor', 'missing');
    assert.equal(v.verify(token({ ...CLAIMS, constructor: 1, toString: 'x' })).sub, 'u1');
  });
});

describe('prototype pollution', () => {
  const relaxed = verifier(hsRing, { payloadChecks: { prototypeMembers: false } });
  const full = JSON.stringify(CLAIMS).slice(1);

  it('__proto__ and constructor members in the payload are ERR_JWT_MALFORMED by default', () => {
    const header = { alg: 'HS256', ...AT, kid: 'hs' };
    for (const payloadText of [
      `{"__proto__":{"admin":true},${full}`,
      `{"constructor":{"prototype":{"polluted":2}},${full}`,
      `{"x":{"__proto__":{"admin":true}},${full}`,
      `{"x":[{"constructor":1}],${full}`,
      `{"\\u005f_proto__":{"admin":true},${full}`,
      `{"x":{"constructo\\u0072":1},${full}`,
    ]) {
      rejects(
        () => hsVerifier.verify(forge(header, payloadText, hsSecret)),
        'ERR_JWT_MALFORMED',
        payloadText,
      );
    }
  });

  it('with prototypeMembers off, __proto__ and constructor in the header and the payload pollute nothing', () => {
    const headerText =
      '{"alg":"HS256","typ":"at+jwt","kid":"hs","__proto__":{"polluted":"header"},"constructor":{"prototype":{"polluted":"header"}}}';
    const payloadText = `{"__proto__":{"polluted":1,"admin":true},"constructor":{"prototype":{"polluted":2}},${full}`;
    const { header, claims } = relaxed.verifyJwt(forge(headerText, payloadText, hsSecret));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).admin, undefined);
    assert.equal(Object.getPrototypeOf(claims), Object.prototype);
    assert.equal(Object.getPrototypeOf(header), Object.prototype);
    // The claims are usable: the members are plain own data.
    assert.equal(claims.sub, 'u1');
    assert.equal(claims.admin, undefined);
    assert.deepEqual(Object.getOwnPropertyDescriptor(claims, '__proto__')?.value, {
      polluted: 1,
      admin: true,
    });
    assert.deepEqual(Object.keys(claims), ['__proto__', 'constructor', ...Object.keys(CLAIMS)]);
    assert.equal(header.alg, 'HS256');
    assert.equal(JSON.parse(JSON.stringify(claims)).sub, 'u1');
  });

  it('a signer given such claims (from JSON.parse) signs them as plain members; only the relaxed verifier takes them', () => {
    const claims = JSON.parse(
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"sub":"u1"}',
    );
    const token = createSigner({ keys: hsRing, now, issuer: CLAIMS.iss, audience: 'api' }).sign(
      claims,
    );
    rejects(() => hsVerifier.verify(token), 'ERR_JWT_MALFORMED');
    assert.equal(relaxed.verify(token).sub, 'u1');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('an alg or exp present only under __proto__ is not present', () => {
    rejects(
      () =>
        hsVerifier.verify(
          forge('{"__proto__":{"alg":"HS256"},"typ":"at+jwt","kid":"hs"}', CLAIMS, hsSecret),
        ),
      'ERR_JWT_ALG',
    );
    const header = { alg: 'HS256', ...AT, kid: 'hs' };
    const { exp: _exp, ...noExp } = CLAIMS;
    const payload = `{"__proto__":{"exp":${NOW + 600}},${JSON.stringify(noExp).slice(1)}`;
    const error = rejects(
      () => relaxed.verify(forge(header, payload, hsSecret)),
      'ERR_JWT_CLAIM_MISSING',
    );
    assert.equal((error as JwtClaimError).claim, 'exp');
  });
});

describe('error messages carry no token or key material', () => {
  it('no failure message or stack contains a token segment or the secret', () => {
    const secret = hsSecret.export();
    const secretForms = [
      secret.toString('base64url'),
      secret.toString('base64'),
      secret.toString('hex'),
    ];
    const good = signJwt(CLAIMS, hsKey);
    const [h, p, s] = good.split('.') as [string, string, string];
    const impostor = signJwt(CLAIMS, generateKey('HS256', { kid: 'hs' }));
    const failures: [string, ErrorCode][] = [
      [impostor, 'ERR_JWT_SIGNATURE'],
      [`${h}.${p}.${s}=`, 'ERR_JWT_MALFORMED'],
      [signJwt(CLAIMS, hsKey, { typ: 'JWT' }), 'ERR_JWT_TYP'],
      [signJwt({ ...CLAIMS, exp: NOW - 1 }, hsKey), 'ERR_JWT_EXPIRED'],
      [signJwt(CLAIMS, generateKey('HS256')), 'ERR_JWT_KID_UNKNOWN'],
      [forge({ alg: 'none', ...AT, kid: 'hs' }, CLAIMS, null), 'ERR_JWT_ALG'],
      [`${h}.${p}`, 'ERR_JWT_MALFORMED'],
    ];
    for (const [token, code] of failures) {
      const error = rejects(() => hsVerifier.verify(token), code);
      const [th, tp, ts] = token.split('.');
      const text = `${error.message}\n${error.stack ?? ''}\n${JSON.stringify(error)}`;
      for (const part of [th, tp, ts, token, ...secretForms]) {
        if (part !== undefined && part.length > 8) {
          assert.ok(!text.includes(part), `${code} message leaks ${part.slice(0, 12)}...`);
        }
      }
    }
  });
});

describe('the verified header', () => {
  it('is not shared mutable state between verifications', () => {
    const token = signJwt(CLAIMS, hsKey);
    const first = hsVerifier.verifyJwt(token).header as Record<string, unknown>;
    try {
      first.kid = 'mutated';
      first.extra = true;
    } catch {
      // A frozen header refuses the write in strict mode; that is fine too.
    }
    const second = hsVerifier.verifyJwt(token).header;
    assert.equal(second.kid, 'hs');
    assert.equal(second.extra, undefined);
  });
});
