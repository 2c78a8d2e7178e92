import { storeUnavailable } from '../internal/driver-errors.js';
import { assertBoolean, invalidArgument } from '../internal/validate.js';
import { checkEvictionPolicy } from './eviction.js';
import { redisKeys, resolvePrefix } from './keys.js';
import { createScriptRunner, type RedisClient } from './lua-script.js';
import { asString } from './records.js';
import { MIGRATE } from './scripts.js';

/**
 * The version of the key layout this code reads and writes, stamped in `<prefix>layout`. Redis
 * has no schema to create: the version is there so that a store never misreads keys a newer
 * revocable wrote under the same prefix, and so that a future layout can be migrated to.
 *
 * Layout 2 added epochs (for `revokeAll`). Keys of layout 1 read as layout 2 unchanged (their
 * sessions belong to epoch 0), so the migration only restamps the version, in the first write of
 * this revocable or in {@link migrateRedisStore}. From then on, a process of an older revocable
 * under the same prefix fails with `ERR_STORE_SCHEMA` instead of ignoring a `revokeAll`: upgrade
 * every process before (or right after) the first one.
 *
 * @example
 * ```ts
 * if ((await redis.get('revocable:layout')) !== String(REDIS_LAYOUT_VERSION)) alert();
 * ```
 */
export const REDIS_LAYOUT_VERSION = 2;

/** Options for {@link migrateRedisStore}: the same client and prefix as the store's. */
export interface MigrateRedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` the application created; never quit by revocable. */
  client: RedisClient;
  /** The store's key prefix (default `revocable:`, or `{revocable}:` on a Cluster). */
  prefix?: string;
  /** As for {@link createRedisStore}: run even under an eviction policy that may drop keys. */
  acceptEvictionRisk?: boolean;
}

/** Whether `client` is a Redis Cluster client (ioredis marks both kinds with `isCluster`). */
export function isClusterClient(client: RedisClient): boolean {
  return (client as { isCluster?: unknown }).isCluster === true;
}

/**
 * Refuses what is not an ioredis client, and a client with a `keyPrefix` option: ioredis prefixes
 * the keys a command names, but not the keys a script builds from what it reads (a subject's
 * sessions, the subject of a session), so the two would no longer meet. Give the store the prefix
 * instead.
 */
export function checkRedisClient(client: unknown): asserts client is RedisClient {
  const candidate = client as { eval?: unknown; evalsha?: unknown } | null | undefined;
  if (typeof candidate?.evalsha !== 'function' || typeof candidate.eval !== 'function') {
    throw invalidArgument('client must be an ioredis Redis or Cluster client.');
  }
  const keyPrefix = (client as { options?: { keyPrefix?: unknown } }).options?.keyPrefix;
  if (keyPrefix !== undefined && keyPrefix !== '') {
    throw invalidArgument(
      "client must have no keyPrefix option: pass the prefix as the store's prefix option.",
    );
  }
}

/**
 * Checks the server's eviction policy (as {@link createRedisStore} does before its first call:
 * `ERR_STORE_UNSAFE` under any policy but `noeviction`, unless `acceptEvictionRisk`), then stamps
 * the key layout version under the prefix, migrating layout 1, or checks it, and returns it:
 * idempotent, two round trips. Refuses (`ERR_STORE_SCHEMA`) keys of a layout newer than this code
 * knows.
 *
 * Calling it is optional: {@link createRedisStore}'s first write stamps a fresh prefix itself and
 * every call of the store checks the version inside its script, at no extra round trip. Call it
 * ahead of time to fail a deploy early rather than at the first request.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { migrateRedisStore } from 'revocable/redis';
 *
 * const client = new Redis(process.env.REDIS_URL);
 * await migrateRedisStore({ client, prefix: 'app:revocable:' }); // 2
 * ```
 */
export async function migrateRedisStore(options: MigrateRedisStoreOptions): Promise<number> {
  const client = options?.client;
  checkRedisClient(client);
  const prefix = resolvePrefix(options.prefix, isClusterClient(client));
  const acceptRisk = options.acceptEvictionRisk ?? false;
  assertBoolean(acceptRisk, 'acceptEvictionRisk');
  try {
    await checkEvictionPolicy(client, acceptRisk);
    const run = createScriptRunner(client, String(REDIS_LAYOUT_VERSION));
    const keys = redisKeys(prefix);
    const reply = await run(
      MIGRATE,
      [keys.layout, keys.epoch],
      [String(REDIS_LAYOUT_VERSION), prefix, '0'],
    );
    return Number(asString(reply, 'the layout version'));
  } catch (error) {
    throw storeUnavailable('Migrating the Redis store', error);
  }
}
