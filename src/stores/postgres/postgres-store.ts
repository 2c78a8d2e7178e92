import type { Pool, PoolClient } from 'pg';
import { RevocableError } from '../../errors/revocable-error.js';
import {
  parseRevocationEvent,
  parseRevocationEventJson,
  type RevocationEvent,
  serializeRevocationEvent,
} from '../../revocation/events.js';
import type { CreateOutcome, RotateOutcome, SessionRecord, Store, StoredEvent } from '../types.js';
import { checkRefreshRotation, checkSessionRecord, checkText, checkTime } from '../validate.js';
import { migrations } from './schema.js';

/** Options for {@link createPostgresStore} and {@link migratePostgresStore}. */
export interface PostgresStoreOptions {
  /** A `pg` Pool the application created; the store never ends it. */
  client: Pool;
  /** The schema of the tables (default `public`). */
  schema?: string;
  /** Prefix of every table name (default `revocable_`). */
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
  spent_hashes: string[];
  revoked_at: number | null;
  revoked_reason: string | null;
}

// One constant per revocable log: appends take it so that log positions are handed out in commit
// order, and a reader following positions can never pass an event that commits later.
const APPEND_LOCK = 0x7265766f;
const MIGRATE_LOCK = 0x7265766d;

function identifier(value: string, name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(value)) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      `${name} must be letters, digits and underscores.`,
    );
  }
  return value;
}

function namer(options: { schema?: string; tablePrefix?: string }): (name: string) => string {
  const schema = identifier(options.schema ?? 'public', 'schema');
  const prefix = identifier(options.tablePrefix ?? 'revocable_', 'tablePrefix');
  return (name) => `"${schema}"."${prefix}${name}"`;
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
    spentHashes: row.spent_hashes,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
  };
}

async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Creates or upgrades the tables, in one transaction under an advisory lock (so two processes
 * deploying at once take turns). Idempotent; run it before {@link createPostgresStore} is used.
 *
 * @example
 * ```ts
 * await migratePostgresStore({ client: pool });
 * ```
 */
export async function migratePostgresStore(options: PostgresStoreOptions): Promise<number> {
  const table = namer(options);
  const steps = migrations(table);
  return inTransaction(options.client, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
    await client.query(
      `CREATE SCHEMA IF NOT EXISTS "${identifier(options.schema ?? 'public', 'schema')}"`,
    );
    await client.query(`CREATE TABLE IF NOT EXISTS ${table('schema')} (version integer NOT NULL)`);
    const found = await client.query<{ version: number }>(`SELECT version FROM ${table('schema')}`);
    let version = found.rows[0]?.version ?? 0;
    if (found.rows.length === 0)
      await client.query(`INSERT INTO ${table('schema')} (version) VALUES (0)`);
    if (version > steps.length) {
      throw new RevocableError(
        'ERR_INVALID_ARGUMENT',
        `The database schema (version ${version}) is newer than this revocable.`,
      );
    }
    for (; version < steps.length; version++) await client.query(steps[version]!);
    await client.query(`UPDATE ${table('schema')} SET version = $1`, [version]);
    return version;
  });
}

/**
 * A store in PostgreSQL through `pg`. Reading a session is one query (joined with its subject) and
 * a refresh rotation is one atomic statement, so a refresh costs two round trips. Appends to the
 * revocation log take an advisory lock so that positions follow commit order.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresStore, migratePostgresStore } from 'revocable/postgres';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgresStore({ client: pool });
 * const store = createPostgresStore({ client: pool });
 * ```
 */
