import type Database from 'better-sqlite3';
import { sessionColumns } from '../internal/session-columns.js';
import type { RotationRow, SessionRow, StoredSessionRow } from './rows.js';
import { sessionParameters } from './rows.js';
import type { TableNames } from './schema.js';

/** A log row: its position and the event's JSON. */
export interface EventRow {
  seq: number;
  body: string;
}

/** What a session and its subject were when a rotation wrote nothing. */
export interface RotationRefusalRow {
  revoked: number;
  banned: number;
  refresh_hash: string;
  gen: number;
}

/** The prepared statements of one store, typed per statement. */
export interface SqliteStatements {
  readonly subject: Database.Statement<[string], { gen: number; banned: number }>;
  readonly existingSession: Database.Statement<
    [string],
    { sub: string; refresh_hash: string; revoked: number }
  >;
  readonly insertSession: Database.Statement<SessionRow, never>;
  readonly getSession: Database.Statement<[string], StoredSessionRow>;
  readonly listSessions: Database.Statement<[string], SessionRow>;
  readonly rotate: Database.Statement<RotationRow, never>;
  readonly rotationRefusal: Database.Statement<[string], RotationRefusalRow>;
  readonly revoke: Database.Statement<[number, string, string], never>;
  readonly revokeAll: Database.Statement<[number, string], never>;
  readonly replaceClaims: Database.Statement<[string, string], never>;
  readonly bumpGeneration: Database.Statement<[string], { gen: number }>;
  readonly setBanned: Database.Statement<{ sub: string; banned: number; at: number | null }, never>;
  readonly eventBody: Database.Statement<[string], string>;
  readonly appendEvent: Database.Statement<[string, number, string], never>;
  readonly readEvents: Database.Statement<[number, number], EventRow>;
  readonly liveEvents: Database.Statement<[number], EventRow>;
  readonly position: Database.Statement<[string], { seq: number }>;
  readonly pruneEvents: Database.Statement<[number], never>;
  readonly pruneSessions: Database.Statement<[number], never>;
}

/**
 * Every statement a store runs, prepared once when the store is made: SQLite parses and plans each
 * only once, and a statement that does not fit the schema fails at startup instead of mid-request.
 * Result types are given per statement so no row is read as `unknown` and cast at each use.
 */
