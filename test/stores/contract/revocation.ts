import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ContractContext,
  makeSession,
  makeSessionEvent,
  makeSubjectEvent,
  RICH_CLAIMS,
  randomId,
  randomSub,
  T0,
} from './fixtures.js';

/** revokeSessions, updateClaims and the subject methods. */
export function describeRevocationContract(context: ContractContext): void {
  describe('revokeSessions', () => {
    it('revokes only the listed sessions not revoked yet and returns their sids', async () => {
      const store = context.store();
      const a = makeSession();
      const b = makeSession({ sub: a.sub });
      const before = makeSession({ sub: a.sub });
      const unlisted = makeSession({ sub: a.sub });
      for (const session of [a, b, before, unlisted]) await store.createSession(session);
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

    it('appends its events in the same step, in order, even when nothing was left to revoke', async () => {
      const store = context.store();
      const session = makeSession();
      await store.createSession(session);
      const { position } = await store.liveEvents(T0);
      const events = [makeSubjectEvent(session.sub, T0, 1), makeSessionEvent(session.sid)];
      assert.deepEqual(await store.revokeSessions([session.sid], T0, 'ban', events), [session.sid]);
      const late = [makeSessionEvent(session.sid, T0 + 1)];
      assert.deepEqual(await store.revokeSessions([session.sid], T0 + 1, 'again', late), []);
      const empty = [makeSubjectEvent(randomSub(), T0 + 2)];
      assert.deepEqual(await store.revokeSessions([], T0 + 2, 'logout-all', empty), []);
      const appended = await store.readEvents(position, 1000);
      const ids = [...events, ...late, ...empty].map((event) => event.id);
      assert.deepEqual(
        appended.map((stored) => stored.event.id).filter((id) => ids.includes(id)),
        ids,
      );
    });

    it('lets exactly one of two concurrent revocations of a session report it', async () => {
      const store = context.store();
      for (let round = 0; round < 10; round++) {
        const session = makeSession();
        await store.createSession(session);
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

  describe('updateClaims', () => {
    it("replaces the claims of the subject's unrevoked sessions only, and counts them", async () => {
      const store = context.store();
      const a = makeSession();
      const expired = makeSession({
        sub: a.sub,
        idleExpiresAt: T0 - 10,
        absoluteExpiresAt: T0 - 5,
      });
      const revoked = makeSession({ sub: a.sub });
      const other = makeSession();
      for (const session of [a, expired, revoked, other]) await store.createSession(session);
      await store.revokeSessions([revoked.sid], T0, 'logout', []);
      assert.equal(await store.updateClaims(a.sub, RICH_CLAIMS), 2);
      assert.deepEqual((await store.getSession(a.sid))?.claims, RICH_CLAIMS);
      assert.deepEqual((await store.getSession(expired.sid))?.claims, RICH_CLAIMS);
      assert.deepEqual((await store.getSession(revoked.sid))?.claims, revoked.claims);
      assert.deepEqual((await store.getSession(other.sid))?.claims, other.claims);
      const read = await store.getSession(a.sid);
      assert.deepEqual(read, { ...a, claims: RICH_CLAIMS, gen: 0, banned: false });
      assert.equal(await store.updateClaims(a.sub, {}), 2);
      assert.deepEqual((await store.getSession(a.sid))?.claims, {});
      assert.equal(await store.updateClaims(randomSub(), { role: 'x' }), 0);
    });

    it('keeps its own copy of the claims', async () => {
      const store = context.store();
      const session = makeSession();
      await store.createSession(session);
      const claims = { tags: ['a'] };
      await store.updateClaims(session.sub, claims);
      claims.tags.push('b');
      assert.deepEqual((await store.getSession(session.sid))?.claims, { tags: ['a'] });
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
        const create = () => store.createSession(session);
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
