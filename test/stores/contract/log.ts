import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RevocationEvent } from '../../../src/revocation/index.js';
import type { StoredEvent } from '../../../src/stores/index.js';
import {
  type ContractContext,
  createIn,
  expectCode,
  makeGlobalEvent,
  makeKeyEvent,
  makeSession,
  makeSessionEvent,
  makeSubjectEvent,
  makeTokenEvent,
  randomId,
  randomSub,
  T_PRECISE,
  T0,
  withFreshStore,
} from './fixtures.js';

function ours(read: readonly StoredEvent[], events: readonly RevocationEvent[]): StoredEvent[] {
  return read.filter((stored) => events.some((event) => event.id === stored.event.id));
}

function assertIncreasing(read: readonly StoredEvent[], after: number): void {
  let last = after;
  for (const stored of read) {
    assert.ok(Number.isSafeInteger(stored.seq) && stored.seq > last, 'positions increase');
    last = stored.seq;
  }
}

/** appendEvents, readEvents, liveEvents and prune. */
export function describeLogContract(context: ContractContext): void {
  describe('the revocation log', () => {
    it('appends in order at increasing positions and reads every kind back exactly', async () => {
      const store = context.store();
      const { position } = await store.liveEvents(T0);
      const events = [
        makeTokenEvent(T_PRECISE + 600, T_PRECISE),
        makeSessionEvent(randomId(), T_PRECISE),
        makeSubjectEvent(randomSub(), T0, 7),
        makeSubjectEvent(randomSub(), T0 + 0.5),
        makeGlobalEvent(T0 + 1),
        makeKeyEvent(T0 + 2),
      ];
      await store.appendEvents(events);
      const read = await store.readEvents(position, 1000);
      assertIncreasing(read, position);
      assert.deepEqual(
        ours(read, events).map((stored) => stored.event),
        events,
      );
      assert.ok((await store.liveEvents(T0)).position >= read.at(-1)!.seq);
    });

    it('stores an id once: repeated in a call, in a later call, or by concurrent calls', async () => {
      const store = context.store();
      const { position } = await store.liveEvents(T0);
      const a = makeSessionEvent(randomId());
      const b = makeSessionEvent(randomId());
      const c = makeSessionEvent(randomId());
      await store.appendEvents([a, a, b]);
      await store.appendEvents([{ ...a }, b]);
      await Promise.all(Array.from({ length: 10 }, () => store.appendEvents([c])));
      const read = ours(await store.readEvents(position, 1000), [a, b, c]);
      assert.deepEqual(
        read.map((stored) => stored.event),
        [a, b, c],
      );
      assertIncreasing(read, position);
    });

    it('refuses a known id with other contents, writing nothing of the batch', async () => {
      const store = context.store();
      const { position } = await store.liveEvents(T0);
      const a = makeSessionEvent(randomId());
      await store.appendEvents([a]);
      const impostor = { ...makeSessionEvent(randomId(), T0 + 5), id: a.id };
      const innocent = makeSessionEvent(randomId());
      await assert.rejects(
        store.appendEvents([innocent, impostor]),
        expectCode('ERR_STORE_EVENT_CONFLICT'),
      );
      await assert.rejects(
        store.appendEvents([innocent, { ...innocent, until: innocent.until + 1 }]),
        expectCode('ERR_STORE_EVENT_CONFLICT'),
      );
      const session = makeSession();
      await createIn(store, session);
      await assert.rejects(
        store.revokeSessions([session.sid], T0, 'logout', [impostor]),
        expectCode('ERR_STORE_EVENT_CONFLICT'),
      );
      await assert.rejects(store.revokeAll(T0, [impostor]), expectCode('ERR_STORE_EVENT_CONFLICT'));
      assert.equal((await store.getSession(session.sid))?.revokedAt, null);
      const read = ours(await store.readEvents(position, 1000), [a, innocent, impostor]);
      assert.deepEqual(
        read.map((stored) => stored.event),
        [a],
      );
    });

    it('stores every event of concurrent appends at distinct positions', async () => {
      const store = context.store();
      const { position } = await store.liveEvents(T0);
      const events = Array.from({ length: 20 }, () => makeSessionEvent(randomId()));
      await Promise.all(events.map((event) => store.appendEvents([event])));
      const read = ours(await store.readEvents(position, 1000), events);
      assert.equal(read.length, 20);
      assert.equal(new Set(read.map((stored) => stored.seq)).size, 20);
      assertIncreasing(read, position);
    });

    it('starts empty at position 0, and appending nothing changes nothing', async () => {
      await withFreshStore(context, async (store) => {
        assert.deepEqual(await store.liveEvents(T0), { events: [], position: 0 });
        assert.deepEqual(await store.readEvents(0, 10), []);
        await store.appendEvents([]);
        await store.revokeSessions([], T0, 'logout', []);
        assert.deepEqual(await store.liveEvents(T0), { events: [], position: 0 });
      });
    });

    it('reads in pages after a position, oldest first, at most limit', async () => {
      await withFreshStore(context, async (store) => {
        const events = Array.from({ length: 5 }, (_, i) => makeSessionEvent(randomId(), T0 + i));
        await store.appendEvents(events.slice(0, 2));
        await store.appendEvents(events.slice(2));
        const all = await store.readEvents(0, 100);
        assert.deepEqual(
          all.map((stored) => stored.event),
          events,
        );
        assertIncreasing(all, 0);
        const paged: StoredEvent[] = [];
        // Bounded, so a store that returns the event at `after` again fails instead of looping.
        for (let after = 0, pages = 0; pages < 4; pages++) {
          const page = await store.readEvents(after, 2);
          assert.ok(page.length <= 2);
          paged.push(...page);
          after = page.at(-1)?.seq ?? after;
        }
        assert.deepEqual(paged, all);
        assert.deepEqual(await store.readEvents(all[2]!.seq, 1), [all[3]]);
        assert.deepEqual(await store.readEvents(all.at(-1)!.seq, 10), []);
        assert.equal((await store.liveEvents(T0)).position, all.at(-1)!.seq);
      });
    });

    it('gives the events still in force at now, and the position of the newest event', async () => {
      await withFreshStore(context, async (store) => {
        const now = T0 + 100;
        const live = makeTokenEvent(now + 0.125);
        const endsNow = makeTokenEvent(now);
        const ended = makeTokenEvent(now - 0.125);
        const longLive = makeSubjectEvent(randomSub(), T0, 3);
        await store.appendEvents([live, endsNow, longLive, ended]);
        const all = await store.readEvents(0, 10);
        const result = await store.liveEvents(now);
        assert.deepEqual(result, { events: [all[0], all[2]], position: all[3]!.seq });
        assert.deepEqual(
          result.events.map((stored) => stored.event),
          [live, longLive],
        );
      });
    });

    it('hands out copies of the log', async () => {
      await withFreshStore(context, async (store) => {
        await store.appendEvents([makeSessionEvent(randomId())]);
        const before = structuredClone(await store.readEvents(0, 10));
        const read = await store.readEvents(0, 10);
        (read[0] as { seq: number }).seq = 999;
        read.length = 0;
        const live = await store.liveEvents(T0);
        (live.events[0] as { seq: number }).seq = 999;
        assert.deepEqual(await store.readEvents(0, 10), before);
        assert.deepEqual((await store.liveEvents(T0)).events, before);
      });
    });
  });

  describe('prune', () => {
    it('deletes events whose until has passed and sessions ended more than retention ago', async () => {
      await withFreshStore(context, async (store) => {
        const now = T0 + 1000;
        const cutoff = now - 100;
        const far = { idleExpiresAt: now + 5000, absoluteExpiresAt: now + 9000 };
        const gone = [
          makeSession({ idleExpiresAt: cutoff - 0.5, absoluteExpiresAt: now + 9000 }),
          makeSession({ idleExpiresAt: now + 5000, absoluteExpiresAt: cutoff - 1 }),
          makeSession({ ...far, revokedAt: cutoff - 0.25, revokedReason: 'logout' }),
        ];
        const kept = [
          makeSession({ idleExpiresAt: cutoff, absoluteExpiresAt: now + 9000 }),
          makeSession({ idleExpiresAt: now - 50, absoluteExpiresAt: now + 9000 }),
          makeSession({ ...far, revokedAt: cutoff + 0.25, revokedReason: 'logout' }),
          makeSession(far),
        ];
        for (const session of [...gone, ...kept]) await createIn(store, session);
        const staying = makeTokenEvent(now + 0.5);
        await store.appendEvents([makeTokenEvent(now - 1), staying, makeTokenEvent(now)]);
        const newest = (await store.liveEvents(T0)).position;
        assert.deepEqual(await store.prune(now, 100), { sessions: 3, events: 2 });
        for (const session of gone) assert.equal(await store.getSession(session.sid), null);
        for (const session of kept) {
          assert.deepEqual(await store.getSession(session.sid), {
            ...session,
            gen: 0,
            banned: false,
          });
        }
        assert.deepEqual(await store.listSessions(gone[0]!.sub), []);
        const left = await store.readEvents(0, 10);
        assert.deepEqual(
          left.map((stored) => stored.event),
          [staying],
        );
        assert.deepEqual(await store.prune(now, 100), { sessions: 0, events: 0 });
        // The newest position stays handed out: a reader at it must not miss what comes next.
        assert.equal((await store.liveEvents(now)).position, newest);
        const next = makeSessionEvent(randomId(), now);
        await store.appendEvents([next]);
        const appended = await store.readEvents(newest, 10);
        assert.deepEqual(
          appended.map((stored) => stored.event),
          [next],
        );
      });
    });

    it('with retention 0, deletes every session that has ended before now', async () => {
      await withFreshStore(context, async (store) => {
        const now = T0 + 10;
        const ended = makeSession({ idleExpiresAt: now - 0.125 });
        const endsNow = makeSession({ idleExpiresAt: now });
        await createIn(store, ended);
        await createIn(store, endsNow);
        assert.deepEqual(await store.prune(now, 0), { sessions: 1, events: 0 });
        assert.equal(await store.getSession(ended.sid), null);
        assert.notEqual(await store.getSession(endsNow.sid), null);
      });
    });
  });
}
