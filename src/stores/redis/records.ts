import { RevocableError } from '../../errors/revocable-error.js';
import {
  parseRevocationEventJson,
  type RevocationEvent,
  serializeRevocationEvent,
} from '../../revocation/events.js';
import type { RefreshRotation, SessionRecord, StoredEvent } from '../types.js';

// How sessions and script replies look on the wire, and how they are read back. A session is a
// hash whose field names are the record's member names; a null member is an absent field (an
// empty string is a value: a device may be ''). Times are written with String(n), which a
// double survives exactly, and read back with Number().

/** A reply that is not what the scripts return: the prefix holds data of another layout. */
export function unreadable(what: string): RevocableError {
  return new RevocableError(
    'ERR_INVALID_ARGUMENT',
    `The Redis store read ${what} it did not write: is another program using this prefix?`,
  );
}

/** The reply as an array. */
export function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw unreadable(what);
  return value;
}

/** The reply as a string (ioredis gives bulk strings as strings). */
export function asString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw unreadable(what);
  return value;
}

/** An integer reply, as a number (or as a string, with ioredis's `stringNumbers`). */
export function asCount(value: unknown, what: string): number {
  const count = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw unreadable(what);
  }
  return count;
}

/** A string array of (name, value) pairs (HGETALL) as a map. */
export function asFieldMap(value: unknown, what: string): Map<string, string> {
  const flat = asArray(value, what);
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    fields.set(asString(flat[i], what), asString(flat[i + 1], what));
  }
  return fields;
}

/**
 * The hash fields of a session, as (name, value) pairs: only the members of a SessionRecord
 * (a StoredSession's gen and banned, or anything else a caller's object carries, are not stored).
 */
export function sessionFields(session: SessionRecord, claims: string): string[] {
  const fields = [
    'sid',
    session.sid,
    'sub',
    session.sub,
    'createdAt',
    String(session.createdAt),
    'lastSeenAt',
    String(session.lastSeenAt),
    'idleExpiresAt',
    String(session.idleExpiresAt),
    'absoluteExpiresAt',
    String(session.absoluteExpiresAt),
    'authTime',
    String(session.authTime),
    'claims',
    claims,
    'refreshHash',
    session.refreshHash,
    'spentHashes',
    JSON.stringify(session.spentHashes),
  ];
  const nullable: ReadonlyArray<readonly [string, string | number | null]> = [
    ['device', session.device],
    ['ip', session.ip],
    ['userAgent', session.userAgent],
    ['previousHash', session.previousHash],
    ['rotatedAt', session.rotatedAt],
    ['revokedAt', session.revokedAt],
    ['revokedReason', session.revokedReason],
  ];
  for (const [name, value] of nullable) if (value !== null) fields.push(name, String(value));
  return fields;
}

/**
 * The values a rotation writes, in the order the rotation script takes them; ip and userAgent as a
 * flag and a value, since null (keep the recorded one) and '' (a value) must stay apart.
 */
export function rotationValues(next: RefreshRotation): string[] {
  return [
    next.refreshHash,
    next.previousHash,
    String(next.rotatedAt),
    JSON.stringify(next.spentHashes),
    String(next.lastSeenAt),
    String(next.idleExpiresAt),
    next.ip === null ? '0' : '1',
    next.ip ?? '',
    next.userAgent === null ? '0' : '1',
    next.userAgent ?? '',
  ];
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw unreadable(what);
  }
}

/** A session record from its hash: fresh objects every time, so callers may change them freely. */
export function sessionFromFields(fields: Map<string, string>): SessionRecord {
  const what = 'a session';
  const text = (name: string): string => {
    const value = fields.get(name);
    if (value === undefined) throw unreadable(what);
    return value;
  };
  const nullableText = (name: string): string | null => fields.get(name) ?? null;
  const time = (value: string): number => {
    const number = Number(value);
    if (value === '' || !Number.isFinite(number)) throw unreadable(what);
    return number;
  };
  const nullableTime = (name: string): number | null => {
    const value = fields.get(name);
    return value === undefined ? null : time(value);
  };
  const claims = parseJson(text('claims'), what);
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw unreadable(what);
  }
  const spentHashes = parseJson(text('spentHashes'), what);
  if (!Array.isArray(spentHashes) || !spentHashes.every((hash) => typeof hash === 'string')) {
    throw unreadable(what);
  }
  return {
    sid: text('sid'),
    sub: text('sub'),
    createdAt: time(text('createdAt')),
    lastSeenAt: time(text('lastSeenAt')),
    idleExpiresAt: time(text('idleExpiresAt')),
    absoluteExpiresAt: time(text('absoluteExpiresAt')),
    authTime: time(text('authTime')),
    device: nullableText('device'),
    ip: nullableText('ip'),
    userAgent: nullableText('userAgent'),
    claims: claims as Record<string, unknown>,
    refreshHash: text('refreshHash'),
    previousHash: nullableText('previousHash'),
    rotatedAt: nullableTime('rotatedAt'),
    spentHashes: spentHashes as string[],
    revokedAt: nullableTime('revokedAt'),
    revokedReason: nullableText('revokedReason'),
  };
}

/** The (id, until, body) triples the appending scripts take. */
export function eventArgs(events: readonly RevocationEvent[]): string[] {
  return events.flatMap((event) => [
    event.id,
    String(event.until),
    serializeRevocationEvent(event),
  ]);
}

/** Stored events from the (seq, body) pairs (or (body, seq) ones) the log scripts return. */
export function storedEvents(flat: readonly unknown[], seqFirst: boolean): StoredEvent[] {
  const events: StoredEvent[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const [seq, body] = seqFirst ? [flat[i], flat[i + 1]] : [flat[i + 1], flat[i]];
    events.push({
      seq: asCount(seq, 'a log position'),
      event: parseRevocationEventJson(asString(body, 'an event')),
    });
  }
  return events;
}
