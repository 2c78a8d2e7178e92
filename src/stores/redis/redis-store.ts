import { MAX_EVENT_TIME } from '../../revocation/events.js';
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
  claimsJson,
  parseEvents,
} from '../internal/validate.js';
import type { CreateOutcome, RotateOutcome, Store, StoredSession } from '../types.js';
import { checkEvictionPolicy } from './eviction.js';
import { redisKeys, resolvePrefix } from './keys.js';
import * as logScripts from './log-scripts.js';
import { createScriptRunner, type LuaScript } from './lua-script.js';
import { checkRedisClient, isClusterClient, REDIS_LAYOUT_VERSION } from './migrate.js';
import type { RedisStoreOptions } from './options.js';
import {
  asArray,
  asCount,
  asFieldMap,
  asString,
  eventArgs,
  rotationValues,
  sessionFields,
  sessionFromFields,
  storedEvents,
  unreadable,
} from './records.js';
import * as scripts from './scripts.js';

export type { RedisStoreOptions } from './options.js';

const DEFAULT_SESSION_RETENTION = 7 * 86_400;
// The most sessions and events one prune script deletes, so that no script blocks Redis long.
const PRUNE_BATCH = 500;

/**
 * A store in Redis through ioredis (version 6, Redis 6.2 or later): for several processes or
 * machines sharing sessions and the revocation log.
 *
 * Every method is one Lua script: Redis runs it alone, so each method is atomic, and it is one
 * round trip (`getSession` and `rotateRefresh` included; the first call of a store also reads the
 * server's eviction policy, see {@link RedisStoreOptions.acceptEvictionRisk}). The log's positions
 * come from `INCR` inside the appending script, so position order is commit order; a log with no
 * counter yet starts at the server's clock in microseconds, so that a Redis that restarted empty
 * hands out positions past those of the log it lost, which the followers still running hold.
 *
 * `revokeAll` cannot touch every session in one script without blocking Redis for as long as that
 * takes, so it ends an epoch instead: each session records the epoch it was created in, `P epoch`
 * holds the current epoch and the time each ended one ended, and every script that reads, lists,
 * rotates or revokes a session treats one of an ended epoch as revoked at that time.
 *
 * Keys (under the prefix `P`): `P session:<sid>` (hash), `P subject:<sub>` (hash: gen, banned,
 * bannedAt), `P sessions:<sub>` (zset of unrevoked sids by creation), `P ends` and `P ends:<e>`
 * (zsets of the sids of epoch 0 and of epoch e by end time, for prune), `P epoch` (hash),
 * `P log` (zset of event JSON by position), `P log:ids`, `P log:until`, `P log:seq` and `P layout`
 * (the layout version, see {@link migrateRedisStore}). Session keys expire by themselves
 * `sessionRetention` seconds after the session's own end (for one a revokeAll ended, its idle or
 * absolute expiry, unless `prune()` deletes it sooner), and the index entries they leave behind
 * are swept as sessions are created, so Redis stays bounded even if `prune()` never runs. Events
 * stay until `prune()` removes them. Subjects (their generation and ban) and the epoch hash are
 * kept for good: a generation must never go back, nor an ended epoch come back to life. Only
 * session keys and session indexes carry a TTL.
 *
 * Durability is the server's: what Redis loses in a crash (see docs/stores.md) the store loses,
 * revocations included.
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
  const acceptRisk = options.acceptEvictionRisk ?? false;
  assertBoolean(acceptRisk, 'acceptEvictionRisk');
  const keys = redisKeys(prefix);
  const version = String(REDIS_LAYOUT_VERSION);
  // No key needs to outlive the year 3000, so a longer retention changes nothing; capped here, it
  // keeps the scripts' integer arithmetic in range.
  const header = [version, prefix, String(Math.min(retention, MAX_EVENT_TIME))];
  const runner = createScriptRunner(client, version);
  // Checked once, before the first script; a failed check is made again by the next call, so
  // that a server whose policy was fixed is used without a restart.
  let policyChecked: Promise<void> | null = null;
  const checkPolicy = (): Promise<void> => {
    policyChecked ??= checkEvictionPolicy(client, acceptRisk).catch((error: unknown) => {
      policyChecked = null;
      throw error;
    });
    return policyChecked;
  };
  // The one place where driver errors become revocable's: a Redis that is down, a connection lost
  // mid-call, a command refused (OOM under noeviction, NOPERM) arrive as ERR_STORE_UNAVAILABLE with
  // ioredis's error as cause; the runner's own errors (layout, conflict) pass unchanged.
  const run = async (script: LuaScript, scriptKeys: readonly string[], args: readonly string[]) => {
    try {
      await checkPolicy();
      return await runner(script, [keys.layout, keys.epoch, ...scriptKeys], [...header, ...args]);
    } catch (error) {
      throw storeUnavailable('The Redis store', error);
    }
  };
  const logKeys = [keys.log, keys.logIds, keys.logUntil, keys.logSeq];

  return {
    persistent: true,

    async createSession(session, expectedGen): Promise<CreateOutcome> {
      assertSessionRecord(session);
      assertGeneration(expectedGen, 'expectedGen');
      const claims = claimsJson(session.claims);
      const ended = Math.min(
        session.idleExpiresAt,
        session.absoluteExpiresAt,
        session.revokedAt ?? Number.POSITIVE_INFINITY,
      );
      const reply = asArray(
        await run(
          scripts.CREATE_SESSION,
          [keys.session(session.sid), keys.subject(session.sub), keys.subjectSessions(session.sub)],
          [
            session.sid,
            session.sub,
            session.refreshHash,
            String(session.createdAt),
            String(ended),
            session.revokedAt === null ? '1' : '0',
            String(expectedGen),
            ...sessionFields(session, claims),
          ],
        ),
        'a creation',
      );
      if (reply[0] === 'created') return { created: true, gen: asCount(reply[1], 'a generation') };
      if (reply[0] === 'banned' || reply[0] === 'changed' || reply[0] === 'exists')
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

    async rotateRefresh(sid, expectedHash, expectedGen, next): Promise<RotateOutcome> {
      assertSid(sid);
      assertHash(expectedHash, 'expectedHash');
      assertGeneration(expectedGen, 'expectedGen');
      assertRefreshRotation(next);
      const reply = asArray(
        await run(
          scripts.ROTATE_REFRESH,
          [keys.session(sid)],
          [sid, expectedHash, String(expectedGen), ...rotationValues(next)],
        ),
        'a rotation',
      );
      const status = reply[0];
      if (status === 'rotated') return { status, gen: asCount(reply[1], 'a generation') };
      if (
        status === 'stale' ||
        status === 'changed' ||
        status === 'revoked' ||
        status === 'banned' ||
        status === 'missing'
      )
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
        [...logKeys, ...list.map((sid) => keys.session(sid))],
        [
          String(at),
          reason,
          String(list.length),
          ...list,
          String(parsed.length),
          ...listedSessionOf(parsed, list).map((owner) => owner ?? ''),
          ...eventArgs(parsed),
        ],
      );
      return asArray(reply, 'the revoked sessions').map((sid) => asString(sid, 'a sid'));
    },

    async revokeAll(at, events) {
      assertEpochSeconds(at, 'at');
      const parsed = parseEvents(events);
      await run(scripts.REVOKE_ALL, logKeys, [String(at), ...eventArgs(parsed)]);
    },

    async getSubject(sub) {
      assertSub(sub);
      const [gen, banned] = asArray(
        await run(scripts.GET_SUBJECT, [keys.subject(sub)], []),
        'a subject',
      );
      return { gen: asCount(gen, 'a generation'), banned: banned === '1' };
    },

    async bumpGeneration(sub, claims) {
      assertSub(sub);
      const args = claims === undefined ? ['0'] : ['1', claimsJson(claims)];
      const reply = await run(
        scripts.BUMP_GENERATION,
        [keys.subject(sub), keys.subjectSessions(sub)],
        args,
      );
      return asCount(reply, 'a generation');
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
      await run(logScripts.APPEND_EVENTS, logKeys, eventArgs(parsed));
    },

    async readEvents(after, limit) {
      assertPosition(after);
      assertLimit(limit);
      const reply = await run(logScripts.READ_EVENTS, [keys.log], [`(${after}`, String(limit)]);
      return storedEvents(asArray(reply, 'the log'), false);
    },

    async liveEvents(horizon) {
      assertEpochSeconds(horizon, 'horizon');
      const [position, flat] = asArray(
        await run(logScripts.LIVE_EVENTS, logKeys, [`(${horizon}`]),
        'the log',
      );
      const events = storedEvents(asArray(flat, 'the log'), true).sort((a, b) => a.seq - b.seq);
      return { events, position: asCount(position, 'a log position') };
    },

    async prune(horizon, retentionSeconds) {
      assertEpochSeconds(horizon, 'horizon');
      assertDurationSeconds(retentionSeconds, 'retention');
      const cutoff = String(horizon - retentionSeconds);
      const total = { sessions: 0, events: 0 };
      for (;;) {
        const reply = asArray(
          await run(
            logScripts.PRUNE,
            [keys.log, keys.logIds, keys.logUntil],
            [cutoff, String(horizon), String(PRUNE_BATCH)],
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
