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
