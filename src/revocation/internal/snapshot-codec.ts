import { RevocableError } from '../../errors/revocable-error.js';
import { MAX_EVENT_TIME, MAX_TARGET_LENGTH } from '../events.js';
import { crc32 } from './crc32.js';
import { NO_GENERATION, type SubjectCutoff } from './subject-table.js';

/**
 * The binary snapshot of an index, little-endian:
 *
 * | offset | size | content |
 * | --- | --- | --- |
 * | 0 | 4 | magic `RVKI` |
 * | 4 | 2 | format version (1) |
 * | 6 | 2 | flags (0) |
 * | 8 | 8 | written at, epoch seconds (f64) |
 * | 16 | 16 | global cut-off `at` and `until` (f64 each; `until` 0: none) |
 * | 32 | 24 | counts (u32 each): tokens, sessions, keys, subjects, buckets in the index, used buckets |
 * | 56 | 12 each | token, then session entries: hash lane 1, lane 2, until (u32 each) |
 * | ... | | keys: UTF-8 length (u16), UTF-8 bytes of the kid, until (f64) |
 * | ... | | subjects: UTF-8 length (u16), UTF-8 bytes, at, plainAt, gen, until (f64 each) |
 * | ... | 36 each | used buckets: index (u32), at, plainAt, gen, until (f64 each) |
 * | end - 4 | 4 | CRC-32 of everything before it |
 *
 * Token and session entries are hashes only, never the `jti` or `sid` themselves: a snapshot is as
 * compact as the index. Key ids (public anyway) and subjects are written out.
 */
export const SNAPSHOT_VERSION = 1;
const MAGIC = [0x52, 0x56, 0x4b, 0x49]; // 'RVKI'
const HEADER = 56;
const TRIPLE = 12;
const CUTOFF = 32;
const MAX_BUCKETS = 1 << 24;

/**
 * Everything a snapshot holds, decoded and checked. Token and session sets are packed
 * `[lane1, lane2, until]` triples; keys are `[kid, until]`.
 */
export interface SnapshotContents {
  writtenAt: number;
  global: { at: number; until: number } | null;
  tokens: Uint32Array;
  sessions: Uint32Array;
  keys: [string, number][];
  subjects: [string, SubjectCutoff][];
  bucketCount: number;
  buckets: [number, SubjectCutoff][];
}

function corrupt(message: string): RevocableError {
  return new RevocableError('ERR_REVOCATION_SNAPSHOT_INVALID', `Revocation snapshot: ${message}`);
}

function writeCutoff(view: DataView, offset: number, cutoff: SubjectCutoff): number {
  view.setFloat64(offset, cutoff.at, true);
  view.setFloat64(offset + 8, cutoff.plainAt, true);
  view.setFloat64(offset + 16, cutoff.gen, true);
  view.setFloat64(offset + 24, cutoff.until, true);
  return offset + CUTOFF;
}

function writeString(bytes: Uint8Array, view: DataView, offset: number, utf8: Uint8Array): number {
  view.setUint16(offset, utf8.length, true);
  bytes.set(utf8, offset + 2);
  return offset + 2 + utf8.length;
}

function writeTriples(view: DataView, offset: number, packed: Uint32Array): number {
  for (let i = 0; i < packed.length; i++) view.setUint32(offset + i * 4, packed[i]!, true);
  return offset + packed.length * 4;
}

