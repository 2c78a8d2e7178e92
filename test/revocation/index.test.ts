import assert from 'node:assert/strict';
import { PerformanceObserver } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../src/errors/index.js';
import {
  createGlobalRevocation,
  createKeyRevocation,
  createRevocationIndex,
  createSessionRevocation,
  createSubjectRevocation,
  createTokenRevocation,
  MAX_EVENT_TIME,
  type RevocationEvent,
} from '../../src/revocation/index.js';
import { LIFETIME, manualClock, newIndex, SKEW, T0, throwsCode, timingFor } from './helpers.js';

const claims = { jti: 'j-live', sid: 's-live', sub: 'u-live', iat: T0 };

describe('revocation index: the rules', () => {
  it('a fresh index revokes nothing', () => {
    const index = newIndex(manualClock());
    assert.equal(index.check(claims, 'k1'), null);
    assert.equal(index.check({}), null);
    assert.equal(index.size, 0);
  });

  it('token: the jti is revoked, other tokens are not', () => {
    const now = manualClock();
    const index = newIndex(now);
    assert.equal(index.apply(createTokenRevocation({ jti: 'j1', exp: T0 + 300 }, { now })), true);
    assert.equal(index.check({ ...claims, jti: 'j1' }), 'token');
    assert.equal(index.check(claims), null);
    assert.equal(index.check({ ...claims, jti: 42 }), null);
  });

  it('session: every token with the sid is revoked', () => {
    const now = manualClock();
    const index = newIndex(now);
    index.apply(createSessionRevocation({ sid: 's1' }, timingFor(now)));
    assert.equal(index.check({ ...claims, sid: 's1', jti: 'a' }), 'session');
    assert.equal(index.check({ ...claims, sid: 's1', jti: 'b', iat: T0 + 100 }), 'session');
    assert.equal(index.check(claims), null);
  });

  it('subject: tokens issued before the cut-off (plus skew) are dead, later ones live', () => {
    const now = manualClock();
    const index = newIndex(now);
    index.apply(createSubjectRevocation({ sub: 'u1', at: T0 }, timingFor(now)));
    assert.equal(index.check({ sub: 'u1', iat: T0 - 100 }), 'subject');
    assert.equal(index.check({ sub: 'u1', iat: T0 + SKEW - 1 }), 'subject');
    assert.equal(index.check({ sub: 'u1', iat: T0 + SKEW }), null);
    assert.equal(index.check({ sub: 'u2', iat: T0 - 100 }), null);
  });

  it('global: every token issued before the cut-off (plus skew), whatever its subject', () => {
    const now = manualClock();
    const index = newIndex(now);
    index.apply(createGlobalRevocation({ at: T0 }, timingFor(now)));
    assert.equal(index.check({ sub: 'anyone', iat: T0 - 1 }), 'global');
    assert.equal(index.check({ iat: T0 + SKEW - 0.5 }), 'global');
    assert.equal(index.check({ iat: T0 + SKEW }), null);
    // No iat: issued at the beginning of time as far as a cut-off is concerned.
    assert.equal(index.check({}), 'global');
    assert.equal(index.check({ iat: Number.NaN }), 'global');
    assert.equal(index.check({ iat: '1900000100' }), 'global');
  });

  it('key: every token signed by the kid', () => {
    const now = manualClock();
    const index = newIndex(now);
    index.apply(createKeyRevocation({ kid: 'k-leaked' }, timingFor(now)));
    assert.equal(index.check(claims, 'k-leaked'), 'key');
    assert.equal(index.check(claims, 'k-other'), null);
    assert.equal(index.check(claims), null);
  });

  it('reports the first matching rule: global, key, token, session, subject', () => {
    const now = manualClock();
    const index = newIndex(now);
    const t = timingFor(now);
    const all = { jti: 'j', sid: 's', sub: 'u', iat: T0 - 10 };
    index.apply(createSubjectRevocation({ sub: 'u', at: T0 }, t));
    assert.equal(index.check(all, 'k'), 'subject');
    index.apply(createSessionRevocation({ sid: 's' }, t));
    assert.equal(index.check(all, 'k'), 'session');
    index.apply(createTokenRevocation({ jti: 'j', exp: T0 + 100 }, { now }));
    assert.equal(index.check(all, 'k'), 'token');
    index.apply(createKeyRevocation({ kid: 'k' }, t));
    assert.equal(index.check(all, 'k'), 'key');
    index.apply(createGlobalRevocation({ at: T0 }, t));
    assert.equal(index.check(all, 'k'), 'global');
  });
});

