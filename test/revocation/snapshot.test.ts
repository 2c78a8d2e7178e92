import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  createGlobalRevocation,
  createKeyRevocation,
  createSessionRevocation,
  createSubjectRevocation,
  createTokenRevocation,
  parseRevocationEvent,
  type RevocationIndex,
  restoreRevocationIndex,
} from '../../src/revocation/index.js';
import { crc32 } from '../../src/revocation/internal/crc32.js';
import {
  LIFETIME,
  type ManualClock,
  manualClock,
  newIndex,
  SKEW,
  T0,
  throwsCode,
  timingFor,
} from './helpers.js';

const probes = [
  { claims: { jti: 'j1', iat: T0 + 50 }, kid: undefined },
  { claims: { jti: 'j2', iat: T0 + 50 }, kid: undefined },
  { claims: { sid: 's1', iat: T0 + 50 }, kid: undefined },
  { claims: { iat: T0 + 50 }, kid: 'k1' },
  { claims: { sub: 'u1', iat: T0 + 50, sgen: 1 }, kid: undefined },
  { claims: { sub: 'u1', iat: T0 + 50, sgen: 3 }, kid: undefined },
  { claims: { sub: 'u2', iat: T0 - 1 }, kid: undefined },
  { claims: { sub: 'u2', iat: T0 + 50 }, kid: undefined },
  { claims: { sub: 'ü-ñ-中文', iat: T0 - 1 }, kid: undefined },
  { claims: { iat: T0 - 40 }, kid: undefined },
  { claims: { iat: T0 + 50 }, kid: undefined },
];

function verdicts(index: RevocationIndex) {
  return probes.map(({ claims, kid }) => index.check(claims, kid));
}

function populated(now: ManualClock, options = {}): RevocationIndex {
  const index = newIndex(now, options);
  const timing = timingFor(now);
  index.apply(createTokenRevocation({ jti: 'j1', exp: T0 + 300 }, { now }));
  index.apply(createSessionRevocation({ sid: 's1' }, timing));
  index.apply(createKeyRevocation({ kid: 'k1' }, timing));
  index.apply(createSubjectRevocation({ sub: 'u1', gen: 2 }, timing));
  index.apply(createSubjectRevocation({ sub: 'u2', at: T0 }, timing));
  index.apply(createSubjectRevocation({ sub: 'ü-ñ-中文', at: T0 }, timing));
  index.apply(createGlobalRevocation({ at: T0 - 30 }, timing));
  return index;
}

/** Rewrites the checksum after a deliberate edit, so the content checks are reached. */
function resealed(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  view.setUint32(copy.length - 4, crc32(copy, 0, copy.length - 4), true);
  return copy;
}

