import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../../src/errors/index.js';
import { exportJwk, generateKey } from '../../../src/jwt/index.js';
import { readJwks } from '../../../src/sync/http-source/jwks.js';

const SHOWN = 'https://auth.example/.well-known/jwks.json';

/** A public P-256 key as a JWK, with the members given. */
function ecJwk(members: Record<string, unknown>): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...publicKey.export({ format: 'jwk' }), ...members };
}

function refused(run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(isRevocableError(error, 'ERR_KEYRING_INVALID'), String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

describe("readJwks: the auth server's public keys", () => {
  const signing = exportJwk(generateKey('EdDSA', { state: 'active', kid: 'sig-1' }));

  it('leaves out keys that are not for checking signatures (RFC 7517 sections 4 and 5)', () => {
    const ring = readJwks(
      {
        keys: [
          ecJwk({ kid: 'enc-1', use: 'enc', alg: 'ECDH-ES' }),
          ecJwk({ kid: 'ops-1', alg: 'ES256', key_ops: ['encrypt'] }),
          ecJwk({ kid: 'no-alg' }),
          signing,
          ecJwk({ kid: 'sig-2', alg: 'ES256', use: 'sig', key_ops: ['verify'] }),
        ],
      },
      SHOWN,
    );
    assert.deepEqual(
      ring
        .keys()
        .map((key) => key.kid)
        .sort(),
      ['sig-1', 'sig-2'],
    );
    for (const key of ring.keys()) assert.equal(key.state, 'verify-only');
  });

  it('refuses a set with no key for signatures, and a private key whatever its use', () => {
    refused(
      () => readJwks({ keys: [ecJwk({ kid: 'enc-1', use: 'enc', alg: 'ECDH-ES' })] }, SHOWN),
      /no key for checking signatures/,
    );
    const privateEnc = {
      ...exportJwk(generateKey('EdDSA', { state: 'active' }), { includePrivate: true }),
      use: 'enc',
    };
    refused(() => readJwks({ keys: [signing, privateEnc] }, SHOWN), /public keys only/);
    refused(() => readJwks({ keys: [] }, SHOWN), /is invalid/);
  });
});
