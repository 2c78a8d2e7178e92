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

/** The prepared statements of one store, typed per statement. */
export interface SqliteStatements {
  readonly subject: Database.Statement<[string], { gen: number; banned: number }>;
  readonly insertSession: Database.Statement<SessionRow, never>;
  readonly getSession: Database.Statement<[string], StoredSessionRow>;
  readonly listSessions: Database.Statement<[string], SessionRow>;
  readonly rotate: Database.Statement<RotationRow, { gen: number }>;
  readonly rotationRefusal: Database.Statement<[string], { revoked: number; banned: number }>;
  readonly revoke: Database.Statement<[number, string, string], never>;
  readonly updateClaims: Database.Statement<[string, string], never>;
  readonly bumpGeneration: Database.Statement<[string], { gen: number }>;
  readonly setBanned: Database.Statement<{ sub: string; banned: number; at: number | null }, never>;
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
    insertSession: database.prepare<SessionRow, never>(
      `INSERT INTO ${sessions} (${sessionColumns()}) VALUES (${sessionParameters()})
       ON CONFLICT (sid) DO NOTHING`,
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
    // The compare-and-set: every condition in the WHERE of one UPDATE, the subject's generation
    // returned by the same statement. No row back means nothing was written.
    rotate: database.prepare<RotationRow, { gen: number }>(
      `UPDATE ${sessions} SET
         refresh_hash = @refresh_hash, previous_hash = @previous_hash, rotated_at = @rotated_at,
         spent_hashes = @spent_hashes, last_seen_at = @last_seen_at, idle_expires_at = @idle_expires_at
       WHERE sid = @sid AND refresh_hash = @expected AND revoked_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM ${subjects} AS u WHERE u.sub = ${sessions}.sub AND u.banned = 1)
       RETURNING COALESCE((SELECT u.gen FROM ${subjects} AS u WHERE u.sub = ${sessions}.sub), 0) AS gen`,
    ),
    // Why a rotation wrote nothing; read in the rotation's own transaction, so it is the state the
    // UPDATE saw.
    rotationRefusal: database.prepare<[string], { revoked: number; banned: number }>(
      `SELECT s.revoked_at IS NOT NULL AS revoked, COALESCE(u.banned, 0) AS banned
       FROM ${sessions} AS s LEFT JOIN ${subjects} AS u ON u.sub = s.sub
       WHERE s.sid = ?`,
    ),
    revoke: database.prepare<[number, string, string], never>(
      `UPDATE ${sessions} SET revoked_at = ?, revoked_reason = ? WHERE sid = ? AND revoked_at IS NULL`,
    ),
    updateClaims: database.prepare<[string, string], never>(
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
    appendEvent: database.prepare<[string, number, string], never>(
      `INSERT INTO ${log} (id, until, body) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
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