describe('snapshot and restore', () => {
  it('round-trips every kind: the same verdicts', () => {
    const now = manualClock();
    const index = populated(now);
    const bytes = index.snapshot();
    assert.deepEqual(Array.from(bytes.subarray(0, 4)), [0x52, 0x56, 0x4b, 0x49]);
    const restored = restoreRevocationIndex(bytes, {
      maxAccessTokenLifetime: LIFETIME,
      clockSkew: SKEW,
      now,
    });
    assert.deepEqual(verdicts(restored), verdicts(index));
    assert.deepEqual(verdicts(index), [
      'token',
      null,
      'session',
      'key',
      'subject',
      null,
      'subject',
      null,
      'subject',
      'global',
      null,
    ]);
    assert.equal(restored.size, index.size);
    assert.deepEqual(restored.snapshot(), bytes, 'a restored index writes the same snapshot');
  });

  it('does not write expired entries', () => {
    const now = manualClock();
    const index = populated(now);
    const full = index.snapshot().length;
    now.set(T0 + 300 + SKEW);
    const partial = index.snapshot();
    assert.equal(full - partial.length, 12, 'the expired token entry is left out');
    const restored = restoreRevocationIndex(partial, { maxAccessTokenLifetime: LIFETIME, now });
    assert.equal(restored.stats().tokens, 0);
    assert.equal(restored.check({ sid: 's1', iat: T0 }), 'session');
  });

  it('load merges by union and maximum, and is idempotent', () => {
    const now = manualClock();
    const source = populated(now);
    const target = newIndex(now);
    target.apply(createTokenRevocation({ jti: 'j2', exp: T0 + 300 }, { now }));
    target.apply(createSubjectRevocation({ sub: 'u1', gen: 3 }, timingFor(now)));
    const loads: number[] = [];
    target.onLoad((changed) => loads.push(changed));
    const changed = target.load(source.snapshot());
    assert.ok(changed > 0);
    assert.equal(target.check({ jti: 'j1', iat: T0 }), 'token');
    assert.equal(target.check({ jti: 'j2', iat: T0 }), 'token');
    assert.equal(target.check({ sub: 'u1', iat: T0, sgen: 2 }), 'subject', 'max gen kept: 3');
    assert.equal(target.load(source.snapshot()), 0);
    assert.deepEqual(loads, [changed]);
  });

  it('reads a snapshot inside a larger buffer (a Buffer slice)', () => {
    const now = manualClock();
    const bytes = populated(now).snapshot();
    const pool = Buffer.alloc(bytes.length + 7);
    pool.set(bytes, 3);
    const restored = restoreRevocationIndex(pool.subarray(3, 3 + bytes.length), {
      maxAccessTokenLifetime: LIFETIME,
      now,
    });
    assert.equal(restored.check({ jti: 'j1', iat: T0 }), 'token');
  });

  it('folded subjects survive a restore into any bucket count', () => {
    const now = manualClock();
    const source = newIndex(now, { maxSubjectEntries: 0, subjectBuckets: 4 });
    for (let i = 0; i < 20; i++) {
      source.apply(createSubjectRevocation({ sub: `user-${i}`, gen: 5 }, timingFor(now)));
    }
    assert.equal(source.stats().subjects, 0);
    const bytes = source.snapshot();
    for (const subjectBuckets of [1, 2, 4, 16, 64]) {
      for (const maxSubjectEntries of [0, 100]) {
        const restored = restoreRevocationIndex(bytes, {
          maxAccessTokenLifetime: LIFETIME,
          now,
          subjectBuckets,
          maxSubjectEntries,
        });
        for (let i = 0; i < 20; i++) {
          assert.equal(
            restored.check({ sub: `user-${i}`, iat: T0, sgen: 4 }),
            'subject',
            `user-${i} with ${subjectBuckets} buckets`,
          );
        }
      }
    }
  });
});

