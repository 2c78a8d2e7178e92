import { SESSION_COLUMNS, sessionColumns } from '../internal/session-columns.js';
import { REVOKE_EVERYTHING_REASON } from '../types.js';
import { APPEND_LOCK, EPOCH_LOCK, type TableNames } from './names.js';

// Each store method is one of these statements: one round trip, atomic on its own (a statement
// is its own transaction), with every parameter cast so that no type is left to inference.
//
// Locks are always taken in one order, so that no two statements wait on each other in a cycle:
// the epoch lock and row, then a subject row, then session rows (several in sid order), then the
// append lock. A CTE that must lock after another reads from it, which makes PostgreSQL evaluate
// the other first; a CTE that nothing reads runs after the main query.
//
// A row lock (FOR SHARE, FOR UPDATE, an upsert) is also how a statement reads a row as it is
// now: under READ COMMITTED, a locking read that waited for a writer reads the row as that writer
// committed it, where a plain read would use the statement's snapshot, taken before the wait.
// Under REPEATABLE READ or SERIALIZABLE the same situation is a serialization failure, which
// database.ts retries with a new snapshot.

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

/**
 * What a transaction that ends or spends something runs so that its commit survives a power cut:
 * with `synchronous_commit = off` (set for the server, the role or the connection) a commit
 * returns before its WAL is flushed, and a crash in the next moments would undo a logout that
 * returned. This raises the setting to `local` (wait for the local flush) for the statement's own
 * transaction only, and keeps any stronger setting (`on`, `remote_write`, `remote_apply`) as it
 * is. The setting is read at commit, so setting it inside the statement is enough; it is
 * user-settable, so any role may. Creating a session and pruning keep the server's choice: a
 * login lost in a crash is a login to repeat.
 */
const FLUSH_ON_COMMIT = `set_config('synchronous_commit',
    CASE current_setting('synchronous_commit') WHEN 'off' THEN 'local'
      ELSE current_setting('synchronous_commit') END, true)`;

