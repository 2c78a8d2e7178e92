import { SESSION_COLUMNS, sessionColumns } from '../internal/session-columns.js';
import { APPEND_LOCK, type TableNames } from './names.js';

// Each store method is one of these statements: one round trip, atomic on its own (a statement
// is its own transaction), with every parameter cast so that no type is left to inference.

const COLUMN_TYPES: Readonly<Record<(typeof SESSION_COLUMNS)[number], string>> = {
  sid: 'text',
  sub: 'text',
  created_at: 'float8',
  last_seen_at: 'float8',
  idle_expires_at: 'float8',
  absolute_expires_at: 'float8',
  auth_time: 'float8',
  device: 'text',
  ip: 'text',
  user_agent: 'text',
  claims: 'jsonb',
  refresh_hash: 'text',
  previous_hash: 'text',
  rotated_at: 'float8',
  spent_hashes: 'text[]',
  revoked_at: 'float8',
  revoked_reason: 'text',
};

const SESSION_PARAMETERS = SESSION_COLUMNS.map(
  (column, i) => `$${i + 1}::${COLUMN_TYPES[column]}`,
).join(', ');

/** The statements of one store, for its schema and table prefix. */
export function statements(tables: TableNames) {
  const { sessions, subjects, log, logState, lockKey } = tables;
  // Taken by every statement that appends to the log, and held until it commits: positions
  // (nextval) are then handed out in commit order, so a reader that has seen position p never
  // later finds a committed event below p. It is a one-row CTE that the INSERT joins, so the lock
  // is taken before the first row asks the sequence for a position.
  const appendGate = `gate AS MATERIALIZED (SELECT pg_advisory_xact_lock(${APPEND_LOCK}, ${lockKey}))`;
  const appendInsert = (first: number) => `INSERT INTO ${log} (id, until, body)
    SELECT e.id, e.until, e.body
    FROM gate CROSS JOIN unnest($${first}::text[], $${first + 1}::float8[], $${first + 2}::text[])
      WITH ORDINALITY AS e(id, until, body, n)
    ORDER BY e.n
    ON CONFLICT (id) DO NOTHING`;

  return {
    // The subject row is upserted (a no-op update when it exists) so that its row lock orders this
    // login against setBanned and bumpGeneration, which write the same row: a ban committed first
    // is seen (an upsert reads the newest row version, not the statement's snapshot), and a ban
    // that comes second waits for this session to be committed, so the ban's revocation pass
    // finds it. A plain NOT EXISTS read would not do: a ban committed after the snapshot was taken
    // would go unseen.
    createSession: `WITH subject AS (
        INSERT INTO ${subjects} AS u (sub) VALUES ($2::text)
        ON CONFLICT (sub) DO UPDATE SET gen = u.gen
        RETURNING u.gen, u.banned
      ), inserted AS (
        INSERT INTO ${sessions} (${sessionColumns()})
        SELECT ${SESSION_PARAMETERS} FROM subject WHERE NOT subject.banned
        ON CONFLICT (sid) DO NOTHING
        RETURNING 1
      )
      SELECT subject.gen, subject.banned, EXISTS (SELECT 1 FROM inserted) AS created FROM subject`,

    getSession: `SELECT ${sessionColumns('s')}, COALESCE(u.gen, 0) AS gen,
        COALESCE(u.banned, false) AS banned
      FROM ${sessions} AS s LEFT JOIN ${subjects} AS u ON u.sub = s.sub
      WHERE s.sid = $1::text`,

    listSessions: `SELECT ${sessionColumns()} FROM ${sessions}
      WHERE sub = $1::text AND revoked_at IS NULL ORDER BY created_at DESC, sid`,

    // The compare-and-set, and why it did nothing, in one statement. `cur` locks the session row
    // (FOR UPDATE waits for a concurrent writer and then reads the row as it committed, not as the
    // snapshot saw it), so the check and the write see the same, newest version: of 50 rotations
    // from one hash the first to lock writes and the others find the new hash ('stale'), and a
    // rotation that waited on a revocation reports 'revoked'. The subject is read from the
    // statement's snapshot: a ban committed while the statement runs is concurrent with it, and
    // either order is a correct answer.
    rotateRefresh: `WITH cur AS (
        SELECT sid, sub, refresh_hash, revoked_at FROM ${sessions} WHERE sid = $1::text FOR UPDATE
      ), subject AS (
        SELECT u.gen, u.banned FROM ${subjects} AS u JOIN cur ON u.sub = cur.sub
      ), rotated AS (
        UPDATE ${sessions} AS s SET
          refresh_hash = $3::text, previous_hash = $4::text, rotated_at = $5::float8,
          spent_hashes = $6::text[], last_seen_at = $7::float8, idle_expires_at = $8::float8
        FROM cur
        WHERE s.sid = cur.sid AND cur.refresh_hash = $2::text AND cur.revoked_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM subject WHERE subject.banned)
        RETURNING s.sid
      )
      SELECT CASE
          WHEN EXISTS (SELECT 1 FROM rotated) THEN 'rotated'
          WHEN NOT EXISTS (SELECT 1 FROM cur) THEN 'missing'
          WHEN EXISTS (SELECT 1 FROM cur WHERE revoked_at IS NOT NULL) THEN 'revoked'
          WHEN EXISTS (SELECT 1 FROM subject WHERE banned) THEN 'banned'
          ELSE 'stale'
        END AS status,
        COALESCE((SELECT gen FROM subject), 0) AS gen`,

    // Rows are locked in sid order (as updateClaims and prune lock theirs), so two calls that
    // write several of the same sessions cannot deadlock. The main query reads `revoked`, so the
    // session rows are locked before the append lock is taken (the INSERT, which nothing reads,
    // runs last): every statement that holds both took them in that order.
    revokeSessions: `WITH target AS (
        SELECT sid FROM ${sessions} WHERE sid = ANY ($1::text[]) AND revoked_at IS NULL
        ORDER BY sid FOR UPDATE
      ), revoked AS (
        UPDATE ${sessions} AS s SET revoked_at = $2::float8, revoked_reason = $3::text
        FROM target WHERE s.sid = target.sid
        RETURNING s.sid
      ), ${appendGate}, appended AS (${appendInsert(4)})
      SELECT sid FROM revoked`,

    revokeSessionsOnly: `WITH target AS (
        SELECT sid FROM ${sessions} WHERE sid = ANY ($1::text[]) AND revoked_at IS NULL
        ORDER BY sid FOR UPDATE
      )
      UPDATE ${sessions} AS s SET revoked_at = $2::float8, revoked_reason = $3::text
      FROM target WHERE s.sid = target.sid
      RETURNING s.sid`,

    appendEvents: `WITH ${appendGate} ${appendInsert(1)}`,

    updateClaims: `WITH target AS (
        SELECT sid FROM ${sessions} WHERE sub = $1::text AND revoked_at IS NULL
        ORDER BY sid FOR UPDATE
      )
      UPDATE ${sessions} AS s SET claims = $2::jsonb FROM target WHERE s.sid = target.sid`,

    getSubject: `SELECT gen, banned FROM ${subjects} WHERE sub = $1::text`,

    bumpGeneration: `INSERT INTO ${subjects} AS u (sub, gen) VALUES ($1::text, 1)
      ON CONFLICT (sub) DO UPDATE SET gen = u.gen + 1
      RETURNING u.gen`,

    setBanned: `INSERT INTO ${subjects} AS u (sub, banned, banned_at)
      VALUES ($1::text, $2::boolean, $3::float8)
      ON CONFLICT (sub) DO UPDATE SET banned = excluded.banned, banned_at = excluded.banned_at`,

    readEvents: `SELECT seq, body FROM ${log} WHERE seq > $1::bigint ORDER BY seq LIMIT $2::bigint`,

    // The events and the position from one snapshot. The position is the newest seq in the log or
    // the newest a prune deleted, whichever is higher; a log with no live event still gives a row.
    liveEvents: `SELECT p.position, l.seq, l.body
      FROM (SELECT GREATEST(
          (SELECT max(seq) FROM ${log}),
          (SELECT pruned_through FROM ${logState} WHERE id = 1),
          0) AS position) AS p
      LEFT JOIN ${log} AS l ON l.until > $1::float8
      ORDER BY l.seq`,

    // A session has ended at the first of its revocation and its two expiries (LEAST skips a
    // null revoked_at). Deleted events raise the log's pruned-through mark in the same statement,
    // so the position readers see never goes back.
    prune: `WITH ended AS (
        SELECT sid FROM ${sessions}
        WHERE LEAST(revoked_at, idle_expires_at, absolute_expires_at) < $2::float8
        ORDER BY sid FOR UPDATE
      ), sessions_gone AS (
        DELETE FROM ${sessions} AS s USING ended WHERE s.sid = ended.sid RETURNING 1
      ), events_gone AS (
        DELETE FROM ${log} WHERE until <= $1::float8 RETURNING seq
      ), marked AS (
        UPDATE ${logState}
        SET pruned_through = GREATEST(pruned_through, (SELECT max(seq) FROM events_gone))
        WHERE id = 1 AND EXISTS (SELECT 1 FROM events_gone)
      )
      SELECT (SELECT count(*) FROM sessions_gone) AS sessions,
        (SELECT count(*) FROM events_gone) AS events`,
  };
}

/** The statements of a store, by name. */
export type Statements = ReturnType<typeof statements>;