describe('snapshot: every target an event may carry comes back as itself', () => {
  const restore = (index: RevocationIndex, now: ManualClock) =>
    restoreRevocationIndex(index.snapshot(), {
      maxAccessTokenLifetime: LIFETIME,
      clockSkew: SKEW,
      now,
    });

  it('keeps a leading byte order mark, astral characters and 256-unit targets', () => {
    const now = manualClock();
    const index = newIndex(now);
    const targets = ['\ufeffkid', '\ufeff', '😀-user', '\ud83d\ude00'.repeat(128), 'ü'.repeat(256)];
    for (const target of targets) {
      index.apply(createKeyRevocation({ kid: target }, timingFor(now)));
      index.apply(createSubjectRevocation({ sub: target, at: T0 }, timingFor(now)));
    }
    const restored = restore(index, now);
    for (const target of targets) {
      assert.equal(restored.check({ iat: T0 + 100 }, target), 'key', JSON.stringify(target));
      assert.equal(restored.check({ sub: target, iat: T0 - 1 }), 'subject');
    }
    assert.equal(restored.check({ iat: T0 + 100 }, 'kid'), null, 'the BOM is not dropped');
    assert.equal(restored.check({ sub: 'kid', iat: T0 - 1 }), null);
    assert.deepEqual(restored.snapshot(), index.snapshot());
  });

  it('any target parseRevocationEvent accepts survives a round trip, for every kind (fast-check)', () => {
    const target = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
      fc.string({ unit: 'binary', minLength: 120, maxLength: 260 }),
    );
    fc.assert(
      fc.property(fc.uniqueArray(target, { minLength: 1, maxLength: 8 }), (targets) => {
        const now = manualClock();
        const index = newIndex(now, { maxSubjectEntries: Number.POSITIVE_INFINITY });
        const accepted: string[] = [];
        for (const candidate of targets) {
          const base = { v: 1, id: 'e', target: candidate, at: T0, until: T0 + LIFETIME };
          let ok = true;
          for (const kind of ['token', 'session', 'subject', 'key']) {
            try {
              index.apply(parseRevocationEvent({ ...base, kind }));
            } catch {
              ok = false;
            }
          }
          if (ok) accepted.push(candidate);
        }
        const restored = restore(index, now);
        for (const kept of accepted) {
          assert.equal(restored.check({ iat: T0 + 100 }, kept), 'key');
          assert.equal(restored.check({ jti: kept, iat: T0 + 100 }), 'token');
          assert.equal(restored.check({ sid: kept, iat: T0 + 100 }), 'session');
          assert.equal(restored.check({ sub: kept, iat: T0 - 1 }), 'subject');
        }
        assert.equal(restored.size, index.size);
      }),
      { numRuns: 200 },
    );
  });
});

describe('snapshot corruption', () => {
  const now = manualClock();
  const good = populated(now).snapshot();

  function refused(bytes: unknown, what: string) {
    const index = populated(now);
    const before = index.snapshot();
    throwsCode(() => index.load(bytes as Uint8Array), 'ERR_REVOCATION_SNAPSHOT_INVALID', what);
    assert.deepEqual(index.snapshot(), before, `${what}: the index is unchanged`);
    throwsCode(
      () => restoreRevocationIndex(bytes as Uint8Array, { maxAccessTokenLifetime: LIFETIME, now }),
      'ERR_REVOCATION_SNAPSHOT_INVALID',
      what,
    );
  }

  it('refuses a flipped bit anywhere (checksum)', () => {
    for (const offset of [
      0,
      5,
      9,
      20,
      40,
      60,
      good.length >> 1,
      good.length - 40,
      good.length - 1,
    ]) {
      const bytes = good.slice();
      bytes[offset]! ^= 0x10;
      refused(bytes, `bit flipped at ${offset}`);
    }
  });

  it('refuses truncation, extension, emptiness and non-bytes', () => {
    refused(good.subarray(0, good.length - 1), 'one byte short');
    refused(good.subarray(0, 30), 'header only');
    refused(new Uint8Array(0), 'empty');
    refused(resealed(new Uint8Array([...good, 0, 0, 0, 0])), 'four extra bytes');
    refused('not bytes', 'a string');
    refused(null, 'null');
  });

  it('refuses an unknown version and unknown flags, even with a valid checksum', () => {
    const version = good.slice();
    version[4] = 2;
    refused(resealed(version), 'version 2');
    const flags = good.slice();
    flags[6] = 1;
    refused(resealed(flags), 'flags');
  });

  it('refuses counts that do not match the length, and impossible values', () => {
    const count = good.slice();
    new DataView(count.buffer).setUint32(32, 1000, true);
    refused(resealed(count), 'token count too high');
    const buckets = good.slice();
    new DataView(buckets.buffer).setUint32(48, 3, true);
    refused(resealed(buckets), 'bucket count not a power of two');
    const expiry = good.slice();
    new DataView(expiry.buffer).setUint32(56 + 8, 0, true);
    refused(resealed(expiry), 'a token entry without expiry');
    const global = good.slice();
    new DataView(global.buffer).setFloat64(16, Number.NaN, true);
    refused(resealed(global), 'a NaN global cut-off');
  });
});
