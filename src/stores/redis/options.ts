import type { RedisClient } from './lua-script.js';

/** Options for `createRedisStore`. */
export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` (standalone or Sentinel) or `Cluster` the application created, without a
   * `keyPrefix` option. The store never quits it.
   */
  client: RedisClient;
  /**
   * What every key of the store starts with (default `revocable:`; `{revocable}:` on a Cluster).
   * On a Cluster it must contain a hash tag (`{...}`): the whole store then lives in one slot, see
   * `createRedisStore`.
   */
  prefix?: string;
  /**
   * How long, in seconds, a session's keys outlive the session's end (its idle or absolute
   * expiry, or its revocation) before Redis deletes them by itself. Default 7 days. `prune()`
   * deletes ended sessions sooner if asked to. Redis reads session times against its own clock,
   * so a session written as having ended longer ago than this is deleted at once.
   */
  sessionRetention?: number;
  /**
   * Run even when Redis may evict keys of the store (a `maxmemory-policy` other than
   * `noeviction`). Default false: before its first call the store reads the policy and refuses
   * with `ERR_STORE_UNSAFE`, since an evicted subject generation, revokeAll epoch, session index
   * or revocation event can revive what was revoked. Set it only for a Redis that never reaches
   * its `maxmemory` (or has none), and watch that it stays so.
   */
  acceptEvictionRisk?: boolean;
}
