import { SESSION_COLUMNS, sessionColumnValues } from '../internal/session-columns.js';
import { claimsJson } from '../internal/validate.js';
import type { RefreshRotation, SessionRecord } from '../types.js';

/** A sessions row, as bound to statements and read back: times REAL, JSON as TEXT. */
export interface SessionRow {
  sid: string;
  sub: string;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  auth_time: number;
  device: string | null;
  ip: string | null;
  user_agent: string | null;
  claims: string;
  refresh_hash: string;
  previous_hash: string | null;
  rotated_at: number | null;
  spent_hashes: string;
  revoked_at: number | null;
  revoked_reason: string | null;
}

/** A sessions row joined with its subject (0 and 0 for a subject the store has never seen). */
export interface StoredSessionRow extends SessionRow {
  gen: number;
  banned: number;
}

/**
 * The columns a rotation writes, plus what it matches on. A null `ip` or `user_agent` keeps the
 * recorded value.
 */
export interface RotationRow {
  sid: string;
  expected: string;
  expected_gen: number;
  refresh_hash: string;
  previous_hash: string;
  rotated_at: number;
  spent_hashes: string;
  last_seen_at: number;
  idle_expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

/** The named parameters matching {@link sessionColumns} (`@sid, @sub, ...`). */
export function sessionParameters(): string {
  return SESSION_COLUMNS.map((column) => `@${column}`).join(', ');
}

/**
 * The row of a validated session record, built member by member so nothing else is bound. Claims
 * go through `claimsJson`, which refuses what JSON would not give back as it was.
 */
export function toSessionRow(session: SessionRecord): SessionRow {
  return sessionColumnValues(
    session,
    claimsJson(session.claims),
    JSON.stringify(session.spentHashes),
  );
}

/**
 * The row a (validated) rotation writes when the session's refresh hash is still `expected` and
 * its subject's generation still `expectedGen`.
 */
export function toRotationRow(
  sid: string,
  expected: string,
  expectedGen: number,
  next: RefreshRotation,
): RotationRow {
  return {
    sid,
    expected,
    expected_gen: expectedGen,
    refresh_hash: next.refreshHash,
    previous_hash: next.previousHash,
    rotated_at: next.rotatedAt,
    spent_hashes: JSON.stringify(next.spentHashes),
    last_seen_at: next.lastSeenAt,
    idle_expires_at: next.idleExpiresAt,
    ip: next.ip,
    user_agent: next.userAgent,
  };
}

/** A session record from its row: fresh objects every time, so callers may change them freely. */
export function fromSessionRow(row: SessionRow): SessionRecord {
  return {
    sid: row.sid,
    sub: row.sub,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    authTime: row.auth_time,
    device: row.device,
    ip: row.ip,
    userAgent: row.user_agent,
    claims: JSON.parse(row.claims) as Record<string, unknown>,
    refreshHash: row.refresh_hash,
    previousHash: row.previous_hash,
    rotatedAt: row.rotated_at,
    spentHashes: JSON.parse(row.spent_hashes) as string[],
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
  };
}
