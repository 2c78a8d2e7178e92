import type { RevocationClaims } from '../types.js';
import { HASH, hashString } from './hash.js';
import { generationOf, issuedAt, NO_GENERATION } from './token-times.js';

/**
 * What the index keeps for one subject (or one bucket of folded subjects). While the entry lives,
 * every field only grows, so merging is a maximum and order does not matter.
 * - `at`: the latest cut-off time of any event;
 * - `plainAt`: the latest cut-off time of events without a generation (-Infinity when none);
 * - `gen`: the highest generation (-1 when no event carried one);
 * - `until`: when the entry can be forgotten (epoch seconds).
 */
export interface SubjectCutoff {
  at: number;
  plainAt: number;
  gen: number;
  until: number;
}

export { NO_GENERATION };

// Bucket layout in one Float64Array: at, plainAt, gen, until (until 0: empty bucket).
const FIELDS = 4;
const MIN_FILTER_BITS = 1 << 12;
const FILTER_BITS_PER_ENTRY = 32;

/**
 * Whether a token is dead under a cut-off. A token that carries a generation (`sgen`) is judged by
 * generation, which needs no clock: dead when an event with a higher generation exists; events
 * without a generation still apply to it by time. A token without one is judged by time: dead when
 * issued before the latest cut-off plus the clock skew. A missing `iat` is -Infinity: dead under
 * any time cut-off.
 */
export function isCutOff(
  at: number,
  plainAt: number,
  gen: number,
  iat: number,
  sgen: number,
  skew: number,
): boolean {
  if (sgen === NO_GENERATION) return iat < at + skew;
  return sgen < gen || iat < plainAt + skew;
}

/**
 * The rule for a bucket of folded subjects. Generations count per subject, so a bucket's highest
 * generation says nothing about another member's tokens: judged by generation alone, a member that
 * was never revoked would see every token refused, refreshed or not, until the bucket expired. So a
 * token that carries `sgen` is dead in a bucket only when its generation is older AND it was issued
 * before the bucket's latest cut-off plus the skew. That still condemns every token a member's own
 * entry condemns, given how tokens are issued: the issuer reads the subject's generation from the
 * store in the same step that creates or rotates the session and signs at once, so a token with an
 * older generation was issued before that generation's cut-off (plus at most the skew). A refused
 * member's client refreshes and, once the skew has passed, gets a token the bucket lets through.
 */
function isCutOffInBucket(
  at: number,
  plainAt: number,
  gen: number,
  iat: number,
  sgen: number,
  skew: number,
): boolean {
  if (sgen === NO_GENERATION) return iat < at + skew;
  return (sgen < gen && iat < at + skew) || iat < plainAt + skew;
}

/**
 * The subject cut-offs: an exact map up to `maxEntries` subjects, then a fixed number of buckets
 * (a power of two) that each hold the maxima of the subjects folded into them. A folded subject is
 * judged by its bucket, which can refuse a token its own entry would have let through but never the
 * reverse, since every field of a bucket is at least the field of each of its members.
 */
export class SubjectTable {
  readonly #exact = new Map<string, SubjectCutoff>();
  // One bit per hash slot over the exact subjects. Most tokens' subjects have no entry, and a Map
  // lookup with a freshly parsed string misses the CPU caches several times (the hash, the chain,
  // the stored key); one bit in a small array answers "certainly absent" for nearly all of them.
  // About 32 bits per subject, so under 1 in 32 absent subjects goes on to the Map.
  #filter = new Int32Array(MIN_FILTER_BITS >>> 5);
  #filterMask = MIN_FILTER_BITS - 1;
  readonly #maxEntries: number;
  readonly #bucketCount: number;
  readonly #skew: number;
  #buckets: Float64Array | null = null;
  #usedBuckets = 0;
  #earliest = Number.POSITIVE_INFINITY;

  constructor(maxEntries: number, bucketCount: number, skew: number) {
    this.#maxEntries = maxEntries;
    this.#bucketCount = bucketCount;
    this.#skew = skew;
  }