describe('revocation index: merging', () => {
  it('apply is idempotent and reports whether anything changed', () => {
    const now = manualClock();
    const index = newIndex(now);
    const event = createTokenRevocation({ jti: 'j1', exp: T0 + 300 }, { now });
    assert.equal(index.apply(event), true);
    assert.equal(index.apply(event), false);
    assert.equal(index.apply({ ...event, id: 'other-id' }), false);
    assert.equal(index.apply({ ...event, until: T0 + 400 }), true, 'a later until extends');
    assert.equal(index.apply({ ...event, until: T0 + 350 }), false, 'an earlier one does not');
    assert.equal(index.stats().tokens, 1);
    assert.equal(index.stats().applied, 2);
  });

  it('cut-offs merge by maximum of at and gen', () => {
    const now = manualClock();
    const index = newIndex(now);
    const t = timingFor(now);
    assert.equal(index.apply(createSubjectRevocation({ sub: 'u', at: T0, gen: 3 }, t)), true);
    assert.equal(index.apply(createSubjectRevocation({ sub: 'u', at: T0 - 50, gen: 2 }, t)), false);
    assert.equal(index.check({ sub: 'u', iat: T0, sgen: 2 }), 'subject');
    assert.equal(index.check({ sub: 'u', iat: T0, sgen: 3 }), null);
    assert.equal(index.apply(createGlobalRevocation({ at: T0 }, t)), true);
    assert.equal(index.apply(createGlobalRevocation({ at: T0 - 1 }, t)), false);
    assert.equal(index.check({ iat: T0 + SKEW - 1 }), 'global');
  });

  it('an event that has already expired changes nothing', () => {
    const now = manualClock(T0 + 10_000);
    const index = newIndex(now);
    const token = { v: 1, id: 'e', kind: 'token', target: 'old', at: T0 - 100, until: T0 } as const;
    assert.equal(index.apply(token), false);
    assert.equal(index.apply(createSessionRevocation({ sid: 's', at: T0 }, timingFor(now))), false);
    assert.equal(index.size, 0);
  });

  it('garbage is refused with a typed error and leaves the index unchanged', () => {
    const now = manualClock();
    const index = newIndex(now);
    index.apply(createSessionRevocation({ sid: 's1' }, timingFor(now)));
    const before = index.snapshot();
    const garbage: unknown[] = [
      null,
      'session s2',
      { v: 1, kind: 'session', target: 's2' },
      { v: 2, id: 'x', kind: 'session', target: 's2', at: T0, until: T0 + 1 },
      { v: 1, id: 'x', kind: 'session', target: 's2', at: T0, until: T0 - 1 },
      { v: 1, id: 'x', kind: 'bogus', target: 's2', at: T0, until: T0 + 1 },
    ];
    for (const value of garbage) {
      throwsCode(() => index.apply(value as RevocationEvent), 'ERR_REVOCATION_EVENT_INVALID');
    }
    assert.deepEqual(index.snapshot(), before);
    assert.equal(index.check({ sid: 's2' }), null);
    assert.equal(index.stats().applied, 1);
  });

  it('a cut-off outlives every token issued before it, whatever the event says', () => {
    const now = manualClock();
    const index = newIndex(now);
    // A producer configured with a shorter lifetime than this index knows.
    index.apply({ v: 1, id: 'e', kind: 'session', target: 's', at: T0, until: T0 + 1 });
    now.advance(LIFETIME + SKEW - 1);
    assert.equal(index.check({ sid: 's' }), 'session');
  });

  it('validates its options', () => {
    const base = { maxAccessTokenLifetime: 600 };
    throwsCode(() => createRevocationIndex({} as never), 'ERR_INVALID_ARGUMENT');
    throwsCode(() => createRevocationIndex({ ...base, subjectBuckets: 3 }), 'ERR_INVALID_ARGUMENT');
    throwsCode(
      () => createRevocationIndex({ ...base, maxSubjectEntries: -1 }),
      'ERR_INVALID_ARGUMENT',
    );
    throwsCode(() => createRevocationIndex({ ...base, clockSkew: 'soon' }), 'ERR_INVALID_ARGUMENT');
    throwsCode(() => createRevocationIndex({ ...base, sweepEvery: 0 }), 'ERR_INVALID_ARGUMENT');
    const index = createRevocationIndex({ ...base, maxSubjectEntries: Number.POSITIVE_INFINITY });
    assert.equal(index.clockSkew, 5);
    assert.equal(index.maxAccessTokenLifetime, 600);
    index.close();
  });
});

