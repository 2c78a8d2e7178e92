import { HASH, hashString } from './hash.js';

// One slot is three uint32 values: the two hash lanes of the key, and the epoch second until which
// the entry matters (0 marks an empty slot). 12 bytes a slot, at most 70% full, so between about
// 17 and 34 bytes an entry (plus the filter's half byte a slot): a Map of strings takes 70 or more.
const STRIDE = 3;
const MAX_LOAD = 0.7;
const MIN_CAPACITY = 16;
// Epoch seconds fit a uint32 until 2106; a later `until` is clamped there (see toStoredUntil).
const MAX_UNTIL = 0xffffffff;
// The filter has one 32-bit word for every 8 slots (4 bits a slot, 16 times smaller than the
// slots), and each key sets 2 bits of one word: with the table 35 to 70% full, about 3 to 10% of
// absent keys get past it.
const SLOTS_PER_FILTER_WORD = 8;

// The filter word and bits of a key are taken from its second lane, since the first one picks the
// slot: bits 10 and up choose the word, bits 0-4 and 5-9 the two bits.
// indexOfHash repeats these two inline; keep them in step.
function filterWord(h2: number, filterMask: number): number {
  return (h2 >>> 10) & filterMask;
}

function filterBits(h2: number): number {
  return (1 << (h2 & 31)) | (1 << ((h2 >>> 5) & 31));
}

/**
 * An `until` as stored: rounded up (an entry never expires early), at least 1 (0 marks an empty
 * slot), at most 2106-02-07.
 */
export function toStoredUntil(until: number): number {
  if (!(until > 1)) return 1;
  return until >= MAX_UNTIL ? MAX_UNTIL : Math.ceil(until);
}

/**
 * A set of string keys, each with an expiry, held as 64-bit hashes in one typed array: open
 * addressing with linear probing, doubling when 70% full, and backward-shift deletion (no
 * tombstones), so a lookup stops at the first empty slot. Lookups hash the key and read a few
 * consecutive uint32 values: no allocation.
 *
 * In front of the slots sits a small filter (a blocked Bloom filter, one word per 8 slots). Most
 * lookups are for keys that are not there (live tokens), and with a million entries the slots take
 * tens of megabytes: a random read among them misses the CPU caches and the TLB. The filter, 16
 * times smaller, answers "absent" for 90 to 97% of those lookups with one read that is far more
 * often cached. It is set on every insertion and rebuilt whenever entries are removed (sweeps and
 * resizes, which walk the whole table anyway), so it never says "absent" of a present key.
 *
 * Keys are identified by their hash alone: two keys with the same 64-bit hash are one entry. For a
 * revocation set that errs on the safe side (a live token refused, never a revoked one accepted).
 */
export class ExpiringHashSet {
  #slots: Uint32Array;
  #mask: number;
  // One word per SLOTS_PER_FILTER_WORD slots; the mask picks a word.
  #filter: Int32Array;
  #filterMask: number;
  #count = 0;
  // A lower bound of every stored `until`: while the deadline is below it, nothing can be swept.
  #earliest = Number.POSITIVE_INFINITY;

