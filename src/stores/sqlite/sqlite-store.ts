import type Database from 'better-sqlite3';
import {
  parseRevocationEventJson,
  type RevocationEvent,
  serializeRevocationEvent,
} from '../../revocation/events.js';
import { storeUnavailable, translateFailures } from '../internal/driver-errors.js';
import { eventsToAppend } from '../internal/session-events.js';
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
  claimsJson,
  eventConflict,
  parseEvents,
} from '../internal/validate.js';
import {
  type CreateOutcome,
  REVOKE_EVERYTHING_REASON,
  type RotateOutcome,
  type Store,
  type StoredEvent,
  type StoredSession,
  type SubjectState,
} from '../types.js';
import { checkDatabase, driverDatabase } from './database.js';
import type { SqliteDatabase } from './driver-types.js';
import { checkDurability, durableTransaction } from './durability.js';
import { migrateSqliteStore } from './migrate.js';
import {
  fromSessionRow,
  type RotationRow,
  type SessionRow,
  toRotationRow,
  toSessionRow,
} from './rows.js';
import { DEFAULT_TABLE_PREFIX, type TableNames, tableNames } from './schema.js';
import { type EventRow, prepareStatements } from './statements.js';

/** Options for {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * A better-sqlite3 database the application opened, e.g. with {@link openSqliteDatabase}. The
   * store never closes it. A file database must not run with `synchronous = OFF`.
   */
  database: SqliteDatabase;
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
 * (better-sqlite3 waits synchronously); past it the call fails with `ERR_STORE_UNAVAILABLE`, the
 * driver's `SQLITE_BUSY` error as its `cause`, as does any other driver failure.
 * `close()` leaves the database open: it belongs to the application.
 *
 * Crashes: every method that returned has committed, and its commit survives a crash of the
 * process. The commits that revoke (`revokeSessions`, `revokeAll`, `setBanned`, `bumpGeneration`,
 * `appendEvents`) also survive a power cut or an OS crash: they run with `synchronous = FULL`,
 * which syncs the WAL at commit (about one fsync each; the level is raised around the transaction
 * and put back, or left alone when the application set FULL or EXTRA itself). Logins, refreshes
 * and prunes keep the connection's level: under `openSqliteDatabase`'s NORMAL a power cut may drop
 * the last of them, which logs those devices out (safe), never revives a revoked session, and
 * never corrupts the file. A file database whose connection runs with `synchronous = OFF` is
 * refused with `ERR_STORE_UNSAFE`: a power cut could then lose revocations or corrupt the file.
 *
 * `revokeAll` is one `UPDATE` of every live session in the same transaction as its events: it
 * holds the write lock for as long as that takes (writers of other processes wait, up to their
 * busy timeout), which is the price of the emergency being exact.
 *
 * `persistent` is false for an in-memory or temporary database (`:memory:` or `''`), which dies
 * with its connection.
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
  const given = options?.database;
  checkDatabase(given);
  const tablePrefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  const tables = tableNames(tablePrefix);
  const database = driverDatabase(given);
  try {
    checkDurability(database);
    migrateSqliteStore(database, { tablePrefix });
    return translateFailures(sqliteStore(database, tables), unavailable);
  } catch (error) {
    throw unavailable(error);
  }
}

// The one place where driver errors become revocable's: every method of the store, and its
// creation, report a driver failure (SQLITE_BUSY past the busy timeout, a read-only or full disk,
// a closed database) as ERR_STORE_UNAVAILABLE with the driver error as cause.
function unavailable(error: unknown): Error {
  return storeUnavailable('The SQLite store', error);
}