export function createPostgresStore(options: PostgresStoreOptions): Store {
  const pool = options?.client;
  if (typeof pool?.query !== 'function' || typeof pool.connect !== 'function') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'client must be a pg Pool.');
  }
  const table = namer(options);
  const sessions = table('sessions');
  const subjects = table('subjects');
  const log = table('log');

  const sql = {
    getSession: `SELECT s.*, COALESCE(u.gen, 0) AS gen, COALESCE(u.banned, false) AS banned
      FROM ${sessions} s LEFT JOIN ${subjects} u ON u.sub = s.sub WHERE s.sid = $1`,
    // The subject row is upserted first: its row lock makes a concurrent ban wait for this login
    // (or this login see the ban), so a ban and a login cannot interleave.
    createSession: `WITH subject AS (
        INSERT INTO ${subjects} AS u (sub) VALUES ($2) ON CONFLICT (sub) DO UPDATE SET gen = u.gen
        RETURNING gen, banned),
      inserted AS (
        INSERT INTO ${sessions} (sid, sub, created_at, last_seen_at, idle_expires_at, absolute_expires_at, auth_time,
          device, ip, user_agent, claims, refresh_hash, previous_hash, rotated_at, spent_hashes, revoked_at, revoked_reason)
        SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 FROM subject WHERE NOT subject.banned
        ON CONFLICT (sid) DO NOTHING RETURNING sid)
      SELECT subject.gen, subject.banned, (SELECT count(*) FROM inserted)::int AS inserted FROM subject`,
    // One statement: the compare-and-set, and (from the statement's snapshot) why it did nothing.
    rotate: `WITH updated AS (
        UPDATE ${sessions} s SET refresh_hash = $3, previous_hash = $4, rotated_at = $5, spent_hashes = $6,
          last_seen_at = $7, idle_expires_at = $8
        WHERE s.sid = $1 AND s.refresh_hash = $2 AND s.revoked_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM ${subjects} b WHERE b.sub = s.sub AND b.banned)
        RETURNING s.sub)
      SELECT (SELECT count(*) FROM updated)::int AS rotated, cur.sid IS NOT NULL AS found, cur.revoked_at,
        COALESCE(u.gen, 0) AS gen, COALESCE(u.banned, false) AS banned
      FROM (SELECT 1) AS one
      LEFT JOIN ${sessions} cur ON cur.sid = $1
      LEFT JOIN ${subjects} u ON u.sub = cur.sub`,
    listSessions: `SELECT * FROM ${sessions} WHERE sub = $1 AND revoked_at IS NULL ORDER BY created_at DESC`,
    revoke: `UPDATE ${sessions} SET revoked_at = $2, revoked_reason = $3
      WHERE sid = ANY($1::text[]) AND revoked_at IS NULL RETURNING sid`,
    append: `INSERT INTO ${log} (id, until, body)
      SELECT * FROM unnest($1::text[], $2::double precision[], $3::text[]) ON CONFLICT (id) DO NOTHING`,
    updateClaims: `UPDATE ${sessions} SET claims = $2 WHERE sub = $1 AND revoked_at IS NULL`,
    subject: `SELECT gen, banned FROM ${subjects} WHERE sub = $1`,
    bump: `INSERT INTO ${subjects} AS u (sub, gen) VALUES ($1, 1) ON CONFLICT (sub) DO UPDATE SET gen = u.gen + 1 RETURNING gen`,
    ban: `INSERT INTO ${subjects} AS u (sub, banned, banned_at) VALUES ($1, $2, $3)
      ON CONFLICT (sub) DO UPDATE SET banned = $2, banned_at = $3`,
    readEvents: `SELECT seq, body FROM ${log} WHERE seq > $1 ORDER BY seq LIMIT $2`,
    liveEvents: `SELECT seq, body, (SELECT COALESCE(max(seq), 0) FROM ${log}) AS position FROM ${log}
      WHERE until > $1 ORDER BY seq`,
    position: `SELECT COALESCE(max(seq), 0) AS position FROM ${log}`,
    // The newest event is always kept, so the log's position (its highest seq) never goes back.
    pruneEvents: `DELETE FROM ${log} WHERE until <= $1 AND seq < (SELECT max(seq) FROM ${log})`,
    pruneSessions: `DELETE FROM ${sessions}
      WHERE LEAST(COALESCE(revoked_at, idle_expires_at), idle_expires_at, absolute_expires_at) < $1`,
  };

  function parseEvents(events: unknown): RevocationEvent[] {
    if (!Array.isArray(events))
      throw new RevocableError('ERR_INVALID_ARGUMENT', 'events must be an array.');
    return events.map((event) => parseRevocationEvent(event));
  }

  async function appendWith(client: PoolClient, events: readonly RevocationEvent[]): Promise<void> {
    if (events.length === 0) return;
    await client.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
    await client.query(sql.append, [
      events.map((event) => event.id),
      events.map((event) => event.until),
      events.map((event) => serializeRevocationEvent(event)),
    ]);
  }

  function toStored(row: { seq: string; body: string }): StoredEvent {
    return { seq: Number(row.seq), event: parseRevocationEventJson(row.body) };
  }

  return {
    async createSession(session): Promise<CreateOutcome> {
      checkSessionRecord(session);
      const { rows } = await pool.query<{ gen: string; banned: boolean; inserted: number }>(
        sql.createSession,
        [
          session.sid,
          session.sub,
          session.createdAt,
          session.lastSeenAt,
          session.idleExpiresAt,
          session.absoluteExpiresAt,
          session.authTime,
          session.device,
          session.ip,
          session.userAgent,
          JSON.stringify(session.claims),
          session.refreshHash,
          session.previousHash,
          session.rotatedAt,
          session.spentHashes,
          session.revokedAt,
          session.revokedReason,
        ],
      );
      const row = rows[0]!;
      if (row.banned) return { created: false, reason: 'banned' };
      if (row.inserted === 0) return { created: false, reason: 'exists' };
      return { created: true, gen: Number(row.gen) };
    },
    async getSession(sid) {
      checkText(sid, 'sid');
      const { rows } = await pool.query<SessionRow & { gen: string; banned: boolean }>(
        sql.getSession,
        [sid],
      );
      const row = rows[0];
      if (row === undefined) return null;
      return { ...toRecord(row), gen: Number(row.gen), banned: row.banned };
    },
    async listSessions(sub) {
      checkText(sub, 'sub');
      const { rows } = await pool.query<SessionRow>(sql.listSessions, [sub]);
      return rows.map(toRecord);
    },
    async rotateRefresh(sid, expectedHash, next): Promise<RotateOutcome> {
      checkText(sid, 'sid');
      checkText(expectedHash, 'expectedHash');
      checkRefreshRotation(next);
      const { rows } = await pool.query<{
        rotated: number;
        found: boolean;
        revoked_at: number | null;
        gen: string;
        banned: boolean;
      }>(sql.rotate, [
        sid,
        expectedHash,
        next.refreshHash,
        next.previousHash,
        next.rotatedAt,
        [...next.spentHashes],
        next.lastSeenAt,
        next.idleExpiresAt,
      ]);
      const row = rows[0]!;
      if (row.rotated === 1) return { status: 'rotated', gen: Number(row.gen) };
      if (!row.found) return { status: 'missing' };
      if (row.revoked_at !== null) return { status: 'revoked' };
      if (row.banned) return { status: 'banned' };
      return { status: 'stale' };
    },
    async revokeSessions(sids, at, reason, events) {
      if (!Array.isArray(sids))
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'sids must be an array.');
      for (const sid of sids) checkText(sid, 'sid');
      checkTime(at, 'at');
      checkText(reason, 'reason');
      const parsed = parseEvents(events);
      return inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ sid: string }>(sql.revoke, [[...sids], at, reason]);
        await appendWith(client, parsed);
        return rows.map((row) => row.sid);
      });
    },
    async updateClaims(sub, claims) {
      checkText(sub, 'sub');
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'claims must be an object.');
      }
      const result = await pool.query(sql.updateClaims, [sub, JSON.stringify(claims)]);
      return result.rowCount ?? 0;
    },
    async getSubject(sub) {
      checkText(sub, 'sub');
      const { rows } = await pool.query<{ gen: string; banned: boolean }>(sql.subject, [sub]);
      const row = rows[0];
      return { gen: Number(row?.gen ?? 0), banned: row?.banned ?? false };
    },
    async bumpGeneration(sub) {
      checkText(sub, 'sub');
      const { rows } = await pool.query<{ gen: string }>(sql.bump, [sub]);
      return Number(rows[0]!.gen);
    },
    async setBanned(sub, banned, at) {
      checkText(sub, 'sub');
      checkTime(at, 'at');
      if (typeof banned !== 'boolean')
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'banned must be a boolean.');
      await pool.query(sql.ban, [sub, banned, banned ? at : null]);
    },
    async appendEvents(events) {
      const parsed = parseEvents(events);
      if (parsed.length === 0) return;
      await inTransaction(pool, (client) => appendWith(client, parsed));
    },
    async readEvents(after, limit) {
      checkTime(after, 'after');
      if (!Number.isInteger(limit) || limit < 1) {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'limit must be a positive integer.');
      }
      const { rows } = await pool.query<{ seq: string; body: string }>(sql.readEvents, [
        after,
        limit,
      ]);
      return rows.map(toStored);
    },
    async liveEvents(now) {
      checkTime(now, 'now');
      const { rows } = await pool.query<{ seq: string; body: string; position: string }>(
        sql.liveEvents,
        [now],
      );
      if (rows.length > 0)
        return { events: rows.map(toStored), position: Number(rows[0]!.position) };
      const empty = await pool.query<{ position: string }>(sql.position);
      return { events: [], position: Number(empty.rows[0]?.position ?? 0) };
    },
    async prune(now, retention) {
      checkTime(now, 'now');
      checkTime(retention, 'retention');
      return inTransaction(pool, async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
        const events = await client.query(sql.pruneEvents, [now]);
        const removed = await client.query(sql.pruneSessions, [now - retention]);
        return { events: events.rowCount ?? 0, sessions: removed.rowCount ?? 0 };
      });
    },
    async close() {},
  };
}
