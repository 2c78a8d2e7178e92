import type { Pool } from 'pg';
import { serializeRevocationEvent } from '../../revocation/events.js';
import {
  assertBoolean,
  assertDurationSeconds,
  assertEpochSeconds,
  assertHash,
  assertLimit,
  assertPosition,
  assertReason,
  assertRefreshRotation,
  assertSessionRecord,
  assertSid,
  assertSidList,
  assertSub,
  invalidArgument,
  parseEvents,
} from '../internal/validate.js';
import type { CreateOutcome, RotateOutcome, Store, StoredSession } from '../types.js';
import { checkPool, runStatement } from './database.js';
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

/** Options for {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /** A `pg` Pool the application created. The store never ends it. */
  client: Pool;
  /** The schema of the tables (default `public`): lowercase letters, digits and underscores. */
  schema?: string;
  /** Prefix of every table name (default `revocable_`): lowercase letters, digits, underscores. */
  tablePrefix?: string;
}

function sidOf(value: unknown, name = 'sid'): string {
  assertSid(value, name);
  assertStorableText(value, name);
  return value;
}

function subOf(value: unknown): string {
  assertSub(value);
  assertStorableText(value, 'sub');
  return value;
}

/**
 * A store in PostgreSQL through `pg` (version 8), for several processes or machines sharing one
 * database. Every method is one statement, so one round trip and atomic on its own: reading a
 * session (joined with its subject) is one query and a refresh rotation is one compare-and-set
 * statement, so a refresh costs two round trips. Appends to the revocation log take a
 * transaction-level advisory lock, so that log positions follow commit order.
 *
 * The store does not create its tables: run {@link migratePostgresStore} first (at startup or in
 * a deploy step), with the same `schema` and `tablePrefix`. It only ever calls `client.query`,
 * relies on READ COMMITTED (PostgreSQL's default; under a stricter default isolation a statement
 * that loses a race is retried), and `close()` leaves the pool open: it belongs to the
 * application.
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
  const sql = statements(tableNames({ schema: options.schema, tablePrefix: options.tablePrefix }));
  const run = <R extends object>(text: string, values: readonly unknown[]) =>
    runStatement<R & Record<string, unknown>>(pool, text, values);

  // Every argument is checked, and events parsed, before a statement is sent: bad input writes
  // nothing.
  return {
    async createSession(session): Promise<CreateOutcome> {
      assertSessionRecord(session);
      assertStorableSession(session);
      const { rows } = await run<{ gen: unknown; banned: boolean; created: boolean }>(
        sql.createSession,
        sessionValues(session),
      );
      const row = rows[0];
      if (row === undefined) throw unreadable('no answer to an insert');
      if (row.banned) return { created: false, reason: 'banned' };
      if (!row.created) return { created: false, reason: 'exists' };
      return { created: true, gen: toInteger(row.gen, 'a generation') };
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

    async rotateRefresh(sid, expectedHash, next): Promise<RotateOutcome> {
      sidOf(sid);
      assertHash(expectedHash, 'expectedHash');
      assertStorableText(expectedHash, 'expectedHash');
      assertRefreshRotation(next);
      assertStorableRotation(next);
      const { rows } = await run<{ status: string; gen: unknown }>(sql.rotateRefresh, [
        sid,
        expectedHash,
        next.refreshHash,
        next.previousHash,
        next.rotatedAt,
        [...next.spentHashes],
        next.lastSeenAt,
        next.idleExpiresAt,
      ]);
      const status = rows[0]?.status;
      if (status === 'rotated') return { status, gen: toInteger(rows[0]?.gen, 'a generation') };
      if (
        status === 'stale' ||
        status === 'revoked' ||
        status === 'banned' ||
        status === 'missing'
      ) {
        return { status };
      }
      throw unreadable('a rotation outcome');
    },

    async revokeSessions(sids, at, reason, events) {
      assertSidList(sids);
      for (const sid of sids) assertStorableText(sid, 'each of sids');
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
        checked.map((event) => event.id),
        checked.map((event) => event.until),
        checked.map((event) => serializeRevocationEvent(event)),
      ]);
      return rows.map((row) => row.sid);
    },

    async updateClaims(sub, claims) {
      const { rowCount } = await run(sql.updateClaims, [subOf(sub), claimsJsonb(claims)]);
      return rowCount ?? 0;
    },

    async getSubject(sub) {
      const { rows } = await run<{ gen: unknown; banned: boolean }>(sql.getSubject, [subOf(sub)]);
      const row = rows[0];
      if (row === undefined) return { gen: 0, banned: false };
      return { gen: toInteger(row.gen, 'a generation'), banned: row.banned === true };
    },

    async bumpGeneration(sub) {
      const { rows } = await run<{ gen: unknown }>(sql.bumpGeneration, [subOf(sub)]);
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
      await run(sql.appendEvents, [
        checked.map((event) => event.id),
        checked.map((event) => event.until),
        checked.map((event) => serializeRevocationEvent(event)),
      ]);
    },

    async readEvents(after, limit) {
      assertPosition(after);
      assertLimit(limit);
      const { rows } = await run<EventRow>(sql.readEvents, [after, limit]);
      return rows.map(fromEventRow);
    },

    async liveEvents(now) {
      assertEpochSeconds(now, 'now');
      const { rows } = await run<{
        position: unknown;
        seq: EventRow['seq'] | null;
        body: string | null;
      }>(sql.liveEvents, [now]);
      const events = rows.flatMap((row) =>
        row.seq === null || row.body === null
          ? []
          : [fromEventRow({ seq: row.seq, body: row.body })],
      );
      return { events, position: toInteger(rows[0]?.position ?? 0, 'the log position') };
    },

    async prune(now, retention) {
      assertEpochSeconds(now, 'now');
      assertDurationSeconds(retention, 'retention');
      const { rows } = await run<{ sessions: unknown; events: unknown }>(sql.prune, [
        now,
        now - retention,
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
