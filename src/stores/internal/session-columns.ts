import type { SessionRecord } from '../types.js';

/**
 * The session columns of the SQL stores, in table order, listed once so that SELECT lists, INSERT
 * column lists and parameter lists cannot drift apart, in one store or between SQLite and
 * PostgreSQL.
 */
export const SESSION_COLUMNS = [
  'sid',
  'sub',
  'created_at',
  'last_seen_at',
  'idle_expires_at',
  'absolute_expires_at',
  'auth_time',
  'device',
  'ip',
  'user_agent',
  'claims',
  'refresh_hash',
  'previous_hash',
  'rotated_at',
  'spent_hashes',
  'revoked_at',
  'revoked_reason',
] as const;

/** One session column name. */
export type SessionColumn = (typeof SESSION_COLUMNS)[number];

/** The session columns, optionally qualified by a table alias (`s.sid, s.sub, ...`). */
export function sessionColumns(alias?: string): string {
  return SESSION_COLUMNS.map((column) =>
    alias === undefined ? column : `${alias}.${column}`,
  ).join(', ');
}

/**
 * A session record as values by column, built member by member so that nothing else reaches the
 * database. Each SQL store encodes the two structured members its own way (`claims`, already
 * checked, and `spentHashes`) and passes them in.
 */
export function sessionColumnValues<Claims, SpentHashes>(
  session: SessionRecord,
  claims: Claims,
  spentHashes: SpentHashes,
) {
  return {
    sid: session.sid,
    sub: session.sub,
    created_at: session.createdAt,
    last_seen_at: session.lastSeenAt,
    idle_expires_at: session.idleExpiresAt,
    absolute_expires_at: session.absoluteExpiresAt,
    auth_time: session.authTime,
    device: session.device,
    ip: session.ip,
    user_agent: session.userAgent,
    claims,
    refresh_hash: session.refreshHash,
    previous_hash: session.previousHash,
    rotated_at: session.rotatedAt,
    spent_hashes: spentHashes,
    revoked_at: session.revokedAt,
    revoked_reason: session.revokedReason,
  } satisfies Record<SessionColumn, unknown>;
}
