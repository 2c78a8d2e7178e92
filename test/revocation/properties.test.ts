import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { restoreRevocationIndex } from '../../src/revocation/index.js';
import { eventArb, probeArb, verdicts } from './arbitraries.js';
import { LIFETIME, manualClock, newIndex, SKEW, T0 } from './helpers.js';

// Every index applies its events at the same time T0 and is judged at the same times. (Applied at
// different times, an entry that expired before a later event arrives is replaced rather than
// merged; the verdicts can then differ only for tokens that outlived the longest lifetime.)
describe('merge properties (fast-check)', () => {
  it('any order, duplication, interleaved pruning or a snapshot round trip: the same verdicts', () => {
    const scenario = fc.array(eventArb, { maxLength: 25 }).chain((events) =>
      fc.record({
        events: fc.constant(events),
        shuffled: fc.shuffledSubarray([...events, ...events, ...events], {
          minLength: events.length * 3,
        }),
        prunes: fc.array(fc.boolean(), {
          minLength: events.length * 3,
          maxLength: events.length * 3,
        }),
        probes: fc.array(probeArb, { minLength: 1, maxLength: 25 }),
        later: fc.integer({ min: 0, max: LIFETIME + 2 * SKEW + 10 }),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ events, shuffled, prunes, probes, later }) => {
        const now = manualClock(T0);
        const inOrder = newIndex(now, { maxSubjectEntries: Number.POSITIVE_INFINITY });
        for (const event of events) inOrder.apply(event);
        const mixed = newIndex(now, { maxSubjectEntries: Number.POSITIVE_INFINITY, sweepEvery: 2 });
        shuffled.forEach((event, i) => {
          mixed.apply(event);
          if (prunes[i]) mixed.prune();
        });
        const restored = restoreRevocationIndex(inOrder.snapshot(), {
          maxAccessTokenLifetime: LIFETIME,
          clockSkew: SKEW,
          now,
          maxSubjectEntries: Number.POSITIVE_INFINITY,
        });
        const expected = verdicts(inOrder, probes);
        assert.deepEqual(verdicts(mixed, probes), expected);
        assert.deepEqual(verdicts(restored, probes), expected);
        now.advance(later);
        mixed.prune();
        const expectedLater = verdicts(inOrder, probes);
        assert.deepEqual(verdicts(mixed, probes), expectedLater);
        assert.deepEqual(verdicts(restored, probes), expectedLater);
      }),
      { numRuns: 150 },
    );
  });

  it('replaying the same events changes nothing: apply returns false, the snapshot is the same', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 25 }), (events) => {
        const index = newIndex(manualClock(T0));
        for (const event of events) index.apply(event);
        const before = index.snapshot();
        for (const event of events) assert.equal(index.apply(event), false);
        assert.deepEqual(index.snapshot(), before);
      }),
      { numRuns: 100 },
    );
  });
});
