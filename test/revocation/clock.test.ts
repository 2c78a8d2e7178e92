import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createGlobalRevocation,
  createSessionRevocation,
  createSubjectRevocation,
} from '../../src/revocation/index.js';
import { manualClock, newIndex, SKEW, T0, timingFor } from './helpers.js';

// Tokens here are claims objects as a verified token would carry them; iat is a whole second, as
// every signer writes it (floor of its clock).
const iatAt = (clockReading: number) => Math.floor(clockReading);

describe('clock care: log out everywhere, then log in again at once', () => {
  // At real time T0 + 0.25 the user logs out of every device: the session manager bumps the
  // subject generation from 1 to 2, emits the cut-off, and revokes each known session.
  function loggedOutEverywhere() {
    const now = manualClock(T0 + 0.25);
    const index = newIndex(now);
    const timing = timingFor(now);
    index.apply(createSubjectRevocation({ sub: 'alice', gen: 2 }, timing));
    for (const sid of ['s-phone', 's-laptop'])
      index.apply(createSessionRevocation({ sid }, timing));
    return { now, index };
  }

  it('with sgen: a new token issued in the same second is valid, and 10 ms later too', () => {
    const { now, index } = loggedOutEverywhere();
    const sameSecond = { sub: 'alice', sid: 's-new', iat: iatAt(T0 + 0.25), sgen: 2 };
    const tenMsLater = { sub: 'alice', sid: 's-new2', iat: iatAt(T0 + 0.26), sgen: 2 };
    assert.equal(sameSecond.iat, T0, 'same second as the cut-off');
    assert.equal(index.check(sameSecond), null);
    assert.equal(index.check(tenMsLater), null);
    now.advance(3);
    assert.equal(index.check(sameSecond), null, 'and it stays valid');
  });

  it('with sgen: every old token is dead, including one issued earlier in the same second', () => {
    const { index } = loggedOutEverywhere();
    assert.equal(index.check({ sub: 'alice', sid: 's-laptop', iat: T0 - 60, sgen: 1 }), 'session');
    // A session the manager did not list (or whose revocation is still on its way): the cut-off.
    assert.equal(index.check({ sub: 'alice', sid: 's-tablet', iat: T0 - 60, sgen: 1 }), 'subject');
    assert.equal(
      index.check({ sub: 'alice', sid: 's-tablet', iat: iatAt(T0 + 0.1), sgen: 1 }),
      'subject',
    );
    assert.equal(index.check({ sub: 'bob', sid: 's-bob', iat: T0 - 60, sgen: 1 }), null);
  });

  it('without sgen (fallback): tokens issued within the skew after the cut-off are refused too', () => {
    const { index } = loggedOutEverywhere();
    assert.equal(index.check({ sub: 'alice', sid: 's-new', iat: iatAt(T0 + 0.25) }), 'subject');
    assert.equal(index.check({ sub: 'alice', sid: 's-new', iat: iatAt(T0 + 0.26) }), 'subject');
    assert.equal(index.check({ sub: 'alice', sid: 's-new', iat: T0 + SKEW - 1 }), 'subject');
    // Conservative, never permissive: once the skew has passed, new tokens are accepted.
    assert.equal(index.check({ sub: 'alice', sid: 's-new', iat: T0 + SKEW + 1 }), null);
  });
});

describe('clock care: an issuer whose clock runs ahead by skew - 1 s', () => {
  const ahead = SKEW - 1;
  // The cut-off is set at real time T0 by a node with a correct clock.
  function cutOff() {
    const now = manualClock(T0);
    const index = newIndex(now);
    index.apply(createSubjectRevocation({ sub: 'alice', gen: 2, at: T0 }, timingFor(now)));
    return index;
  }
  // Issued at real time T0 - 0.5, before the cut-off, by the fast node: its iat is after `at`.
  const issuedBefore = iatAt(T0 - 0.5 + ahead);

  it('a token issued before the cut-off, with an iat after it, is dead with sgen', () => {
    assert.ok(issuedBefore > T0);
    assert.equal(cutOff().check({ sub: 'alice', iat: issuedBefore, sgen: 1 }), 'subject');
  });

  it('and dead without sgen, by the skew', () => {
    assert.equal(cutOff().check({ sub: 'alice', iat: issuedBefore }), 'subject');
  });

  it('and dead under a global cut-off', () => {
    const now = manualClock(T0);
    const index = newIndex(now);
    index.apply(createGlobalRevocation({ at: T0 }, timingFor(now)));
    assert.equal(index.check({ sub: 'alice', iat: issuedBefore, sgen: 7 }), 'global');
    assert.equal(index.check({ sub: 'alice', iat: T0 + SKEW }), null);
  });

  it('a token issued after the cut-off by a node running behind is valid with sgen only', () => {
    // Real time T0 + 0.5, clock behind by skew - 1: iat reads before the cut-off.
    const issuedAfter = iatAt(T0 + 0.5 - ahead);
    assert.equal(cutOff().check({ sub: 'alice', iat: issuedAfter, sgen: 2 }), null);
    assert.equal(cutOff().check({ sub: 'alice', iat: issuedAfter }), 'subject');
  });
});

describe('clock care: generations and time cut-offs together', () => {
  it('a cut-off without gen applies by time to tokens that carry sgen', () => {
    const now = manualClock(T0);
    const index = newIndex(now);
    const timing = timingFor(now);
    index.apply(createSubjectRevocation({ sub: 'alice', gen: 2, at: T0 }, timing));
    // Something that knows nothing of generations (an admin script) bans the user later on.
    index.apply(createSubjectRevocation({ sub: 'alice', at: T0 + 100 }, timing));
    assert.equal(index.check({ sub: 'alice', iat: T0 + 50, sgen: 2 }), 'subject');
    assert.equal(index.check({ sub: 'alice', iat: T0 + 100 + SKEW, sgen: 2 }), null);
    assert.equal(index.check({ sub: 'alice', iat: T0 + 100 + SKEW, sgen: 1 }), 'subject');
  });

  it('a subject known only by time cut-offs judges sgen tokens by time', () => {
    const now = manualClock(T0);
    const index = newIndex(now);
    index.apply(createSubjectRevocation({ sub: 'alice', at: T0 }, timingFor(now)));
    assert.equal(index.check({ sub: 'alice', iat: T0 - 1, sgen: 9 }), 'subject');
    assert.equal(index.check({ sub: 'alice', iat: T0 + SKEW, sgen: 9 }), null);
  });

  it('an sgen that is not a non-negative integer counts as absent (time rule)', () => {
    const now = manualClock(T0);
    const index = newIndex(now);
    index.apply(createSubjectRevocation({ sub: 'alice', gen: 2, at: T0 }, timingFor(now)));
    for (const sgen of ['2', 2.5, -1, Number.NaN, null]) {
      assert.equal(index.check({ sub: 'alice', iat: T0 + 1, sgen }), 'subject', String(sgen));
      assert.equal(index.check({ sub: 'alice', iat: T0 + SKEW, sgen }), null, String(sgen));
    }
  });
});
