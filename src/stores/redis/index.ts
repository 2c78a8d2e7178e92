/**
 * The Redis store (`revocable/redis`) on ioredis 6: for several processes or machines sharing
 * sessions and the revocation log. This subpath is the only one that needs ioredis: the store only
 * uses the client it is given, and {@link connectRedis} loads ioredis at its first call.
 *
 * It also holds the Redis side of `revocable/sync` ({@link createRedisTransport} for followers,
 * {@link createRedisPublisher} for session managers), so that `revocable/sync` itself names no
 * driver, not even in its types.
 *
 * Migrations: there is no schema; the key layout version is stamped and checked by the store
 * itself. {@link migrateRedisStore} stamps or checks it ahead of time, e.g. in a deploy step.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createRedisStore } from 'revocable/redis';
 * const store = createRedisStore({ client: new Redis(process.env.REDIS_URL) });
 * ```
 * @module
 */

export {
  createRedisPublisher,
  type RedisPublisherOptions,
} from '../../sync/redis-publisher.js';
export { createRedisTransport, type RedisTransportOptions } from '../../sync/redis-transport.js';
export { type ConnectRedisOptions, connectRedis } from './connect.js';
export { createRedisKeyRingStore, type RedisKeyRingStoreOptions } from './key-ring-store.js';
export type { RedisClient } from './lua-script.js';
export {
  type MigrateRedisStoreOptions,
  migrateRedisStore,
  REDIS_LAYOUT_VERSION,
} from './migrate.js';
export { createRedisStore, type RedisStoreOptions } from './redis-store.js';
