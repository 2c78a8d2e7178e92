import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  createSessionRevocation,
  MAX_EVENT_TIME,
  type RevocationEvent,
  type RevocationIndex,
} from '../../src/revocation/index.js';
import { LIFETIME, manualClock, newIndex, SKEW, T0, timingFor } from './helpers.js';

// A store keeps the events with until > x; a process that starts rebuilds its index from them.
function rebuiltFrom(log: readonly RevocationEvent[], x: number, time: number): RevocationIndex {
  const index = newIndex(manualClock(time), { maxSubjectEntries: Number.POSITIVE_INFINITY });
  for (const event of log) if (event.until > x) index.apply(event);
  return index;
}

describe('horizon: what a store must keep so that a rebuilt index loses nothing', () => {
  it('is floor(now - skew) minus the skew and the longest lifetime', () => {
    assert.equal(newIndex(manualClock(T0)).horizon(), T0 - LIFETIME - 2 * SKEW);
    assert.equal(newIndex(manualClock(T0 + 0.5)).horizon(), T0 - LIFETIME - 2 * SKEW);
    assert.equal(newIndex(manualClock(T0 + 1)).horizon(), T0 + 1 - LIFETIME - 2 * SKEW);
  });

  it('keeps what dropping events at until loses: a cut-off between until and until + skew', () => {
    const now = manualClock(T0);
    const running = newIndex(now);
    const event = createSessionRevocation({ sid: 's1' }, timingFor(now));
    running.apply(event);
    now.set(event.until + SKEW / 2);
    assert.equal(running.check({ sid: 's1', iat: now() - 10 }), 'session');
    // The old rule, liveEvents(now): the rebuilt process accepts a revoked token.
    assert.equal(rebuiltFrom([event], now(), now()).check({ sid: 's1', iat: now() - 10 }), null);
    const rebuilt = rebuiltFrom([event], running.horizon(), now());
    assert.equal(rebuilt.check({ sid: 's1', iat: now() - 10 }), 'session');
  });

  it('keeps a cut-off whose producer gave it a short until, and no later bound would', () => {
    const now = manualClock(T0);
    const running = newIndex(now);
    // A producer that knows no lifetime: until = at. The index keeps it until ceil(at + L + S).
    const at = T0 - 0.75;
    const short = { v: 1, id: 'e', kind: 'session', target: 's1', at, until: at } as const;
    running.apply(short);
    now.set(T0 + LIFETIME + 2 * SKEW - 0.01);
    assert.equal(running.check({ sid: 's1' }), 'session');
    assert.equal(running.horizon(), T0 - 1);
    assert.ok(short.until > running.horizon());
    assert.equal(rebuiltFrom([short], running.horizon(), now()).check({ sid: 's1' }), 'session');
    // Tight: a horizon at the event's until drops it, and the running index still enforces it.
    assert.equal(rebuiltFrom([short], short.until, now()).check({ sid: 's1' }), null);
    now.set(T0 + LIFETIME + 2 * SKEW);
    assert.equal(running.check({ sid: 's1' }), null, 'and once the horizon passes, it is spent');
    assert.ok(short.until <= running.horizon());
  });

  it('an index applies an event by the whole second it would keep, as a running one does', () => {
    // A token revoked at T0 + 0.25 with until T0 + 0.25 is kept until T0 + 1, so enforced until
    // T0 + 1 + S: an index rebuilt at T0 + 0.25 + S must take it too.
    const event = {
      v: 1,
      id: 'e',
      kind: 'token',
      target: 'j',
      at: T0 + 0.25,
      until: T0 + 0.25,
    } as const;
    const now = manualClock(T0 + 0.25);
    const running = newIndex(now);
    running.apply(event);
    now.set(T0 + 0.5 + SKEW);
    assert.equal(running.check({ jti: 'j' }), 'token');
    assert.equal(rebuiltFrom([event], running.horizon(), now()).check({ jti: 'j' }), 'token');
  });

  it('key events carry the latest event time: no horizon drops them', () => {
    const now = manualClock(T0);
    assert.ok(newIndex(now).horizon() < MAX_EVENT_TIME);
  });

  // The model: events are made at `at` and reach the running index a little later; at many clock
  // positions around each event's until, until + skew, at + L + S and at + L + 2S, the store is
  // pruned at the horizon and a new index is rebuilt from the events with until > horizon. Every
  // token that a verifier would otherwise accept at that moment (iat at most skew ahead, exp plus
  // skew not passed, lifetime at most L) and that the running index refuses, the rebuilt index
  // refuses too. Tokens carry the subject generation current when they were issued, as the
  // session manager stamps it, from an issuer clock off by less than the skew.
  it('a rebuilt index refuses every live token the running index refuses (fast-check)', () => {
    const TARGETS = ['a', 'b', 'c'];
    const eventArb = fc.record({
      kind: fc.constantFrom('token', 'session', 'subject', 'subject', 'global', 'key'),
      target: fc.constantFrom(...TARGETS),
      at: fc.integer({ min: 0, max: 1500 }),
      fraction: fc.constantFrom(0, 0.25, 0.5),
      // What the producer thought: the token's remaining life, or a lifetime (short ones too).
      span: fc.constantFrom(0, 1, 3, LIFETIME / 2, LIFETIME, LIFETIME + SKEW),
      delay: fc.constantFrom(0, 0.5, 1, SKEW),
      withGen: fc.boolean(),
    });
    const probeArb = fc.record({
      jti: fc.constantFrom(...TARGETS, 'z'),
      sid: fc.constantFrom(...TARGETS, 'z'),
      sub: fc.constantFrom(...TARGETS, 'z'),
      kid: fc.constantFrom(...TARGETS, 'z'),
      age: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      offset: fc.integer({ min: -(SKEW - 1), max: SKEW - 1 }),
      lifetime: fc.integer({ min: 1, max: LIFETIME }),
      withSgen: fc.boolean(),
    });
    let refusals = 0;
    let missedByOldRule = 0;
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 1, maxLength: 8 }),
        fc.array(probeArb, { minLength: 1, maxLength: 12 }),
        (specs, probes) => {
          // Generations rise with time per subject, as the store's bumpGeneration makes them.
          const gens = new Map<string, number>();
          const sorted = [...specs].sort((x, y) => x.at + x.fraction - (y.at + y.fraction));
          const bumps: { sub: string; at: number; gen: number }[] = [];
          const arrivals = sorted.map((spec, i) => {
            const at = T0 + spec.at + spec.fraction;
            const event: Record<string, unknown> = {
              v: 1,
              id: `e${i}`,
              kind: spec.kind,
              target: spec.kind === 'global' ? '' : spec.target,
              at,
              until: spec.kind === 'key' ? MAX_EVENT_TIME : at + spec.span,
            };
            if (spec.kind === 'subject' && spec.withGen) {
              const gen = (gens.get(spec.target) ?? 0) + 1;
              gens.set(spec.target, gen);
              event.gen = gen;
              bumps.push({ sub: spec.target, at, gen });
            }
            return { event: event as unknown as RevocationEvent, time: at + spec.delay };
          });
          arrivals.sort((x, y) => x.time - y.time);
          const anchors = new Set<number>();
          for (const { event } of arrivals) {
            const bases = [event.until, event.until + SKEW];
            if (event.kind !== 'token') bases.push(event.at + LIFETIME + SKEW);
            if (event.kind !== 'token') bases.push(event.at + LIFETIME + 2 * SKEW);
            for (const base of bases) {
              for (const step of [-1, -0.25, 0, 0.25, 1]) {
                if (base + step < MAX_EVENT_TIME) anchors.add(base + step);
              }
            }
          }
          const positions = [...anchors].filter((t) => t >= T0).sort((x, y) => x - y);
          const now = manualClock(T0);
          const running = newIndex(now, {
            maxSubjectEntries: Number.POSITIVE_INFINITY,
            sweepEvery: 2,
          });
          let log: RevocationEvent[] = [];
          const arrived: RevocationEvent[] = [];
          let next = 0;
          for (const t of positions) {
            while (next < arrivals.length && arrivals[next]!.time <= t) {
              now.set(arrivals[next]!.time);
              running.apply(arrivals[next]!.event);
              log.push(arrivals[next]!.event);
              arrived.push(arrivals[next]!.event);
              next++;
            }
            now.set(t);
            running.prune();
            const horizon = running.horizon();
            // store.prune(horizon), then store.liveEvents(horizon) on a start.
            log = log.filter((event) => event.until > horizon);
            const rebuilt = rebuiltFrom(log, horizon, t);
            const oldRule = rebuiltFrom(arrived, t, t);
            for (const probe of probes) {
              const issued = t - probe.age * (LIFETIME + SKEW);
              const iat = Math.floor(issued + probe.offset);
              const exp = iat + probe.lifetime;
              if (iat > t + SKEW || exp + SKEW <= t) continue;
              let sgen = 0;
              for (const bump of bumps) {
                if (bump.sub === probe.sub && bump.at <= issued) sgen = Math.max(sgen, bump.gen);
              }
              const claims = {
                jti: probe.jti,
                sid: probe.sid,
                sub: probe.sub,
                iat,
                exp,
                ...(probe.withSgen ? { sgen } : {}),
              };
              const verdict = running.check(claims, probe.kid);
              if (verdict === null) continue;
              refusals++;
              if (oldRule.check(claims, probe.kid) === null) missedByOldRule++;
              assert.notEqual(
                rebuilt.check(claims, probe.kid),
                null,
                `at ${t - T0}: running refuses (${verdict}), rebuilt accepts ${JSON.stringify(claims)}`,
              );
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    assert.ok(refusals > 1000, `only ${refusals} refusals were compared`);
    // The model tells the rules apart: dropping events at until loses some of them.
    assert.ok(missedByOldRule > 0, 'the old rule lost nothing: the model is too weak');
  });
});
