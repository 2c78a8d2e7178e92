import { RevocableError } from '../errors/revocable-error.js';
import type { RefreshRotation, SessionRecord } from './types.js';

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

/** A non-empty string of at most 512 characters (ids, hashes, reasons). */
export function checkText(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512) {
    throw invalid(`${name} must be a non-empty string.`);
  }
}

/** A finite, non-negative number of epoch seconds. */
export function checkTime(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(`${name} must be a finite, non-negative number.`);
  }
}

function checkNullableText(value: unknown, name: string): void {
  if (value !== null && (typeof value !== 'string' || value.length > 512)) {
    throw invalid(`${name} must be a string or null.`);
  }
}

function checkHashes(value: unknown, name: string): void {
  if (!Array.isArray(value) || value.length > 1000)
    throw invalid(`${name} must be an array of hashes.`);
  for (const hash of value) checkText(hash, name);
}

/** Checks a whole session record before a store writes it; nothing is written when it throws. */
export function checkSessionRecord(record: unknown): asserts record is SessionRecord {
  if (typeof record !== 'object' || record === null) throw invalid('A session must be an object.');
  const session = record as Record<string, unknown>;
  checkText(session.sid, 'sid');
  checkText(session.sub, 'sub');
  for (const name of [
    'createdAt',
    'lastSeenAt',
    'idleExpiresAt',
    'absoluteExpiresAt',
    'authTime',
  ]) {
    checkTime(session[name], name);
  }
  for (const name of ['device', 'ip', 'userAgent', 'previousHash', 'revokedReason']) {
    checkNullableText(session[name], name);
  }
  for (const name of ['rotatedAt', 'revokedAt']) {
    if (session[name] !== null) checkTime(session[name], name);
  }
  checkText(session.refreshHash, 'refreshHash');
  checkHashes(session.spentHashes, 'spentHashes');
  const claims = session.claims;
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw invalid('claims must be a JSON object.');
  }
}

/** Checks the state a rotation writes. */
export function checkRefreshRotation(value: unknown): asserts value is RefreshRotation {
  if (typeof value !== 'object' || value === null) throw invalid('A rotation must be an object.');
  const next = value as Record<string, unknown>;
  checkText(next.refreshHash, 'refreshHash');
  checkText(next.previousHash, 'previousHash');
  for (const name of ['rotatedAt', 'lastSeenAt', 'idleExpiresAt']) checkTime(next[name], name);
  checkHashes(next.spentHashes, 'spentHashes');
}