  /** Whether any subject is held, exactly or folded. */
  get hasEntries(): boolean {
    return this.#exact.size !== 0 || this.#usedBuckets !== 0;
  }

  /** Subjects held exactly. */
  get exactSize(): number {
    return this.#exact.size;
  }

  /** Buckets holding folded subjects. */
  get usedBuckets(): number {
    return this.#usedBuckets;
  }

  /** The number of buckets (a power of two). */
  get bucketCount(): number {
    return this.#bucketCount;
  }

  /** Bytes of the typed arrays: the filter, and the buckets once a subject is folded. */
  get byteLength(): number {
    return this.#filter.byteLength + (this.#buckets?.byteLength ?? 0);
  }

  /**
   * Merges a cut-off for `sub`. An entry that expired at `deadline` is replaced rather than merged,
   * so the state only ever reflects live events. Whether anything changed.
   */
  merge(sub: string, cutoff: SubjectCutoff, deadline: number): boolean {
    const entry = this.#exact.get(sub);
    if (entry !== undefined) return mergeInto(entry, cutoff, deadline);
    if (this.#exact.size >= this.#maxEntries && this.#earliest <= deadline) this.sweep(deadline);
    hashString(sub);
    const h1 = HASH[0]!;
    if (this.#exact.size < this.#maxEntries) {
      this.#exact.set(sub, { ...cutoff });
      if (cutoff.until < this.#earliest) this.#earliest = cutoff.until;
      if (this.#exact.size * FILTER_BITS_PER_ENTRY > this.#filterMask + 1) this.#rebuildFilter();
      else this.#filter[(h1 & this.#filterMask) >>> 5]! |= 1 << (h1 & 31);
      return true;
    }
    return this.mergeBucket(h1 & (this.#bucketCount - 1), cutoff, deadline);
  }

  /** Merges a cut-off into one bucket (folding, or loading a snapshot's buckets). */
  mergeBucket(bucket: number, cutoff: SubjectCutoff, deadline: number): boolean {
    if (this.#buckets === null) this.#buckets = new Float64Array(this.#bucketCount * FIELDS);
    const buckets = this.#buckets;
    const base = bucket * FIELDS;
    const until = buckets[base + 3]!;
    if (until === 0) this.#usedBuckets++;
    if (until === 0 || until <= deadline) {
      buckets[base] = cutoff.at;
      buckets[base + 1] = cutoff.plainAt;
      buckets[base + 2] = cutoff.gen;
      buckets[base + 3] = cutoff.until;
      if (cutoff.until < this.#earliest) this.#earliest = cutoff.until;
      return true;
    }
    let changed = false;
    for (let field = 0; field < FIELDS; field++) {
      const value = fieldOf(cutoff, field);
      if (value > buckets[base + field]!) {
        buckets[base + field] = value;
        changed = true;
      }
    }
    return changed;
  }

  /**
   * Whether a token of `sub` (whose hash lanes, from `hashStringInto`, are at `hashes[at]`)
   * is cut off by a live entry. Looks at the exact entry and, when subjects
   * have been folded, at the subject's bucket too (a subject folded while the map was full may later
   * get an exact entry). `deadline` (now minus the skew) is read only when a cut-off matches, so a
   * live token costs no clock read. The claims object is passed whole rather than its `iat` and
   * `sgen`: a number handed to a call that is not inlined may be boxed, an object never is, and
   * the verify path must not allocate.
   */
  isRevoked(
    sub: string,
    hashes: Uint32Array,
    at: number,
    claims: RevocationClaims,
    deadline: () => number,
  ): boolean {
    const h1 = hashes[at]!;
    const skew = this.#skew;
    if ((this.#filter[(h1 & this.#filterMask) >>> 5]! & (1 << (h1 & 31))) !== 0) {
      const entry = this.#exact.get(sub);
      if (
        entry !== undefined &&
        isCutOff(
          entry.at,
          entry.plainAt,
          entry.gen,
          issuedAt(claims),
          generationOf(claims),
          skew,
        ) &&
        entry.until > deadline()
      ) {
        return true;
      }
    }
    if (this.#usedBuckets === 0) return false;
    const base = (h1 & (this.#bucketCount - 1)) * FIELDS;
    const buckets = this.#buckets!;
    return (
      buckets[base + 3] !== 0 &&
      isCutOffInBucket(
        buckets[base]!,
        buckets[base + 1]!,
        buckets[base + 2]!,
        issuedAt(claims),
        generationOf(claims),
        skew,
      ) &&
      buckets[base + 3]! > deadline()
    );
  }

  /** Whether a sweep at `deadline` could remove anything. */
  sweepDue(deadline: number): boolean {
    return this.#earliest <= deadline;
  }

  /** Removes entries and empties buckets whose `until` is at or before `deadline`. */
  sweep(deadline: number): number {
    let removed = 0;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [sub, entry] of this.#exact) {
      if (entry.until <= deadline) {
        this.#exact.delete(sub);
        removed++;
      } else if (entry.until < earliest) {
        earliest = entry.until;
      }
    }
    if (removed > 0) this.#rebuildFilter();
    const buckets = this.#buckets;
    if (buckets !== null) {
      for (let base = 0; base < buckets.length; base += FIELDS) {
        const until = buckets[base + 3]!;
        if (until === 0) continue;
        if (until <= deadline) {
          buckets.fill(0, base, base + FIELDS);
          this.#usedBuckets--;
          removed++;
        } else if (until < earliest) {
          earliest = until;
        }
      }
      if (this.#usedBuckets === 0) this.#buckets = null;
    }
    this.#earliest = earliest;
    return removed;
  }

  // Sizes the filter to the exact map (growing or shrinking by powers of two) and sets its bits
  // again: bits cannot be cleared one by one, since several subjects may share one.
  #rebuildFilter(): void {
    let bits = MIN_FILTER_BITS;
    while (bits < this.#exact.size * FILTER_BITS_PER_ENTRY) bits *= 2;
    const filter = new Int32Array(bits >>> 5);
    const mask = bits - 1;
    for (const sub of this.#exact.keys()) {
      hashString(sub);
      const h1 = HASH[0]!;
      filter[(h1 & mask) >>> 5]! |= 1 << (h1 & 31);
    }
    this.#filter = filter;
    this.#filterMask = mask;
  }

  /** Live exact entries, for a snapshot. */
  *liveEntries(deadline: number): IterableIterator<[string, SubjectCutoff]> {
    for (const pair of this.#exact) if (pair[1].until > deadline) yield pair;
  }

  /** Live buckets as `[index, cutoff]`, for a snapshot. */
  *liveBuckets(deadline: number): IterableIterator<[number, SubjectCutoff]> {
    const buckets = this.#buckets;
    if (buckets === null) return;
    for (let index = 0; index < this.#bucketCount; index++) {
      const base = index * FIELDS;
      if (buckets[base + 3]! > deadline) {
        yield [
          index,
          {
            at: buckets[base]!,
            plainAt: buckets[base + 1]!,
            gen: buckets[base + 2]!,
            until: buckets[base + 3]!,
          },
        ];
      }
    }
  }
}

function mergeInto(entry: SubjectCutoff, cutoff: SubjectCutoff, deadline: number): boolean {
  if (entry.until <= deadline) {
    entry.at = cutoff.at;
    entry.plainAt = cutoff.plainAt;
    entry.gen = cutoff.gen;
    entry.until = cutoff.until;
    return true;
  }
  let changed = false;
  if (cutoff.at > entry.at) {
    entry.at = cutoff.at;
    changed = true;
  }
  if (cutoff.plainAt > entry.plainAt) {
    entry.plainAt = cutoff.plainAt;
    changed = true;
  }
  if (cutoff.gen > entry.gen) {
    entry.gen = cutoff.gen;
    changed = true;
  }
  if (cutoff.until > entry.until) {
    entry.until = cutoff.until;
    changed = true;
  }
  return changed;
}

function fieldOf(cutoff: SubjectCutoff, field: number): number {
  return field === 0
    ? cutoff.at
    : field === 1
      ? cutoff.plainAt
      : field === 2
        ? cutoff.gen
        : cutoff.until;
}
