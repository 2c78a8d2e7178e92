import type Database from 'better-sqlite3';
import {
  parseRevocationEventJson,
  type RevocationEvent,
  serializeRevocationEvent,
} from '../../revocation/events.js';
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
  claimsJson,
  parseEvents,
} from '../internal/validate.js';
import type {
  CreateOutcome,
  RotateOutcome,
  Store,
  StoredEvent,
  StoredSession,
  SubjectState,
} from '../types.js';
import { checkDatabase, migrateSqliteStore } from './migrate.js';
import {
  fromSessionRow,
  type RotationRow,
  type SessionRow,
  toRotationRow,
  toSessionRow,
} from './rows.js';
import { DEFAULT_TABLE_PREFIX, tableNames } from './schema.js';
import { type EventRow, prepareStatements } from './statements.js';

/** Options for {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * A better-sqlite3 database the application opened, e.g. with {@link openSqliteDatabase}. The
   * store never closes it.
   */
  database: Database.Database;
  /** Prefix of every table name (default `revocable_`): letters, digits and underscores. */
  tablePrefix?: string;
}

function toStoredEvent(row: EventRow): StoredEvent {
  return { seq: row.seq, event: parseRevocationEventJson(row.body) };
}

/**
 * A store in SQLite through better-sqlite3 (version 12): the embedded default, for one process or
 * several on one machine sharing the file.
 *
 * Creating the store migrates its tables (see {@link migrateSqliteStore}: versioned, idempotent,
 * only a read when the schema is current) and prepares every statement once. Every write runs in
 * a `BEGIN IMMEDIATE` transaction: it takes the file's write lock before reading anything, so
 * writers in this process and in others take turns (with WAL, readers never wait), and each method
 * is atomic. A writer in another process makes this one wait up to the database's busy timeout
 * (better-sqlite3 waits synchronously); past it the driver's `SQLITE_BUSY` error is thrown.
 * `close()` leaves the database open: it belongs to the application.
 *
 * @example
 * ```ts
 * import { createSessionManager } from 'revocable/sessions';
 * import { createSqliteStore, openSqliteDatabase } from 'revocable/sqlite';
 *
 * const database = openSqliteDatabase('/var/lib/app/revocable.db');
 * const store = createSqliteStore({ database });
 * // ... createSessionManager({ store, ... })
 * process.on('exit', () => database.close());
 * ```
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const database = options?.database;
  checkDatabase(database);
  const tablePrefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  const tables = tableNames(tablePrefix);
  migrateSqliteStore(database, { tablePrefix });
  const statements = prepareStatements(database, tables);

  // better-sqlite3 runs a function in BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if it throws.
  function write<A extends unknown[], R>(body: (...args: A) => R): (...args: A) => R {
    const transaction = database.transaction(body);
    return (...args: A): R => transaction.immediate(...args);
  }

  function subjectState(sub: string): SubjectState {
    const row = statements.subject.get(sub);
    return { gen: row?.gen ?? 0, banned: row?.banned === 1 };
  }

  function appendAll(events: readonly RevocationEvent[]): void {
    for (const event of events) {
      statements.appendEvent.run(event.id, event.until, serializeRevocationEvent(event));
    }
  }

  const createSession = write((row: SessionRow): CreateOutcome => {
    const subject = subjectState(row.sub);
    if (subject.banned) return { created: false, reason: 'banned' };
    if (statements.insertSession.run(row).changes === 0)
      return { created: false, reason: 'exists' };
    return { created: true, gen: subject.gen };
  });

  const rotateRefresh = write((row: RotationRow): RotateOutcome => {
    const rotated = statements.rotate.get(row);
    if (rotated !== undefined) return { status: 'rotated', gen: rotated.gen };
    const refusal = statements.rotationRefusal.get(row.sid);
    if (refusal === undefined) return { status: 'missing' };
    if (refusal.revoked === 1) return { status: 'revoked' };
    if (refusal.banned === 1) return { status: 'banned' };
    return { status: 'stale' };
  });

  const revokeSessions = write(
    (sids: readonly string[], at: number, reason: string, events: readonly RevocationEvent[]) => {
      const revoked = sids.filter((sid) => statements.revoke.run(at, reason, sid).changes === 1);
      appendAll(events);
      return revoked;
    },
  );

  // SQLite has one writer at a time, so seq is assigned in commit order: a reader that has seen
  // position p can never later find a committed event below p.
  const appendEvents = write(appendAll);
  const updateClaims = write(
    (sub: string, claims: string) => statements.updateClaims.run(claims, sub).changes,
  );
  const bumpGeneration = write((sub: string) => statements.bumpGeneration.get(sub)!.gen);
  const setBanned = write((sub: string, banned: boolean, at: number) => {
    statements.setBanned.run({ sub, banned: banned ? 1 : 0, at: banned ? at : null });
  });
  const prune = write((now: number, retention: number) => ({
    sessions: statements.pruneSessions.run(now - retention).changes,
    events: statements.pruneEvents.run(now).changes,
  }));
  // A read transaction: the events and the position come from one snapshot of the file.
  const liveEvents = database.transaction((now: number) => ({
    events: statements.liveEvents.all(now).map(toStoredEvent),
    position: statements.position.get(tables.log)?.seq ?? 0,
  }));

  // Every argument is checked, and events parsed, before a transaction starts: bad input writes
  // nothing.
  return {
    async createSession(session) {
      assertSessionRecord(session);
      return createSession(toSessionRow(session));
    },
    async getSession(sid): Promise<StoredSession | null> {
      assertSid(sid);
      const row = statements.getSession.get(sid);
      if (row === undefined) return null;
      return { ...fromSessionRow(row), gen: row.gen, banned: row.banned === 1 };
    },
    async listSessions(sub) {
      assertSub(sub);
      return statements.listSessions.all(sub).map(fromSessionRow);
    },
    async rotateRefresh(sid, expectedHash, next) {
      assertSid(sid);
      assertHash(expectedHash, 'expectedHash');
      assertRefreshRotation(next);
      return rotateRefresh(toRotationRow(sid, expectedHash, next));
    },
    async revokeSessions(sids, at, reason, events) {
      assertSidList(sids);
      assertEpochSeconds(at, 'at');
      assertReason(reason);
      return revokeSessions([...sids], at, reason, parseEvents(events));
    },
    async updateClaims(sub, claims) {
      assertSub(sub);
      return updateClaims(sub, claimsJson(claims));
    },
    async getSubject(sub) {
      assertSub(sub);
      return subjectState(sub);
    },
    async bumpGeneration(sub) {
      assertSub(sub);
      return bumpGeneration(sub);
    },
    async setBanned(sub, banned, at) {
      assertSub(sub);
      assertBoolean(banned, 'banned');
      assertEpochSeconds(at, 'at');
      setBanned(sub, banned, at);
    },
    async appendEvents(events) {
      appendEvents(parseEvents(events));
    },
    async readEvents(after, limit) {
      assertPosition(after);
      assertLimit(limit);
      return statements.readEvents.all(after, limit).map(toStoredEvent);
    },
    async liveEvents(now) {
      assertEpochSeconds(now, 'now');
      return liveEvents(now);
    },
    async prune(now, retention) {
      assertEpochSeconds(now, 'now');
      assertDurationSeconds(retention, 'retention');
      return prune(now, retention);
    },
    // better-sqlite3 statements hold no resources beyond garbage collection; the database is the
    // application's to close.
    async close() {},
  };
}
