import type { Cluster, Redis } from 'ioredis';
import { RevocableError } from '../../errors/revocable-error.js';
import type { RedisClient } from './lua-script.js';

// The one policy under which Redis never drops a key to make room: when memory is full, writes
// fail (a login or a logout fails loudly) and nothing already written disappears.
const SAFE_POLICY = 'noeviction';

/** The warning's type, so that an application can tell it apart in a `process.on('warning')`. */
export const EVICTION_WARNING = 'RevocableRedisWarning';

function isReplyError(error: unknown): boolean {
  // ioredis reports an error reply of the server (unknown command, NOPERM) as a ReplyError; any
  // other failure (a lost connection) is not the server's answer to the question.
  return error instanceof Error && error.name === 'ReplyError';
}

// CONFIG GET answers (name, value) pairs over RESP2, and a map over RESP3, which ioredis may hand
// over as an object or a Map.
function policyOf(reply: unknown): string | null {
  let value: unknown;
  if (Array.isArray(reply)) value = reply[1];
  else if (reply instanceof Map) value = reply.get('maxmemory-policy');
  else if (typeof reply === 'object' && reply !== null) {
    value = (reply as Record<string, unknown>)['maxmemory-policy'];
  }
  return typeof value === 'string' && value.length > 0 ? value.toLowerCase() : null;
}

function nodesOf(client: RedisClient): Redis[] {
  if ((client as { isCluster?: unknown }).isCluster !== true) return [client as Redis];
  const cluster = client as Cluster;
  // Every primary holds slots, and the one holding the store's slot may change with a
  // resharding: check them all. Before the cluster client has loaded its slots it knows no node
  // yet; then one node chosen by the client answers for the cluster.
  const primaries = typeof cluster.nodes === 'function' ? cluster.nodes('master') : [];
  return primaries.length > 0 ? primaries : [client as unknown as Redis];
}

function unsafe(policy: string): RevocableError {
  return new RevocableError(
    'ERR_STORE_UNSAFE',
    `Redis runs with maxmemory-policy ${policy}: when memory runs out it may delete keys of the ` +
      'store (a subject generation, the epoch of a revokeAll, a session index, revocation events), ' +
      'which would revive revoked sessions or hide sessions from a logout of every device. Set ' +
      `maxmemory-policy ${SAFE_POLICY} (or give revocable a Redis of its own), or pass ` +
      'acceptEvictionRisk: true to run anyway.',
  );
}

/**
 * Asks Redis for its eviction policy and refuses (`ERR_STORE_UNSAFE`) any but `noeviction` unless
 * `acceptRisk`: under `allkeys-*` Redis may drop any key, under `volatile-*` any key with a TTL,
 * and the store's keys with a TTL include each subject's session index, whose loss would let a
 * logout of every device miss a session. When the server will not say (CONFIG is disabled or
 * renamed on most managed services), warns through `process.emitWarning` and goes on: the
 * operator must then check the policy by other means.
 *
 * @example
 * ```ts
 * await checkEvictionPolicy(client, false); // throws under allkeys-lru
 * ```
 */
export async function checkEvictionPolicy(client: RedisClient, acceptRisk: boolean): Promise<void> {
  for (const node of nodesOf(client)) {
    let policy: string | null;
    try {
      policy = policyOf(await node.config('GET', 'maxmemory-policy'));
    } catch (error) {
      if (!isReplyError(error)) throw error;
      policy = null;
    }
    if (policy === SAFE_POLICY || acceptRisk) continue;
    if (policy !== null) throw unsafe(policy);
    process.emitWarning(
      'revocable could not read the Redis maxmemory-policy (CONFIG GET is refused here). Make ' +
        `sure it is ${SAFE_POLICY}: an eviction policy may delete keys of the store and revive ` +
        'revoked sessions.',
      { type: EVICTION_WARNING, code: 'REVOCABLE_REDIS_EVICTION_UNCHECKED' },
    );
    return;
  }
}
