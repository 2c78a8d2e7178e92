import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isRevocableError } from '../../src/errors/index.js';
import {
  createSessionRevocation,
  createSubjectRevocation,
  createTokenRevocation,
  type RevocationEvent,
} from '../../src/revocation/index.js';
import type { SessionRecord, Store } from '../../src/stores/index.js';

/** A store under test and how to dispose of it. */
export interface StoreSetup {
  store: Store;
  teardown(): Promise<void>;
}

const T0 = 1_900_000_000.125;
const TIMING = { maxAccessTokenLifetime: 600, clockSkew: 5 };

/** A fresh random id (22 base64url characters, like a sid). */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/** A valid session record with fresh ids; `overrides` replace any field. */
export function makeSession(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    sid: randomId(),
    sub: `sub-${randomId()}`,
    createdAt: T0,
    lastSeenAt: T0,
    idleExpiresAt: T0 + 3600.5,
    absoluteExpiresAt: T0 + 86400.25,
    authTime: Math.floor(T0),
    device: 'Pixel 8',
    ip: '2001:db8::1',
    userAgent: 'Mozilla/5.0 (Ünïcødé; 漢字)',
    claims: { role: 'player', nested: { list: [1, 'two', null], flag: true }, text: 'ünï 漢字 🎮' },
    refreshHash: randomId(),
    previousHash: null,
    rotatedAt: null,
    spentHashes: [],
    revokedAt: null,
    revokedReason: null,
    ...overrides,
  };
}

/** A valid rotation for `from`'s refresh chain. */
export function makeRotation(from: SessionRecord, at = T0 + 10) {
  return {
    refreshHash: randomId(),
    previousHash: from.refreshHash,
    rotatedAt: at,
    spentHashes: from.previousHash === null ? [] : [from.previousHash, ...from.spentHashes],
    lastSeenAt: at,
    idleExpiresAt: at + 3600,
  };
}

function sessionEvent(sid: string, at = T0): RevocationEvent {
  return createSessionRevocation({ sid, at }, TIMING);
}

