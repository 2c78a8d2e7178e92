import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { RevocableError } from '../../errors/revocable-error.js';
import {
  parseRevocationEvent,
  parseRevocationEventJson,
  type RevocationEvent,
  serializeRevocationEvent,
} from '../../revocation/events.js';
import type {
  CreateOutcome,
  RotateOutcome,
  SessionRecord,
  Store,
  StoredEvent,
  StoredSession,
} from '../types.js';
import { checkRefreshRotation, checkSessionRecord, checkText, checkTime } from '../validate.js';
import * as scripts from './scripts.js';

/** Options for {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** An ioredis client (or Cluster) the application created; the store never quits it. */
  client: Redis | Cluster;
  /**
   * Prefix of every key (default `revocable:`). In Redis Cluster it must contain a hash tag, such
   * as `{revocable}:`, so that all of the store's keys live in one slot: the scripts touch a
   * session, its subject and the log together.
   */
  prefix?: string;
  /** How long a session's keys outlive its absolute expiry before Redis drops them (default 7 days). */
  retention?: number;
}

type ScriptName = keyof typeof scripts;
type Reply = string | number | null | Reply[];

const TEXT_FIELDS = [
  'sid',
  'sub',
  'device',
  'ip',
  'userAgent',
  'refreshHash',
  'previousHash',
  'revokedReason',
] as const;
const NUMBER_FIELDS = [
  'createdAt',
  'lastSeenAt',
  'idleExpiresAt',
  'absoluteExpiresAt',
  'authTime',
  'rotatedAt',
  'revokedAt',
] as const;

// A record as the hash stores it: every field a string, null fields absent.
function toFields(record: Partial<SessionRecord>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (value === null || value === undefined) continue;
    if (name === 'claims' || name === 'spentHashes') out.push(name, JSON.stringify(value));
    else out.push(name, String(value));
  }
  return out;
}

function fromFields(flat: readonly Reply[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) map[String(flat[i])] = String(flat[i + 1]);
  return map;
}

function toRecord(map: Record<string, string>): SessionRecord {
  const record: Record<string, unknown> = {};
  for (const name of TEXT_FIELDS) record[name] = map[name] ?? null;
  for (const name of NUMBER_FIELDS)
    record[name] = map[name] === undefined ? null : Number(map[name]);
  record.claims = JSON.parse(map.claims ?? '{}') as unknown;
  record.spentHashes = JSON.parse(map.spentHashes ?? '[]') as unknown;
  return record as unknown as SessionRecord;
}

