/**
 * The Redis store (`revocable/redis`), on ioredis.
 *
 * @example
 * ```ts
 * import { createRedisStore } from 'revocable/redis';
 * ```
 * @module
 */
export { createRedisStore, type RedisStoreOptions } from './redis-store.js';