/** Writes a snapshot. */
export function encodeSnapshot(contents: SnapshotContents): Uint8Array {
  const encoder = new TextEncoder();
  const names = contents.subjects.map(([sub]) => encoder.encode(sub));
  const kids = contents.keys.map(([kid]) => encoder.encode(kid));
  let size = HEADER + 4;
  size += contents.tokens.byteLength + contents.sessions.byteLength;
  for (const kid of kids) size += 2 + kid.length + 8;
  for (const name of names) size += 2 + name.length + CUTOFF;
  size += contents.buckets.length * (4 + CUTOFF);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint16(4, SNAPSHOT_VERSION, true);
  view.setUint16(6, 0, true);
  view.setFloat64(8, contents.writtenAt, true);
  view.setFloat64(16, contents.global?.at ?? 0, true);
  view.setFloat64(24, contents.global?.until ?? 0, true);
  const counts = [
    contents.tokens.length / 3,
    contents.sessions.length / 3,
    contents.keys.length,
    contents.subjects.length,
    contents.bucketCount,
    contents.buckets.length,
  ];
  for (const [i, count] of counts.entries()) view.setUint32(32 + i * 4, count, true);
  let offset = HEADER;
  offset = writeTriples(view, offset, contents.tokens);
  offset = writeTriples(view, offset, contents.sessions);
  contents.keys.forEach(([, until], i) => {
    offset = writeString(bytes, view, offset, kids[i]!);
    view.setFloat64(offset, until, true);
    offset += 8;
  });
  contents.subjects.forEach(([, cutoff], i) => {
    offset = writeCutoff(view, writeString(bytes, view, offset, names[i]!), cutoff);
  });
  for (const [index, cutoff] of contents.buckets) {
    view.setUint32(offset, index, true);
    offset = writeCutoff(view, offset + 4, cutoff);
  }
  view.setUint32(offset, crc32(bytes, 0, offset), true);
  return bytes;
}

function isTime(value: number): boolean {
  return Number.isFinite(value) && value >= 0 && value <= MAX_EVENT_TIME;
}

// The index may keep an entry longer than its event said (at + lifetime + skew), so `until` can lie
// a little past the latest event time: any finite positive value is accepted.
function isUntil(value: number): boolean {
  return Number.isFinite(value) && value > 0;
}

function readCutoff(view: DataView, offset: number): SubjectCutoff {
  const cutoff = {
    at: view.getFloat64(offset, true),
    plainAt: view.getFloat64(offset + 8, true),
    gen: view.getFloat64(offset + 16, true),
    until: view.getFloat64(offset + 24, true),
  };
  const validGen =
    cutoff.gen === NO_GENERATION || (Number.isSafeInteger(cutoff.gen) && cutoff.gen >= 0);
  const validPlainAt = cutoff.plainAt === Number.NEGATIVE_INFINITY || isTime(cutoff.plainAt);
  if (!isTime(cutoff.at) || !validPlainAt || !validGen || !isUntil(cutoff.until)) {
    throw corrupt('a subject entry holds impossible values.');
  }
  return cutoff;
}

function readTriples(view: DataView, offset: number, count: number): Uint32Array {
  const packed = new Uint32Array(count * 3);
  for (let i = 0; i < packed.length; i++) packed[i] = view.getUint32(offset + i * 4, true);
  for (let i = 2; i < packed.length; i += 3) {
    if (packed[i] === 0) throw corrupt('an entry has no expiry.');
  }
  return packed;
}

/**
 * Reads and checks a snapshot completely, so that nothing is merged from a corrupt one. Throws
 * `ERR_REVOCATION_SNAPSHOT_INVALID`.
 */
