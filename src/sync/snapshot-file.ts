import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { RevocableError } from '../errors/revocable-error.js';

// A snapshot file: "RVSF", a format version byte, three zero bytes, the log position as a float64
// (positions are safe integers), then the index snapshot's own bytes (which carry their own check).
const MAGIC = 0x52565346;
const VERSION = 1;
const HEADER = 16;

/** An index snapshot and the log position it reaches. */
export interface SavedSnapshot {
  readonly position: number;
  readonly bytes: Uint8Array;
}

function corrupt(message: string): RevocableError {
  return new RevocableError('ERR_REVOCATION_SNAPSHOT_INVALID', `Snapshot file: ${message}`);
}

/**
 * Reads a snapshot file written by {@link saveSnapshotFile}; null when there is none. A file that
 * is not one is `ERR_REVOCATION_SNAPSHOT_INVALID` (the follower then loads the log instead).
 */
export async function loadSnapshotFile(path: string): Promise<SavedSnapshot | null> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (data.length < HEADER || data.readUInt32BE(0) !== MAGIC) throw corrupt('not a snapshot file.');
  if (data[4] !== VERSION) throw corrupt('an unknown format version.');
  const position = data.readDoubleBE(8);
  if (!Number.isSafeInteger(position) || position < 0) throw corrupt('a bad log position.');
  return { position, bytes: data.subarray(HEADER) };
}

/**
 * Writes a snapshot file whole or not at all: to a temporary name, then renamed into place, so a
 * crash while writing leaves the previous file.
 */
export async function saveSnapshotFile(path: string, snapshot: SavedSnapshot): Promise<void> {
  const header = Buffer.alloc(HEADER);
  header.writeUInt32BE(MAGIC, 0);
  header[4] = VERSION;
  header.writeDoubleBE(snapshot.position, 8);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, Buffer.concat([header, snapshot.bytes]));
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
