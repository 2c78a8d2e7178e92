import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRevocableError } from '../../src/errors/index.js';
import {
  createSigner,
  createVerifier,
  decodeUnverified,
  KeyRing,
  sealKeyRing,
} from '../../src/jwt/index.js';
import { createKeyRevocation, createRevocationIndex } from '../../src/revocation/index.js';
import { createSessionManager } from '../../src/sessions/index.js';
import {
  createMemoryKeyRingStore,
  createMemoryStore,
  type KeyRingStore,
  type StoredKeyRing,
} from '../../src/stores/index.js';
import { createLogFollower, openSharedKeyRing } from '../../src/sync/index.js';

const SECRET = randomBytes(32).toString('base64');
const TIMING = { maxAccessTokenLifetime: 600, clockSkew: 5 };

function expectCode(code: string) {
  return (error: unknown) => {
    assert.ok(isRevocableError(error), `expected a RevocableError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

/** Waits until `condition` holds (checked after each turn of the event loop), for at most 5 s. */
async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

function signWith(ring: KeyRing): string {
  return createSigner({ keys: ring, issuer: 'iss', audience: 'aud', ttl: 60 }).sign({ sub: 'u' });
}

function kidOf(token: string): unknown {
  return decodeUnverified(token).header.kid;
}

function verifies(ring: KeyRing, token: string): string {
  try {
    createVerifier({ keys: ring, issuer: 'iss', audience: 'aud' }).verify(token);
    return 'ok';
  } catch (error) {
    return isRevocableError(error) ? error.code : String(error);
  }
}

/** A store the test can roll back, as someone with write access to the database could. */
function rollbackableStore(): KeyRingStore & { put(row: StoredKeyRing | null): void } {
  let current: StoredKeyRing | null = null;
  return {
    async load() {
      return current;
    },
    async revision() {
      return current?.revision ?? 0;
    },
    async save(expected, sealed) {
      if ((current?.revision ?? 0) !== expected) return false;
      current = { revision: expected + 1, sealed };
      return true;
    },
    put(row) {
      current = row;
    },
  };
}

describe('shared key ring', () => {
  it('creates one active EdDSA key on an empty store, and every later open loads that ring', async () => {
    const store = createMemoryKeyRingStore();
    const a = await openSharedKeyRing({ store, secret: SECRET });
    assert.equal(a.revision, 1);
    assert.equal(a.ring.keys().length, 1);
    assert.equal(a.ring.active.alg, 'EdDSA');
    const b = await openSharedKeyRing({ store, secret: SECRET, alg: 'ES256' });
    assert.equal(b.ring.active.kid, a.ring.active.kid);
    assert.equal(b.ring.active.alg, 'EdDSA');
    // The stored text is sealed: no private part in it.
    const stored = await store.load();
    assert.ok(stored !== null && !stored.sealed.includes(a.ring.toJSON().keys[0]!.d!));
  });

  it('processes starting together on an empty store agree on one ring', async () => {
    const store = createMemoryKeyRingStore();
    const rings = await Promise.all(
      Array.from({ length: 10 }, () => openSharedKeyRing({ store, secret: SECRET, alg: 'ES256' })),
    );
    assert.equal(new Set(rings.map((shared) => shared.ring.active.kid)).size, 1);
    assert.equal(await store.revision(), 1);
  });

  it('refuses to start without a secret, naming REVOCABLE_KEYS_SECRET; reads it from there', async () => {
    const store = createMemoryKeyRingStore();
    const saved = process.env.REVOCABLE_KEYS_SECRET;
    try {
      delete process.env.REVOCABLE_KEYS_SECRET;
      await assert.rejects(openSharedKeyRing({ store }), (error: unknown) => {
        expectCode('ERR_KEYS_SECRET')(error);
        assert.match((error as Error).message, /REVOCABLE_KEYS_SECRET/);
        return true;
      });
      process.env.REVOCABLE_KEYS_SECRET = 'too-short';
      await assert.rejects(openSharedKeyRing({ store }), (error: unknown) => {
        expectCode('ERR_KEYS_SECRET')(error);
        assert.ok(!(error as Error).message.includes('too-short'));
        return true;
      });
      assert.equal(await store.revision(), 0, 'nothing was written');
      process.env.REVOCABLE_KEYS_SECRET = SECRET;
      const fromEnvironment = await openSharedKeyRing({ store });
      const explicit = await openSharedKeyRing({ store, secret: SECRET });
      assert.equal(explicit.ring.active.kid, fromEnvironment.ring.active.kid);
      await assert.rejects(
        openSharedKeyRing({ store, secret: randomBytes(32) }),
        expectCode('ERR_KEYRING_SEALED_INVALID'),
      );
    } finally {
      if (saved === undefined) delete process.env.REVOCABLE_KEYS_SECRET;
      else process.env.REVOCABLE_KEYS_SECRET = saved;
    }
  });

  it('a rotation in one process reaches another in place at its refresh: it signs with the new key, and each verifies the other', async () => {
    const store = createMemoryKeyRingStore();
    const a = await openSharedKeyRing({ store, secret: SECRET });
    const b = await openSharedKeyRing({ store, secret: SECRET });
    const ringOfB = b.ring;
    const old = a.ring.active.kid;
    const fresh = await a.rotate();
    assert.equal(a.ring.active.kid, fresh.kid);
    assert.equal(a.ring.get(old)?.state, 'verify-only');
    assert.equal(
      kidOf(signWith(b.ring)),
      old,
      'before its refresh, B still signs with the old key',
    );
    assert.equal(await b.refresh(), true);
    assert.equal(await b.refresh(), false, 'nothing new the second time');
    assert.equal(b.ring, ringOfB, 'the same object, changed in place');
    assert.equal(b.revision, 2);
    const fromB = signWith(b.ring);
    assert.equal(kidOf(fromB), fresh.kid);
    assert.equal(verifies(a.ring, fromB), 'ok');
    assert.equal(verifies(b.ring, signWith(a.ring)), 'ok');
    // Tokens of the old key still verify until they expire.
    assert.equal(b.ring.get(old)?.state, 'verify-only');
  });

  it('retiring the active key puts a fresh signer in the same write', async () => {
    const store = createMemoryKeyRingStore();
    const a = await openSharedKeyRing({ store, secret: SECRET, alg: 'ES256' });
    const b = await openSharedKeyRing({ store, secret: SECRET });
    const old = a.ring.active.kid;
    const oldToken = signWith(b.ring);
    const retired = await a.retire(old);
    assert.equal(retired.state, 'retired');
    assert.equal(a.revision, 2, 'one write');
    assert.notEqual(a.ring.active.kid, old);
    assert.equal(a.ring.active.alg, 'ES256');
    await b.refresh();
    assert.equal(b.ring.active.kid, a.ring.active.kid);
    assert.equal(verifies(b.ring, oldToken), 'ERR_JWT_KEY_RETIRED');
    await assert.rejects(a.retire('no-such-kid'), expectCode('ERR_KEYRING_KID_UNKNOWN'));
    // A key added elsewhere and not reloaded yet is found by reloading first.
    const added = await b.rotate();
    assert.equal(a.ring.get(added.kid), undefined);
    await a.retire(added.kid);
    assert.equal(a.ring.get(added.kid)?.state, 'retired');
    assert.equal(await store.revision(), 4);
    // Retiring again writes nothing.
    await a.retire(old);
    assert.equal(await store.revision(), 4);
  });

  it('concurrent rotations in several processes all land, one revision each', async () => {
    const store = createMemoryKeyRingStore();
    const rings = await Promise.all(
      Array.from({ length: 5 }, () => openSharedKeyRing({ store, secret: SECRET })),
    );
    const added = await Promise.all(rings.map((shared) => shared.rotate()));
    assert.equal(new Set(added.map((key) => key.kid)).size, 5);
    assert.equal(await store.revision(), 6);
    await Promise.all(rings.map((shared) => shared.refresh()));
    const active = rings[0]!.ring.active.kid;
    for (const shared of rings) {
      assert.equal(shared.ring.active.kid, active);
      assert.equal(shared.ring.keys().length, 6);
      for (const key of added) assert.ok(shared.ring.get(key.kid) !== undefined);
    }
  });

  it('a key retired here is never revived by a reload, and goes into the store with the next write', async () => {
    const store = createMemoryKeyRingStore();
    const a = await openSharedKeyRing({ store, secret: SECRET });
    const b = await openSharedKeyRing({ store, secret: SECRET });
    const first = a.ring.active.kid;
    await a.rotate();
    await b.refresh();
    // As bindKeyRing does when a key revocation event arrives.
    b.ring.retire(first);
    await a.rotate();
    await b.refresh();
    assert.equal(b.ring.get(first)?.state, 'retired');
    await b.rotate();
    await a.refresh();
    assert.equal(a.ring.get(first)?.state, 'retired');
  });

  it('a key the store no longer holds is retired here, not deleted', async () => {
    const store = createMemoryKeyRingStore();
    const a = await openSharedKeyRing({ store, secret: SECRET });
    const gone = a.ring.active.kid;
    const token = signWith(a.ring);
    const replacement = KeyRing.generate('EdDSA');
    assert.equal(await store.save(1, sealKeyRing(replacement, SECRET, { revision: 2 })), true);
    await a.refresh();
    assert.equal(a.ring.get(gone)?.state, 'retired');
    assert.equal(a.ring.active.kid, replacement.active.kid);
    assert.equal(verifies(a.ring, token), 'ERR_JWT_KEY_RETIRED');
  });

  it('refuses a ring rolled back or removed under it, keeping its own', async () => {
    const store = rollbackableStore();
    const a = await openSharedKeyRing({ store, secret: SECRET });
    const firstRow = await store.load();
    await a.rotate();
    const active = a.ring.active.kid;
    store.put(firstRow);
    await assert.rejects(a.refresh(), expectCode('ERR_KEYRING_SEALED_INVALID'));
    await assert.rejects(a.rotate(), expectCode('ERR_KEYRING_SEALED_INVALID'));
    // The old blob under a forged newer revision does not decrypt: the revision is authenticated.
    store.put({ revision: 9, sealed: firstRow!.sealed });
    await assert.rejects(a.refresh(), expectCode('ERR_KEYRING_SEALED_INVALID'));
    store.put(null);
    await assert.rejects(a.refresh(), expectCode('ERR_KEYRING_SEALED_INVALID'));
    assert.equal(a.ring.active.kid, active);
    assert.equal(a.revision, 2);
  });

  it('with an index, a key revocation reloads at once, and a ring left without a signer gets one', async () => {
    const store = createMemoryKeyRingStore();
    const indexA = createRevocationIndex(TIMING);
    const indexB = createRevocationIndex(TIMING);
    const errors: unknown[] = [];
    const onError = (error: unknown) => errors.push(error);
    const a = await openSharedKeyRing({ store, secret: SECRET, index: indexA, onError });
    const b = await openSharedKeyRing({ store, secret: SECRET, index: indexB, onError });
    // Another process retired the key in the store: the event makes B reload without a poll.
    const old = a.ring.active.kid;
    await a.retire(old);
    indexB.apply(createKeyRevocation({ kid: old }, TIMING));
    await waitFor(() => b.ring.get(old)?.state === 'retired' && b.revision === 2, 'B reloading');
    assert.equal(b.ring.active.kid, a.ring.active.kid);
    // A retirement that reached the log but not the stored ring (a process without a shared
    // ring, or one that died in between): the ring here is left without a signer, and is healed.
    const signer = a.ring.active.kid;
    a.ring.retire(signer);
    indexA.apply(createKeyRevocation({ kid: signer }, TIMING));
    await waitFor(() => a.revision === 3, 'A writing a fresh signer');
    assert.notEqual(a.ring.active.kid, signer);
    indexB.apply(createKeyRevocation({ kid: signer }, TIMING));
    await waitFor(() => b.ring.get(signer)?.state === 'retired', 'B retiring it');
    await waitFor(() => b.revision === 3, 'B reloading');
    assert.equal(b.ring.active.kid, a.ring.active.kid);
    assert.equal(await store.revision(), 3, 'B found the work done and wrote nothing');
    assert.deepEqual(errors, []);
    a.close();
    b.close();
  });

  it('the log follower refreshes it after every read (afterRead)', async () => {
    const keyRingStore = createMemoryKeyRingStore();
    const store = createMemoryStore();
    const index = createRevocationIndex(TIMING);
    const a = await openSharedKeyRing({ store: keyRingStore, secret: SECRET });
    const b = await openSharedKeyRing({ store: keyRingStore, secret: SECRET, index });
    const follower = createLogFollower({ store, index, pollInterval: 3600, afterRead: b.refresh });
    await follower.start();
    const fresh = await a.rotate();
    await follower.catchUp();
    assert.equal(b.ring.active.kid, fresh.kid);
    await follower.stop();
    b.close();
  });

  it('the follower reports a failing afterRead and stays fresh', async () => {
    const store = createMemoryStore();
    const index = createRevocationIndex(TIMING);
    const errors: unknown[] = [];
    const follower = createLogFollower({
      store,
      index,
      pollInterval: 3600,
      afterRead: async () => {
        throw new Error('no ring');
      },
      onError: (error) => errors.push(error),
    });
    await follower.start();
    assert.equal(follower.health().state, 'fresh');
    assert.equal(follower.health().readFailures, 0);
    assert.equal(errors.length, 1);
    assert.throws(
      () => createLogFollower({ store, index, afterRead: 42 as never }),
      expectCode('ERR_INVALID_ARGUMENT'),
    );
    await follower.stop();
  });

  it("the session manager's retireKey with a shared ring writes the ring, then logs the event, and every process follows", async () => {
    const keyRingStore = createMemoryKeyRingStore();
    const store = createMemoryStore();
    const processes = await Promise.all(
      [0, 1].map(async () => {
        const index = createRevocationIndex(TIMING);
        const shared = await openSharedKeyRing({ store: keyRingStore, secret: SECRET, index });
        const follower = createLogFollower({
          store,
          index,
          pollInterval: 3600,
          afterRead: shared.refresh,
        });
        await follower.start();
        const manager = createSessionManager({
          store,
          keys: shared,
          index,
          issuer: 'iss',
          audience: 'aud',
        });
        return { index, shared, follower, manager };
      }),
    );
    const [a, b] = processes as [(typeof processes)[0], (typeof processes)[0]];
    const old = a.shared.ring.active.kid;
    const before = await b.manager.login('user-1');
    assert.equal(kidOf(before.accessToken), old);
    await a.manager.retireKey(old);
    assert.notEqual(a.shared.ring.active.kid, old);
    assert.equal(a.shared.ring.get(old)?.state, 'retired');
    assert.equal(a.index.revokedKeys().includes(old), true);
    await b.follower.catchUp();
    assert.equal(b.index.revokedKeys().includes(old), true);
    assert.equal(b.shared.ring.get(old)?.state, 'retired');
    assert.equal(b.shared.ring.active.kid, a.shared.ring.active.kid);
    const after = await b.manager.login('user-2');
    assert.equal(kidOf(after.accessToken), a.shared.ring.active.kid);
    assert.equal(verifies(a.shared.ring, after.accessToken), 'ok');
    assert.equal(verifies(a.shared.ring, before.accessToken), 'ERR_JWT_KEY_RETIRED');
    for (const process of processes) {
      await process.follower.stop();
      process.shared.close();
    }
  });
});
