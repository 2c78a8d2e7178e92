import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { crc32 } from '../../src/revocation/internal/crc32.js';
import { ExpiringHashSet, toStoredUntil } from '../../src/revocation/internal/expiring-hash-set.js';
import { HASH, hashString } from '../../src/revocation/internal/hash.js';

type Operation = { op: 'add'; key: string; until: number } | { op: 'sweep'; deadline: number };

const keyArb = fc.string({
  minLength: 1,
  maxLength: 3,
  unit: fc.constantFrom('a', 'b', 'c', 'd', 'é'),
});
const operationArb: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      key: keyArb,
      until: fc.integer({ min: 1, max: 50 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('sweep' as const),
      deadline: fc.integer({ min: 0, max: 50 }),
    }),
  },
);

describe('ExpiringHashSet (the typed-array table behind token and session entries)', () => {
  it('behaves like a Map of maxima with deletion by deadline, through growth, wrap-around and shifts', () => {
    fc.assert(
      fc.property(fc.array(operationArb, { maxLength: 200 }), (operations) => {
        const set = new ExpiringHashSet();
        const model = new Map<string, number>();
        const keys = new Set<string>(['never-added']);
        for (const operation of operations) {
          if (operation.op === 'add') {
            keys.add(operation.key);
            const previous = model.get(operation.key);
            const changed = set.add(operation.key, operation.until, -1);
            assert.equal(changed, previous === undefined || operation.until > previous);
            if (changed) model.set(operation.key, operation.until);
          } else {
            let removed = 0;
            for (const [key, until] of model) {
              if (until <= operation.deadline) {
                model.delete(key);
                removed++;
              }
            }
            assert.equal(set.sweep(operation.deadline), removed);
          }
          assert.equal(set.size, model.size);
        }
        for (const key of keys) {
          const slot = set.indexOf(key);
          const expected = model.get(key);
          assert.equal(slot >= 0, expected !== undefined, key);
          if (expected !== undefined) assert.equal(set.untilAt(slot), expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('its filter never hides a present key, through growth, sweeps that keep the size, and shrinking', () => {
    const set = new ExpiringHashSet();
    const count = 60_000;
    for (let i = 0; i < count; i++) set.add(`key-${i}`, 10 + (i % 4), 0);
    for (let i = 0; i < count; i++) assert.ok(set.indexOf(`key-${i}`) >= 0, `key-${i}`);
    // A sweep removing a quarter keeps the table's size: the filter is rebuilt in place.
    const capacity = set.byteLength;
    assert.equal(set.sweep(10), count / 4);
    assert.equal(set.byteLength, capacity);
    for (let i = 0; i < count; i++) assert.equal(set.indexOf(`key-${i}`) >= 0, i % 4 !== 0);
    // Adding after the rebuild sets bits again; then a sweep that shrinks the table.
    for (let i = 0; i < count; i += 4) set.add(`key-${i}`, 20, 10);
    assert.equal(set.sweep(13), (count / 4) * 3);
    assert.ok(set.byteLength < capacity);
    for (let i = 0; i < count; i++) assert.equal(set.indexOf(`key-${i}`) >= 0, i % 4 === 0);
    // Absent keys: most stop at the filter, and none is found.
    for (let i = 0; i < 10_000; i++) assert.equal(set.indexOf(`absent-${i}`), -1);
  });

  it('exports live entries and takes them back by hash', () => {
    const set = new ExpiringHashSet();
    for (let i = 0; i < 1000; i++) set.add(`k${i}`, 100 + (i % 10), 0);
    const packed = set.exportLive(104);
    assert.equal(packed.length, 500 * 3);
    const copy = new ExpiringHashSet();
    copy.reserve(500);
    for (let i = 0; i < packed.length; i += 3)
      copy.addHash(packed[i]!, packed[i + 1]!, packed[i + 2]!, 0);
    for (let i = 0; i < 1000; i++) assert.equal(copy.indexOf(`k${i}`) >= 0, i % 10 >= 5);
  });

  it('stores until rounded up, at least 1, at most 2106', () => {
    assert.equal(toStoredUntil(10.2), 11);
    assert.equal(toStoredUntil(0), 1);
    assert.equal(toStoredUntil(Number.NaN), 1);
    assert.equal(toStoredUntil(5e9), 0xffffffff);
  });

  it('hashes into two distinct 32-bit lanes; no collisions over 200,000 keys', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) {
      hashString(`jti-${i}`);
      seen.add(`${HASH[0]}:${HASH[1]}`);
    }
    assert.equal(seen.size, 200_000);
    hashString('');
    const empty = `${HASH[0]}:${HASH[1]}`;
    hashString('\u0000');
    assert.notEqual(`${HASH[0]}:${HASH[1]}`, empty);
  });

  it('crc32 is the standard CRC-32', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
    assert.equal(crc32(new Uint8Array(0)), 0);
  });
});
