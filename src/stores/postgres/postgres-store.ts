import { type RevocationEvent, serializeRevocationEvent } from '../../revocation/events.js';
import { storeUnavailable } from '../internal/driver-errors.js';
import { listedSessionOf } from '../internal/session-events.js';
import {
  assertBoolean,
  assertDurationSeconds,
  assertEpochSeconds,
  assertGeneration,
  assertHash,
  assertLimit,
  assertPosition,
  assertReason,
  assertRefreshRotation,
  assertSessionRecord,
  assertSid,
  assertSidList,
  assertSub,
  eventConflict,
  invalidArgument,
  parseEvents,
} from '../internal/validate.js';
import type { CreateOutcome, RotateOutcome, Store, StoredSession } from '../types.js';
import { checkPool, constraintOf, runStatement, sqlState } from './database.js';
import type { PostgresPool } from './driver-types.js';
import { tableNames } from './names.js';
import {
  assertStorableEvents,
  assertStorableRotation,
  assertStorableSession,
  assertStorableText,
  claimsJsonb,
  type EventRow,
  fromEventRow,
  fromSessionRow,
  fromStoredSessionRow,
  type SessionRow,
  type StoredSessionRow,
  sessionValues,
  toInteger,
  unreadable,
} from './rows.js';
import { statements } from './statements.js';
import { isSchemaState, readVersion, schemaError } from './version.js';

/** Options for {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * A `pg` Pool the application created (or {@link connectPostgres} opened). The store never ends
   * it.
   */
  client: PostgresPool;
  /** The schema of the tables (default `public`): lowercase letters, digits and underscores. */
  schema?: string;
  /** Prefix of every table name (default `revocable_`): lowercase letters, digits, underscores. */
  tablePrefix?: string;
}

function sidOf(value: unknown, name = 'sid'): string {
  // assertSid refuses NUL and lone surrogates already, which is all PostgreSQL text would not keep.
  assertSid(value, name);
  return value;
}

function subOf(value: unknown): string {
  assertSub(value);
  return value;
}

function eventTexts(events: readonly RevocationEvent[]): [string[], number[], string[]] {
  return [
    events.map((event) => event.id),
    events.map((event) => event.until),
    events.map((event) => serializeRevocationEvent(event)),
  ];
}

const ROTATE_STATUSES = new Set(['stale', 'changed', 'revoked', 'banned', 'missing'] as const);
type NotRotated = Exclude<RotateOutcome, { status: 'rotated' }>['status'];
function isNotRotated(status: unknown): status is NotRotated {
  return ROTATE_STATUSES.has(status as NotRotated);
}

