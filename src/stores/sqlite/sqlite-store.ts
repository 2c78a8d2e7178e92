import type BetterSqlite3 from 'better-sqlite3';
import { RevocableError } from '../../errors/revocable-error.js';
import {
  parseRevocationEvent,
  parseRevocationEventJson,
  type RevocationEvent,
  serializeRevocationEvent,
} from '../../revocation/events.js';
import type { SessionRecord, Store, StoredEvent, StoredSession } from '../types.js';
import { checkRefreshRotation, checkSessionRecord, checkText, checkTime } from '../validate.js';
import { migrations } from './schema.js';

/** Options for {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** A better-sqlite3 database the application opened (see {@link openSqliteDatabase}). */
  database: BetterSqlite3.Database;
  /** Prefix of every table name (default `revocable_`): letters, digits and underscores. */
  tablePrefix?: string;
}

interface SessionRow {
  sid: string;
  sub: string;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  auth_time: number;
  device: string | null;
  ip: string | null;
  user_agent: string | null;
  claims: string;
  refresh_hash: string;
  previous_hash: string | null;
  rotated_at: number | null;
  spent_hashes: string;
  revoked_at: number | null;
  revoked_reason: string | null;
  gen?: number | null;
  banned?: number | null;
}

function toRecord(row: SessionRow): SessionRecord {
  return {
    sid: row.sid,
    sub: row.sub,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    authTime: row.auth_time,
    device: row.device,
    ip: row.ip,
    userAgent: row.user_agent,
    claims: JSON.parse(row.claims) as Record<string, unknown>,
    refreshHash: row.refresh_hash,
    previousHash: row.previous_hash,
    rotatedAt: row.rotated_at,
    spentHashes: JSON.parse(row.spent_hashes) as string[],
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
  };
}

function checkPrefix(prefix: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(prefix)) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      'tablePrefix must be letters, digits and underscores.',
    );
  }
  return prefix;
}

/**
 * Brings the schema to the current version, in one immediate transaction (so two processes
 * migrating at once take turns). Idempotent; {@link createSqliteStore} calls it itself.
 *
 * @example
 * ```ts
 * migrateSqliteStore(database); // e.g. in a deploy step
 * ```
 */
export function migrateSqliteStore(
  database: BetterSqlite3.Database,
  options: { tablePrefix?: string } = {},
): number {
  const prefix = checkPrefix(options.tablePrefix ?? 'revocable_');
  const steps = migrations(prefix);
  const run = database.transaction(() => {
    database.exec(`CREATE TABLE IF NOT EXISTS ${prefix}schema (version INTEGER NOT NULL) STRICT`);
    const row = database.prepare(`SELECT version FROM ${prefix}schema`).get() as
      | { version: number }
      | undefined;
    let version = row?.version ?? 0;
    if (row === undefined)
      database.prepare(`INSERT INTO ${prefix}schema (version) VALUES (0)`).run();
    if (version > steps.length) {
      throw new RevocableError(
        'ERR_INVALID_ARGUMENT',
        `The database schema (version ${version}) is newer than this revocable.`,
      );
    }
    for (; version < steps.length; version++) database.exec(steps[version]!);
    database.prepare(`UPDATE ${prefix}schema SET version = ?`).run(version);
    return version;
  });
  return run.immediate();
}

/**
 * A store in SQLite through better-sqlite3: the embedded default. Every write is one immediate
 * transaction, so concurrent writers, in this process or in others sharing the file (WAL mode),
 * take turns, and each method is atomic. The schema is migrated when the store is created. The
 * store never closes the database it was given.
 *
 * @example
 * ```ts
 * import { createSqliteStore, openSqliteDatabase } from 'revocable/sqlite';
 * const store = createSqliteStore({ database: openSqliteDatabase('revocable.db') });
 * ```
 */
