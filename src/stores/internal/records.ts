import type { RefreshRotation, SessionRecord } from '../types.js';
import { assertClaims } from './claims.js';
import {
  assertEpochSeconds,
  assertHash,
  assertSid,
  assertSub,
  invalidArgument,
  MAX_SPENT_HASHES,
  MAX_TEXT_LENGTH,
} from './scalars.js';

// Checks of the records a store writes whole: every member is read and checked before anything
// is written, so a record that fails half-way leaves no trace.

function assertNullableText(value: unknown, name: string): void {
  if (value !== null && (typeof value !== 'string' || value.length > MAX_TEXT_LENGTH)) {
    throw invalidArgument(
      `${name} must be null or a string of at most ${MAX_TEXT_LENGTH} characters.`,
    );
  }
}

function assertHashList(value: unknown, name: string): void {
  if (!Array.isArray(value) || value.length > MAX_SPENT_HASHES) {
    throw invalidArgument(`${name} must be an array of at most ${MAX_SPENT_HASHES} hashes.`);
  }
  for (const hash of value) assertHash(hash, `each of ${name}`);
}

function objectOf(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument(`${what} must be an object.`);
  }
  return value as Record<string, unknown>;
}

/**
 * A whole session record, as `createSession` takes it: every member of {@link SessionRecord} with
 * its type (nullable ones null or set), times as {@link assertEpochSeconds}, claims as
 * {@link assertClaims}. Members it does not know are ignored, never stored.
 *
 * @example
 * ```ts
 * async createSession(session) {
 *   assertSessionRecord(session);
 *   // ...insert
 * }
 * ```
 */
export function assertSessionRecord(value: unknown): asserts value is SessionRecord {
  const session = objectOf(value, 'A session');
  assertSid(session.sid);
  assertSub(session.sub);
  for (const name of [
    'createdAt',
    'lastSeenAt',
    'idleExpiresAt',
    'absoluteExpiresAt',
    'authTime',
  ]) {
    assertEpochSeconds(session[name], name);
  }
  for (const name of ['device', 'ip', 'userAgent', 'revokedReason']) {
    assertNullableText(session[name], name);
  }
  for (const name of ['rotatedAt', 'revokedAt']) {
    if (session[name] !== null) assertEpochSeconds(session[name], `${name} (or null)`);
  }
  assertClaims(session.claims);
  assertHash(session.refreshHash, 'refreshHash');
  if (session.previousHash !== null) assertHash(session.previousHash, 'previousHash (or null)');
  assertHashList(session.spentHashes, 'spentHashes');
}

/**
 * The new refresh state of a rotation: every member of {@link RefreshRotation} with its type.
 *
 * @example
 * ```ts
 * async rotateRefresh(sid, expectedHash, expectedGen, next) {
 *   assertSid(sid);
 *   assertHash(expectedHash, 'expectedHash');
 *   assertGeneration(expectedGen, 'expectedGen');
 *   assertRefreshRotation(next);
 *   // ...compare-and-set
 * }
 * ```
 */
export function assertRefreshRotation(value: unknown): asserts value is RefreshRotation {
  const next = objectOf(value, 'A rotation');
  assertHash(next.refreshHash, 'refreshHash');
  assertHash(next.previousHash, 'previousHash');
  for (const name of ['rotatedAt', 'lastSeenAt', 'idleExpiresAt']) {
    assertEpochSeconds(next[name], name);
  }
  assertHashList(next.spentHashes, 'spentHashes');
  for (const name of ['ip', 'userAgent']) assertNullableText(next[name], name);
}