function sqliteStore(database: Database.Database, tables: TableNames): Store {
  const statements = prepareStatements(database, tables);

  // better-sqlite3 runs a function in BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if it throws.
  function write<A extends unknown[], R>(body: (...args: A) => R): (...args: A) => R {
    const transaction = database.transaction(body);
    return (...args: A): R => transaction.immediate(...args);
  }
  // The same, committed durably: for the writes that revoke (see durableTransaction).
  const revoking = <A extends unknown[], R>(body: (...args: A) => R) =>
    durableTransaction(database, body);

  function subjectState(sub: string): SubjectState {
    const row = statements.subject.get(sub);
    return { gen: row?.gen ?? 0, banned: row?.banned === 1 };
  }

  // An id already in the log is skipped when its body is the same text, and refused when not; the
  // throw rolls the caller's whole transaction back, so nothing of the batch (nor the revocations
  // that came with it) is written. A batch naming an id twice meets its own first copy here.
  function appendAll(events: readonly RevocationEvent[]): void {
    for (const event of events) {
      const body = serializeRevocationEvent(event);
      const stored = statements.eventBody.get(event.id);
      if (stored === undefined) statements.appendEvent.run(event.id, event.until, body);
      else if (stored !== body) throw eventConflict();
    }
  }

  const createSession = write((row: SessionRow, expectedGen: number): CreateOutcome => {
    const subject = subjectState(row.sub);
    if (subject.banned) return { created: false, reason: 'banned' };
    if (subject.gen !== expectedGen) return { created: false, reason: 'changed' };
    const existing = statements.existingSession.get(row.sid);
    if (existing !== undefined) {
      // A replayed call (a driver retrying after a reconnect) finds its own session, still live.
      const replay =
        existing.sub === row.sub && existing.refresh_hash === row.refresh_hash && !existing.revoked;
      return replay ? { created: true, gen: subject.gen } : { created: false, reason: 'exists' };
    }
    statements.insertSession.run(row);
    return { created: true, gen: subject.gen };
  });

  // The happy path is the one UPDATE; only a refusal reads why, in the same transaction, in the
  // order of the contract: missing, revoked, banned, stale, changed.
  const rotateRefresh = write((row: RotationRow): RotateOutcome => {
    if (statements.rotate.run(row).changes === 1)
      return { status: 'rotated', gen: row.expected_gen };
    const refusal = statements.rotationRefusal.get(row.sid);
    if (refusal === undefined) return { status: 'missing' };
    if (refusal.revoked === 1) return { status: 'revoked' };
    if (refusal.banned === 1) return { status: 'banned' };
    if (refusal.refresh_hash !== row.expected) return { status: 'stale' };
    return { status: 'changed' };
  });

  const revokeSessions = revoking(
    (sids: readonly string[], at: number, reason: string, events: readonly RevocationEvent[]) => {
      const revoked = sids.filter((sid) => statements.revoke.run(at, reason, sid).changes === 1);
      appendAll(eventsToAppend(events, sids, revoked));
      return revoked;
    },
  );
  const revokeAll = revoking((at: number, events: readonly RevocationEvent[]) => {
    appendAll(events);
    statements.revokeAll.run(at, REVOKE_EVERYTHING_REASON);
  });
  // SQLite has one writer at a time, so seq is assigned in commit order: a reader that has seen
  // position p can never later find a committed event below p.
  const appendEvents = revoking(appendAll);
  const bumpGeneration = revoking((sub: string, claims: string | null) => {
    const { gen } = statements.bumpGeneration.get(sub)!;
    if (claims !== null) statements.replaceClaims.run(claims, sub);
    return gen;
  });
  const setBanned = revoking((sub: string, banned: boolean, at: number) => {
    statements.setBanned.run({ sub, banned: banned ? 1 : 0, at: banned ? at : null });
  });
  const prune = write((horizon: number, retention: number) => ({
    sessions: statements.pruneSessions.run(horizon - retention).changes,
    events: statements.pruneEvents.run(horizon).changes,
  }));
  // A read transaction: the events and the position come from one snapshot of the file.
  const liveEvents = database.transaction((horizon: number) => ({
    events: statements.liveEvents.all(horizon).map(toStoredEvent),
    position: statements.position.get(tables.log)?.seq ?? 0,
  }));

  // Every argument is checked, and events parsed, before a transaction starts: bad input writes
  // nothing.
  return {
    persistent: !database.memory,
    async createSession(session, expectedGen) {
      assertSessionRecord(session);
      assertGeneration(expectedGen, 'expectedGen');
      return createSession(toSessionRow(session), expectedGen);
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
    async rotateRefresh(sid, expectedHash, expectedGen, next) {
      assertSid(sid);
      assertHash(expectedHash, 'expectedHash');
      assertGeneration(expectedGen, 'expectedGen');
      assertRefreshRotation(next);
      return rotateRefresh(toRotationRow(sid, expectedHash, expectedGen, next));
    },
    async revokeSessions(sids, at, reason, events) {
      assertSidList(sids);
      assertEpochSeconds(at, 'at');
      assertReason(reason);
      return revokeSessions([...sids], at, reason, parseEvents(events));
    },
    async revokeAll(at, events) {
      assertEpochSeconds(at, 'at');
      revokeAll(at, parseEvents(events));
    },
    async getSubject(sub) {
      assertSub(sub);
      return subjectState(sub);
    },
    async bumpGeneration(sub, claims) {
      assertSub(sub);
      return bumpGeneration(sub, claims === undefined ? null : claimsJson(claims));
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
      assertPosition(after, 'after');
      assertLimit(limit);
      return statements.readEvents.all(after, limit).map(toStoredEvent);
    },
    async liveEvents(horizon) {
      assertEpochSeconds(horizon, 'horizon');
      return liveEvents(horizon);
    },
    async prune(horizon, retention) {
      assertEpochSeconds(horizon, 'horizon');
      assertDurationSeconds(retention, 'retention');
      return prune(horizon, retention);
    },
    // better-sqlite3 statements hold no resources beyond garbage collection; the database is the
    // application's to close.
    async close() {},
  };
}
