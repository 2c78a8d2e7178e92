import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../src/errors/index.js';
import { createSigner, KeyRing } from '../../src/jwt/index.js';
import {
  bindKeyRing,
  createKeyRevocation,
  createRevocableVerifier,
  createRevocationIndex,
  MAX_EVENT_TIME,
  parseRevocationEventJson,
  restoreRevocationIndex,
  serializeRevocationEvent,
} from '../../src/revocation/index.js';
import { encodeSnapshot } from '../../src/revocation/internal/snapshot-codec.js';
import { LIFETIME, manualClock, newIndex, SKEW, T0, throwsCode, timingFor } from './helpers.js';

const TEN_YEARS = 10 * 365 * 86_400;

/** A ring of three HS256 keys: `old` and `previous` verify only, `current` signs. */
function ringOfThree() {
  const ring = KeyRing.generate('HS256');
  const old = ring.active.kid;
  const previous = ring.rotate().kid;
  const current = ring.rotate().kid;
  return { ring, old, previous, current };
}

describe('key revocations are kept for good', () => {
  it('a key entry outlives every lifetime, every sweep and a snapshot round trip', () => {
    const now = manualClock();
    const index = newIndex(now, { sweepEvery: 1 });
    index.apply(createKeyRevocation({ kid: 'k1' }, timingFor(now)));
    now.advance(TEN_YEARS);
    index.prune();
    assert.equal(index.check({ iat: now() }, 'k1'), 'key');
    assert.deepEqual(index.revokedKeys(), ['k1']);
    const restored = restoreRevocationIndex(index.snapshot(), {
      maxAccessTokenLifetime: LIFETIME,
      now,
    });
    assert.equal(restored.check({ iat: now() }, 'k1'), 'key');
    assert.equal(restored.stats().keys, 1);
  });

  it('an event with a short until, even long past, still revokes the key', () => {
    const now = manualClock();
    const index = newIndex(now);
    const old = { v: 1, id: 'old', kind: 'key', target: 'k-old', at: T0 - 5000, until: T0 - 5000 };
    assert.equal(index.apply(parseRevocationEventJson(JSON.stringify(old))), true);
    assert.equal(index.check({ iat: T0 }, 'k-old'), 'key');
    assert.equal(index.apply({ ...old, id: 'again' } as never), false, 'union: once is enough');
    // A later event with a short until does not shorten anything either.
    index.apply(createKeyRevocation({ kid: 'k-new' }, timingFor(now)));
    index.apply({ ...old, target: 'k-new', until: T0 + 1 } as never);
    now.advance(LIFETIME + 2 * SKEW + 1);
    assert.equal(index.prune(), 0);
    assert.equal(index.check({ iat: T0 }, 'k-new'), 'key');
  });

  it('a snapshot whose key entries carry a short, expired until is loaded whole', () => {
    const now = manualClock();
    const bytes = encodeSnapshot({
      writtenAt: T0 - 10_000,
      global: null,
      tokens: new Uint32Array(0),
      sessions: new Uint32Array(0),
      keys: [['k-legacy', T0 - 9000]],
      subjects: [],
      bucketCount: 1,
      buckets: [],
    });
    const index = restoreRevocationIndex(bytes, { maxAccessTokenLifetime: LIFETIME, now });
    assert.equal(index.check({ iat: T0 }, 'k-legacy'), 'key');
    // Written back with the latest event time, so a reader that honours until keeps it too.
    const view = Buffer.from(index.snapshot());
    const kidAt = view.indexOf('k-legacy');
    assert.equal(view.readDoubleLE(kidAt + 'k-legacy'.length), MAX_EVENT_TIME);
  });
});

describe('bindKeyRing', () => {
  it('every key event the index applies retires the key in the ring', () => {
    const { ring, old, previous, current } = ringOfThree();
    const now = manualClock();
    const index = newIndex(now);
    bindKeyRing(index, ring);
    index.apply(createKeyRevocation({ kid: previous }, timingFor(now)));
    assert.equal(ring.get(previous)?.state, 'retired');
    assert.equal(ring.get(old)?.state, 'verify-only');
    // From the bus, as JSON: the same.
    const event = createKeyRevocation({ kid: current }, timingFor(now));
    index.apply(parseRevocationEventJson(serializeRevocationEvent(event)));
    assert.equal(ring.get(current)?.state, 'retired');
    throwsCode(() => ring.active, 'ERR_KEYRING_NO_ACTIVE_KEY');
  });

  it('ignores kids the ring does not hold, and does not retire a key twice', () => {
    const { ring, previous } = ringOfThree();
    const now = manualClock();
    const errors: unknown[] = [];
    const index = newIndex(now, { onListenerError: (error) => errors.push(error) });
    ring.retire(previous);
    const revision = ring.revision;
    bindKeyRing(index, ring);
    index.apply(createKeyRevocation({ kid: 'not-in-this-ring' }, timingFor(now)));
    index.apply(createKeyRevocation({ kid: previous }, timingFor(now)));
    assert.equal(ring.revision, revision, 'no change, so verification caches are kept');
    assert.deepEqual(errors, []);
  });

  it('retires at once the kids the index already holds, and those a snapshot brings', () => {
    const { ring, old, previous, current } = ringOfThree();
    const now = manualClock();
    const index = newIndex(now);
    index.apply(createKeyRevocation({ kid: old }, timingFor(now)));
    bindKeyRing(index, ring);
    assert.equal(ring.get(old)?.state, 'retired');
    const source = newIndex(now);
    source.apply(createKeyRevocation({ kid: previous }, timingFor(now)));
    index.load(source.snapshot());
    assert.equal(ring.get(previous)?.state, 'retired');
    assert.equal(ring.get(current)?.state, 'active');
  });

  it('stops when unbound', () => {
    const { ring, previous } = ringOfThree();
    const now = manualClock();
    const index = newIndex(now);
    const unbind = bindKeyRing(index, ring);
    unbind();
    index.apply(createKeyRevocation({ kid: previous }, timingFor(now)));
    assert.equal(ring.get(previous)?.state, 'verify-only');
    assert.equal(index.check({ iat: T0 }, previous), 'key', 'the index refuses it all the same');
  });

  it('the retirement reaches verifiers that share the ring, whatever their index', () => {
    const { ring, previous } = ringOfThree();
    const signed = createSigner({ keys: ring, issuer: 'iss', audience: 'aud' });
    const token = signed.sign({ sub: 'u1', sid: 's1' });
    const kid = ring.active.kid;
    ring.setState(previous, 'active');
    const bound = createRevocationIndex({ maxAccessTokenLifetime: LIFETIME });
    const unaware = createRevocationIndex({ maxAccessTokenLifetime: LIFETIME });
    bindKeyRing(bound, ring);
    const verifier = createRevocableVerifier({
      keys: ring,
      issuer: 'iss',
      audience: 'aud',
      index: unaware,
    });
    verifier.verify(token);
    bound.apply(createKeyRevocation({ kid }, { maxAccessTokenLifetime: LIFETIME }));
    assert.throws(
      () => verifier.verify(token),
      (error: unknown) => isRevocableError(error, 'ERR_JWT_KEY_RETIRED'),
    );
  });

  it('refuses what is not an index or a ring', () => {
    const { ring } = ringOfThree();
    const index = newIndex(manualClock());
    throwsCode(() => bindKeyRing(null as never, ring), 'ERR_INVALID_ARGUMENT');
    throwsCode(() => bindKeyRing(index, {} as never), 'ERR_INVALID_ARGUMENT');
  });
});