/**
 * A store in Redis through ioredis. Every method is one Lua script (one round trip, atomic on the
 * server) or one command. Session keys expire by themselves a while after their absolute expiry;
 * `prune` removes ended sessions and expired events earlier.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisStore } from 'revocable/redis';
 * const store = createRedisStore({ client: new Redis(process.env.REDIS_URL), prefix: 'app:revocable:' });
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const client = options?.client;
  if (typeof client?.evalsha !== 'function') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'client must be an ioredis client.');
  }
  const prefix = options.prefix ?? 'revocable:';
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 100) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'prefix must be a non-empty string.');
  }
  const retention = options.retention ?? 7 * 86400;
  checkTime(retention, 'retention');
  const shas = new Map<ScriptName, string>();

  // EVALSHA first; on NOSCRIPT (a restarted or flushed server) EVAL sends the body once more.
  async function run(name: ScriptName, args: readonly (string | number)[]): Promise<Reply> {
    const body = scripts[name];
    let sha = shas.get(name);
    if (sha === undefined) {
      sha = createHash('sha1').update(body).digest('hex');
      shas.set(name, sha);
    }
    try {
      return (await client.evalsha(sha, 0, prefix, ...args)) as Reply;
    } catch (error) {
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      return (await client.eval(body, 0, prefix, ...args)) as Reply;
    }
  }

  function eventArgs(events: readonly RevocationEvent[]): string[] {
    return events.flatMap((event) => [
      event.id,
      String(event.until),
      serializeRevocationEvent(event),
    ]);
  }

  function parseEvents(events: unknown): RevocationEvent[] {
    if (!Array.isArray(events))
      throw new RevocableError('ERR_INVALID_ARGUMENT', 'events must be an array.');
    return events.map((event) => parseRevocationEvent(event));
  }

  function storedEvents(flat: readonly Reply[], from: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (let i = from; i + 1 < flat.length; i += 2) {
      out.push({ seq: Number(flat[i]), event: parseRevocationEventJson(String(flat[i + 1])) });
    }
    return out;
  }

  return {
    async createSession(session): Promise<CreateOutcome> {
      checkSessionRecord(session);
      const expireAt = Math.ceil(session.absoluteExpiresAt + retention);
      const end = Math.min(
        session.revokedAt ?? session.idleExpiresAt,
        session.idleExpiresAt,
        session.absoluteExpiresAt,
      );
      const reply = (await run('CREATE_SESSION', [
        session.sid,
        session.sub,
        String(session.createdAt),
        expireAt,
        String(end),
        ...toFields(session),
      ])) as string[];
      if (reply[0] === 'created') return { created: true, gen: Number(reply[1]) };
      return { created: false, reason: reply[0] === 'banned' ? 'banned' : 'exists' };
    },
    async getSession(sid): Promise<StoredSession | null> {
      checkText(sid, 'sid');
      const reply = (await run('GET_SESSION', [sid])) as Reply[];
      if (reply.length === 0) return null;
      const map = fromFields(reply);
      return { ...toRecord(map), gen: Number(map.gen), banned: map.banned === '1' };
    },
    async listSessions(sub) {
      checkText(sub, 'sub');
      const reply = (await run('LIST_SESSIONS', [sub])) as Reply[][];
      return reply
        .map((flat) => toRecord(fromFields(flat)))
        .filter((record) => record.revokedAt === null);
    },
    async rotateRefresh(sid, expectedHash, next): Promise<RotateOutcome> {
      checkText(sid, 'sid');
      checkText(expectedHash, 'expectedHash');
      checkRefreshRotation(next);
      const reply = (await run('ROTATE', [
        sid,
        expectedHash,
        String(next.idleExpiresAt),
        ...toFields(next),
      ])) as string[];
      const status = reply[0];
      if (status === 'rotated') return { status, gen: Number(reply[1]) };
      if (status === 'missing' || status === 'revoked' || status === 'banned' || status === 'stale')
        return { status };
      throw new RevocableError(
        'ERR_INVALID_ARGUMENT',
        'Unexpected answer from the rotation script.',
      );
    },
    async revokeSessions(sids, at, reason, events) {
      if (!Array.isArray(sids))
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'sids must be an array.');
      for (const sid of sids) checkText(sid, 'sid');
      checkTime(at, 'at');
      checkText(reason, 'reason');
      const parsed = parseEvents(events);
      const reply = (await run('REVOKE_SESSIONS', [
        String(at),
        reason,
        sids.length,
        ...sids,
        ...eventArgs(parsed),
      ])) as string[];
      return reply.map(String);
    },
    async updateClaims(sub, claims) {
      checkText(sub, 'sub');
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'claims must be an object.');
      }
      return Number(await run('UPDATE_CLAIMS', [sub, JSON.stringify(claims)]));
    },
    async getSubject(sub) {
      checkText(sub, 'sub');
      const [gen, banned] = await client.hmget(`${prefix}u:${sub}`, 'gen', 'banned');
      return { gen: Number(gen ?? 0), banned: banned === '1' };
    },
    async bumpGeneration(sub) {
      checkText(sub, 'sub');
      return client.hincrby(`${prefix}u:${sub}`, 'gen', 1);
    },
    async setBanned(sub, banned, at) {
      checkText(sub, 'sub');
      checkTime(at, 'at');
      if (typeof banned !== 'boolean')
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'banned must be a boolean.');
      await client.hset(
        `${prefix}u:${sub}`,
        'banned',
        banned ? '1' : '0',
        'bannedAt',
        banned ? String(at) : '',
      );
    },
    async appendEvents(events) {
      const parsed = parseEvents(events);
      if (parsed.length > 0) await run('APPEND_EVENTS', eventArgs(parsed));
    },
    async readEvents(after, limit) {
      checkTime(after, 'after');
      if (!Number.isInteger(limit) || limit < 1) {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'limit must be a positive integer.');
      }
      return storedEvents((await run('READ_EVENTS', [String(after), limit])) as Reply[], 0);
    },
    async liveEvents(now) {
      checkTime(now, 'now');
      const reply = (await run('LIVE_EVENTS', [String(now)])) as Reply[];
      const events = storedEvents(reply, 1).sort((a, b) => a.seq - b.seq);
      return { events, position: Number(reply[0]) };
    },
    async prune(now, retentionSeconds) {
      checkTime(now, 'now');
      checkTime(retentionSeconds, 'retention');
      const events = Number(await run('PRUNE_EVENTS', [String(now)]));
      const sessions = Number(await run('PRUNE_SESSIONS', [String(now - retentionSeconds)]));
      return { sessions, events };
    },
    async close() {},
  };
}
