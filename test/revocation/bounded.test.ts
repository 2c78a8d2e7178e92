import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createSubjectRevocation, type RevocationEvent } from '../../src/revocation/index.js';
import { eventArb, type Probe, probeArb, verdicts } from './arbitraries.js';
import { LIFETIME, manualClock, newIndex, SKEW, T0, timingFor } from './helpers.js';

/**
 * Whether a probe token could have been issued the way revocable issues tokens: the generation it
 * carries is read from the store in the same step that signs it, so a token with generation `s`
 * predates (within the clock skew) every cut-off of its subject with a higher generation. Tokens
 * that break this (an old generation stamped long after its cut-off) cannot be minted by the
 * session manager, and buckets, which compare times where generations of different subjects do
 * not compare, make no promise about them.
 */
function issuedAsRevocableIssues(probe: Probe, events: readonly RevocationEvent[]): boolean {
  const { sub, iat, sgen } = probe.claims;
  if (sgen === undefined) return true;
  return events.every(
    (event) =>
      event.kind !== 'subject' ||
      event.target !== sub ||
      event.gen === undefined ||
      event.gen <= sgen ||
      iat < event.at + SKEW,
  );
}

describe('bounded memory for subjects', () => {
  it('a member never revoked gets its tokens back after a refresh, past the skew', () => {
    const now = manualClock();
    const index = newIndex(now, { maxSubjectEntries: 0, subjectBuckets: 1 });
    index.apply(createSubjectRevocation({ sub: 'revoked-often', gen: 50, at: T0 }, timingFor(now)));
    // An old token of another member sharing the bucket is refused (the price of folding)...
    assert.equal(index.check({ sub: 'bystander', iat: T0 - 1, sgen: 0 }), 'subject');
    // ...but the token its refresh brings, issued past the cut-off plus the skew, is not,
    // although its generation (0) is lower than the bucket's (50).
    assert.equal(index.check({ sub: 'bystander', iat: T0 + SKEW + 1, sgen: 0 }), null);
    // The revoked member's own old tokens stay dead.
    assert.equal(index.check({ sub: 'revoked-often', iat: T0 - 1, sgen: 49 }), 'subject');
  });

  it('past maxSubjectEntries, subjects fold into buckets and stay revoked', () => {
    const now = manualClock();
    const index = newIndex(now, { maxSubjectEntries: 3, subjectBuckets: 4 });
    for (let i = 0; i < 50; i++) {
      index.apply(createSubjectRevocation({ sub: `user-${i}`, gen: 2, at: T0 }, timingFor(now)));
    }
    const stats = index.stats();
    assert.equal(stats.subjects, 3);
    assert.ok(stats.subjectBuckets > 0 && stats.subjectBuckets <= 4);
    const empty = newIndex(now).stats().tableBytes;
    assert.ok(stats.tableBytes <= empty + 4 * 4 * 8, 'bounded memory: 4 buckets of 4 numbers');
    for (let i = 0; i < 50; i++) {
      assert.equal(index.check({ sub: `user-${i}`, iat: T0 - 1, sgen: 1 }), 'subject');
      assert.equal(index.check({ sub: `user-${i}`, iat: T0 - 1 }), 'subject');
      assert.equal(index.check({ sub: `user-${i}`, iat: T0 + 60, sgen: 2 }), null);
    }
    // Over-refusal is the price: a subject never revoked can share a bucket with one that was.
    assert.equal(index.check({ sub: 'user-never', iat: T0 - 1, sgen: 1 }), 'subject');
  });

  it('buckets expire like entries', () => {
    const now = manualClock();
    const index = newIndex(now, { maxSubjectEntries: 0, subjectBuckets: 2 });
    index.apply(createSubjectRevocation({ sub: 'u', gen: 1 }, timingFor(now)));
    assert.equal(index.stats().subjectBuckets, 1);
    now.set(T0 + LIFETIME + 2 * SKEW);
    assert.equal(index.check({ sub: 'u', iat: T0 - 1, sgen: 0 }), null);
    assert.equal(index.prune(), 1);
    assert.equal(index.stats().subjectBuckets, 0);
    assert.equal(
      index.stats().tableBytes,
      newIndex(now).stats().tableBytes,
      'the bucket array is released',
    );
  });

  it('a subject folded while the map was full stays revoked after it gets an exact entry', () => {
    const now = manualClock();
    const index = newIndex(now, { maxSubjectEntries: 1, subjectBuckets: 1 });
    const timing = timingFor(now);
    index.apply(createSubjectRevocation({ sub: 'first', at: T0 }, timing));
    index.apply(createSubjectRevocation({ sub: 'folded', gen: 9, at: T0 + 500 }, timing));
    now.set(T0 + LIFETIME + 2 * SKEW);
    index.prune(); // 'first' expires and leaves room in the map
    index.apply(createSubjectRevocation({ sub: 'folded', gen: 3 }, timingFor(now)));
    assert.equal(index.stats().subjects, 1);
    assert.equal(index.check({ sub: 'folded', iat: T0 + 400, sgen: 5 }), 'subject');
  });

  it('no false acceptance: whatever the exact index revokes, the bounded one revokes (fast-check)', () => {
    const scenario = fc.record({
      first: fc.array(eventArb, { maxLength: 25 }),
      second: fc.array(eventArb, { maxLength: 25 }),
      later: fc.integer({ min: 0, max: LIFETIME + 2 * SKEW + 10 }),
      probes: fc.array(probeArb, { minLength: 1, maxLength: 30 }),
      maxSubjectEntries: fc.integer({ min: 0, max: 3 }),
      subjectBuckets: fc.constantFrom(1, 2, 4, 8),
    });
    fc.assert(
      fc.property(
        scenario,
        ({ first, second, later, probes, maxSubjectEntries, subjectBuckets }) => {
          const now = manualClock(T0);
          const exact = newIndex(now, { maxSubjectEntries: Number.POSITIVE_INFINITY });
          const bounded = newIndex(now, { maxSubjectEntries, subjectBuckets });
          for (const event of first) {
            exact.apply(event);
            bounded.apply(event);
          }
          // A second batch after time has passed and the bounded index has pruned, so subjects can
          // move from the buckets to the exact map.
          now.advance(later);
          bounded.prune();
          for (const event of second) {
            exact.apply(event);
            bounded.apply(event);
          }
          const wanted = verdicts(exact, probes);
          const got = verdicts(bounded, probes);
          const events = [...first, ...second];
          wanted.forEach((verdict, i) => {
            if (verdict === null || !issuedAsRevocableIssues(probes[i]!, events)) return;
            assert.notEqual(got[i], null, `probe ${i} revoked by ${verdict}`);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
