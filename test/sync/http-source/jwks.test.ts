import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../../src/errors/index.js';
import { exportJwk, generateKey, KeyRing } from '../../../src/jwt/index.js';
import { applyJwks, readJwks } from '../../../src/sync/http-source/jwks.js';

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

  it('leaves out keys of an algorithm, curve or size it does not take (RFC 7517 section 5)', () => {
    const publicJwk = (type: 'ed448' | 'rsa' | 'ec', members: Record<string, unknown>) => {
      const { publicKey } =
        type === 'rsa'
          ? generateKeyPairSync('rsa', { modulusLength: 1024 })
          : type === 'ec'
            ? generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
            : generateKeyPairSync('ed448');
      return { ...publicKey.export({ format: 'jwk' }), ...members };
    };
    const odd = [
      publicJwk('ed448', { kid: 'ed448', alg: 'EdDSA' }),
      publicJwk('ec', { kid: 'k1', alg: 'ES256K' }),
      publicJwk('rsa', { kid: 'rsa-1024', alg: 'RS256' }),
    ];
    const ring = readJwks({ keys: [...odd, signing] }, SHOWN);
    assert.deepEqual(
      ring.keys().map((key) => key.kid),
      ['sig-1'],
    );
    refused(() => readJwks({ keys: odd }, SHOWN), /holds no key this reader can use/);
    // Two keys of one kid, each fine alone, still make the set unreadable.
    refused(() => readJwks({ keys: [signing, { ...signing }] }, SHOWN), /is invalid/);
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

describe('applyJwks: a ring that follows the JWKS through many rotations', () => {
  const publicKey = (kid: string) =>
    KeyRing.fromJSON({ keys: [exportJwk(generateKey('EdDSA', { state: 'active', kid }))] });
  const GRACE = 30;
  const newState = () => ({
    forgotten: new Set<string>(),
    missingSince: new Map<string, number>(),
    grace: GRACE,
  });

  it('retires what the JWKS drops, and forgets retired keys when the ring would overflow', () => {
    const live = new KeyRing();
    const state = newState();
    const rings: KeyRing[] = [];
    let now = 1_900_000_000;
    // Each JWKS lists one key, the last one's gone: 150 rotations, past the ring's capacity, each
    // JWKS read twice, the grace of a dropped key apart.
    for (let i = 0; i < 150; i++) {
      const loaded = publicKey(`k-${i}`);
      rings.push(loaded);
      for (let read = 0; read < 2; read++) {
        applyJwks(live, loaded, SHOWN, state, now);
        now += GRACE;
      }
      assert.equal(live.get(`k-${i}`)?.state, 'verify-only', `k-${i}`);
      if (i > 0) assert.notEqual(live.get(`k-${i - 1}`)?.state, 'verify-only');
      assert.ok(live.keys().length <= KeyRing.capacity);
    }
    assert.equal(live.keys().length, KeyRing.capacity);
    // The oldest went first; what is still held of the dropped ones is retired.
    assert.equal(live.get('k-0'), undefined);
    const { forgotten } = state;
    assert.ok(forgotten.has('k-0') && forgotten.has('k-49') && !forgotten.has('k-50'));
    for (const key of live.keys()) {
      assert.equal(key.state, key.kid === 'k-149' ? 'verify-only' : 'retired', key.kid);
    }
    // A replayed old JWKS brings back neither a forgotten key nor a retired one.
    applyJwks(live, rings[0]!, SHOWN, state, now);
    assert.equal(live.get('k-0'), undefined);
    applyJwks(live, rings[120]!, SHOWN, state, now);
    assert.equal(live.get('k-120')?.state, 'retired');
  });

  it('holds a key a JWKS lacks for a grace period: an auth process a reload behind', () => {
    const k1 = generateKey('EdDSA', { state: 'verify-only', kid: 'k1' });
    const k2 = generateKey('EdDSA', { state: 'verify-only', kid: 'k2' });
    const current = KeyRing.fromJSON({ keys: [exportJwk(k1), exportJwk(k2)] });
    const behind = KeyRing.fromJSON({ keys: [exportJwk(k1)] });
    const live = new KeyRing();
    const state = newState();
    applyJwks(live, current, SHOWN, state, 0);
    applyJwks(live, behind, SHOWN, state, 1);
    assert.equal(live.get('k2')?.state, 'verify-only');
    // Listed again: the grace starts afresh at the next read that lacks it.
    applyJwks(live, current, SHOWN, state, 2);
    applyJwks(live, behind, SHOWN, state, 3);
    applyJwks(live, behind, SHOWN, state, 3 + GRACE - 1);
    assert.equal(live.get('k2')?.state, 'verify-only');
    applyJwks(live, behind, SHOWN, state, 3 + GRACE);
    assert.equal(live.get('k2')?.state, 'retired');
    // Retired for good: listed again, it stays retired.
    applyJwks(live, current, SHOWN, state, 100);
    assert.equal(live.get('k2')?.state, 'retired');
  });

  it('KeyRing.forget removes a retired key only', () => {
    const ring = KeyRing.generate('EdDSA');
    const kid = ring.active.kid;
    assert.throws(
      () => ring.forget(kid),
      (error: unknown) => isRevocableError(error, 'ERR_INVALID_ARGUMENT'),
    );
    assert.throws(
      () => ring.forget('nope'),
      (error: unknown) => isRevocableError(error, 'ERR_KEYRING_KID_UNKNOWN'),
    );
    ring.retire(kid);
    const revision = ring.revision;
    ring.forget(kid);
    assert.equal(ring.get(kid), undefined);
    assert.ok(ring.revision > revision);
  });
});
