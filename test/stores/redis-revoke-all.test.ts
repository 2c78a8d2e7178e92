// Redis-specific tests of revokeAll's epochs: one script whatever the number of sessions, what
// each script makes of a session of an ended epoch, prune by an epoch's end, several epochs, and
// keys written by layout 1 (no epochs) read and upgraded.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { migrateRedisStore, REDIS_LAYOUT_VERSION } from '../../src/stores/redis/index.js';
import { REVOKE_EVERYTHING_REASON } from '../../src/stores/types.js';
import {
  expectCode,
  makeGlobalEvent,
  makeRotation,
  makeSession,
  randomSub,
  T0,
} from './contract.js';
import { connectSharedRedis, prefixesOn } from './redis-support.js';

const { client, missing } = await connectSharedRedis();
const { freshPrefix, freshStore, dropAll } = prefixesOn(client);

after(async () => {
  if (missing !== null) return;
  await dropAll();
  client.disconnect();
});

if (missing !== null) {
  describe('redis store: revokeAll', () => {
    it('needs a Redis server', (t) => t.skip(missing ?? ''));
  });
} else {
  describe('redis store: revokeAll', () => {
    it('ends every session in one script that touches no session', async () => {
      const { store, prefix } = freshStore();
      const subs = [randomSub(), randomSub(), randomSub()] as const;
      const sessions = Array.from({ length: 300 }, (_, i) =>
        makeSession({ sub: subs[i % 3] ?? subs[0] }),
      );
      for (const session of sessions) await store.createSession(session, 0);
      const loggedOut = sessions[0]!;
      await store.revokeSessions([loggedOut.sid], T0 + 1, 'logout', []);
      const at = T0 + 5.5;
      const event = makeGlobalEvent(at);
      await store.revokeAll(at, [event]);

      // Nothing was written into the sessions: the epoch says it all.
      assert.equal(await client.hget(`${prefix}session:${sessions[1]!.sid}`, 'revokedAt'), null);
      assert.deepEqual(await client.hgetall(`${prefix}epoch`), { 0: String(at), current: '1' });
      assert.deepEqual(
        (await store.readEvents(0, 10)).map((stored) => stored.event),
        [event],
      );

      for (const session of sessions.slice(1)) {
        const read = await store.getSession(session.sid);
        assert.equal(read?.revokedAt, at);
        assert.equal(read?.revokedReason, REVOKE_EVERYTHING_REASON);
      }
      // A session revoked before keeps its own revocation.
      const before = await store.getSession(loggedOut.sid);
      assert.equal(before?.revokedAt, T0 + 1);
      assert.equal(before?.revokedReason, 'logout');

      for (const sub of subs) {
        assert.deepEqual(await store.listSessions(sub), []);
        // Ended sessions leave the subject's index as they are met.
        assert.equal(await client.zcard(`${prefix}sessions:${sub}`), 0);
      }
      const victim = sessions[4]!;
      assert.deepEqual(
        await store.rotateRefresh(victim.sid, victim.refreshHash, 0, makeRotation(victim)),
        { status: 'revoked' },
      );
      assert.deepEqual(
        await store.revokeSessions(
          sessions.map((s) => s.sid),
          at + 1,
          'logout-all',
          [],
        ),
        [],
      );
      assert.equal((await store.getSession(victim.sid))?.revokedReason, REVOKE_EVERYTHING_REASON);
      const claimsBefore = (await store.getSession(victim.sid))?.claims;
      await store.bumpGeneration(victim.sub, { role: 'after' });
      assert.deepEqual((await store.getSession(victim.sid))?.claims, claimsBefore);
      // A replayed creation of an ended session does not bring it back.
      assert.deepEqual(await store.createSession(sessions[6]!, 0), {
        created: false,
        reason: 'exists',
      });

      // Sessions created afterwards live, in the next epoch.
      const fresh = makeSession({ sub: subs[1] });
      assert.deepEqual(await store.createSession(fresh, 1), { created: true, gen: 1 });
      assert.equal(await client.hget(`${prefix}session:${fresh.sid}`, 'epoch'), '1');
      assert.deepEqual(
        (await store.listSessions(subs[1])).map((s) => s.sid),
        [fresh.sid],
      );
      assert.equal(
        (await store.rotateRefresh(fresh.sid, fresh.refreshHash, 1, makeRotation(fresh))).status,
        'rotated',
      );
      assert.deepEqual(await store.revokeSessions([fresh.sid], at + 2, 'logout', []), [fresh.sid]);
    });

    it('gives each epoch the time of the revokeAll that ended it', async () => {
      const { store, prefix } = freshStore();
      const first = makeSession();
      await store.createSession(first, 0);
      await store.revokeAll(T0 + 10, []);
      const second = makeSession({ sub: first.sub });
      await store.createSession(second, 0);
      await store.revokeAll(T0 + 20, []);
      const third = makeSession({ sub: first.sub });
      await store.createSession(third, 0);
      assert.equal((await store.getSession(first.sid))?.revokedAt, T0 + 10);
      assert.equal((await store.getSession(second.sid))?.revokedAt, T0 + 20);
      assert.equal((await store.getSession(third.sid))?.revokedAt, null);
      assert.deepEqual(
        (await store.listSessions(first.sub)).map((s) => s.sid),
        [third.sid],
      );
      assert.equal(await client.hget(`${prefix}epoch`, 'current'), '2');
      assert.equal(
        await client.zscore(`${prefix}ends:1`, second.sid),
        String(second.idleExpiresAt),
      );
    });

    it('prunes the sessions of an ended epoch by that end, in batches, counting each once', async () => {
      const { store, prefix } = freshStore();
      const sessions = Array.from({ length: 510 }, () =>
        makeSession({ idleExpiresAt: T0 + 5000, absoluteExpiresAt: T0 + 9000 }),
      );
      await Promise.all(sessions.map((session) => store.createSession(session, 0)));
      // One of them was logged out earlier still, and one ends by itself before the revokeAll.
      await store.revokeSessions([sessions[0]!.sid], T0 + 10, 'logout', []);
      const early = makeSession({ idleExpiresAt: T0 + 50 });
      await store.createSession(early, 0);
      await store.revokeAll(T0 + 100, []);
      const later = makeSession({ idleExpiresAt: T0 + 5000 });
      await store.createSession(later, 0);
      // The cut-off (horizon - retention) not past the revokeAll: only what ended before it.
      assert.deepEqual(await store.prune(T0 + 1100, 1000), { sessions: 2, events: 0 });
      assert.deepEqual(await store.prune(T0 + 1100, 1000), { sessions: 0, events: 0 });
      // Past it: the whole ended epoch, but not the session of the current one.
      assert.deepEqual(await store.prune(T0 + 1100.5, 1000), { sessions: 509, events: 0 });
      assert.equal(await client.exists(`${prefix}ends`), 0);
      assert.equal((await store.getSession(later.sid))?.revokedAt, null);
      assert.deepEqual(await store.prune(T0 + 6000, 0), { sessions: 1, events: 0 });
    });

    it('refuses a conflicting event without ending the epoch', async () => {
      const { store, prefix } = freshStore();
      const session = makeSession();
      await store.createSession(session, 0);
      const event = makeGlobalEvent(T0);
      await store.appendEvents([event]);
      await assert.rejects(
        store.revokeAll(T0 + 1, [{ ...makeGlobalEvent(T0 + 1), id: event.id }]),
        expectCode('ERR_STORE_EVENT_CONFLICT'),
      );
      assert.equal(await client.exists(`${prefix}epoch`), 0);
      assert.equal((await store.getSession(session.sid))?.revokedAt, null);
      // The same event again is no conflict.
      await store.revokeAll(T0 + 1, [event]);
      assert.equal((await store.getSession(session.sid))?.revokedAt, T0 + 1);
      assert.equal((await store.readEvents(0, 10)).length, 1);
    });
  });

  describe('redis store: layout 1', () => {
    it('reads keys of layout 1 as epoch 0, and restamps them at the first write', async () => {
      const prefix = freshPrefix();
      const { store } = freshStore({ prefix });
      const live = makeSession();
      const other = makeSession();
      await store.createSession(live, 0);
      await store.createSession(other, 0);
      // What layout 1 wrote: the same keys, without the epoch of each session.
      for (const session of [live, other]) {
        await client.hdel(`${prefix}session:${session.sid}`, 'epoch');
      }
      await client.set(`${prefix}layout`, '1');
      const read = await store.getSession(live.sid);
      assert.equal(read?.revokedAt, null);
      assert.equal(await client.get(`${prefix}layout`), '1', 'a read changes nothing');
      assert.equal(await migrateRedisStore({ client, prefix }), REDIS_LAYOUT_VERSION);
      assert.equal(await client.get(`${prefix}layout`), String(REDIS_LAYOUT_VERSION));
      await store.revokeAll(T0 + 3, []);
      assert.equal((await store.getSession(live.sid))?.revokedAt, T0 + 3);
      assert.deepEqual(await store.listSessions(other.sub), []);
      assert.deepEqual(await store.prune(T0 + 4, 0), { sessions: 2, events: 0 });
    });

    it('restamps layout 1 in any write of the store', async () => {
      const prefix = freshPrefix();
      await client.set(`${prefix}layout`, '1');
      const { store } = freshStore({ prefix });
      await store.bumpGeneration(randomSub());
      assert.equal(await client.get(`${prefix}layout`), String(REDIS_LAYOUT_VERSION));
    });
  });
}