describe('revocation index: expiry and pruning', () => {
  it('a token entry lives until exp + skew, then counts as absent before any sweep', () => {
    const now = manualClock();
    const index = newIndex(now);
    index.apply(createTokenRevocation({ jti: 'j1', exp: T0 + 100 }, { now }));
    now.set(T0 + 100 + SKEW - 0.001);
    assert.equal(index.check({ jti: 'j1' }), 'token');
    now.set(T0 + 100 + SKEW);
    assert.equal(index.check({ jti: 'j1' }), null);
    assert.equal(index.stats().tokens, 1, 'not swept yet');
    assert.equal(index.prune(), 1);
    assert.equal(index.stats().tokens, 0);
  });

  it('every kind but key expires at until + skew', () => {
    const now = manualClock();
    const index = newIndex(now);
    const t = timingFor(now);
    index.apply(createSessionRevocation({ sid: 's' }, t));
    index.apply(createKeyRevocation({ kid: 'k' }, t));
    index.apply(createSubjectRevocation({ sub: 'u', gen: 1 }, t));
    index.apply(createGlobalRevocation({}, t));
    const token = { sid: 's', sub: 'u', iat: T0 - 1, sgen: 0 };
    now.set(T0 + LIFETIME + 2 * SKEW - 0.01);
    assert.equal(index.check({ sid: 's', iat: T0 + 1000 }), 'session');
    assert.equal(index.check({ iat: T0 + 1000 }, 'k'), 'key');
    assert.equal(index.check({ sub: 'u', iat: T0 + 1000, sgen: 0 }), 'subject');
    assert.equal(index.check({ iat: T0 - 1 }), 'global');
    now.set(T0 + LIFETIME + 2 * SKEW);
    assert.equal(index.check(token), null);
    assert.equal(index.check(token, 'k'), 'key', 'a key revocation is for good');
    assert.equal(index.size, 4);
    assert.equal(index.prune(), 3);
    assert.equal(index.size, 1);
  });

  it('sweeps by itself every sweepEvery applies, and after sweepAfter seconds', () => {
    const now = manualClock();
    const index = newIndex(now, { sweepEvery: 3, sweepAfter: 1000 });
    index.apply(createTokenRevocation({ jti: 'a', exp: T0 + 10 }, { now }));
    now.advance(20);
    index.apply(createTokenRevocation({ jti: 'b', exp: T0 + 100 }, { now }));
    assert.equal(index.stats().tokens, 2);
    index.apply(createTokenRevocation({ jti: 'c', exp: T0 + 100 }, { now }));
    assert.equal(index.stats().tokens, 2, 'a swept on the third apply');
    assert.equal(index.stats().swept, 1);

    const timed = newIndex(now, { sweepEvery: 1_000_000, sweepAfter: 60 });
    timed.apply(createTokenRevocation({ jti: 'a', exp: now() + 10 }, { now }));
    now.advance(61);
    timed.apply(createTokenRevocation({ jti: 'b', exp: now() + 10 }, { now }));
    assert.equal(timed.stats().tokens, 1);
  });

  it('sweeps on an unref-ed timer when asked, until closed', async () => {
    const now = manualClock();
    const index = newIndex(now, { sweepInterval: 0.01 });
    index.apply(createTokenRevocation({ jti: 'a', exp: T0 + 10 }, { now }));
    now.advance(100);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(index.stats().tokens, 0);
    index.close();
    const sweeps = index.stats().sweeps;
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(index.stats().sweeps, sweeps);
  });

  it('holds and sweeps many entries correctly (growth, clusters, backward-shift deletion)', () => {
    const now = manualClock();
    const index = newIndex(now, { sweepEvery: 1_000_000 });
    const count = 40_000;
    for (let i = 0; i < count; i++) {
      index.apply(
        createTokenRevocation({ jti: `jti-${i}`, exp: T0 + (i % 2 === 0 ? 50 : 500) }, { now }),
      );
    }
    assert.equal(index.stats().tokens, count);
    now.advance(100);
    assert.equal(index.prune(), count / 2);
    for (let i = 0; i < count; i++) {
      assert.equal(index.check({ jti: `jti-${i}` }), i % 2 === 0 ? null : 'token');
    }
    assert.equal(index.check({ jti: 'never' }), null);
    now.advance(1000);
    assert.equal(index.prune(), count / 2);
    assert.equal(index.size, 0);
    assert.ok(index.stats().tableBytes < 10_000, 'the tables shrink once empty');
  });
  it('holds and sweeps many subjects correctly (the lookup filter grows and is rebuilt)', () => {
    const now = manualClock();
    const index = newIndex(now, { sweepEvery: 1_000_000, maxSubjectEntries: 10_000 });
    const count = 6000;
    for (let i = 0; i < count; i++) {
      const at = i % 2 === 0 ? T0 - 500 : T0;
      index.apply(createSubjectRevocation({ sub: `user-${i}`, gen: 3, at }, timingFor(now)));
    }
    const probe = (i: number) => index.check({ sub: `user-${i}`, iat: T0 - 600, sgen: 2 });
    for (let i = 0; i < count; i++) assert.equal(probe(i), 'subject');
    for (let i = count; i < count + 2000; i++) assert.equal(probe(i), null);
    now.advance(200);
    assert.equal(index.prune(), count / 2);
    for (let i = 0; i < count; i++) assert.equal(probe(i), i % 2 === 0 ? null : 'subject');
    assert.equal(index.stats().subjects, count / 2);
  });
});

