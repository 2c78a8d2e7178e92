import { invalidArgument } from '../internal/validate.js';
import { redisKeys, resolvePrefix } from './keys.js';
import { createScriptRunner, type RedisClient } from './lua-script.js';
import { asString } from './records.js';
import { MIGRATE } from './scripts.js';

/**
 * The version of the key layout this code reads and writes, stamped in `<prefix>layout`. Redis
 * has no schema to create: the version is there so that a store never misreads keys a newer
 * revocable wrote under the same prefix, and so that a future layout can be migrated to.
 *
 * @example
 * ```ts
 * if ((await redis.get('revocable:layout')) !== String(REDIS_LAYOUT_VERSION)) alert();
 * ```
 */
export const REDIS_LAYOUT_VERSION = 1;

/** Options for {@link migrateRedisStore}: the same client and prefix as the store's. */
export interface MigrateRedisStoreOptions {
  /** An ioredis `Redis` or `Cluster` the application created; never quit by revocable. */
  client: RedisClient;
  /** The store's key prefix (default `revocable:`, or `{revocable}:` on a Cluster). */
  prefix?: string;
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
 * Stamps the key layout version under the prefix, or checks it, and returns it: idempotent, one
 * round trip. Refuses (`ERR_STORE_SCHEMA`) keys of a layout newer than this code knows.
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
 * await migrateRedisStore({ client, prefix: 'app:revocable:' }); // 1
 * ```
 */
export async function migrateRedisStore(options: MigrateRedisStoreOptions): Promise<number> {
  const client = options?.client;
  checkRedisClient(client);
  const prefix = resolvePrefix(options.prefix, isClusterClient(client));
  const run = createScriptRunner(client, String(REDIS_LAYOUT_VERSION));
  const keys = redisKeys(prefix);
  const reply = await run(MIGRATE, [keys.layout], [String(REDIS_LAYOUT_VERSION), prefix, '0']);
  return Number(asString(reply, 'the layout version'));
}
