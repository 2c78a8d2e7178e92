import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ErrorCode } from '../../../src/errors/index.js';
import type { RevocationEvent } from '../../../src/revocation/index.js';
import type { RefreshRotation, SessionRecord, Store } from '../../../src/stores/index.js';
import {
  type ContractContext,
  createIn,
  expectCode,
  makeRotation,
  makeSession,
  makeSessionEvent,
  T0,
} from './fixtures.js';

const INVALID: ErrorCode = 'ERR_INVALID_ARGUMENT';
const LONG = 'x'.repeat(257);

// Values no store may accept where a time is expected.
const BAD_TIMES: unknown[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -1,
  '1900000000',
  null,
  undefined,
];
// Lone surrogates have no exact UTF-8 form: a driver would merge `user\ud800` with `user\ufffd`.
const BAD_IDS: unknown[] = [
  undefined,
  null,
  42,
  '',
  LONG,
  {},
  ['sid'],
  'user\ud800',
  '\udc00user',
  'user\n2',
  'user\u0000',
];
const BAD_GENERATIONS: unknown[] = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '0', null];

function cyclic(): Record<string, unknown> {
  const value: Record<string, unknown> = { a: 1 };
  value.self = value;
  return value;
}

// Claims that are not a JSON object, or would not read back as given.
const BAD_CLAIMS: unknown[] = [
  null,
  'x',
  [],
  [{ a: 1 }],
  42,
  { a: undefined },
  { a: Number.NaN },
  { a: { b: Number.POSITIVE_INFINITY } },
  { when: new Date(0) },
  { map: new Map() },
  { f: () => 1 },
  { big: 1n },
  cyclic(),
  { text: 'x'.repeat(70_000) },
];

function variants<T extends object>(
  good: T,
  field: keyof T & string,
  values: unknown[],
): unknown[] {
  return values.map((value) => ({ ...good, [field]: value }));
}

function without<T extends object>(good: T, field: keyof T & string): unknown {
  const copy: Record<string, unknown> = { ...(good as Record<string, unknown>) };
  delete copy[field];
  return copy;
}

/** Everything a read can see of one session and its subject, and of the log's end. */
async function snapshot(store: Store, session: SessionRecord) {
  const { position } = await store.liveEvents(T0);
  return {
    session: await store.getSession(session.sid),
    list: await store.listSessions(session.sub),
    subject: await store.getSubject(session.sub),
    position,
    tail: await store.readEvents(position, 10),
  };
}

async function rejectsAll(calls: Array<() => Promise<unknown>>, code: ErrorCode = INVALID) {
  for (const [i, call] of calls.entries()) {
    await assert.rejects(call(), expectCode(code), `bad call #${i}`);
  }
}