describe('revocation index: the verify path', () => {
  it('check allocates nothing when no rule matches (no garbage collection over 5M checks)', async () => {
    // The system clock, as in production: a clock read would allocate, and must not happen.
    const index = createRevocationIndex({ maxAccessTokenLifetime: LIFETIME });
    const t = { maxAccessTokenLifetime: LIFETIME };
    const base = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 5000; i++) {
      index.apply(createTokenRevocation({ jti: `revoked-${i}`, exp: base + 300 }));
      index.apply(createSessionRevocation({ sid: `revoked-${i}` }, t));
      index.apply(createSubjectRevocation({ sub: `revoked-${i}`, gen: 1, at: base - 100 }, t));
    }
    index.apply(createKeyRevocation({ kid: 'retired' }, t));
    index.apply(createGlobalRevocation({ at: base - 1000 }, t));
    // Epoch seconds beyond 2^30 and 22-character ids: the values a real verify passes.
    const tokens = Array.from({ length: 256 }, (_, i) => ({
      jti: `live-jti-${String(i).padStart(13, '0')}`,
      sid: `live-sid-${String(i).padStart(13, '0')}`,
      sub: `user-${i}`,
      iat: base,
      exp: base + 600,
      sgen: 1,
    }));
    let verdict: string | null = null;
    for (let i = 0; i < 1_000_000; i++) verdict = index.check(tokens[i & 255]!, 'active-kid');
    // Counted over two runs, keeping the smaller count: a collection that something else on a busy
    // machine caused (the runner, a timer, a deoptimisation) turns up in one run, while a check
    // that allocates collects in both.
    const counts: number[] = [];
    for (let run = 0; run < 2; run++) {
      let seen = 0;
      const observer = new PerformanceObserver((list) => {
        seen += list.getEntries().length;
      });
      observer.observe({ entryTypes: ['gc'] });
      for (let i = 0; i < 5_000_000; i++) verdict = index.check(tokens[i & 255]!, 'active-kid');
      await new Promise((resolve) => setTimeout(resolve, 50));
      observer.disconnect();
      counts.push(seen);
    }
    const collections = Math.min(...counts);
    assert.equal(verdict, null);
    // 16 bytes a call would be 80 MB: dozens of scavenges.
    assert.ok(collections <= 2, `${collections} garbage collections`);
  });
});