export function createSqliteStore(options: SqliteStoreOptions): Store {
  const database = options?.database;
  if (typeof database?.prepare !== 'function') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'database must be a better-sqlite3 Database.');
  }
  const prefix = checkPrefix(options.tablePrefix ?? 'revocable_');
  migrateSqliteStore(database, { tablePrefix: prefix });
  const sessions = `${prefix}sessions`;
  const subjects = `${prefix}subjects`;
  const log = `${prefix}log`;

  const statements = {
    subject: database.prepare(`SELECT gen, banned FROM ${subjects} WHERE sub = ?`),
    insertSession: database.prepare(
      `INSERT INTO ${sessions} (sid, sub, created_at, last_seen_at, idle_expires_at, absolute_expires_at, auth_time,
         device, ip, user_agent, claims, refresh_hash, previous_hash, rotated_at, spent_hashes, revoked_at, revoked_reason)
       VALUES (@sid, @sub, @createdAt, @lastSeenAt, @idleExpiresAt, @absoluteExpiresAt, @authTime, @device, @ip, @userAgent,
         @claims, @refreshHash, @previousHash, @rotatedAt, @spentHashes, @revokedAt, @revokedReason)`,
    ),
    sessionExists: database.prepare(`SELECT 1 FROM ${sessions} WHERE sid = ?`),
    getSession: database.prepare(
      `SELECT s.*, u.gen AS gen, u.banned AS banned FROM ${sessions} s LEFT JOIN ${subjects} u ON u.sub = s.sub WHERE s.sid = ?`,
    ),
    listSessions: database.prepare(
      `SELECT * FROM ${sessions} WHERE sub = ? AND revoked_at IS NULL ORDER BY created_at DESC`,
    ),
    rotate: database.prepare(
      `UPDATE ${sessions} SET refresh_hash = @refreshHash, previous_hash = @previousHash, rotated_at = @rotatedAt,
         spent_hashes = @spentHashes, last_seen_at = @lastSeenAt, idle_expires_at = @idleExpiresAt
       WHERE sid = @sid AND refresh_hash = @expected AND revoked_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM ${subjects} u WHERE u.sub = ${sessions}.sub AND u.banned = 1)`,
    ),
    revoke: database.prepare(
      `UPDATE ${sessions} SET revoked_at = ?, revoked_reason = ? WHERE sid = ? AND revoked_at IS NULL`,
    ),
    updateClaims: database.prepare(
      `UPDATE ${sessions} SET claims = ? WHERE sub = ? AND revoked_at IS NULL`,
    ),
    bump: database.prepare(
      `INSERT INTO ${subjects} (sub, gen) VALUES (?, 1) ON CONFLICT (sub) DO UPDATE SET gen = gen + 1 RETURNING gen`,
    ),
    ban: database.prepare(
      `INSERT INTO ${subjects} (sub, banned, banned_at) VALUES (@sub, @banned, @at)
       ON CONFLICT (sub) DO UPDATE SET banned = @banned, banned_at = @at`,
    ),
    append: database.prepare(
      `INSERT INTO ${log} (id, until, body) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    readEvents: database.prepare(`SELECT seq, body FROM ${log} WHERE seq > ? ORDER BY seq LIMIT ?`),
    liveEvents: database.prepare(`SELECT seq, body FROM ${log} WHERE until > ? ORDER BY seq`),
    position: database.prepare(`SELECT seq FROM sqlite_sequence WHERE name = ?`),
    pruneEvents: database.prepare(`DELETE FROM ${log} WHERE until <= ?`),
    pruneSessions: database.prepare(
      `DELETE FROM ${sessions} WHERE MIN(COALESCE(revoked_at, idle_expires_at), idle_expires_at, absolute_expires_at) < ?`,
    ),
  };

  function subjectState(sub: string): { gen: number; banned: boolean } {
    const row = statements.subject.get(sub) as { gen: number; banned: number } | undefined;
    return { gen: row?.gen ?? 0, banned: row?.banned === 1 };
  }

  function appendAll(events: readonly RevocationEvent[]): void {
    for (const event of events)
      statements.append.run(event.id, event.until, serializeRevocationEvent(event));
  }

  function parseEvents(events: unknown): RevocationEvent[] {
    if (!Array.isArray(events))
      throw new RevocableError('ERR_INVALID_ARGUMENT', 'events must be an array.');
    return events.map((event) => parseRevocationEvent(event));
  }

  function toStored(row: { seq: number; body: string }): StoredEvent {
    return { seq: row.seq, event: parseRevocationEventJson(row.body) };
  }

  const createTx = database.transaction((session: SessionRecord) => {
    const subject = subjectState(session.sub);
    if (subject.banned) return { created: false as const, reason: 'banned' as const };
    if (statements.sessionExists.get(session.sid) !== undefined)
      return { created: false as const, reason: 'exists' as const };
    statements.insertSession.run({
      ...session,
      claims: JSON.stringify(session.claims),
      spentHashes: JSON.stringify(session.spentHashes),
    });
    return { created: true as const, gen: subject.gen };
  });

  const rotateTx = database.transaction(
    (sid: string, expected: string, next: Record<string, unknown>) => {
      const changed = statements.rotate.run({ ...next, sid, expected }).changes;
      const row = statements.getSession.get(sid) as SessionRow | undefined;
      if (row === undefined) return { status: 'missing' as const };
      if (changed === 1) return { status: 'rotated' as const, gen: row.gen ?? 0 };
      if (row.revoked_at !== null) return { status: 'revoked' as const };
      if (row.banned === 1) return { status: 'banned' as const };
      return { status: 'stale' as const };
    },
  );

  const revokeTx = database.transaction(
    (sids: readonly string[], at: number, reason: string, events: readonly RevocationEvent[]) => {
      const revoked = sids.filter((sid) => statements.revoke.run(at, reason, sid).changes === 1);
      appendAll(events);
      return revoked;
    },
  );

  const appendTx = database.transaction((events: readonly RevocationEvent[]) => appendAll(events));
  const banTx = database.transaction((sub: string, banned: boolean, at: number) => {
    statements.ban.run({ sub, banned: banned ? 1 : 0, at: banned ? at : null });
  });
  const bumpTx = database.transaction(
    (sub: string) => (statements.bump.get(sub) as { gen: number }).gen,
  );
  const liveTx = database.transaction((now: number) => {
    const events = (statements.liveEvents.all(now) as { seq: number; body: string }[]).map(
      toStored,
    );
    const position = (statements.position.get(log) as { seq: number } | undefined)?.seq ?? 0;
    return { events, position };
  });
  const pruneTx = database.transaction((now: number, retention: number) => ({
    events: statements.pruneEvents.run(now).changes,
    sessions: statements.pruneSessions.run(now - retention).changes,
  }));

  return {
    async createSession(session) {
      checkSessionRecord(session);
      return createTx.immediate(session);
    },
    async getSession(sid): Promise<StoredSession | null> {
      checkText(sid, 'sid');
      const row = statements.getSession.get(sid) as SessionRow | undefined;
      if (row === undefined) return null;
      return { ...toRecord(row), gen: row.gen ?? 0, banned: row.banned === 1 };
    },
    async listSessions(sub) {
      checkText(sub, 'sub');
      return (statements.listSessions.all(sub) as SessionRow[]).map(toRecord);
    },
    async rotateRefresh(sid, expectedHash, next) {
      checkText(sid, 'sid');
      checkText(expectedHash, 'expectedHash');
      checkRefreshRotation(next);
      return rotateTx.immediate(sid, expectedHash, {
        ...next,
        spentHashes: JSON.stringify(next.spentHashes),
      });
    },
    async revokeSessions(sids, at, reason, events) {
      if (!Array.isArray(sids))
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'sids must be an array.');
      for (const sid of sids) checkText(sid, 'sid');
      checkTime(at, 'at');
      checkText(reason, 'reason');
      return revokeTx.immediate(sids, at, reason, parseEvents(events));
    },
    async updateClaims(sub, claims) {
      checkText(sub, 'sub');
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'claims must be an object.');
      }
      return statements.updateClaims.run(JSON.stringify(claims), sub).changes;
    },
    async getSubject(sub) {
      checkText(sub, 'sub');
      return subjectState(sub);
    },
    async bumpGeneration(sub) {
      checkText(sub, 'sub');
      return bumpTx.immediate(sub);
    },
    async setBanned(sub, banned, at) {
      checkText(sub, 'sub');
      checkTime(at, 'at');
      if (typeof banned !== 'boolean')
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'banned must be a boolean.');
      banTx.immediate(sub, banned, at);
    },
    async appendEvents(events) {
      appendTx.immediate(parseEvents(events));
    },
    async readEvents(after, limit) {
      checkTime(after, 'after');
      if (!Number.isInteger(limit) || limit < 1) {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'limit must be a positive integer.');
      }
      return (statements.readEvents.all(after, limit) as { seq: number; body: string }[]).map(
        toStored,
      );
    },
    async liveEvents(now) {
      checkTime(now, 'now');
      return liveTx(now);
    },
    async prune(now, retention) {
      checkTime(now, 'now');
      checkTime(retention, 'retention');
      return pruneTx.immediate(now, retention);
    },
    async close() {},
  };
}