function expectCode(code: string) {
  return (error: unknown) => {
    assert.ok(isRevocableError(error), `expected a RevocableError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

/**
 * The contract every store passes against the real thing: each method, each rule, the atomic
 * compare-and-set operations under concurrency, and bad input that changes nothing.
 */
export function describeStoreContract(name: string, setup: () => Promise<StoreSetup>): void {
  describe(`store contract: ${name}`, () => {
    let context: StoreSetup;
    let store: Store;
    before(async () => {
      context = await setup();
      store = context.store;
    });
    after(async () => {
      await context.teardown();
    });

    it('creates a session and reads every field back exactly, with the subject joined', async () => {
      const session = makeSession({
        spentHashes: ['c', 'b', 'a'],
        previousHash: 'p',
        rotatedAt: T0 + 0.5,
      });
      assert.deepEqual(await store.createSession(session), { created: true, gen: 0 });
      const read = await store.getSession(session.sid);
      assert.deepEqual(read, { ...session, gen: 0, banned: false });
      assert.equal(await store.getSession(randomId()), null);
    });

    it('refuses a duplicate sid and a banned subject, storing nothing', async () => {
      const session = makeSession();
      await store.createSession(session);
      assert.deepEqual(await store.createSession({ ...session, device: 'other' }), {
        created: false,
        reason: 'exists',
      });
      assert.equal((await store.getSession(session.sid))?.device, 'Pixel 8');
      const banned = makeSession();
      await store.setBanned(banned.sub, true, T0);
      assert.deepEqual(await store.createSession(banned), { created: false, reason: 'banned' });
      assert.equal(await store.getSession(banned.sid), null);
    });

    it('returns the current generation at creation and in every read', async () => {
      const session = makeSession();
      assert.equal(await store.bumpGeneration(session.sub), 1);
      assert.equal(await store.bumpGeneration(session.sub), 2);
      assert.deepEqual(await store.createSession(session), { created: true, gen: 2 });
      await store.bumpGeneration(session.sub);
      assert.equal((await store.getSession(session.sid))?.gen, 3);
      assert.deepEqual(await store.getSubject(session.sub), { gen: 3, banned: false });
      assert.deepEqual(await store.getSubject(`sub-${randomId()}`), { gen: 0, banned: false });
    });

    it("lists a subject's unrevoked sessions, newest first", async () => {
      const sub = `sub-${randomId()}`;
      const a = makeSession({ sub, createdAt: T0 + 1 });
      const b = makeSession({ sub, createdAt: T0 + 3 });
      const c = makeSession({ sub, createdAt: T0 + 2 });
      for (const session of [a, b, c, makeSession()]) await store.createSession(session);
      await store.revokeSessions([c.sid], T0 + 4, 'logout', []);
      assert.deepEqual(
        (await store.listSessions(sub)).map((s) => s.sid),
        [b.sid, a.sid],
      );
      assert.deepEqual(await store.listSessions(`sub-${randomId()}`), []);
    });

    it('rotates the refresh chain only from the expected hash, writing every field', async () => {
      const session = makeSession();
      await store.createSession(session);
      const next = makeRotation(session);
      assert.deepEqual(await store.rotateRefresh(session.sid, 'not-the-hash', next), {
        status: 'stale',
      });
      assert.equal((await store.getSession(session.sid))?.refreshHash, session.refreshHash);
      assert.deepEqual(await store.rotateRefresh(session.sid, session.refreshHash, next), {
        status: 'rotated',
        gen: 0,
      });
      const read = await store.getSession(session.sid);
      assert.deepEqual(read, { ...session, ...next, gen: 0, banned: false });
      const again = makeRotation(read!);
      assert.equal(
        (await store.rotateRefresh(session.sid, next.refreshHash, again)).status,
        'rotated',
      );
      assert.deepEqual((await store.getSession(session.sid))?.spentHashes, [session.refreshHash]);
    });

    it('refuses to rotate a missing, revoked or banned session', async () => {
      const missing = makeSession();
      assert.deepEqual(
        await store.rotateRefresh(missing.sid, missing.refreshHash, makeRotation(missing)),
        { status: 'missing' },
      );
      const revoked = makeSession();
      await store.createSession(revoked);
      await store.revokeSessions([revoked.sid], T0, 'logout', []);
      assert.deepEqual(
        await store.rotateRefresh(revoked.sid, revoked.refreshHash, makeRotation(revoked)),
        { status: 'revoked' },
      );
      const banned = makeSession();
      await store.createSession(banned);
      await store.setBanned(banned.sub, true, T0);
      assert.deepEqual(
        await store.rotateRefresh(banned.sid, banned.refreshHash, makeRotation(banned)),
        { status: 'banned' },
      );
      assert.equal((await store.getSession(banned.sid))?.refreshHash, banned.refreshHash);
      assert.equal((await store.getSession(banned.sid))?.banned, true);
      await store.setBanned(banned.sub, false, T0);
      assert.equal(
        (await store.rotateRefresh(banned.sid, banned.refreshHash, makeRotation(banned))).status,
        'rotated',
      );
    });

    it('lets exactly one of 50 concurrent rotations from the same hash win', async () => {
      const session = makeSession();
      await store.createSession(session);
      const rotations = Array.from({ length: 50 }, () => makeRotation(session));
      const outcomes = await Promise.all(
        rotations.map((next) => store.rotateRefresh(session.sid, session.refreshHash, next)),
      );
      const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'rotated' ? [i] : []));
      assert.equal(winners.length, 1);
      assert.ok(
        outcomes.every((outcome) => outcome.status === 'rotated' || outcome.status === 'stale'),
      );
      assert.equal(
        (await store.getSession(session.sid))?.refreshHash,
        rotations[winners[0]!]!.refreshHash,
      );
    });

    it('a rotation racing a revocation always ends revoked', async () => {
      for (let round = 0; round < 20; round++) {
        const session = makeSession();
        await store.createSession(session);
        await Promise.all([
          store.rotateRefresh(session.sid, session.refreshHash, makeRotation(session)),
          store.revokeSessions([session.sid], T0 + 1, 'logout', [sessionEvent(session.sid)]),
        ]);
        const read = await store.getSession(session.sid);
        assert.equal(read?.revokedAt, T0 + 1);
        assert.equal(read?.revokedReason, 'logout');
      }
    });

    it('revokes only unrevoked listed sessions and appends the events in the same step', async () => {
      const a = makeSession();
      const b = makeSession({ sub: a.sub });
      await store.createSession(a);
      await store.createSession(b);
      const { position } = await store.liveEvents(T0);
      const events = [sessionEvent(a.sid), sessionEvent(b.sid)];
      const ended = await store.revokeSessions(
        [a.sid, b.sid, randomId()],
        T0 + 2.5,
        'logout-all',
        events,
      );
      assert.deepEqual(ended.sort(), [a.sid, b.sid].sort());
      assert.deepEqual(await store.revokeSessions([a.sid], T0 + 3, 'again', []), []);
      const read = await store.getSession(a.sid);
      assert.equal(read?.revokedAt, T0 + 2.5);
      assert.equal(read?.revokedReason, 'logout-all');
      const appended = await store.readEvents(position, 100);
      assert.deepEqual(
        appended
          .map((stored) => stored.event.id)
          .filter((id) => events.some((e) => e.id === id))
          .sort(),
        events.map((e) => e.id).sort(),
      );
    });

    it("replaces the claims of a subject's live sessions only", async () => {
      const a = makeSession();
      const revoked = makeSession({ sub: a.sub });
      const other = makeSession();
      for (const session of [a, revoked, other]) await store.createSession(session);
      await store.revokeSessions([revoked.sid], T0, 'logout', []);
      assert.equal(await store.updateClaims(a.sub, { role: 'admin', tags: ['x'] }), 1);
      assert.deepEqual((await store.getSession(a.sid))?.claims, { role: 'admin', tags: ['x'] });
      assert.deepEqual((await store.getSession(revoked.sid))?.claims, revoked.claims);
      assert.deepEqual((await store.getSession(other.sid))?.claims, other.claims);
    });

    it('bumps generations atomically under concurrency', async () => {
      const sub = `sub-${randomId()}`;
      const values = await Promise.all(Array.from({ length: 20 }, () => store.bumpGeneration(sub)));
      assert.deepEqual(
        [...values].sort((x, y) => x - y),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.equal((await store.getSubject(sub)).gen, 20);
    });

    it('sets and clears a ban', async () => {
      const sub = `sub-${randomId()}`;
      await store.setBanned(sub, true, T0);
      assert.deepEqual(await store.getSubject(sub), { gen: 0, banned: true });
      await store.setBanned(sub, false, T0 + 1);
      assert.deepEqual(await store.getSubject(sub), { gen: 0, banned: false });
    });

    it('appends events in order, once per id, and reads them by position', async () => {
      const { position } = await store.liveEvents(T0);
      const events = Array.from({ length: 5 }, (_, i) =>
        createSubjectRevocation({ sub: `sub-${randomId()}`, gen: i + 1, at: T0 + i }, TIMING),
      );
      await store.appendEvents(events.slice(0, 3));
      await store.appendEvents(events.slice(2));
      const read = await store.readEvents(position, 100);
      const ours = read.filter((stored) => events.some((e) => e.id === stored.event.id));
      assert.deepEqual(
        ours.map((stored) => stored.event),
        events,
      );
      for (let i = 1; i < read.length; i++) assert.ok(read[i]!.seq > read[i - 1]!.seq);
      assert.ok(read.every((stored) => stored.seq > position));
      const page = await store.readEvents(position, 2);
      assert.equal(page.length, 2);
      const rest = await store.readEvents(page[1]!.seq, 100);
      assert.deepEqual(
        [...page, ...rest].map((s) => s.seq),
        read.map((s) => s.seq),
      );
    });

    it('gives the live events and the log position; prunes what has expired', async () => {
      const far = T0 + 10_000_000;
      const token = createTokenRevocation({ jti: randomId(), exp: far + 100, at: far }, {});
      const soon = createTokenRevocation({ jti: randomId(), exp: far + 10, at: far }, {});
      await store.appendEvents([token, soon]);
      const live = await store.liveEvents(far + 50);
      assert.ok(live.events.some((stored) => stored.event.id === token.id));
      assert.ok(!live.events.some((stored) => stored.event.id === soon.id));
      assert.ok(live.position >= Math.max(...live.events.map((s) => s.seq)));
      const old = makeSession({ idleExpiresAt: far - 1000, absoluteExpiresAt: far - 500 });
      const young = makeSession({ idleExpiresAt: far + 1000, absoluteExpiresAt: far + 5000 });
      await store.createSession(old);
      await store.createSession(young);
      const pruned = await store.prune(far + 50, 100);
      assert.ok(pruned.events >= 1);
      assert.ok(pruned.sessions >= 1);
      assert.equal(await store.getSession(old.sid), null);
      assert.notEqual(await store.getSession(young.sid), null);
      const after = await store.liveEvents(far + 50);
      assert.ok(after.events.some((stored) => stored.event.id === token.id));
      assert.ok(after.position >= live.position);
    });

    it('hands out copies: changing a returned record changes nothing stored', async () => {
      const session = makeSession();
      await store.createSession(session);
      const read = (await store.getSession(session.sid)) as unknown as Record<string, unknown>;
      (read.claims as Record<string, unknown>).role = 'admin';
      (read.spentHashes as string[]).push('x');
      const again = await store.getSession(session.sid);
      assert.equal(again?.claims.role, 'player');
      assert.deepEqual(again?.spentHashes, []);
    });

    it('refuses bad input with ERR_INVALID_ARGUMENT and changes nothing', async () => {
      const good = makeSession();
      const bad: unknown[] = [
        null,
        { ...good, sid: 42 },
        { ...good, sub: '' },
        { ...good, createdAt: Number.NaN },
        { ...good, idleExpiresAt: 'soon' },
        { ...good, claims: [] },
        { ...good, claims: null },
        { ...good, spentHashes: 'x' },
        { ...good, device: 7 },
      ];
      for (const value of bad) {
        await assert.rejects(
          store.createSession(value as SessionRecord),
          expectCode('ERR_INVALID_ARGUMENT'),
        );
      }
      assert.equal(await store.getSession(good.sid), null);
      await store.createSession(good);
      await assert.rejects(
        store.rotateRefresh(good.sid, good.refreshHash, {
          ...makeRotation(good),
          rotatedAt: Number.POSITIVE_INFINITY,
        }),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      await assert.rejects(
        store.rotateRefresh(good.sid, 5 as unknown as string, makeRotation(good)),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      await assert.rejects(
        store.getSession(undefined as unknown as string),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      await assert.rejects(
        store.revokeSessions([good.sid], Number.NaN, 'logout', []),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      await assert.rejects(
        store.revokeSessions([good.sid], T0, 'logout', [
          { v: 2, kind: 'nope' } as unknown as RevocationEvent,
        ]),
        expectCode('ERR_REVOCATION_EVENT_INVALID'),
      );
      await assert.rejects(
        store.updateClaims(good.sub, 'x' as unknown as Record<string, unknown>),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      await assert.rejects(
        store.setBanned(good.sub, 'yes' as unknown as boolean, T0),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      await assert.rejects(store.readEvents(0, 0), expectCode('ERR_INVALID_ARGUMENT'));
      const read = await store.getSession(good.sid);
      assert.deepEqual(read, { ...good, gen: 0, banned: false });
      assert.deepEqual(await store.getSubject(good.sub), { gen: 0, banned: false });
    });
  });
}