  constructor(capacity = MIN_CAPACITY) {
    let size = MIN_CAPACITY;
    while (size < capacity) size *= 2;
    this.#slots = new Uint32Array(size * STRIDE);
    this.#mask = size - 1;
    this.#filter = new Int32Array(size / SLOTS_PER_FILTER_WORD);
    this.#filterMask = this.#filter.length - 1;
  }

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.#count;
  }

  /** Bytes of the backing arrays: the slots and the filter. */
  get byteLength(): number {
    return this.#slots.byteLength + this.#filter.byteLength;
  }

  /** The slot of `key`, or -1. Read its expiry with {@link ExpiringHashSet.untilAt}. */
  indexOf(key: string): number {
    hashString(key);
    return this.indexOfHash(HASH, 0);
  }

  /** The slot of the key whose hash lanes are `hashes[at]` and `hashes[at + 1]`, or -1. */
  indexOfHash(hashes: Uint32Array, at: number): number {
    const h1 = hashes[at]!;
    const h2 = hashes[at + 1]!;
    // filterBits and filterWord written out: on the verify path, a uint32 lane handed to a call
    // the compiler did not inline is boxed (it may not fit a small integer), and the compiler
    // declines to inline by budget when this method is itself inlined into a large caller.
    const bits = (1 << (h2 & 31)) | (1 << ((h2 >>> 5) & 31));
    if ((this.#filter[(h2 >>> 10) & this.#filterMask]! & bits) !== bits) return -1;
    const slots = this.#slots;
    const mask = this.#mask;
    let slot = h1 & mask;
    for (;;) {
      const base = slot * STRIDE;
      if (slots[base + 2] === 0) return -1;
      if (slots[base] === h1 && slots[base + 1] === h2) return slot;
      slot = (slot + 1) & mask;
    }
  }

  /** The stored `until` of a slot that {@link ExpiringHashSet.indexOf} returned. */
  untilAt(slot: number): number {
    return this.#slots[slot * STRIDE + 2]!;
  }

  /** Adds `key` until `until` (epoch seconds), or extends its entry. Whether anything changed. */
  add(key: string, until: number, deadline: number): boolean {
    hashString(key);
    return this.addHash(HASH[0]!, HASH[1]!, toStoredUntil(until), deadline);
  }

  /**
   * Adds an entry by its hash lanes and stored `until` (see {@link toStoredUntil}): the entry's
   * expiry becomes the later of the two. Entries expired at `deadline` may be swept to make room.
   */
  addHash(h1: number, h2: number, until: number, deadline: number): boolean {
    if (this.#count + 1 > (this.#mask + 1) * MAX_LOAD) {
      if (this.#earliest <= deadline) this.sweep(deadline);
      if (this.#count + 1 > (this.#mask + 1) * MAX_LOAD) this.#resize((this.#mask + 1) * 2);
    }
    const slots = this.#slots;
    const mask = this.#mask;
    let slot = h1 & mask;
    for (;;) {
      const base = slot * STRIDE;
      const stored = slots[base + 2]!;
      if (stored === 0) {
        this.#filter[filterWord(h2, this.#filterMask)]! |= filterBits(h2);
        slots[base] = h1;
        slots[base + 1] = h2;
        slots[base + 2] = until;
        this.#count++;
        if (until < this.#earliest) this.#earliest = until;
        return true;
      }
      if (slots[base] === h1 && slots[base + 1] === h2) {
        if (until <= stored) return false;
        slots[base + 2] = until;
        return true;
      }
      slot = (slot + 1) & mask;
    }
  }

  /** Makes room for `extra` more entries at once (before a bulk load). */
  reserve(extra: number): void {
    let size = this.#mask + 1;
    while (this.#count + extra > size * MAX_LOAD) size *= 2;
    if (size !== this.#mask + 1) this.#resize(size);
  }

  /** Whether a sweep at `deadline` could remove anything. */
  sweepDue(deadline: number): boolean {
    return this.#earliest <= deadline;
  }

  /** Removes every entry whose `until` is at or before `deadline`. Returns how many. */
  sweep(deadline: number): number {
    const slots = this.#slots;
    const capacity = this.#mask + 1;
    let removed = 0;
    let earliest = Number.POSITIVE_INFINITY;
    for (let slot = 0; slot < capacity; ) {
      const until = slots[slot * STRIDE + 2]!;
      if (until !== 0 && until <= deadline) {
        // The slot now holds the next entry of its cluster (or nothing): look at it again.
        this.#removeAt(slot);
        removed++;
        continue;
      }
      if (until !== 0 && until < earliest) earliest = until;
      slot++;
    }
    this.#count -= removed;
    this.#earliest = earliest;
    // Give memory back once the table is mostly empty (a burst of revocations has expired), with
    // enough hysteresis that a steady state never shrinks and grows in turn.
    let size = capacity;
    while (size > MIN_CAPACITY && this.#count < (size / 4) * MAX_LOAD) size /= 2;
    if (size !== capacity) this.#resize(size);
    else if (removed > 0) this.#rebuildFilter();
    return removed;
  }

  /** The live entries as packed `[lane1, lane2, until]` triples, for a snapshot. */
  exportLive(deadline: number): Uint32Array {
    const slots = this.#slots;
    const capacity = this.#mask + 1;
    let live = 0;
    for (let slot = 0; slot < capacity; slot++) {
      if (slots[slot * STRIDE + 2]! > deadline) live++;
    }
    const out = new Uint32Array(live * STRIDE);
    let at = 0;
    for (let slot = 0; slot < capacity; slot++) {
      const base = slot * STRIDE;
      if (slots[base + 2]! > deadline) {
        out[at] = slots[base]!;
        out[at + 1] = slots[base + 1]!;
        out[at + 2] = slots[base + 2]!;
        at += STRIDE;
      }
    }
    return out;
  }

  // Backward-shift deletion: every later entry of the cluster that may sit in the hole moves back,
  // so lookups never need tombstones. The caller fixes the count.
  #removeAt(slot: number): void {
    const slots = this.#slots;
    const mask = this.#mask;
    let hole = slot;
    let next = (slot + 1) & mask;
    for (;;) {
      const base = next * STRIDE;
      if (slots[base + 2] === 0) break;
      const home = slots[base]! & mask;
      // The entry may move to the hole when the hole lies between its home slot and where it is.
      if (((next - home) & mask) >= ((next - hole) & mask)) {
        const to = hole * STRIDE;
        slots[to] = slots[base]!;
        slots[to + 1] = slots[base + 1]!;
        slots[to + 2] = slots[base + 2]!;
        hole = next;
      }
      next = (next + 1) & mask;
    }
    const to = hole * STRIDE;
    slots[to] = 0;
    slots[to + 1] = 0;
    slots[to + 2] = 0;
  }

  #resize(capacity: number): void {
    const old = this.#slots;
    const slots = new Uint32Array(capacity * STRIDE);
    const mask = capacity - 1;
    for (let base = 0; base < old.length; base += STRIDE) {
      const until = old[base + 2]!;
      if (until === 0) continue;
      const h1 = old[base]!;
      let slot = h1 & mask;
      while (slots[slot * STRIDE + 2] !== 0) slot = (slot + 1) & mask;
      const to = slot * STRIDE;
      slots[to] = h1;
      slots[to + 1] = old[base + 1]!;
      slots[to + 2] = until;
    }
    this.#slots = slots;
    this.#mask = mask;
    this.#rebuildFilter();
  }

  // Bits cannot be cleared one key at a time (keys share them), so removals rebuild the filter.
  #rebuildFilter(): void {
    const capacity = this.#mask + 1;
    const filter = new Int32Array(capacity / SLOTS_PER_FILTER_WORD);
    const filterMask = filter.length - 1;
    const slots = this.#slots;
    for (let base = 0; base < slots.length; base += STRIDE) {
      if (slots[base + 2] === 0) continue;
      const h2 = slots[base + 1]!;
      filter[filterWord(h2, filterMask)]! |= filterBits(h2);
    }
    this.#filter = filter;
    this.#filterMask = filterMask;
  }
}
