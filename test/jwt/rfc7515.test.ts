// The signed examples of RFC 7515 Appendix A, verified with the RFC's own keys. The token strings
// and keys below are the RFC's test vectors, copied with line breaks removed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ErrorCode, RevocableError } from '../../src/errors/index.js';
import { type Algorithm, createVerifier, importJwk, KeyRing } from '../../src/jwt/index.js';

// These tests are about other checks: any issuer and audience is accepted on purpose.
const ANY = { issuer: null, audience: null } as const;

// Before exp 1300819380 (2011-03-22T18:43:00Z), the exp of the examples.
const BEFORE_EXP = () => 1_300_819_000;
const AT_EXP = () => 1_300_819_380;

const CLAIMS_SEGMENT =
  'eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ';

/** A.1: HMAC SHA-256; the header is {"typ":"JWT",CRLF "alg":"HS256"}. */
const A1 =
  'eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9' +
  `.${CLAIMS_SEGMENT}` +
  '.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const A1_KEY = {
  kty: 'oct',
  k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow',
};

/** A.2: RSASSA-PKCS1-v1_5 SHA-256. */
const A2 =
  'eyJhbGciOiJSUzI1NiJ9' +
  `.${CLAIMS_SEGMENT}` +
  '.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5' +
  'jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07' +
  'Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI' +
  '8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw';
const A2_KEY = {
  kty: 'RSA',
  n:
    'ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4Q' +
    'lL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYU' +
    'sLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmou' +
    'dF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ',
  e: 'AQAB',
};

/** A.3: ECDSA P-256 SHA-256. */
const A3 =
  'eyJhbGciOiJFUzI1NiJ9' +
  `.${CLAIMS_SEGMENT}` +
  '.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q';
const A3_KEY = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
};

/** A.4: ECDSA P-521 SHA-512; the payload is the ASCII string "Payload", not a claims set. */
const A4 =
  'eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA' +
  '.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8Ga' +
  'SwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn';
const A4_KEY = {
  kty: 'EC',
  crv: 'P-521',
  x: 'AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk',
  y: 'ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2',
};

/** A.5: the unsecured JWS, alg none and an empty signature. */
const A5 = `eyJhbGciOiJub25lIn0.${CLAIMS_SEGMENT}.`;

function ringOf(jwk: object, alg: Algorithm, kid: string): KeyRing {
  return new KeyRing([importJwk(jwk, { alg, kid })]);
}

function rejects(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RevocableError, String(error));
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** The token with one character of the payload changed, still canonical base64url. */
function tamper(token: string): string {
  const dot = token.indexOf('.') + 1;
  const swapped = token[dot + 1] === 'B' ? 'C' : 'B';
  return `${token.slice(0, dot + 1)}${swapped}${token.slice(dot + 2)}`;
}

const EXPECTED_CLAIMS = { iss: 'joe', exp: 1_300_819_380, 'http://example.com/is_root': true };