describe('revocation index: listeners and freshness', () => {
  it('tells listeners of every event that changed something, until unsubscribed', () => {
    const now = manualClock();
    const index = newIndex(now);
    const seen: RevocationEvent[] = [];
    const unsubscribe = index.onApply((event) => seen.push(event));
    const session = createSessionRevocation({ sid: 's' }, timingFor(now));
    index.apply(session);
    index.apply(session);
    index.apply(
      JSON.parse(JSON.stringify(createSubjectRevocation({ sub: 'u', gen: 1 }, timingFor(now)))),
    );
    assert.deepEqual(
      seen.map((event) => event.kind),
      ['session', 'subject'],
    );
    assert.deepEqual(seen[0], session);
    assert.ok(Object.isFrozen(seen[1]));
    unsubscribe();
    index.apply(createKeyRevocation({ kid: 'k' }, timingFor(now)));
    assert.equal(seen.length, 2);
  });

  it('a throwing listener neither stops the others nor undoes the event', () => {
    const now = manualClock();
    const errors: unknown[] = [];
    const index = newIndex(now, { onListenerError: (error) => errors.push(error) });
    const calls: string[] = [];
    index.onApply(() => {
      throw new Error('boom');
    });
    index.onApply((event) => calls.push(event.kind));
    assert.equal(index.apply(createSessionRevocation({ sid: 's' }, timingFor(now))), true);
    assert.deepEqual(calls, ['session']);
    assert.equal(errors.length, 1);
    assert.equal(index.check({ sid: 's' }), 'session');
    index.close();
    index.apply(createSessionRevocation({ sid: 's2' }, timingFor(now)));
    assert.deepEqual(calls, ['session'], 'close drops listeners');
  });

  it('markFresh records the latest time heard; staleness counts from it', () => {
    const now = manualClock();
    const index = newIndex(now);
    assert.equal(index.freshAt, null);
    assert.equal(index.staleness(), Number.POSITIVE_INFINITY);
    index.markFresh();
    now.advance(12);
    assert.equal(index.staleness(), 12);
    index.markFresh(T0 - 100);
    assert.equal(index.freshAt, T0, 'an older heartbeat does not move it back');
    index.markFresh(T0 + 10);
    assert.equal(index.staleness(), 2);
    assert.equal(index.stats().freshAt, T0 + 10);
    throwsCode(() => index.markFresh(Number.NaN), 'ERR_INVALID_ARGUMENT');
  });

  it('markFresh refuses what would hide staleness: non-finite, milliseconds, the future', () => {
    const now = manualClock();
    const index = newIndex(now);
    index.markFresh(T0 - 30);
    const refuse = (value: unknown, pattern: RegExp) =>
      assert.throws(
        () => index.markFresh(value as number),
        (error: unknown) =>
          isRevocableError(error, 'ERR_INVALID_ARGUMENT') && pattern.test(error.message),
        String(value),
      );
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, '1']) {
      refuse(value, /epoch seconds/);
    }
    // Date.now() handed over as is: milliseconds, and the message says so.
    refuse(T0 * 1000, /milliseconds/);
    refuse(MAX_EVENT_TIME + 1, /milliseconds/);
    refuse(T0 + SKEW + 0.001, /clock skew/);
    refuse(T0 + 3600, /clock skew/);
    assert.equal(index.freshAt, T0 - 30, 'nothing refused was recorded');
    // Up to the skew ahead is a heartbeat stamped by a clock that runs a little fast.
    index.markFresh(T0 + SKEW);
    assert.equal(index.freshAt, T0 + SKEW);
    now.advance(SKEW + 20);
    assert.equal(index.staleness(), 20, 'staleness still grows afterwards');
  });

  it('check refuses claims that are not an object with a typed error', () => {
    const index = newIndex(manualClock());
    index.apply(createGlobalRevocation({ at: T0 }, timingFor(manualClock())));
    for (const value of [null, undefined, 'claims', 42, true]) {
      throwsCode(() => index.check(value as never), 'ERR_INVALID_ARGUMENT', String(value));
      throwsCode(() => index.check(value as never, 'kid'), 'ERR_INVALID_ARGUMENT');
    }
    assert.equal(index.check({ iat: T0 + 100 }), null);
  });
});
