import {
  MAX_EVENT_TIME,
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
import type { CreateOutcome, RotateOutcome, Store, StoredEvent, StoredSession } from '../types.js';
import { redisKeys, resolvePrefix } from './keys.js';
import { createScriptRunner, type LuaScript, type RedisClient } from './lua-script.js';
import { checkRedisClient, isClusterClient, REDIS_LAYOUT_VERSION } from './migrate.js';
import {
  asArray,
  asCount,
  asFieldMap,
  asString,
  rotationValues,
  sessionFields,
  sessionFromFields,
  unreadable,
} from './records.js';
import * as scripts from './scripts.js';

/** Options for {@link createRedisStore}. */
export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` (standalone or Sentinel) or `Cluster` the application created, without a
   * `keyPrefix` option. The store never quits it.
   */
  client: RedisClient;
  /**
   * What every key of the store starts with (default `revocable:`; `{revocable}:` on a Cluster).
   * On a Cluster it must contain a hash tag (`{...}`): the whole store then lives in one slot, see
   * {@link createRedisStore}.
   */
  prefix?: string;
  /**
   * How long, in seconds, a session's keys outlive the session's end (its idle or absolute
   * expiry, or its revocation) before Redis deletes them by itself. Default 7 days. `prune()`
   * deletes ended sessions sooner if asked to. Redis reads session times against its own clock,
   * so a session written as having ended longer ago than this is deleted at once.
   */
  sessionRetention?: number;
}

const DEFAULT_SESSION_RETENTION = 7 * 86_400;
// The most sessions and events one prune script deletes, so that no script blocks Redis long.
const PRUNE_BATCH = 500;

/**
 * A store in Redis through ioredis (version 6, Redis 6.2 or later): for several processes or
 * machines sharing sessions and the revocation log.
 *
 * Every method is one Lua script: Redis runs it alone, so each method is atomic, and it is one
 * round trip (`getSession` and `rotateRefresh` included). The log's positions come from `INCR`
 * inside the appending script, so position order is commit order.
 *
 * Keys (under the prefix `P`): `P session:<sid>` (hash), `P subject:<sub>` (hash: gen, banned,
 * bannedAt), `P sessions:<sub>` (zset of unrevoked sids by creation), `P ends` (zset of sids by
 * end time, for prune), `P log` (zset of event JSON by position), `P log:ids`, `P log:until`,
 * `P log:seq` and `P layout` (the layout version, see {@link migrateRedisStore}). Session keys
 * expire by themselves `sessionRetention` seconds after the session ends, and the index entries
 * they leave behind are swept as sessions are created, so Redis stays bounded even if `prune()`
 * never runs. Events stay until `prune()` removes them. Subjects (their generation and ban) are
 * kept for good: a generation must never go back.
 *
 * Redis Cluster: the scripts touch a session, its subject, the index and the log together, and
 * `revokeSessions` must revoke sessions and append to the one log in a single step, which Redis
 * can only do within one slot. So the whole store lives in one slot, named by the hash tag in the
 * prefix. The trade-off: one store's data and load sit on one shard, which suits it (the store is
 * hit at login, refresh and revocation, not on each request); give each application or tenant its
 * own tag to spread several stores out.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisStore } from 'revocable/redis';
 * import { createSessionManager } from 'revocable/sessions';
 *
 * const client = new Redis(process.env.REDIS_URL);
 * const store = createRedisStore({ client, prefix: 'app:revocable:' });
 * // ... createSessionManager({ store, ... })
 * process.on('SIGTERM', () => client.quit()); // the client is the application's to close
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const client = options?.client;
  checkRedisClient(client);
  const prefix = resolvePrefix(options.prefix, isClusterClient(client));
  const retention = options.sessionRetention ?? DEFAULT_SESSION_RETENTION;
  assertDurationSeconds(retention, 'sessionRetention');
  const keys = redisKeys(prefix);
  const version = String(REDIS_LAYOUT_VERSION);
  // No key needs to outlive the year 3000, so a longer retention changes nothing; capped here, it
  // keeps the scripts' integer arithmetic in range.
  const header = [version, prefix, String(Math.min(retention, MAX_EVENT_TIME))];
  const runner = createScriptRunner(client, version);
  const run = (script: LuaScript, scriptKeys: readonly string[], args: readonly string[]) =>
    runner(script, [keys.layout, ...scriptKeys], [...header, ...args]);
  const logKeys = [keys.log, keys.logIds, keys.logUntil, keys.logSeq];

  function eventArgs(events: readonly RevocationEvent[]): string[] {
    return events.flatMap((event) => [
      event.id,
      String(event.until),
      serializeRevocationEvent(event),
    ]);
  }

  // (seq, body) pairs, as the log scripts return them.
  function storedEvents(flat: readonly unknown[], seqFirst: boolean): StoredEvent[] {
    const events: StoredEvent[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const [seq, body] = seqFirst ? [flat[i], flat[i + 1]] : [flat[i + 1], flat[i]];
      events.push({
        seq: asCount(seq, 'a log position'),
        event: parseRevocationEventJson(asString(body, 'an event')),
      });
    }
    return events;
  }

  return {
    async createSession(session): Promise<CreateOutcome> {
      assertSessionRecord(session);
      const claims = claimsJson(session.claims);
      const ended = Math.min(
        session.idleExpiresAt,
        session.absoluteExpiresAt,
        session.revokedAt ?? Number.POSITIVE_INFINITY,
      );
      const reply = asArray(
        await run(
          scripts.CREATE_SESSION,
          [
            keys.session(session.sid),
            keys.subject(session.sub),
            keys.subjectSessions(session.sub),
            keys.ends,
          ],
          [
            session.sid,
            String(session.createdAt),
            String(ended),
            session.revokedAt === null ? '1' : '0',
            ...sessionFields(session, claims),
          ],
        ),
        'a creation',
      );
      if (reply[0] === 'created') return { created: true, gen: asCount(reply[1], 'a generation') };
      if (reply[0] === 'banned' || reply[0] === 'exists')
        return { created: false, reason: reply[0] };
      throw unreadable('a creation');
    },

    async getSession(sid): Promise<StoredSession | null> {
      assertSid(sid);
      const reply = await run(scripts.GET_SESSION, [keys.session(sid)], []);
      if (reply === null) return null;
      const [fields, gen, banned] = asArray(reply, 'a session');
      return {
        ...sessionFromFields(asFieldMap(fields, 'a session')),
        gen: asCount(gen, 'a generation'),
        banned: banned === '1',
      };
    },

    async listSessions(sub) {
      assertSub(sub);
      const reply = await run(scripts.LIST_SESSIONS, [keys.subjectSessions(sub)], []);
      return asArray(reply, 'a session list').map((fields) =>
        sessionFromFields(asFieldMap(fields, 'a session')),
      );
    },

    async rotateRefresh(sid, expectedHash, next): Promise<RotateOutcome> {
      assertSid(sid);
      assertHash(expectedHash, 'expectedHash');
      assertRefreshRotation(next);
      const reply = asArray(
        await run(
          scripts.ROTATE_REFRESH,
          [keys.session(sid), keys.ends],
          [sid, expectedHash, ...rotationValues(next)],
        ),
        'a rotation',
      );
      const status = reply[0];
      if (status === 'rotated') return { status, gen: asCount(reply[1], 'a generation') };
      if (status === 'stale' || status === 'revoked' || status === 'banned' || status === 'missing')
        return { status };
      throw unreadable('a rotation');
    },

    async revokeSessions(sids, at, reason, events) {
      assertSidList(sids);
      assertEpochSeconds(at, 'at');
      assertReason(reason);
      const parsed = parseEvents(events);
      const list = [...sids];
      if (list.length === 0 && parsed.length === 0) return [];
      const reply = await run(
        scripts.REVOKE_SESSIONS,
        [...logKeys, keys.ends, ...list.map((sid) => keys.session(sid))],
        [String(at), reason, String(list.length), ...list, ...eventArgs(parsed)],
      );
      return asArray(reply, 'the revoked sessions').map((sid) => asString(sid, 'a sid'));
    },

    async updateClaims(sub, claims) {
      assertSub(sub);
      const text = claimsJson(claims);
      const reply = await run(scripts.UPDATE_CLAIMS, [keys.subjectSessions(sub)], [text]);
      return asCount(reply, 'a count');
    },

    async getSubject(sub) {
      assertSub(sub);
      const [gen, banned] = asArray(
        await run(scripts.GET_SUBJECT, [keys.subject(sub)], []),
        'a subject',
      );
      return { gen: asCount(gen, 'a generation'), banned: banned === '1' };
    },

    async bumpGeneration(sub) {
      assertSub(sub);
      return asCount(await run(scripts.BUMP_GENERATION, [keys.subject(sub)], []), 'a generation');
    },

    async setBanned(sub, banned, at) {
      assertSub(sub);
      assertBoolean(banned, 'banned');
      assertEpochSeconds(at, 'at');
      await run(scripts.SET_BANNED, [keys.subject(sub)], [banned ? '1' : '0', String(at)]);
    },

    async appendEvents(events) {
      const parsed = parseEvents(events);
      if (parsed.length === 0) return;
      await run(scripts.APPEND_EVENTS, logKeys, eventArgs(parsed));
    },

    async readEvents(after, limit) {
      assertPosition(after);
      assertLimit(limit);
      const reply = await run(scripts.READ_EVENTS, [keys.log], [`(${after}`, String(limit)]);
      return storedEvents(asArray(reply, 'the log'), false);
    },

    async liveEvents(now) {
      assertEpochSeconds(now, 'now');
      const [position, flat] = asArray(
        await run(scripts.LIVE_EVENTS, logKeys, [`(${now}`]),
        'the log',
      );
      const events = storedEvents(asArray(flat, 'the log'), true).sort((a, b) => a.seq - b.seq);
      return { events, position: asCount(position, 'a log position') };
    },

    async prune(now, retentionSeconds) {
      assertEpochSeconds(now, 'now');
      assertDurationSeconds(retentionSeconds, 'retention');
      const cutoff = `(${now - retentionSeconds}`;
      const total = { sessions: 0, events: 0 };
      for (;;) {
        const reply = asArray(
          await run(
            scripts.PRUNE,
            [keys.ends, keys.log, keys.logIds, keys.logUntil],
            [cutoff, String(now), String(PRUNE_BATCH)],
          ),
          'a prune',
        );
        const [sessions, events, sessionsSeen, eventsSeen] = reply.map((n) =>
          asCount(n, 'a count'),
        );
        total.sessions += sessions ?? 0;
        total.events += events ?? 0;
        if ((sessionsSeen ?? 0) < PRUNE_BATCH && (eventsSeen ?? 0) < PRUNE_BATCH) return total;
      }
    },

    // Scripts are cached by the server, and the client is the application's: nothing to release.
    async close() {},
  };
}
