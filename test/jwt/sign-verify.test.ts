import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../src/errors/index.js';
import {
  ALGORITHM_NAMES,
  createSigner,
  createVerifier,
  decodeUnverified,
  generateKey,
  KeyRing,
  signJwt,
} from '../../src/jwt/index.js';

// These tests are about other checks: any issuer and audience is accepted on purpose.
const ANY = { issuer: null, audience: null } as const;

describe('sign and verify round trip', () => {
  for (const alg of ALGORITHM_NAMES) {
    it(`${alg}: a token signed by the ring verifies, with a private ring and with its public form`, () => {
      const ring = KeyRing.generate(alg);
      const now = () => 1_800_000_000;
      const token = createSigner({ keys: ring, issuer: 'iss', audience: 'api', now }).sign({
        sub: 'u1',
      });
      const claims = createVerifier({ keys: ring, issuer: 'iss', audience: 'api', now }).verify(
        token,
      );
      assert.equal(claims.sub, 'u1');
      assert.equal(claims.iat, 1_800_000_000);
      assert.equal(claims.exp, 1_800_000_600);
      const publicRing = KeyRing.fromJSON(alg.startsWith('HS') ? ring.toJSON() : ring.jwks());
      assert.equal(createVerifier({ ...ANY, keys: publicRing, now }).verify(token).sub, 'u1');
    });
  }

  it('refuses an expired token with ERR_JWT_EXPIRED', () => {
    const ring = KeyRing.generate('HS256');
    const token = createSigner({
      keys: ring,
      now: () => 1000,
      ttl: '1m',
      issuer: 'iss',
      audience: 'api',
    }).sign({ sub: 'u1' });
    const verifier = createVerifier({ ...ANY, keys: ring, now: () => 1060 });
    assert.throws(
      () => verifier.verify(token),
      (error) => isRevocableError(error, 'ERR_JWT_EXPIRED'),
    );
  });

  it('a clock that returns no finite number is ERR_INVALID_ARGUMENT, never a pass of the time checks', () => {
    const ring = KeyRing.generate('HS256');
    const token = createSigner({ keys: ring, now: () => 1000, ttl: '1m' }).sign({});
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, '2000', undefined]) {
      for (const cache of [false, true]) {
        const verifier = createVerifier({ ...ANY, keys: ring, now: () => bad as number, cache });
        assert.throws(
          () => verifier.verify(token),
          (error) => isRevocableError(error, 'ERR_INVALID_ARGUMENT'),
          `${String(bad)}, cache ${cache}`,
        );
      }
    }
  });

  it('the header is exactly alg, typ and kid, and a typ of "" is not confused with no typ', () => {
    for (const order of [
      [null, ''],
      ['', null],
    ] as const) {
      const key = generateKey('HS256', { kid: 'k' });
      const headers = order.map((typ) => decodeUnverified(signJwt({}, key, { typ })).header);
      for (const [index, typ] of order.entries()) {
        const expected =
          typ === null ? { alg: 'HS256', kid: 'k' } : { alg: 'HS256', typ, kid: 'k' };
        assert.deepEqual(
          headers[index],
          expected,
          `typ ${JSON.stringify(typ)} after ${JSON.stringify(order)}`,
        );
      }
    }
    const key = generateKey('EdDSA', { kid: 'e' });
    assert.deepEqual(decodeUnverified(signJwt({}, key)).header, {
      alg: 'EdDSA',
      typ: 'at+jwt',
      kid: 'e',
    });
  });

  it("the signer adds iat, exp, iss, aud and jti without touching the caller's claims", () => {
    const ring = KeyRing.generate('HS256');
    const claims = { sub: 'u1', iat: 1, exp: 2 };
    const token = createSigner({
      keys: ring,
      issuer: 'iss',
      audience: ['a', 'b'],
      now: () => 1000.7,
      ttl: '1m',
    }).sign(claims);
    assert.deepEqual(claims, { sub: 'u1', iat: 1, exp: 2 });
    const verified = createVerifier({ ...ANY, keys: ring, now: () => 1000 }).verify(token);
    assert.equal(verified.iat, 1000);
    assert.equal(verified.exp, 1060);
    assert.equal(verified.iss, 'iss');
    assert.deepEqual(verified.aud, ['a', 'b']);
    assert.match(String(verified.jti), /^[A-Za-z0-9_-]{22}$/);
    const withJti = createSigner({ keys: ring, now: () => 1000 }).sign({ jti: 'mine' });
    assert.equal(decodeUnverified(withJti).claims.jti, 'mine');
    const noJti = createSigner({ keys: ring, now: () => 1000, jti: false }).sign({});
    assert.equal(decodeUnverified(noJti).claims.jti, undefined);
  });

  it('refuses to sign a sub, sid or jti that no verifier would take and no revocation could name', () => {
    const ring = KeyRing.generate('EdDSA');
    const signer = createSigner({ keys: ring, now: () => 1000 });
    for (const claim of ['sub', 'sid', 'jti']) {
      for (const value of ['', 'x'.repeat(257), 'a\ud800', 'line\nbreak', 7, null]) {
        assert.throws(
          () => signer.sign({ [claim]: value }),
          (error: unknown) => isRevocableError(error, 'ERR_INVALID_ARGUMENT'),
          `${claim}: ${JSON.stringify(value)}`,
        );
      }
      const longest = 'y'.repeat(256);
      assert.equal(decodeUnverified(signer.sign({ [claim]: longest })).claims[claim], longest);
    }
  });
});