/**
 * A store in PostgreSQL through `pg` (version 8), for several processes or machines sharing one
 * database. Every method is one statement, so one round trip and atomic on its own: reading a
 * session (joined with its subject) is one query and a refresh rotation is one compare-and-set
 * statement, so a refresh costs two round trips. Each statement takes the row locks that order it
 * against the writes it must not race (statements.ts says which), and appends to the revocation
 * log take a transaction-level advisory lock, so that log positions follow commit order.
 *
 * `revokeAll` is O(1): it ends the current epoch instead of writing every session. Writes that end
 * or spend something (revocations, bans, generation bumps, rotations, log appends) wait for their
 * commit to be flushed to disk even when the server or the connection runs with
 * `synchronous_commit = off`, so a logout that returned survives a crash of the database server.
 *
 * The store does not create its tables: run {@link migratePostgresStore} first (at startup or in
 * a deploy step), with the same `schema` and `tablePrefix`: a call that meets tables that are
 * missing or of an older version fails with `ERR_STORE_SCHEMA`, naming the migration to run. The
 * version is not read ahead of the calls, so tables newer than this code are refused by
 * `migratePostgresStore`, not by the store. A driver failure (a refused or lost connection, a
 * statement timeout) arrives as `ERR_STORE_UNAVAILABLE` with the driver's error as `cause`. The
 * store only ever calls `client.query`, relies on READ COMMITTED (PostgreSQL's default; under a
 * stricter default isolation a statement that loses a race is retried), and `close()` leaves the
 * pool open: it belongs to the application.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresStore, migratePostgresStore } from 'revocable/postgres';
 * import { createSessionManager } from 'revocable/sessions';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgresStore(pool);
 * const store = createPostgresStore({ client: pool });
 * // ... createSessionManager({ store, ... }); at shutdown: await pool.end()
 * ```
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('options must be an object.');
  }
  const pool = options.client;
  checkPool(pool);
  const tables = tableNames({ schema: options.schema, tablePrefix: options.tablePrefix });
  const sql = statements(tables);
  // The one place where driver errors become revocable's: a conflicting event id, tables of the
  // wrong shape, and anything else the driver raised (a refused or lost connection, a statement
  // timeout) as ERR_STORE_UNAVAILABLE with the driver error as cause. No statement reads the
  // tables' version first (each method stays one round trip): a statement that meets a missing
  // table or column (tables never migrated, or of an older version) is what prompts reading it,
  // to name the migration to run rather than pass on a raw `relation ... does not exist`.
  const failure = async (error: unknown): Promise<Error> => {
    // The unique constraint on the event id alone is only violated by an id the log holds with
    // another text (the same text is skipped by ON CONFLICT); the statement wrote nothing.
    if (sqlState(error) === '23505' && constraintOf(error) === tables.logIdConstraint) {
      return eventConflict();
    }
    if (isSchemaState(error)) {
      try {
        return schemaError(tables, await readVersion(pool, tables), error);
      } catch {
        return storeUnavailable('The PostgreSQL store', error);
      }
    }
    return storeUnavailable('The PostgreSQL store', error);
  };
  const run = async <R extends object>(text: string, values: readonly unknown[]) => {
    try {
      return await runStatement<R & Record<string, unknown>>(pool, text, values);
    } catch (error) {
      throw await failure(error);
    }
  };

  // Every argument is checked, and events parsed, before a statement is sent: bad input writes
  // nothing.
  return {
    persistent: true,

    async createSession(session, expectedGen): Promise<CreateOutcome> {
      assertSessionRecord(session);
      assertStorableSession(session);
      assertGeneration(expectedGen, 'expectedGen');
      const { rows } = await run<{ gen: unknown; banned: boolean; created: boolean }>(
        sql.createSession,
        [...sessionValues(session), expectedGen],
      );
      const row = rows[0];
      if (row === undefined) throw unreadable('no answer to an insert');
      if (row.banned) return { created: false, reason: 'banned' };
      const gen = toInteger(row.gen, 'a generation');
      if (gen !== expectedGen) return { created: false, reason: 'changed' };
      if (!row.created) return { created: false, reason: 'exists' };
      return { created: true, gen };
    },

    async getSession(sid): Promise<StoredSession | null> {
      const { rows } = await run<StoredSessionRow>(sql.getSession, [sidOf(sid)]);
      const row = rows[0];
      return row === undefined ? null : fromStoredSessionRow(row);
    },

    async listSessions(sub) {
      const { rows } = await run<SessionRow>(sql.listSessions, [subOf(sub)]);
      return rows.map(fromSessionRow);
    },

    async rotateRefresh(sid, expectedHash, expectedGen, next): Promise<RotateOutcome> {
      sidOf(sid);
      assertHash(expectedHash, 'expectedHash');
      assertStorableText(expectedHash, 'expectedHash');
      assertGeneration(expectedGen, 'expectedGen');
      assertRefreshRotation(next);
      assertStorableRotation(next);
      const { rows } = await run<{ status: unknown; gen: unknown }>(sql.rotateRefresh, [
        sid,
        expectedHash,
        expectedGen,
        next.refreshHash,
        next.previousHash,
        next.rotatedAt,
        [...next.spentHashes],
        next.lastSeenAt,
        next.idleExpiresAt,
        next.ip,
        next.userAgent,
      ]);
      const status = rows[0]?.status;
      if (status === 'rotated') return { status, gen: toInteger(rows[0]?.gen, 'a generation') };
      if (isNotRotated(status)) return { status };
      throw unreadable('a rotation outcome');
    },

    async revokeSessions(sids, at, reason, events) {
      assertSidList(sids);
      assertEpochSeconds(at, 'at');
      assertReason(reason);
      assertStorableText(reason, 'reason');
      const checked = parseEvents(events);
      assertStorableEvents(checked);
      if (checked.length === 0) {
        if (sids.length === 0) return [];
        const { rows } = await run<{ sid: string }>(sql.revokeSessionsOnly, [
          [...sids],
          at,
          reason,
        ]);
        return rows.map((row) => row.sid);
      }
      const { rows } = await run<{ sid: string }>(sql.revokeSessions, [
        [...sids],
        at,
        reason,
        ...eventTexts(checked),
        listedSessionOf(checked, sids),
      ]);
      return rows.map((row) => row.sid);
    },

    async revokeAll(at, events) {
      assertEpochSeconds(at, 'at');
      const checked = parseEvents(events);
      assertStorableEvents(checked);
      await run(sql.revokeAll, [at, ...eventTexts(checked)]);
    },

    async getSubject(sub) {
      const { rows } = await run<{ gen: unknown; banned: boolean }>(sql.getSubject, [subOf(sub)]);
      const row = rows[0];
      if (row === undefined) return { gen: 0, banned: false };
      return { gen: toInteger(row.gen, 'a generation'), banned: row.banned === true };
    },

    async bumpGeneration(sub, claims) {
      subOf(sub);
      const text = claims === undefined ? null : claimsJsonb(claims);
      const { rows } = await run<{ gen: unknown }>(sql.bumpGeneration, [sub, text]);
      return toInteger(rows[0]?.gen, 'a generation');
    },

    async setBanned(sub, banned, at) {
      subOf(sub);
      assertBoolean(banned, 'banned');
      assertEpochSeconds(at, 'at');
      await run(sql.setBanned, [sub, banned, banned ? at : null]);
    },

    async appendEvents(events) {
      const checked = parseEvents(events);
      assertStorableEvents(checked);
      if (checked.length === 0) return;
      await run(sql.appendEvents, eventTexts(checked));
    },

    async readEvents(after, limit) {
      assertPosition(after);
      assertLimit(limit);
      const { rows } = await run<EventRow>(sql.readEvents, [after, limit]);
      return rows.map(fromEventRow);
    },

    async liveEvents(horizon) {
      assertEpochSeconds(horizon, 'horizon');
      const { rows } = await run<{
        position: unknown;
        seq: EventRow['seq'] | null;
        body: string | null;
      }>(sql.liveEvents, [horizon]);
      const events = rows.flatMap((row) =>
        row.seq === null || row.body === null
          ? []
          : [fromEventRow({ seq: row.seq, body: row.body })],
      );
      return { events, position: toInteger(rows[0]?.position ?? 0, 'the log position') };
    },

    async prune(horizon, retention) {
      assertEpochSeconds(horizon, 'horizon');
      assertDurationSeconds(retention, 'retention');
      const { rows } = await run<{ sessions: unknown; events: unknown }>(sql.prune, [
        horizon,
        horizon - retention,
      ]);
      return {
        sessions: toInteger(rows[0]?.sessions, 'a count'),
        events: toInteger(rows[0]?.events, 'a count'),
      };
    },

    // The store holds nothing of its own: no connection, no prepared statement.
    async close() {},
  };
}
