import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../src/errors/index.js';
import { ALGORITHM_NAMES, createSigner, createVerifier, KeyRing } from '../../src/jwt/index.js';

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
      assert.equal(createVerifier({ keys: publicRing, now }).verify(token).sub, 'u1');
    });
  }

  it('refuses an expired token with ERR_JWT_EXPIRED', () => {
    const ring = KeyRing.generate('HS256');
    const token = createSigner({ keys: ring, now: () => 1000, ttl: '1m' }).sign({});
    const verifier = createVerifier({ keys: ring, now: () => 1060 });
    assert.throws(
      () => verifier.verify(token),
      (error) => isRevocableError(error, 'ERR_JWT_EXPIRED'),
    );
  });
});