export function prepareStatements(
  database: Database.Database,
  tables: TableNames,
): SqliteStatements {
  const { sessions, subjects, log } = tables;
  return {
    subject: database.prepare<[string], { gen: number; banned: number }>(
      `SELECT gen, banned FROM ${subjects} WHERE sub = ?`,
    ),
    existingSession: database.prepare<
      [string],
      { sub: string; refresh_hash: string; revoked: number }
    >(`SELECT sub, refresh_hash, revoked_at IS NOT NULL AS revoked FROM ${sessions} WHERE sid = ?`),
    // Run only after existingSession found no row, in the same transaction.
    insertSession: database.prepare<SessionRow, never>(
      `INSERT INTO ${sessions} (${sessionColumns()}) VALUES (${sessionParameters()})`,
    ),
    // The session and its subject in one read; a subject without a row is generation 0, not banned.
    getSession: database.prepare<[string], StoredSessionRow>(
      `SELECT ${sessionColumns('s')}, COALESCE(u.gen, 0) AS gen, COALESCE(u.banned, 0) AS banned
       FROM ${sessions} AS s LEFT JOIN ${subjects} AS u ON u.sub = s.sub
       WHERE s.sid = ?`,
    ),
    listSessions: database.prepare<[string], SessionRow>(
      `SELECT ${sessionColumns()} FROM ${sessions}
       WHERE sub = ? AND revoked_at IS NULL ORDER BY created_at DESC, sid`,
    ),
    // The compare-and-set: every condition in the WHERE of one UPDATE; one changed row means it
    // was written, under the expected generation. A null ip or user agent keeps the recorded one.
    rotate: database.prepare<RotationRow, never>(
      `UPDATE ${sessions} SET
         refresh_hash = @refresh_hash, previous_hash = @previous_hash, rotated_at = @rotated_at,
         spent_hashes = @spent_hashes, last_seen_at = @last_seen_at, idle_expires_at = @idle_expires_at,
         ip = COALESCE(@ip, ip), user_agent = COALESCE(@user_agent, user_agent)
       WHERE sid = @sid AND refresh_hash = @expected AND revoked_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM ${subjects} AS u WHERE u.sub = ${sessions}.sub AND u.banned = 1)
         AND COALESCE((SELECT u.gen FROM ${subjects} AS u WHERE u.sub = ${sessions}.sub), 0) = @expected_gen`,
    ),
    // Why a rotation wrote nothing; read in the rotation's own transaction, so it is the state the
    // UPDATE saw.
    rotationRefusal: database.prepare<[string], RotationRefusalRow>(
      `SELECT s.revoked_at IS NOT NULL AS revoked, COALESCE(u.banned, 0) AS banned,
         s.refresh_hash, COALESCE(u.gen, 0) AS gen
       FROM ${sessions} AS s LEFT JOIN ${subjects} AS u ON u.sub = s.sub
       WHERE s.sid = ?`,
    ),
    revoke: database.prepare<[number, string, string], never>(
      `UPDATE ${sessions} SET revoked_at = ?, revoked_reason = ? WHERE sid = ? AND revoked_at IS NULL`,
    ),
    // The emergency: one statement ends every live session, whoever it belongs to. Sessions
    // created after it commits have revoked_at NULL and live.
    revokeAll: database.prepare<[number, string], never>(
      `UPDATE ${sessions} SET revoked_at = ?, revoked_reason = ? WHERE revoked_at IS NULL`,
    ),
    replaceClaims: database.prepare<[string, string], never>(
      `UPDATE ${sessions} SET claims = ? WHERE sub = ? AND revoked_at IS NULL`,
    ),
    bumpGeneration: database.prepare<[string], { gen: number }>(
      `INSERT INTO ${subjects} (sub, gen) VALUES (?, 1)
       ON CONFLICT (sub) DO UPDATE SET gen = gen + 1 RETURNING gen`,
    ),
    setBanned: database.prepare<{ sub: string; banned: number; at: number | null }, never>(
      `INSERT INTO ${subjects} (sub, banned, banned_at) VALUES (@sub, @banned, @at)
       ON CONFLICT (sub) DO UPDATE SET banned = @banned, banned_at = @at`,
    ),
    eventBody: database.prepare<[string], string>(`SELECT body FROM ${log} WHERE id = ?`).pluck(),
    // Run only after eventBody found no row, in the same transaction.
    appendEvent: database.prepare<[string, number, string], never>(
      `INSERT INTO ${log} (id, until, body) VALUES (?, ?, ?)`,
    ),
    readEvents: database.prepare<[number, number], EventRow>(
      `SELECT seq, body FROM ${log} WHERE seq > ? ORDER BY seq LIMIT ?`,
    ),
    liveEvents: database.prepare<[number], EventRow>(
      `SELECT seq, body FROM ${log} WHERE until > ? ORDER BY seq`,
    ),
    // The highest position ever handed out (AUTOINCREMENT keeps it in sqlite_sequence). MAX(seq)
    // would fall back when prune deletes the newest events, reporting a position below one
    // already given out.
    position: database.prepare<[string], { seq: number }>(
      'SELECT seq FROM sqlite_sequence WHERE name = ?',
    ),
    pruneEvents: database.prepare<[number], never>(`DELETE FROM ${log} WHERE until <= ?`),
    // A session ended at the earliest of its revocation, idle expiry and absolute expiry.
    pruneSessions: database.prepare<[number], never>(
      `DELETE FROM ${sessions}
       WHERE MIN(COALESCE(revoked_at, idle_expires_at), idle_expires_at, absolute_expires_at) < ?`,
    ),
  };
}

/** The prepared statements of one store. */
export type Statements = ReturnType<typeof prepareStatements>;
