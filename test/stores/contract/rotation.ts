import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RefreshRotation, RotateOutcome } from '../../../src/stores/index.js';
import {
  type ContractContext,
  createIn,
  makeRotation,
  makeSession,
  makeSessionEvent,
  randomId,
  rotateIn,
  T_PRECISE,
  T0,
} from './fixtures.js';

/** rotateRefresh: the compare-and-set, each refusal, and its races. */
export function describeRotationContract(context: ContractContext): void {
  describe('rotateRefresh', () => {
    it('writes every member of the rotation and nothing else, and returns the generation', async () => {
      const store = context.store();
      const session = makeSession({ previousHash: 'p0', rotatedAt: T0 - 5, spentHashes: ['s0'] });
      await createIn(store, session);
      await store.bumpGeneration(session.sub);
      const next: RefreshRotation = {
        refreshHash: randomId(),
        previousHash: session.refreshHash,
        rotatedAt: T_PRECISE,
        spentHashes: ['p0', 's0'],
        lastSeenAt: T_PRECISE + 0.25,
        idleExpiresAt: T_PRECISE + 3600.5,
        ip: '192.0.2.7',
        userAgent: 'Firefox 200 (ünï)',
      };
      assert.deepEqual(await rotateIn(store, session.sid, session.refreshHash, next), {
        status: 'rotated',
        gen: 1,
      });
      assert.deepEqual(await store.getSession(session.sid), {
        ...session,
        ...next,
        gen: 1,
        banned: false,
      });
    });

    it("refuses with 'changed' when the subject's generation moved since the read", async () => {
      const store = context.store();
      const session = makeSession();
      await createIn(store, session);
      await store.bumpGeneration(session.sub, { role: 'demoted' });
      const next = makeRotation(session);
      assert.deepEqual(await store.rotateRefresh(session.sid, session.refreshHash, 0, next), {
        status: 'changed',
      });
      assert.deepEqual(await store.getSession(session.sid), {
        ...session,
        claims: { role: 'demoted' },
        gen: 1,
        banned: false,
      });
      // A stale hash is reported before a moved generation: the caller must re-read either way.
      assert.deepEqual(await store.rotateRefresh(session.sid, randomId(), 0, next), {
        status: 'stale',
      });
      assert.deepEqual(await store.rotateRefresh(session.sid, session.refreshHash, 1, next), {
        status: 'rotated',
        gen: 1,
      });
    });

    it('keeps the recorded ip and user agent when the rotation brings none', async () => {
      const store = context.store();
      const session = makeSession();
      await createIn(store, session);
      const first = { ...makeRotation(session), ip: '198.51.100.4', userAgent: null };
      await rotateIn(store, session.sid, session.refreshHash, first);
      let read = await store.getSession(session.sid);
      assert.equal(read?.ip, '198.51.100.4');
      assert.equal(read?.userAgent, session.userAgent);
      const second = { ...makeRotation({ ...session, ...first }), ip: null, userAgent: 'curl/9' };
      await rotateIn(store, session.sid, first.refreshHash, second);
      read = await store.getSession(session.sid);
      assert.equal(read?.ip, '198.51.100.4');
      assert.equal(read?.userAgent, 'curl/9');
    });

    it('follows the chain: the new hash rotates next, the spent one is stale', async () => {
      const store = context.store();
      const session = makeSession();
      await createIn(store, session);
      const first = makeRotation(session, T0 + 10);
      assert.equal(
        (await rotateIn(store, session.sid, session.refreshHash, first)).status,
        'rotated',
      );
      const afterFirst = { ...session, ...first };
      const second = makeRotation(afterFirst, T0 + 20);
      assert.deepEqual(await rotateIn(store, session.sid, session.refreshHash, second), {
        status: 'stale',
      });
      assert.equal(
        (await rotateIn(store, session.sid, first.refreshHash, second)).status,
        'rotated',
      );
      const read = await store.getSession(session.sid);
      assert.equal(read?.refreshHash, second.refreshHash);
      assert.equal(read?.previousHash, first.refreshHash);
      assert.deepEqual(read?.spentHashes, [session.refreshHash]);
    });

    it('is stale for a hash that is not current, and writes nothing', async () => {
      const store = context.store();
      const session = makeSession();
      await createIn(store, session);
      const outcome = await rotateIn(store, session.sid, randomId(), makeRotation(session));
      assert.deepEqual(outcome, { status: 'stale' });
      assert.deepEqual(await store.getSession(session.sid), { ...session, gen: 0, banned: false });
    });

    it('is missing for an unknown sid, and creates nothing', async () => {
      const store = context.store();
      const ghost = makeSession();
      const outcome = await rotateIn(store, ghost.sid, ghost.refreshHash, makeRotation(ghost));
      assert.deepEqual(outcome, { status: 'missing' });
      assert.equal(await store.getSession(ghost.sid), null);
    });

    it('is revoked for a revoked session (before stale), and writes nothing', async () => {
      const store = context.store();
      const session = makeSession();
      await createIn(store, session);
      await store.revokeSessions([session.sid], T0 + 1, 'logout', []);
      const stored = await store.getSession(session.sid);
      const next = makeRotation(session);
      assert.deepEqual(await rotateIn(store, session.sid, session.refreshHash, next), {
        status: 'revoked',
      });
      assert.deepEqual(await rotateIn(store, session.sid, randomId(), next), {
        status: 'revoked',
      });
      await store.setBanned(session.sub, true, T0);
      assert.deepEqual(await rotateIn(store, session.sid, session.refreshHash, next), {
        status: 'revoked',
      });
      assert.deepEqual(await store.getSession(session.sid), { ...stored, banned: true });
    });

    it('is banned while the subject is banned (before stale), and rotates once lifted', async () => {
      const store = context.store();
      const session = makeSession();
      await createIn(store, session);
      await store.setBanned(session.sub, true, T0);
      const next = makeRotation(session);
      assert.deepEqual(await rotateIn(store, session.sid, session.refreshHash, next), {
        status: 'banned',
      });
      assert.deepEqual(await rotateIn(store, session.sid, randomId(), next), {
        status: 'banned',
      });
      assert.deepEqual(await store.getSession(session.sid), { ...session, gen: 0, banned: true });
      await store.setBanned(session.sub, false, T0 + 1);
      assert.deepEqual(await rotateIn(store, session.sid, session.refreshHash, next), {
        status: 'rotated',
        gen: 0,
      });
    });

    it('lets exactly one of 50 concurrent rotations from the same hash win', async () => {
      const store = context.store();
      const session = makeSession();
      await createIn(store, session);
      const rotations = Array.from({ length: 50 }, (_, i) => makeRotation(session, T0 + 10 + i));
      const outcomes = await Promise.all(
        rotations.map((next) => rotateIn(store, session.sid, session.refreshHash, next)),
      );
      const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'rotated' ? [i] : []));
      assert.equal(winners.length, 1, 'exactly one rotation wins');
      for (const outcome of outcomes) {
        if (outcome.status !== 'rotated') assert.deepEqual(outcome, { status: 'stale' });
      }
      const winner = rotations[winners[0]!]!;
      assert.deepEqual(await store.getSession(session.sid), {
        ...session,
        ...winner,
        ip: session.ip,
        userAgent: session.userAgent,
        gen: 0,
        banned: false,
      });
    });

    it('racing a revocation, always ends revoked, with outcomes that agree', async () => {
      const store = context.store();
      for (let round = 0; round < 20; round++) {
        const session = makeSession();
        await createIn(store, session);
        const next = makeRotation(session);
        const event = makeSessionEvent(session.sid, T0 + 1);
        const { position } = await store.liveEvents(T0);
        const rotate = () => rotateIn(store, session.sid, session.refreshHash, next);
        const revoke = () => store.revokeSessions([session.sid], T0 + 1, 'logout', [event]);
        // Alternate which call is issued first, so that each order gets its chance to run first.
        let rotated: RotateOutcome;
        let revoked: string[];
        if (round % 2 === 0) [rotated, revoked] = await Promise.all([rotate(), revoke()]);
        else [revoked, rotated] = await Promise.all([revoke(), rotate()]);
        assert.deepEqual(revoked, [session.sid]);
        const read = await store.getSession(session.sid);
        assert.equal(read?.revokedAt, T0 + 1);
        assert.equal(read?.revokedReason, 'logout');
        if (rotated.status === 'rotated') {
          assert.equal(read?.refreshHash, next.refreshHash);
        } else {
          assert.deepEqual(rotated, { status: 'revoked' });
          assert.equal(read?.refreshHash, session.refreshHash);
        }
        const appended = await store.readEvents(position, 1000);
        assert.ok(appended.some((stored) => stored.event.id === event.id));
      }
    });
  });
}
