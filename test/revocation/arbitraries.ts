import fc from 'fast-check';
import type { RevocationEvent, RevocationIndex } from '../../src/revocation/index.js';
import { T0 } from './helpers.js';

// Small pools of targets, so that events collide on the same entries and tokens hit them.
const TARGETS = ['a', 'b', 'c', 'd'];
const PROBE_TARGETS = [...TARGETS, 'z'];

export const eventArb: fc.Arbitrary<RevocationEvent> = fc
  .record({
    // Global events are rarer: a live one masks every other rule.
    kind: fc.oneof(
      { weight: 1, arbitrary: fc.constant('global') },
      { weight: 8, arbitrary: fc.constantFrom('token', 'session', 'subject', 'key') },
    ),
    target: fc.constantFrom(...TARGETS),
    // Some events are long expired at T0, some live, some cut off in the near future.
    at: fc.integer({ min: T0 - 1500, max: T0 + 20 }),
    duration: fc.integer({ min: 0, max: 1200 }),
    gen: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    fraction: fc.constantFrom(0, 0.25, 0.5),
  })
  .map(({ kind, target, at, duration, gen, fraction }) => {
    const event: Record<string, unknown> = {
      v: 1,
      id: `e-${kind}-${target}-${at}`,
      kind,
      target: kind === 'global' ? '' : target,
      at: at + fraction,
      until: at + fraction + duration,
    };
    if (kind === 'subject' && gen !== undefined) event.gen = gen;
    return event as unknown as RevocationEvent;
  });

export interface Probe {
  claims: { jti: string; sid: string; sub: string; iat: number; sgen?: number };
  kid: string | undefined;
}

export const probeArb: fc.Arbitrary<Probe> = fc
  .record({
    jti: fc.constantFrom(...PROBE_TARGETS),
    sid: fc.constantFrom(...PROBE_TARGETS),
    sub: fc.constantFrom(...PROBE_TARGETS),
    iat: fc.integer({ min: T0 - 700, max: T0 + 40 }),
    sgen: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
    kid: fc.option(fc.constantFrom(...PROBE_TARGETS), { nil: undefined }),
  })
  .map(({ kid, sgen, ...claims }) => ({
    claims: sgen === undefined ? claims : { ...claims, sgen },
    kid,
  }));

export function verdicts(index: RevocationIndex, probes: readonly Probe[]) {
  return probes.map(({ claims, kid }) => index.check(claims, kid));
}
