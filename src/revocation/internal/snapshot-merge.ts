import { MAX_EVENT_TIME } from '../events.js';
import type { ExpiringHashSet } from './expiring-hash-set.js';
import type { GlobalCutoff } from './global-cutoff.js';
import type { SnapshotContents } from './snapshot-codec.js';
import type { SubjectTable } from './subject-table.js';

/** The tables of one index, as a snapshot reads and writes them. */
export interface IndexTables {
  readonly tokens: ExpiringHashSet;
  readonly sessions: ExpiringHashSet;
  /** Revoked kids: kept for good, whatever `until` an event or a snapshot gave them. */
  readonly keys: Set<string>;
  readonly subjects: SubjectTable;
  readonly global: GlobalCutoff;
}

/** The live entries of the tables at `now`, ready for `encodeSnapshot`. */
export function snapshotContents(tables: IndexTables, now: number, skew: number): SnapshotContents {
  const deadline = now - skew;
  const { global } = tables;
  return {
    writtenAt: now,
    global: global.until > deadline ? { at: global.at, until: global.until } : null,
    tokens: tables.tokens.exportLive(deadline),
    sessions: tables.sessions.exportLive(deadline),
    // Written with the latest event time, so that an older reader, which honours until, keeps them.
    keys: [...tables.keys].map((kid): [string, number] => [kid, MAX_EVENT_TIME]),
    subjects: [...tables.subjects.liveEntries(deadline)].map(([sub, cutoff]) => [
      sub,
      { ...cutoff },
    ]),
    bucketCount: tables.subjects.bucketCount,
    buckets: [...tables.subjects.liveBuckets(deadline)],
  };
}

/**
 * Merges decoded snapshot contents into the tables by union and maximum, skipping what has expired
 * at `deadline`. Returns the number of entries added or tightened.
 */
export function mergeSnapshot(
  tables: IndexTables,
  contents: SnapshotContents,
  deadline: number,
): number {
  let changed = 0;
  const sets: [ExpiringHashSet, Uint32Array][] = [
    [tables.tokens, contents.tokens],
    [tables.sessions, contents.sessions],
  ];
  for (const [set, packed] of sets) {
    set.reserve(packed.length / 3);
    for (let i = 0; i < packed.length; i += 3) {
      const until = packed[i + 2]!;
      if (until > deadline && set.addHash(packed[i]!, packed[i + 1]!, until, deadline)) changed++;
    }
  }
  // Every kid, expired or not: a snapshot written before key entries were kept for good may carry a
  // short until, and the key may still verify somewhere.
  for (const [kid] of contents.keys) {
    if (!tables.keys.has(kid)) {
      tables.keys.add(kid);
      changed++;
    }
  }
  const global = contents.global;
  if (global !== null && global.until > deadline) {
    if (tables.global.merge(global.at, global.until, deadline)) changed++;
  }
  for (const [sub, cutoff] of contents.subjects) {
    if (cutoff.until > deadline && tables.subjects.merge(sub, cutoff, deadline)) changed++;
  }
  // Buckets are chosen by the low bits of a subject's hash, and both counts are powers of two:
  // a source bucket maps onto every target bucket that shares its low bits.
  const target = tables.subjects.bucketCount;
  const source = contents.bucketCount;
  for (const [index, cutoff] of contents.buckets) {
    if (cutoff.until <= deadline) continue;
    for (let bucket = index & (target - 1); bucket < target; bucket += source) {
      if (tables.subjects.mergeBucket(bucket, cutoff, deadline)) changed++;
      if (target <= source) break;
    }
  }
  return changed;
}
