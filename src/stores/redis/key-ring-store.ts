import { RevocableError } from '../../errors/revocable-error.js';
import { assertKeyRingSave, revisionOf } from '../internal/key-ring-input.js';
import { assertBoolean } from '../internal/validate.js';
import type { KeyRingStore } from '../key-ring-store.js';
import { checkEvictionPolicy } from './eviction.js';
import { resolvePrefix } from './keys.js';
import { createScriptRunner, LuaScript, type RedisClient } from './lua-script.js';
import { checkRedisClient, isClusterClient } from './migrate.js';

/** Options for {@link createRedisKeyRingStore}. */
export interface RedisKeyRingStoreOptions {
  /** An ioredis `Redis` or `Cluster` the application created, without `keyPrefix`; never quit. */
  client: RedisClient;
  /** The key prefix (default `revocable:`, or `{revocable}:` on a Cluster), as for the store. */
  prefix?: string;
  /** As for `createRedisStore`: run even under an eviction policy that may drop the key. */
  acceptEvictionRisk?: boolean;
}

// The name after the prefix. No name of the session store starts with 'keyring', and its
// session and subject keys carry their own namespace first, so none can collide with it.
const KEY_RING_KEY = 'keyring';

// Compare-and-set in one script, which Redis runs alone: the stored revision (absent: 0) must be
// the expected one, and the write moves it on by one.
const SAVE = new LuaScript(
  'keyRingSave',
  `local current = tonumber(redis.call('HGET', KEYS[1], 'revision') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'revision', current + 1, 'sealed', ARGV[2])
return 1`,
);

/**
 * A key ring store in Redis (ioredis 6): one hash, `<prefix>keyring`, with `revision` and
 * `sealed`. A save is one Lua script, so its compare-and-set is atomic. Like the session store,
 * it refuses (`ERR_STORE_UNSAFE`) a server whose eviction policy could drop the key, unless
 * `acceptEvictionRisk`: a ring that vanished would be created afresh, ending every session's
 * access tokens and forgetting which keys were retired.
 *
 * @example
 * ```ts
 * import { createRedisKeyRingStore } from 'revocable/redis';
 * const keyRingStore = createRedisKeyRingStore({ client: redis, prefix: 'app:' });
 * ```
 */
export function createRedisKeyRingStore(options: RedisKeyRingStoreOptions): KeyRingStore {
  const client = options?.client;
  checkRedisClient(client);
  const prefix = resolvePrefix(options.prefix, isClusterClient(client));
  const acceptRisk = options.acceptEvictionRisk ?? false;
  assertBoolean(acceptRisk, 'acceptEvictionRisk');
  const key = prefix + KEY_RING_KEY;
  // The script raises none of the session store's layout errors; the runner is only its
  // EVALSHA-with-fallback.
  const run = createScriptRunner(client, 'keyring');
  let checked: Promise<void> | null = null;
  const ready = (): Promise<void> => {
    checked ??= checkEvictionPolicy(client, acceptRisk).catch((error: unknown) => {
      checked = null;
      throw error;
    });
    return checked;
  };

  return {
    async load() {
      await ready();
      const [revision, sealed] = await client.hmget(key, 'revision', 'sealed');
      if (revision === null || revision === undefined) return null;
      if (typeof sealed !== 'string') {
        throw new RevocableError(
          'ERR_STORE_SCHEMA',
          `${key} has a revision and no sealed ring: it was not written by revocable.`,
        );
      }
      return { revision: revisionOf(revision), sealed };
    },
    async revision() {
      await ready();
      const revision = await client.hget(key, 'revision');
      return revision === null ? 0 : revisionOf(revision);
    },
    async save(expectedRevision, sealed) {
      assertKeyRingSave(expectedRevision, sealed);
      await ready();
      const reply = await run(SAVE, [key], [String(expectedRevision), sealed]);
      return reply === 1;
    },
  };
}
