import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionRecord } from '../../../src/stores/index.js';
import {
  type ContractContext,
  createIn,
  makeRotation,
  makeSession,
  RICH_CLAIMS,
  randomId,
  randomSub,
  rotateIn,
  T_PRECISE,
  T0,
  withFreshStore,
} from './fixtures.js';

/** createSession, getSession, listSessions, and copies in and out. */
export function describeSessionContract(context: ContractContext): void {
  describe('createSession and getSession', () => {
    it('reads every field back exactly, with the subject joined', async () => {
      const store = context.store();
      const session = makeSession({
        createdAt: T_PRECISE,
        lastSeenAt: T_PRECISE + 1,
        idleExpiresAt: T_PRECISE + 3600,
        absoluteExpiresAt: T_PRECISE + 86_400,
        authTime: T_PRECISE - 0.5,
        claims: RICH_CLAIMS,
        previousHash: 'p',
        rotatedAt: T0 + 0.5,
        spentHashes: ['c', 'a', 'b', 'a0'],
      });
      assert.deepEqual(await createIn(store, session), { created: true, gen: 0 });
      assert.deepEqual(await store.getSession(session.sid), { ...session, gen: 0, banned: false });
    });

    it('round-trips null members, empty claims and a session created revoked', async () => {
      const store = context.store();
      const bare = makeSession({ device: null, ip: null, userAgent: null, claims: {} });
      const ended = makeSession({ revokedAt: T0 + 0.75, revokedReason: 'imported' });
      for (const session of [bare, ended]) await createIn(store, session);
      assert.deepEqual(await store.getSession(bare.sid), { ...bare, gen: 0, banned: false });
      assert.deepEqual(await store.getSession(ended.sid), { ...ended, gen: 0, banned: false });
      assert.deepEqual(await store.listSessions(ended.sub), []);
    });

    it('gives null for an unknown sid', async () => {
      assert.equal(await context.store().getSession(randomId()), null);
    });

    it('refuses a duplicate sid and keeps the first session untouched', async () => {
      const store = context.store();
      const session = makeSession();
      await createIn(store, session);
      const twin = makeSession({ sid: session.sid, sub: randomSub(), device: 'other' });
      assert.deepEqual(await createIn(store, twin), { created: false, reason: 'exists' });
      assert.deepEqual(await store.getSession(session.sid), { ...session, gen: 0, banned: false });
      assert.deepEqual(await store.listSessions(twin.sub), []);
    });

    it('is idempotent for the same record (a replayed call), and only while it lives', async () => {
      const store = context.store();
      const session = makeSession();
      assert.deepEqual(await createIn(store, session), { created: true, gen: 0 });
      assert.deepEqual(await createIn(store, session), { created: true, gen: 0 });
      assert.deepEqual(await store.listSessions(session.sub), [session]);
      // Same sid and hash under another subject is not a replay.
      const impostor = { ...session, sub: randomSub() };
      assert.deepEqual(await createIn(store, impostor), { created: false, reason: 'exists' });
      await store.revokeSessions([session.sid], T0 + 1, 'logout', []);
      assert.deepEqual(await createIn(store, session), { created: false, reason: 'exists' });
      assert.equal((await store.getSession(session.sid))?.revokedReason, 'logout');
    });

    it("refuses with 'changed' when the subject's generation moved, storing nothing", async () => {
      const store = context.store();
      const session = makeSession();
      await store.bumpGeneration(session.sub);
      assert.deepEqual(await store.createSession(session, 0), {
        created: false,
        reason: 'changed',
      });
      assert.equal(await store.getSession(session.sid), null);
      assert.deepEqual(await store.createSession(session, 2), {
        created: false,
        reason: 'changed',
      });
      assert.deepEqual(await store.createSession(session, 1), { created: true, gen: 1 });
      // A ban is reported before a moved generation.
      const banned = makeSession();
      await store.setBanned(banned.sub, true, T0);
      await store.bumpGeneration(banned.sub);
      assert.deepEqual(await store.createSession(banned, 0), {
        created: false,
        reason: 'banned',
      });
    });

    it('refuses a banned subject and stores nothing, until the ban is lifted', async () => {
      const store = context.store();
      const session = makeSession();
      await store.bumpGeneration(session.sub);
      await store.setBanned(session.sub, true, T0);
      assert.deepEqual(await createIn(store, session), { created: false, reason: 'banned' });
      assert.equal(await store.getSession(session.sid), null);
      assert.deepEqual(await store.listSessions(session.sub), []);
      await store.setBanned(session.sub, false, T0 + 1);
      assert.deepEqual(await createIn(store, session), { created: true, gen: 1 });
    });

    it("returns the subject's generation at creation and joins the current one on every read", async () => {
      const store = context.store();
      const session = makeSession();
      assert.equal(await store.bumpGeneration(session.sub), 1);
      assert.equal(await store.bumpGeneration(session.sub), 2);
      assert.deepEqual(await createIn(store, session), { created: true, gen: 2 });
      await store.bumpGeneration(session.sub);
      await store.setBanned(session.sub, true, T0);
      assert.deepEqual(await store.getSession(session.sid), { ...session, gen: 3, banned: true });
      await store.setBanned(session.sub, false, T0);
      const read = await store.getSession(session.sid);
      assert.equal(read?.gen, 3);
      assert.equal(read?.banned, false);
    });

    it('stores only the members of a session record', async () => {
      const store = context.store();
      const session = makeSession();
      const padded = { ...session, gen: 99, banned: true, extra: 'x' } as SessionRecord;
      assert.deepEqual(await createIn(store, padded), { created: true, gen: 0 });
      assert.deepEqual(await store.getSession(session.sid), { ...session, gen: 0, banned: false });
      assert.deepEqual(await store.listSessions(session.sub), [session]);
    });

    it('keeps its own copy: changing the record given, or one returned, changes nothing', async () => {
      const store = context.store();
      const original = makeSession({
        spentHashes: ['s1'],
        claims: { role: 'player', tags: ['a'] },
      });
      const given = structuredClone(original) as {
        claims: { role: string; tags: string[] };
        spentHashes: string[];
        device: string;
      } & SessionRecord;
      await createIn(store, given);
      given.claims.tags.push('given');
      given.spentHashes.push('given');
      given.device = 'given';
      const read = (await store.getSession(original.sid)) as unknown as typeof given;
      read.claims.role = 'admin';
      read.claims.tags.push('read');
      read.spentHashes.push('read');
      const listed = (await store.listSessions(original.sub)) as unknown as (typeof given)[];
      listed[0]!.claims.tags.push('listed');
      listed[0]!.spentHashes.length = 0;
      assert.deepEqual(await store.getSession(original.sid), {
        ...original,
        gen: 0,
        banned: false,
      });
    });
  });

  describe('listSessions', () => {
    it("lists only the subject's unrevoked sessions, newest first, expired ones included", async () => {
      const store = context.store();
      const sub = randomSub();
      const older = makeSession({ sub, createdAt: T0 + 1.25 });
      const newest = makeSession({ sub, createdAt: T0 + 3 });
      const newer = makeSession({ sub, createdAt: T0 + 1.5 });
      const expired = makeSession({
        sub,
        createdAt: T0 - 100_000,
        idleExpiresAt: T0 - 90_000,
        absoluteExpiresAt: T0 - 10_000,
      });
      const revoked = makeSession({ sub, createdAt: T0 + 2 });
      for (const session of [older, newest, revoked, expired, newer, makeSession()]) {
        await createIn(store, session);
      }
      await store.revokeSessions([revoked.sid], T0 + 4, 'logout', []);
      assert.deepEqual(await store.listSessions(sub), [newest, newer, older, expired]);
    });

    it('lists sessions created at the same instant, and nothing for an unknown subject', async () => {
      const store = context.store();
      const sub = randomSub();
      const a = makeSession({ sub });
      const b = makeSession({ sub });
      await createIn(store, a);
      await createIn(store, b);
      const sids = (await store.listSessions(sub)).map((session) => session.sid);
      assert.deepEqual(sids.sort(), [a.sid, b.sid].sort());
      assert.deepEqual(await store.listSessions(randomSub()), []);
    });

    it('shows what rotations and claim updates wrote', async () => {
      const store = context.store();
      const session = makeSession();
      await createIn(store, session);
      const next = makeRotation(session);
      await rotateIn(store, session.sid, session.refreshHash, next);
      await store.bumpGeneration(session.sub, { role: 'admin' });
      assert.deepEqual(await store.listSessions(session.sub), [
        {
          ...session,
          ...next,
          ip: session.ip,
          userAgent: session.userAgent,
          claims: { role: 'admin' },
        },
      ]);
    });
  });
  describe('persistent', () => {
    it('says whether the store outlives this process, as a boolean', () => {
      assert.equal(typeof context.store().persistent, 'boolean');
    });
  });

  describe('close', () => {
    it('resolves, and leaves the client to its owner (the teardown still works)', async () => {
      await withFreshStore(context, async (store) => {
        await createIn(store, makeSession());
        await store.close();
      });
    });
  });
}