/** The statements of one store, for its schema and table prefix. */
export function statements(tables: TableNames) {
  const { sessions, subjects, log, logState, epoch, epochEnds, lockKey } = tables;

  // The epoch (see revokeAll). A call that depends on it takes the epoch lock shared, then locks
  // the epoch row FOR SHARE, which revokeAll's update of that row waits for: such a call is
  // wholly before a revokeAll (which then ends what it created or rotated) or wholly after it
  // (its locking read returns the new epoch). The advisory lock is for fairness: share locks on a
  // row let newcomers join while an update waits, so under steady refreshes revokeAll could wait
  // for a gap that never comes; advisory locks queue, so new sharers wait behind revokeAll.
  // `durable` adds FLUSH_ON_COMMIT.
  const epochShared = (durable: boolean) => `egate AS MATERIALIZED (
      SELECT pg_advisory_xact_lock_shared(${EPOCH_LOCK}, ${lockKey})${durable ? `, ${FLUSH_ON_COMMIT}` : ''}
    ), ep AS MATERIALIZED (
      SELECT e.epoch FROM ${epoch} AS e CROSS JOIN egate WHERE e.id = 1 FOR SHARE OF e
    )`;

  // Taken by every statement that appends to the log, and held until it commits: positions
  // (nextval) are then handed out in commit order, so a reader that has seen position p never
  // later finds a committed event below p. It also makes appends of one id take turns, so each
  // finds the other's committed row. `after` names the CTEs that must run first (the first one's
  // rows are counted, so it runs whole); the gate always runs, as the INSERT that nothing reads
  // does, so it is also where a CTE that might otherwise be skipped is made to run. The INSERT
  // joins the gate, so the lock is taken before the first row asks the sequence for a position.
  const appendGate = (after: string, ...also: string[]) => `gate AS MATERIALIZED (
      SELECT pg_advisory_xact_lock(${APPEND_LOCK}, ${lockKey})
      FROM (SELECT count(*) FROM ${after}) AS first${also.map((name) => ` CROSS JOIN ${name}`).join('')}
    )`;
  // An event already logged (same id, same digest) is skipped; the same id with another text
  // violates the unique constraint on id (tables.logIdConstraint), which fails the statement.
  const appendInsert = (first: number) => `INSERT INTO ${log} (id, until, body, digest)
    SELECT e.id, e.until, e.body, sha256(convert_to(e.body, 'UTF8'))
    FROM gate CROSS JOIN unnest($${first}::text[], $${first + 1}::float8[], $${first + 2}::text[])
      WITH ORDINALITY AS e(id, until, body, n)
    ORDER BY e.n
    ON CONFLICT (id, digest) DO NOTHING`;
  // revokeSessions' append: a fourth array names, for each event, the listed session whose end it
  // records (NULL for any other event), and such an event is appended only when this statement
  // revoked that session (see src/stores/internal/session-events.ts).
  const appendOfRevoked = (first: number) => `INSERT INTO ${log} (id, until, body, digest)
    SELECT e.id, e.until, e.body, sha256(convert_to(e.body, 'UTF8'))
    FROM gate CROSS JOIN unnest($${first}::text[], $${first + 1}::float8[], $${first + 2}::text[],
      $${first + 3}::text[]) WITH ORDINALITY AS e(id, until, body, owner, n)
    WHERE e.owner IS NULL OR e.owner IN (SELECT sid FROM revoked)
    ORDER BY e.n
    ON CONFLICT (id, digest) DO NOTHING`;

  // A session ended by revokeAll reads back revoked at that call's time, with its reason; its own
  // revocation, when it had one first, wins.
  const readColumns = SESSION_COLUMNS.map((column) => {
    if (column === 'revoked_at') return 'COALESCE(s.revoked_at, x.ended_at) AS revoked_at';
    if (column === 'revoked_reason') {
      return `CASE WHEN s.revoked_at IS NULL AND x.ended_at IS NOT NULL
          THEN '${REVOKE_EVERYTHING_REASON}' ELSE s.revoked_reason END AS revoked_reason`;
    }
    return `s.${column}`;
  }).join(', ');

  return {
    // Checks in the contract's order: banned, generation, sid. The subject row is upserted (a
    // no-op update when it exists) so that its row lock orders this login against setBanned and
    // bumpGeneration and reads their newest values: a ban or bump committed first is seen, and
    // one that comes second waits for this session to be committed, so it finds it. An existing
    // sid is locked and read as it is now by ON CONFLICT DO UPDATE; a replay (same subject and
    // refresh hash, still live) gets a no-op update, so RETURNING says `created`, and anything
    // else is left alone (`exists`). The no-op writes a row version, but only on a replay.
    createSession: `WITH ${epochShared(false)}, subject AS (
        INSERT INTO ${subjects} AS u (sub) SELECT $2::text FROM ep
        ON CONFLICT (sub) DO UPDATE SET gen = u.gen
        RETURNING u.gen, u.banned
      ), inserted AS (
        INSERT INTO ${sessions} AS s (${sessionColumns()}, epoch)
        SELECT ${SESSION_PARAMETERS}, ep.epoch FROM subject CROSS JOIN ep
        WHERE NOT subject.banned AND subject.gen = $${SESSION_COLUMNS.length + 1}::bigint
        ON CONFLICT (sid) DO UPDATE SET last_seen_at = s.last_seen_at
        WHERE s.sub = excluded.sub AND s.refresh_hash = excluded.refresh_hash
          AND s.revoked_at IS NULL AND s.epoch = excluded.epoch
        RETURNING 1
      )
      SELECT subject.gen, subject.banned, EXISTS (SELECT 1 FROM inserted) AS created FROM subject`,

    getSession: `SELECT ${readColumns}, COALESCE(u.gen, 0) AS gen, COALESCE(u.banned, false) AS banned
      FROM ${sessions} AS s
      LEFT JOIN ${subjects} AS u ON u.sub = s.sub
      LEFT JOIN ${epochEnds} AS x ON x.epoch = s.epoch
      WHERE s.sid = $1::text`,

    listSessions: `SELECT ${sessionColumns('s')} FROM ${sessions} AS s
      WHERE s.sub = $1::text AND s.revoked_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM ${epochEnds} AS x WHERE x.epoch = s.epoch)
      ORDER BY s.created_at DESC, s.sid`,

    // The compare-and-set, and why it did nothing, in one statement. Locks: the epoch, then the
    // subject row FOR SHARE (its sub read first, unlocked: a session's sub never changes), then
    // the session row FOR UPDATE. Each locking read returns the newest committed version, so the
    // checks and the write see one state: of 50 rotations from one hash the first to lock writes
    // and the others find the new hash (`stale`); a bumpGeneration either committed first (it
    // holds the subject row: this waits, then reads the new generation: `changed`) or waits for
    // this rotation to commit; a ban likewise; a revokeAll likewise through the epoch row.
    // (Reading the subject from the snapshot instead was issue 12's bug 1: a rotation that waited
    // for a bump's lock on the session row then compared against the old generation.)
    rotateRefresh: `WITH ${epochShared(true)}, peek AS MATERIALIZED (
        SELECT sub FROM ${sessions} WHERE sid = $1::text
      ), subject AS MATERIALIZED (
        SELECT u.gen, u.banned FROM ${subjects} AS u
        JOIN peek ON u.sub = peek.sub CROSS JOIN ep
        FOR SHARE OF u
      ), cur AS MATERIALIZED (
        SELECT s.refresh_hash, s.revoked_at, s.epoch FROM ${sessions} AS s
        WHERE s.sid = $1::text AND EXISTS (SELECT 1 FROM subject)
        FOR UPDATE OF s
      ), verdict AS MATERIALIZED (
        SELECT CASE
            WHEN NOT EXISTS (SELECT 1 FROM cur) THEN 'missing'
            WHEN EXISTS (SELECT 1 FROM cur CROSS JOIN ep
              WHERE cur.revoked_at IS NOT NULL OR cur.epoch <> ep.epoch) THEN 'revoked'
            WHEN EXISTS (SELECT 1 FROM subject WHERE subject.banned) THEN 'banned'
            WHEN NOT EXISTS (SELECT 1 FROM cur WHERE cur.refresh_hash = $2::text) THEN 'stale'
            WHEN NOT EXISTS (SELECT 1 FROM subject WHERE subject.gen = $3::bigint) THEN 'changed'
            ELSE 'rotated'
          END AS status
      ), rotated AS (
        UPDATE ${sessions} AS s SET
          refresh_hash = $4::text, previous_hash = $5::text, rotated_at = $6::float8,
          spent_hashes = $7::text[], last_seen_at = $8::float8, idle_expires_at = $9::float8,
          ip = COALESCE($10::text, s.ip), user_agent = COALESCE($11::text, s.user_agent)
        FROM verdict
        WHERE s.sid = $1::text AND verdict.status = 'rotated'
        RETURNING s.sid
      )
      SELECT verdict.status, (SELECT subject.gen FROM subject) AS gen,
        (SELECT count(*) FROM rotated) AS written
      FROM verdict`,

    // Rows are locked in sid order (as bumpGeneration and prune lock theirs), so two calls that
    // write several of the same sessions cannot deadlock. The append lock is taken after the
    // session rows (the gate counts `revoked` first). A session a revokeAll ended is not revoked
    // again: it keeps the revokeAll's time and reason. When no session matches, `target` may
    // finish without reading `ep`, so the gate reads `egate`: the events must be flushed too.
    revokeSessions: `WITH ${epochShared(true)}, target AS (
        SELECT s.sid FROM ${sessions} AS s CROSS JOIN ep
        WHERE s.sid = ANY ($1::text[]) AND s.revoked_at IS NULL AND s.epoch = ep.epoch
        ORDER BY s.sid FOR UPDATE OF s
      ), revoked AS (
        UPDATE ${sessions} AS s SET revoked_at = $2::float8, revoked_reason = $3::text
        FROM target WHERE s.sid = target.sid
        RETURNING s.sid
      ), ${appendGate('revoked', 'egate')}, appended AS (${appendOfRevoked(4)})
      SELECT sid FROM revoked`,

    revokeSessionsOnly: `WITH ${epochShared(true)}, target AS (
        SELECT s.sid FROM ${sessions} AS s CROSS JOIN ep
        WHERE s.sid = ANY ($1::text[]) AND s.revoked_at IS NULL AND s.epoch = ep.epoch
        ORDER BY s.sid FOR UPDATE OF s
      )
      UPDATE ${sessions} AS s SET revoked_at = $2::float8, revoked_reason = $3::text
      FROM target WHERE s.sid = target.sid
      RETURNING s.sid`,

    // The emergency as an epoch, O(1) whatever the number of sessions: the current epoch ends
    // (its end time is recorded) and the next begins. Every session carries the epoch it was
    // created in; one of an ended epoch is revoked as of that epoch's end, wherever a session's
    // state is read (the joins on epoch_ends) or checked (rotations compare with the current
    // epoch under its lock). Marking every live session instead would write and lock every row
    // (100,000 sessions: 100,000 row versions and their WAL, and every refresh waiting until the
    // last is written), and race the logins committing meanwhile. The exclusive epoch lock waits
    // for the calls that hold it shared and holds back new ones until this commits.
    revokeAll: `WITH egate AS MATERIALIZED (
        SELECT pg_advisory_xact_lock(${EPOCH_LOCK}, ${lockKey}), ${FLUSH_ON_COMMIT}
      ), bumped AS (
        UPDATE ${epoch} AS e SET epoch = e.epoch + 1 FROM egate WHERE e.id = 1
        RETURNING e.epoch - 1 AS ended
      ), ended AS (
        INSERT INTO ${epochEnds} (epoch, ended_at) SELECT ended, $1::float8 FROM bumped
        RETURNING epoch
      ), ${appendGate('ended')}, appended AS (${appendInsert(2)})
      SELECT epoch FROM ended`,

    appendEvents: `WITH durable AS MATERIALIZED (SELECT ${FLUSH_ON_COMMIT}),
      ${appendGate('durable')} ${appendInsert(1)}`,

    getSubject: `SELECT gen, banned FROM ${subjects} WHERE sub = $1::text`,

    // The subject row is written first (so a rotation or login of this subject waits, or is
    // waited for), then, with claims, the subject's live sessions in sid order: no rotation can
    // commit between the new generation and the new claims, so none can hand out one with the
    // other's old value.
    bumpGeneration: `WITH ${epochShared(true)}, bumped AS (
        INSERT INTO ${subjects} AS u (sub, gen) SELECT $1::text, 1 FROM ep
        ON CONFLICT (sub) DO UPDATE SET gen = u.gen + 1
        RETURNING u.gen
      ), target AS (
        SELECT s.sid FROM ${sessions} AS s CROSS JOIN ep CROSS JOIN bumped
        WHERE $2::jsonb IS NOT NULL AND s.sub = $1::text AND s.revoked_at IS NULL
          AND s.epoch = ep.epoch
        ORDER BY s.sid FOR UPDATE OF s
      ), changed AS (
        UPDATE ${sessions} AS s SET claims = $2::jsonb FROM target WHERE s.sid = target.sid
      )
      SELECT gen FROM bumped`,

    setBanned: `WITH durable AS MATERIALIZED (SELECT ${FLUSH_ON_COMMIT})
      INSERT INTO ${subjects} AS u (sub, banned, banned_at)
      SELECT $1::text, $2::boolean, $3::float8 FROM durable
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

    // A session has ended at the first of its revocation (its own, or else its epoch's end) and
    // its two expiries (LEAST skips a null). Deleted events raise the log's pruned-through mark in
    // the same statement, so the position readers see never goes back. Rows of epoch_ends stay:
    // one per emergency, and a session of that epoch may still be read.
    prune: `WITH ended AS (
        SELECT s.sid FROM ${sessions} AS s LEFT JOIN ${epochEnds} AS x ON x.epoch = s.epoch
        WHERE LEAST(COALESCE(s.revoked_at, x.ended_at), s.idle_expires_at, s.absolute_expires_at)
          < $2::float8
        ORDER BY s.sid FOR UPDATE OF s
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