/** Bad input to every method: a typed error, and nothing written. */
export function describeInputContract(context: ContractContext): void {
  describe('bad input', () => {
    it('createSession refuses a malformed record and stores nothing', async () => {
      const store = context.store();
      const good = makeSession();
      const bad: unknown[] = [null, 'session', [good], 42];
      for (const field of ['sid', 'sub'] as const) bad.push(...variants(good, field, BAD_IDS));
      for (const field of [
        'createdAt',
        'lastSeenAt',
        'idleExpiresAt',
        'absoluteExpiresAt',
        'authTime',
      ] as const) {
        bad.push(...variants(good, field, BAD_TIMES), without(good, field));
      }
      for (const field of ['rotatedAt', 'revokedAt'] as const) {
        bad.push(...variants(good, field, [Number.NaN, 'soon', -5]), without(good, field));
      }
      for (const field of ['device', 'ip', 'userAgent', 'revokedReason'] as const) {
        bad.push(...variants(good, field, [7, {}, 'x'.repeat(513)]), without(good, field));
      }
      bad.push(...variants(good, 'claims', BAD_CLAIMS), without(good, 'claims'));
      bad.push(...variants(good, 'refreshHash', [null, '', 5, 'h'.repeat(513)]));
      bad.push(...variants(good, 'previousHash', ['', 5]), without(good, 'previousHash'));
      bad.push(...variants(good, 'spentHashes', ['x', null, [1], [''], { 0: 'a' }]));
      bad.push(without(good, 'spentHashes'));
      await rejectsAll(bad.map((value) => () => store.createSession(value as SessionRecord, 0)));
      assert.equal(await store.getSession(good.sid), null);
      assert.deepEqual(await store.listSessions(good.sub), []);
      assert.deepEqual(await createIn(store, good), { created: true, gen: 0 });
    });

    it('every other method refuses bad arguments and changes nothing', async () => {
      const store = context.store();
      const good = makeSession();
      await createIn(store, good);
      // An ended session a bad prune must not delete.
      const old = makeSession({ sub: good.sub, idleExpiresAt: T0 - 1000, absoluteExpiresAt: T0 });
      await createIn(store, old);
      const before = await snapshot(store, good);
      const next = makeRotation(good);
      const rotations: unknown[] = [null, 'next', [next]];
      for (const field of ['refreshHash', 'previousHash'] as const) {
        rotations.push(...variants(next, field, [null, '', 5]), without(next, field));
      }
      for (const field of ['rotatedAt', 'lastSeenAt', 'idleExpiresAt'] as const) {
        rotations.push(...variants(next, field, BAD_TIMES));
      }
      rotations.push(...variants(next, 'spentHashes', ['x', null, [3], ['']]));
      for (const field of ['ip', 'userAgent'] as const) {
        rotations.push(...variants(next, field, [7, {}, 'x'.repeat(513)]), without(next, field));
      }
      const calls: Array<() => Promise<unknown>> = [
        ...BAD_IDS.map((sid) => () => store.getSession(sid as string)),
        ...BAD_IDS.map((sub) => () => store.listSessions(sub as string)),
        ...BAD_IDS.map(
          (sid) => () => store.rotateRefresh(sid as string, good.refreshHash, 0, next),
        ),
        ...[null, '', 5].map(
          (hash) => () => store.rotateRefresh(good.sid, hash as unknown as string, 0, next),
        ),
        ...rotations.map(
          (value) => () =>
            store.rotateRefresh(good.sid, good.refreshHash, 0, value as RefreshRotation),
        ),
        ...['sid', null, [42], [''], [LONG], [good.sid, 7]].map(
          (sids) => () => store.revokeSessions(sids as string[], T0, 'logout', []),
        ),
        ...BAD_TIMES.map((at) => () => store.revokeSessions([good.sid], at as number, 'x', [])),
        ...[null, '', 5].map(
          (reason) => () => store.revokeSessions([good.sid], T0, reason as string, []),
        ),
        () => store.revokeSessions([good.sid], T0, 'logout', 'events' as unknown as []),
        ...BAD_IDS.map((sub) => () => store.bumpGeneration(sub as string, { role: 'x' })),
        ...BAD_CLAIMS.map(
          (claims) => () => store.bumpGeneration(good.sub, claims as Record<string, unknown>),
        ),
        ...BAD_GENERATIONS.map(
          (gen) => () => store.createSession(makeSession({ sub: good.sub }), gen as number),
        ),
        ...BAD_GENERATIONS.map(
          (gen) => () =>
            store.rotateRefresh(good.sid, good.refreshHash, gen as number, makeRotation(good)),
        ),
        ...BAD_IDS.map((sub) => () => store.getSubject(sub as string)),
        ...BAD_IDS.map((sub) => () => store.bumpGeneration(sub as string)),
        ...BAD_IDS.map((sub) => () => store.setBanned(sub as string, true, T0)),
        ...['yes', 1, 0, null, undefined].map(
          (banned) => () => store.setBanned(good.sub, banned as unknown as boolean, T0),
        ),
        ...BAD_TIMES.map((at) => () => store.setBanned(good.sub, true, at as number)),
        ...[null, 'events', { 0: makeSessionEvent(good.sid) }].map(
          (events) => () => store.appendEvents(events as unknown as RevocationEvent[]),
        ),
        ...[-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '0', null].map(
          (after) => () => store.readEvents(after as number, 10),
        ),
        ...[0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null].map(
          (limit) => () => store.readEvents(0, limit as number),
        ),
        ...BAD_TIMES.map((now) => () => store.liveEvents(now as number)),
        ...BAD_TIMES.map((now) => () => store.prune(now as number, 0)),
        ...[-1, Number.NaN, Number.POSITIVE_INFINITY, '0', null].map(
          (retention) => () => store.prune(T0 + 10_000, retention as number),
        ),
      ];
      await rejectsAll(calls);
      assert.deepEqual(await snapshot(store, good), before);
      assert.notEqual(await store.getSession(old.sid), null);
    });

    it('refuses an invalid event with ERR_REVOCATION_EVENT_INVALID, writing none of the batch', async () => {
      const store = context.store();
      const good = makeSession();
      await createIn(store, good);
      const before = await snapshot(store, good);
      const valid = makeSessionEvent(good.sid);
      const broken: unknown[] = [
        null,
        { v: 2, kind: 'nope' },
        { ...makeSessionEvent(good.sid), v: 2 },
        { ...makeSessionEvent(good.sid), kind: 'device' },
        { ...makeSessionEvent(good.sid), target: '' },
        { ...makeSessionEvent(good.sid), until: T0 - 1 },
        { ...makeSessionEvent(good.sid), at: Number.NaN },
        { ...makeSessionEvent(good.sid), gen: 1 },
        { ...makeSessionEvent(good.sid), extra: true },
      ];
      const batches = broken.map((event) => [valid, event] as RevocationEvent[]);
      await rejectsAll(
        [
          ...batches.map((events) => () => store.appendEvents(events)),
          ...batches.map((events) => () => store.revokeSessions([good.sid], T0, 'logout', events)),
        ],
        'ERR_REVOCATION_EVENT_INVALID',
      );
      assert.deepEqual(await snapshot(store, good), before);
    });
  });
}
