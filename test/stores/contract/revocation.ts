import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RevocationEvent } from '../../../src/revocation/index.js';
import { REVOKE_EVERYTHING_REASON } from '../../../src/stores/index.js';
import {
  type ContractContext,
  createIn,
  expectCode,
  makeGlobalEvent,
  makeRotation,
  makeSession,
  makeSessionEvent,
  makeSubjectEvent,
  RICH_CLAIMS,
  randomId,
  randomSub,
  T0,
  withFreshStore,
} from './fixtures.js';

/** revokeSessions, revokeAll, generations with claims, and the subject methods. */
export function describeRevocationContract(context: ContractContext): void {
  describe('revokeSessions', () => {
    it('revokes only the listed sessions not revoked yet and returns their sids', async () => {
      const store = context.store();
      const a = makeSession();
      const b = makeSession({ sub: a.sub });
      const before = makeSession({ sub: a.sub });
      const unlisted = makeSession({ sub: a.sub });
      for (const session of [a, b, before, unlisted]) await createIn(store, session);
      assert.deepEqual(await store.revokeSessions([before.sid], T0, 'first', []), [before.sid]);
      const ended = await store.revokeSessions(
        [a.sid, randomId(), before.sid, b.sid, a.sid],
        T0 + 2.5,
        'logout-all',
        [],
      );
      assert.deepEqual([...ended].sort(), [a.sid, b.sid].sort());
      for (const session of [a, b]) {
        assert.deepEqual(await store.getSession(session.sid), {
          ...session,
          revokedAt: T0 + 2.5,
          revokedReason: 'logout-all',
          gen: 0,
          banned: false,
        });
      }
      const first = await store.getSession(before.sid);
      assert.equal(first?.revokedAt, T0);
      assert.equal(first?.revokedReason, 'first');
      assert.deepEqual(await store.listSessions(a.sub), [unlisted]);
      assert.deepEqual(await store.revokeSessions([a.sid, b.sid], T0 + 3, 'again', []), []);
      assert.equal((await store.getSession(a.sid))?.revokedReason, 'logout-all');
    });

    it('appends its events in the same step, in order; a listed session it did not revoke gets no event', async () => {
      const store = context.store();
      const session = makeSession();
      await createIn(store, session);
      const { position } = await store.liveEvents(T0);
      const events = [makeSubjectEvent(session.sub, T0, 1), makeSessionEvent(session.sid)];
      assert.deepEqual(await store.revokeSessions([session.sid], T0, 'ban', events), [session.sid]);
      // Ended already: its event is in the log once. Other events are appended all the same,
      // and so is a session event for a sid the call does not list.
      const unlisted = makeSessionEvent(randomId(), T0 + 1);
      const late = [
        makeSessionEvent(session.sid, T0 + 1),
        makeSubjectEvent(session.sub, T0 + 1, 2),
        unlisted,
      ];
      assert.deepEqual(await store.revokeSessions([session.sid], T0 + 1, 'again', late), []);
      const empty = [makeSubjectEvent(randomSub(), T0 + 2)];
      assert.deepEqual(await store.revokeSessions([], T0 + 2, 'logout-all', empty), []);
      // Left out, an event is not checked against the log either: the same id with another body
      // (a conflict, were it written) changes nothing and refuses nothing.
      const clash = { ...makeSessionEvent(session.sid, T0 + 5), id: events[1]!.id };
      assert.deepEqual(await store.revokeSessions([session.sid], T0 + 5, 'again', [clash]), []);
      // An unknown listed sid is not revoked either.
      const unknown = randomId();
      const ghost = [makeSessionEvent(unknown, T0 + 3)];
      assert.deepEqual(await store.revokeSessions([unknown], T0 + 3, 'logout', ghost), []);
      const appended = await store.readEvents(position, 1000);
      const given = [...events, ...late, ...empty, ...ghost].map((event) => event.id);
      const expected = [...events, late[1]!, unlisted, ...empty].map((event) => event.id);
      assert.deepEqual(
        appended.map((stored) => stored.event.id).filter((id) => given.includes(id)),
        expected,
      );
    });

    it('logs one session event however many concurrent calls end the session', async () => {
      const store = context.store();
      for (let round = 0; round < 5; round++) {
        const session = makeSession();
        await createIn(store, session);
        const { position } = await store.liveEvents(T0);
        const calls = Array.from({ length: 6 }, (_, i) =>
          store.revokeSessions([session.sid], T0 + i, 'logout', [
            makeSessionEvent(session.sid, T0 + i),
          ]),
        );
        const outcomes = await Promise.all(calls);
        assert.deepEqual(outcomes.flat(), [session.sid]);
        const logged = (await store.readEvents(position, 1000)).filter(
          (stored) => stored.event.kind === 'session' && stored.event.target === session.sid,
        );
        assert.equal(logged.length, 1);
      }
    });

    it('lets exactly one of two concurrent revocations of a session report it', async () => {
      const store = context.store();
      for (let round = 0; round < 10; round++) {
        const session = makeSession();
        await createIn(store, session);
        const outcomes = await Promise.all([
          store.revokeSessions([session.sid], T0 + 1, 'one', []),
          store.revokeSessions([session.sid], T0 + 2, 'two', []),
        ]);
        assert.deepEqual(outcomes.flat(), [session.sid]);
        const read = await store.getSession(session.sid);
        const winner = outcomes[0]!.length === 1 ? 'one' : 'two';
        assert.equal(read?.revokedReason, winner);
        assert.equal(read?.revokedAt, winner === 'one' ? T0 + 1 : T0 + 2);
      }
    });
  });

  describe('bumpGeneration with claims', () => {
    it("replaces the claims of the subject's unrevoked sessions only, with the generation", async () => {
      const store = context.store();
      const a = makeSession();
      const expired = makeSession({
        sub: a.sub,
        idleExpiresAt: T0 - 10,
        absoluteExpiresAt: T0 - 5,
      });
      const revoked = makeSession({ sub: a.sub });
      const other = makeSession();
      for (const session of [a, expired, revoked, other]) await createIn(store, session);
      await store.revokeSessions([revoked.sid], T0, 'logout', []);
      assert.equal(await store.bumpGeneration(a.sub, RICH_CLAIMS), 1);
      assert.deepEqual((await store.getSession(a.sid))?.claims, RICH_CLAIMS);
      assert.deepEqual((await store.getSession(expired.sid))?.claims, RICH_CLAIMS);
      assert.deepEqual((await store.getSession(revoked.sid))?.claims, revoked.claims);
      assert.deepEqual((await store.getSession(other.sid))?.claims, other.claims);
      const read = await store.getSession(a.sid);
      assert.deepEqual(read, { ...a, claims: RICH_CLAIMS, gen: 1, banned: false });
      assert.equal(await store.bumpGeneration(a.sub, {}), 2);
      assert.deepEqual((await store.getSession(a.sid))?.claims, {});
      assert.equal(await store.bumpGeneration(a.sub), 3);
      assert.deepEqual((await store.getSession(a.sid))?.claims, {});
      assert.equal(await store.bumpGeneration(randomSub(), { role: 'x' }), 1);
      assert.deepEqual(await store.getSubject(other.sub), { gen: 0, banned: false });
    });

    it('keeps its own copy of the claims', async () => {
      const store = context.store();
      const session = makeSession();
      await createIn(store, session);
      const claims = { tags: ['a'] };
      await store.bumpGeneration(session.sub, claims);
      claims.tags.push('b');
      assert.deepEqual((await store.getSession(session.sid))?.claims, { tags: ['a'] });
    });

    it('never lets a rotation carry the new generation with the old claims', async () => {
      // The race of a refresh with claimsChanged: the refresh read the session (claims and
      // generation together), then the claims and generation changed, then it rotates. The
      // rotation must fail with 'changed', so no token pairs old claims with the new generation.
      const store = context.store();
      for (let round = 0; round < 20; round++) {
        const session = makeSession({ claims: { role: 'admin' } });
        await createIn(store, session);
        const read = await store.getSession(session.sid);
        assert.ok(read !== null);
        const rotate = () =>
          store.rotateRefresh(session.sid, session.refreshHash, read.gen, makeRotation(session));
        const demote = () => store.bumpGeneration(session.sub, { role: 'player' });
        const [outcome] =
          round % 2 === 0
            ? await Promise.all([rotate(), demote()])
            : await Promise.all([demote(), rotate()]).then(([g, o]) => [o, g] as const);
        const after = await store.getSession(session.sid);
        assert.equal(after?.gen, 1);
        assert.deepEqual(after?.claims, { role: 'player' });
        if (outcome.status === 'rotated') assert.equal(outcome.gen, read.gen);
        else assert.equal(outcome.status, 'changed');
      }
    });
  });

  describe('revokeAll', () => {
    it('ends every session that exists, of every subject, and appends its events', async () => {
      await withFreshStore(context, async (store) => {
        const a = makeSession();
        const b = makeSession();
        const c = makeSession({ sub: a.sub });
        const loggedOut = makeSession({ sub: a.sub });
        for (const session of [a, b, c, loggedOut]) await createIn(store, session);
        await store.revokeSessions([loggedOut.sid], T0 + 1, 'logout', []);
        const event = makeGlobalEvent(T0 + 2);
        await store.revokeAll(T0 + 2, [event]);
        for (const session of [a, b, c]) {
          const read = await store.getSession(session.sid);
          assert.equal(read?.revokedAt, T0 + 2);
          assert.equal(read?.revokedReason, REVOKE_EVERYTHING_REASON);
          assert.deepEqual(
            await store.rotateRefresh(session.sid, session.refreshHash, 0, makeRotation(session)),
            { status: 'revoked' },
          );
        }
        const kept = await store.getSession(loggedOut.sid);
        assert.equal(kept?.revokedAt, T0 + 1);
        assert.equal(kept?.revokedReason, 'logout');
        assert.deepEqual(await store.listSessions(a.sub), []);
        assert.deepEqual(await store.listSessions(b.sub), []);
        assert.deepEqual(
          (await store.readEvents(0, 10)).map((stored) => stored.event),
          [event],
        );
      });
    });

    it('lets sessions created after it live, and a second one ends them too', async () => {
      const store = context.store();
      const before = makeSession();
      await createIn(store, before);
      await store.revokeAll(T0 + 5, []);
      const later = makeSession({ sub: before.sub, createdAt: T0 - 100 });
      assert.deepEqual(await createIn(store, later), { created: true, gen: 0 });
      const read = await store.getSession(later.sid);
      assert.equal(read?.revokedAt, null);
      assert.deepEqual(
        (await store.listSessions(before.sub)).map((session) => session.sid),
        [later.sid],
      );
      const next = makeRotation(later);
      assert.deepEqual(await store.rotateRefresh(later.sid, later.refreshHash, 0, next), {
        status: 'rotated',
        gen: 0,
      });
      await store.revokeAll(T0 + 9, []);
      assert.equal((await store.getSession(later.sid))?.revokedAt, T0 + 9);
      // The first one's time stays with the sessions it ended.
      assert.equal((await store.getSession(before.sid))?.revokedAt, T0 + 5);
      assert.deepEqual(await store.listSessions(before.sub), []);
    });

    it('counts a session it ended as ended at its time for prune', async () => {
      await withFreshStore(context, async (store) => {
        const session = makeSession({ idleExpiresAt: T0 + 10_000, absoluteExpiresAt: T0 + 20_000 });
        await createIn(store, session);
        await store.revokeAll(T0 + 1, []);
        assert.deepEqual(await store.prune(T0 + 50, 100), { sessions: 0, events: 0 });
        assert.deepEqual(await store.prune(T0 + 102, 100), { sessions: 1, events: 0 });
        assert.equal(await store.getSession(session.sid), null);
      });
    });

    it('is wholly before or wholly after each concurrent rotation and login', async () => {
      const store = context.store();
      for (let round = 0; round < 10; round++) {
        const session = makeSession();
        await createIn(store, session);
        const fresh = makeSession({ sub: session.sub });
        const at = T0 + 100 + round;
        const [rotated, created] = await Promise.all([
          store.rotateRefresh(session.sid, session.refreshHash, 0, makeRotation(session)),
          createIn(store, fresh),
          store.revokeAll(at, []),
        ]);
        // Whatever the order, the session that existed before ends, and a rotation either came
        // first or was refused.
        assert.ok(rotated.status === 'rotated' || rotated.status === 'revoked');
        const read = await store.getSession(session.sid);
        assert.equal(read?.revokedAt, at);
        assert.equal(created.created, true);
        const freshRead = await store.getSession(fresh.sid);
        // The login either ended with the rest (it came first) or lives (it came after).
        assert.ok(freshRead?.revokedAt === null || freshRead?.revokedAt === at);
      }
    });

    it('refuses bad input with a typed error, changing nothing', async () => {
      await withFreshStore(context, async (store) => {
        const session = makeSession();
        await createIn(store, session);
        for (const at of [-1, Number.NaN, '1', null]) {
          await assert.rejects(
            store.revokeAll(at as number, []),
            expectCode('ERR_INVALID_ARGUMENT'),
          );
        }
        await assert.rejects(
          store.revokeAll(T0, [{ ...makeGlobalEvent(), v: 2 } as unknown as RevocationEvent]),
          expectCode('ERR_REVOCATION_EVENT_INVALID'),
        );
        await assert.rejects(
          store.revokeAll(T0, 'events' as unknown as []),
          expectCode('ERR_INVALID_ARGUMENT'),
        );
        assert.equal((await store.getSession(session.sid))?.revokedAt, null);
        assert.deepEqual(await store.readEvents(0, 10), []);
      });
    });
  });

  describe('subjects', () => {
    it('knows an unknown subject as generation 0, not banned', async () => {
      assert.deepEqual(await context.store().getSubject(randomSub()), { gen: 0, banned: false });
    });

    it('bumps the generation by one and returns it, keeping the ban', async () => {
      const store = context.store();
      const sub = randomSub();
      assert.equal(await store.bumpGeneration(sub), 1);
      await store.setBanned(sub, true, T0);
      assert.equal(await store.bumpGeneration(sub), 2);
      assert.deepEqual(await store.getSubject(sub), { gen: 2, banned: true });
      assert.deepEqual(await store.getSubject(randomSub()), { gen: 0, banned: false });
    });

    it('bumps atomically: 20 concurrent bumps return 1 to 20 and end at 20', async () => {
      const store = context.store();
      const sub = randomSub();
      const values = await Promise.all(Array.from({ length: 20 }, () => store.bumpGeneration(sub)));
      assert.deepEqual(
        [...values].sort((x, y) => x - y),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.deepEqual(await store.getSubject(sub), { gen: 20, banned: false });
    });

    it('sets and clears a ban, idempotently, without touching the generation', async () => {
      const store = context.store();
      const sub = randomSub();
      await store.setBanned(sub, true, T0);
      await store.setBanned(sub, true, T0 + 1);
      assert.deepEqual(await store.getSubject(sub), { gen: 0, banned: true });
      await store.bumpGeneration(sub);
      await store.setBanned(sub, false, T0 + 2);
      assert.deepEqual(await store.getSubject(sub), { gen: 1, banned: false });
      await store.setBanned(sub, false, T0 + 3);
      assert.deepEqual(await store.getSubject(sub), { gen: 1, banned: false });
    });

    it('never lets a login and a ban interleave: a login the ban missed is refused', async () => {
      const store = context.store();
      for (let round = 0; round < 20; round++) {
        const session = makeSession();
        const create = () => createIn(store, session);
        // What the ban flow does: set the flag, then list the sessions to revoke. A session created
        // after that list must have been refused, or it would outlive the ban.
        const ban = async () => {
          await store.setBanned(session.sub, true, T0);
          return store.listSessions(session.sub);
        };
        const [created, listed] =
          round % 2 === 0
            ? await Promise.all([create(), ban()])
            : await Promise.all([ban(), create()]).then(([l, c]) => [c, l] as const);
        const read = await store.getSession(session.sid);
        if (created.created) {
          assert.deepEqual(
            listed.map((s) => s.sid),
            [session.sid],
          );
        } else {
          assert.deepEqual(created, { created: false, reason: 'banned' });
          assert.equal(read, null);
        }
        assert.deepEqual(await store.getSubject(session.sub), { gen: 0, banned: true });
      }
    });
  });
}