export function decodeSnapshot(bytes: Uint8Array): SnapshotContents {
  if (!(bytes instanceof Uint8Array)) throw corrupt('must be a Uint8Array.');
  if (bytes.length < HEADER + 4) throw corrupt('too short.');
  if (MAGIC.some((byte, i) => bytes[i] !== byte)) throw corrupt('not a revocation index snapshot.');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (version !== SNAPSHOT_VERSION) throw corrupt(`format version ${version} is not supported.`);
  const end = bytes.length - 4;
  if (view.getUint32(end, true) !== crc32(bytes, 0, end)) throw corrupt('checksum mismatch.');
  if (view.getUint16(6, true) !== 0) throw corrupt('unknown flags.');
  const writtenAt = view.getFloat64(8, true);
  const globalAt = view.getFloat64(16, true);
  const globalUntil = view.getFloat64(24, true);
  if (!isTime(writtenAt) || !isTime(globalAt) || !(globalUntil === 0 || isUntil(globalUntil))) {
    throw corrupt('impossible times.');
  }
  const count = (i: number): number => view.getUint32(32 + i * 4, true);
  const tokenCount = count(0);
  const sessionCount = count(1);
  const keyCount = count(2);
  const subjectCount = count(3);
  const bucketCount = count(4);
  const usedBuckets = count(5);
  if (bucketCount < 1 || bucketCount > MAX_BUCKETS || (bucketCount & (bucketCount - 1)) !== 0) {
    throw corrupt('the bucket count is not a power of two.');
  }
  // The least every count needs, checked before any of them sizes an allocation.
  const least =
    (tokenCount + sessionCount) * TRIPLE +
    keyCount * (2 + 8) +
    subjectCount * (2 + CUTOFF) +
    usedBuckets * (4 + CUTOFF);
  if (HEADER + least > end) throw corrupt('truncated.');
  let offset = HEADER;
  const tokens = readTriples(view, offset, tokenCount);
  offset += tokenCount * TRIPLE;
  const sessions = readTriples(view, offset, sessionCount);
  offset += sessionCount * TRIPLE;
  const reader = new StringReader(bytes, view, end);
  const keys: [string, number][] = [];
  for (let i = 0; i < keyCount; i++) {
    const [kid, next] = reader.read(offset, 8);
    const until = view.getFloat64(next, true);
    if (!isUntil(until)) throw corrupt('a key entry has an impossible expiry.');
    keys.push([kid, until]);
    offset = next + 8;
  }
  const subjects: [string, SubjectCutoff][] = [];
  for (let i = 0; i < subjectCount; i++) {
    const [sub, next] = reader.read(offset, CUTOFF);
    subjects.push([sub, readCutoff(view, next)]);
    offset = next + CUTOFF;
  }
  if (offset + usedBuckets * (4 + CUTOFF) !== end) throw corrupt('the length does not match.');
  const buckets: [number, SubjectCutoff][] = [];
  for (let i = 0; i < usedBuckets; i++) {
    const index = view.getUint32(offset, true);
    if (index >= bucketCount) throw corrupt('a bucket index is out of range.');
    buckets.push([index, readCutoff(view, offset + 4)]);
    offset += 4 + CUTOFF;
  }
  const global = globalUntil > 0 ? { at: globalAt, until: globalUntil } : null;
  return { writtenAt, global, tokens, sessions, keys, subjects, bucketCount, buckets };
}

// Reads the length-prefixed UTF-8 targets (kids, subjects), refusing bad UTF-8 and lengths that a
// revocation event could not have.
class StringReader {
  // ignoreBOM keeps a leading U+FEFF: it is part of the target, not a marker to strip, and a kid
  // or subject that starts with one must come back as itself.
  readonly #decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  constructor(
    readonly bytes: Uint8Array,
    readonly view: DataView,
    readonly end: number,
  ) {}

  /** The string at `offset`, and the offset after it; `after` more bytes must follow it. */
  read(offset: number, after: number): [string, number] {
    if (offset + 2 > this.end) throw corrupt('truncated.');
    const length = this.view.getUint16(offset, true);
    const next = offset + 2 + length;
    if (next + after > this.end) throw corrupt('truncated.');
    let text: string;
    try {
      text = this.#decoder.decode(this.bytes.subarray(offset + 2, next));
    } catch (cause) {
      throw new RevocableError(
        'ERR_REVOCATION_SNAPSHOT_INVALID',
        'Revocation snapshot: bad UTF-8.',
        {
          cause,
        },
      );
    }
    if (text.length === 0 || text.length > MAX_TARGET_LENGTH) {
      throw corrupt('a target is empty or too long.');
    }
    return [text, next];
  }
}