describe('RFC 7515 Appendix A examples', () => {
  const cases: [string, string, object, Algorithm][] = [
    ['A.1 HS256', A1, A1_KEY, 'HS256'],
    ['A.2 RS256', A2, A2_KEY, 'RS256'],
    ['A.3 ES256', A3, A3_KEY, 'ES256'],
  ];

  for (const [name, token, jwk, alg] of cases) {
    it(`${name} verifies with the RFC's key and a verifier created with typ null`, () => {
      const keys = ringOf(jwk, alg, 'rfc');
      const verifier = createVerifier({ ...ANY, keys, typ: null, now: BEFORE_EXP });
      const { header, claims } = verifier.verifyJwt(token);
      assert.deepEqual(claims, EXPECTED_CLAIMS);
      assert.equal(header.alg, alg);
      assert.equal(header.kid, undefined);
      assert.equal(header.typ, alg === 'HS256' ? 'JWT' : undefined);
      // The same token: expired at exp, changed payload refused, refused by the access-token default.
      rejects(
        () => createVerifier({ ...ANY, keys, typ: null, now: AT_EXP }).verify(token),
        'ERR_JWT_EXPIRED',
      );
      rejects(() => verifier.verify(tamper(token)), 'ERR_JWT_SIGNATURE');
      rejects(() => createVerifier({ ...ANY, keys, now: BEFORE_EXP }).verify(token), 'ERR_JWT_TYP');
      // A verifier that demands the JWT typ accepts A.1 only.
      const jwtTyp = createVerifier({ ...ANY, keys, typ: 'JWT', now: BEFORE_EXP });
      if (alg === 'HS256') assert.equal(jwtTyp.verify(token).iss, 'joe');
      else rejects(() => jwtTyp.verify(token), 'ERR_JWT_TYP');
    });
  }

  it("A.1's header holds CRLF and spaces inside the JSON, which is accepted", () => {
    const header = Buffer.from(A1.split('.')[0]!, 'base64url').toString('utf8');
    assert.equal(header, '{"typ":"JWT",\r\n "alg":"HS256"}');
  });

  it('A.2 and A.3 verify with a key ring read from the public JWKs (no kid in the token)', () => {
    for (const [token, jwk, alg] of [
      [A2, A2_KEY, 'RS256'],
      [A3, A3_KEY, 'ES256'],
    ] as const) {
      const keys = KeyRing.fromJSON({ keys: [{ ...jwk, alg, kid: 'rfc', use: 'sig' }] });
      assert.equal(keys.get('rfc')?.state, 'verify-only');
      assert.equal(
        createVerifier({ ...ANY, keys, typ: null, now: BEFORE_EXP }).verify(token).iss,
        'joe',
      );
    }
  });

  it('A.4 ES512: the signature verifies with the RFC key; the payload "Payload" is not a claims set', () => {
    const keys = ringOf(A4_KEY, 'ES512', 'rfc');
    const verifier = createVerifier({
      ...ANY,
      keys,
      typ: null,
      now: BEFORE_EXP,
      requiredClaims: [],
    });
    // The signature holds, so the verifier goes on to read the payload, which is not JSON: a JWS
    // but not a JWT. A wrong signature stops earlier, with ERR_JWT_SIGNATURE.
    rejects(() => verifier.verify(A4), 'ERR_JWT_MALFORMED');
    rejects(() => verifier.verify(tamper(A4)), 'ERR_JWT_SIGNATURE');
    const signature = A4.slice(A4.lastIndexOf('.') + 1);
    assert.equal(Buffer.from(signature, 'base64url').length, 132);
    const flipped = Buffer.from(signature, 'base64url');
    flipped[100]! ^= 1;
    rejects(
      () => verifier.verify(`${A4.slice(0, A4.lastIndexOf('.'))}.${flipped.toString('base64url')}`),
      'ERR_JWT_SIGNATURE',
    );
  });

  it('A.5, the unsecured JWS (alg none), is refused with ERR_JWT_ALG by every verifier', () => {
    for (const [jwk, alg] of [
      [A1_KEY, 'HS256'],
      [A2_KEY, 'RS256'],
      [A3_KEY, 'ES256'],
      [A4_KEY, 'ES512'],
    ] as const) {
      const keys = ringOf(jwk, alg, 'rfc');
      rejects(
        () => createVerifier({ ...ANY, keys, typ: null, now: BEFORE_EXP }).verify(A5),
        'ERR_JWT_ALG',
      );
      rejects(() => createVerifier({ ...ANY, keys, now: BEFORE_EXP }).verify(A5), 'ERR_JWT_ALG');
      // With the A.1 signature appended, or the A.1 header's typ: still alg none.
      rejects(
        () =>
          createVerifier({ ...ANY, keys, typ: null, now: BEFORE_EXP }).verify(
            `${A5}dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk`,
          ),
        'ERR_JWT_ALG',
      );
    }
  });

  it('each example is refused by a ring bound to another algorithm', () => {
    const rs = createVerifier({
      ...ANY,
      keys: ringOf(A2_KEY, 'RS256', 'rfc'),
      typ: null,
      now: BEFORE_EXP,
    });
    const es = createVerifier({
      ...ANY,
      keys: ringOf(A3_KEY, 'ES256', 'rfc'),
      typ: null,
      now: BEFORE_EXP,
    });
    // No kid: no key of the header's alg, so the algorithm is refused.
    rejects(() => rs.verify(A1), 'ERR_JWT_ALG');
    rejects(() => rs.verify(A3), 'ERR_JWT_ALG');
    rejects(() => es.verify(A2), 'ERR_JWT_ALG');
    rejects(() => es.verify(A4), 'ERR_JWT_ALG');
    // The P-256 key cannot be bound to ES512, nor the RSA key to HS256.
    rejects(() => importJwk(A3_KEY, { alg: 'ES512', kid: 'x' }), 'ERR_KEY_ALG_MISMATCH');
    rejects(() => importJwk(A2_KEY, { alg: 'HS256', kid: 'x' }), 'ERR_KEY_ALG_MISMATCH');
  });
});
