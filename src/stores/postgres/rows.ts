import { RevocableError } from '../../errors/revocable-error.js';
import { parseRevocationEventJson, type RevocationEvent } from '../../revocation/events.js';
import { SESSION_COLUMNS, sessionColumnValues } from '../internal/session-columns.js';
import { claimsJson, invalidArgument } from '../internal/validate.js';
import type { RefreshRotation, SessionRecord, StoredEvent, StoredSession } from '../types.js';

// How rows look when pg hands them over, and how they become records. pg's default parsers give
// bigint as a string, double precision as a number, boolean as a boolean, jsonb parsed and text[]
// as an array; an application may have changed the parsers process-wide (bigint to a number or a
// BigInt is common), so each value is read by what it is, not by what it should be.

/** A sessions row as read back. */
export interface SessionRow {
  sid: string;
  sub: string;
  created_at: number | string;
  last_seen_at: number | string;
  idle_expires_at: number | string;
  absolute_expires_at: number | string;
  auth_time: number | string;
  device: string | null;
  ip: string | null;
  user_agent: string | null;
  claims: unknown;
  refresh_hash: string;
  previous_hash: string | null;
  rotated_at: number | string | null;
  spent_hashes: unknown;
  revoked_at: number | string | null;
  revoked_reason: string | null;
}

/** A sessions row joined with its subject. */
export interface StoredSessionRow extends SessionRow {
  gen: string | number | bigint;
  banned: boolean;
}

/** A log row: its position and the event's JSON text. */
export interface EventRow {
  seq: string | number | bigint;
  body: string;
}

/**
 * The parameters of a (validated) session record, in {@link SESSION_COLUMNS} order, built member
 * by member so that nothing else is sent; claims as checked JSON text, hashes as a new array.
 */
export function sessionValues(session: SessionRecord): unknown[] {
  const values = sessionColumnValues(session, claimsJsonb(session.claims), [
    ...session.spentHashes,
  ]);
  return SESSION_COLUMNS.map((column) => values[column]);
}

/** A value the store did not write: another program's tables, or a changed type parser. */
export function unreadable(what: string): RevocableError {
  return new RevocableError(
    'ERR_INVALID_ARGUMENT',
    `The PostgreSQL store read ${what} it did not write: are these tables another program's?`,
  );
}

/** A bigint or count as a number, refusing anything that is not a safe integer. */
export function toInteger(value: unknown, what: string): number {
  const number =
    typeof value === 'string' || typeof value === 'bigint' ? Number(value) : (value as number);
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw unreadable(what);
  return number;
}

function toTime(value: unknown, what: string): number {
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) throw unreadable(what);
  return number;
}

function toNullableTime(value: unknown, what: string): number | null {
  return value === null ? null : toTime(value, what);
}

function toClaims(value: unknown): Record<string, unknown> {
  const claims: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw unreadable('claims');
  }
  return claims as Record<string, unknown>;
}

function toHashes(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((hash) => typeof hash === 'string')) {
    throw unreadable('spent hashes');
  }
  return value as string[];
}

/** A session record from its row: fresh objects every time, so callers may change them freely. */
export function fromSessionRow(row: SessionRow): SessionRecord {
  return {
    sid: row.sid,
    sub: row.sub,
    createdAt: toTime(row.created_at, 'a time'),
    lastSeenAt: toTime(row.last_seen_at, 'a time'),
    idleExpiresAt: toTime(row.idle_expires_at, 'a time'),
    absoluteExpiresAt: toTime(row.absolute_expires_at, 'a time'),
    authTime: toTime(row.auth_time, 'a time'),
    device: row.device,
    ip: row.ip,
    userAgent: row.user_agent,
    claims: toClaims(row.claims),
    refreshHash: row.refresh_hash,
    previousHash: row.previous_hash,
    rotatedAt: toNullableTime(row.rotated_at, 'a time'),
    spentHashes: toHashes(row.spent_hashes),
    revokedAt: toNullableTime(row.revoked_at, 'a time'),
    revokedReason: row.revoked_reason,
  };
}

/** A session with its subject from a joined row. */
export function fromStoredSessionRow(row: StoredSessionRow): StoredSession {
  return {
    ...fromSessionRow(row),
    gen: toInteger(row.gen, 'a generation'),
    banned: row.banned === true,
  };
}

/** A log row as a stored event; the JSON is checked again, as anything read from outside is. */
export function fromEventRow(row: EventRow): StoredEvent {
  return { seq: toInteger(row.seq, 'a log position'), event: parseRevocationEventJson(row.body) };
}

// PostgreSQL text cannot hold U+0000, and pg encodes a lone surrogate as U+FFFD, so such a
// string would fail with a driver error or read back as another string. Neither is a value
// revocable makes; they are refused as bad input, before anything is sent.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Refuses a string that PostgreSQL text would not keep exactly. */
export function assertStorableText(value: string | null, name: string): void {
  if (value !== null && (value.includes('\u0000') || LONE_SURROGATE.test(value))) {
    throw invalidArgument(`${name} must not contain NUL characters or lone surrogates.`);
  }
}

// In JSON.stringify's output a \u escape is only ever a control character or a lone surrogate;
// jsonb refuses \u0000 and lone surrogates. An escaped backslash (`\\`) before `u0000` is text.
const JSONB_REFUSES = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/** Checks claims as every store does, then for what jsonb refuses; returns their JSON text. */
export function claimsJsonb(value: unknown, name = 'claims'): string {
  const text = claimsJson(value, name);
  if (JSONB_REFUSES.test(text)) {
    throw invalidArgument(`${name} must not contain NUL characters or lone surrogates.`);
  }
  return text;
}

/** Checks every string of a (validated) session record for what PostgreSQL text would not keep. */
export function assertStorableSession(session: SessionRecord): void {
  assertStorableText(session.sid, 'sid');
  assertStorableText(session.sub, 'sub');
  assertStorableText(session.device, 'device');
  assertStorableText(session.ip, 'ip');
  assertStorableText(session.userAgent, 'userAgent');
  assertStorableText(session.refreshHash, 'refreshHash');
  assertStorableText(session.previousHash, 'previousHash');
  assertStorableText(session.revokedReason, 'revokedReason');
  for (const hash of session.spentHashes) assertStorableText(hash, 'each of spentHashes');
}

/** Checks every string of a (validated) rotation for what PostgreSQL text would not keep. */
export function assertStorableRotation(next: RefreshRotation): void {
  assertStorableText(next.refreshHash, 'refreshHash');
  assertStorableText(next.previousHash, 'previousHash');
  assertStorableText(next.ip, 'ip');
  assertStorableText(next.userAgent, 'userAgent');
  for (const hash of next.spentHashes) assertStorableText(hash, 'each of spentHashes');
}

/**
 * Checks the ids of (parsed) events, which become PostgreSQL text (the unique key); the rest of an
 * event is kept as its JSON text, where such characters are escapes.
 */
export function assertStorableEvents(events: readonly RevocationEvent[]): void {
  for (const event of events) assertStorableText(event.id, 'an event id');
}
