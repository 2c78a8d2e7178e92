// The eviction-policy check, against redis-server processes of this file's own (the shared server's
// configuration is never changed): refused under allkeys-* and volatile-*, accepted on request,
// checked again after a refusal, and a warning where CONFIG is disabled as on managed services.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisStore, migrateRedisStore } from '../../src/stores/redis/index.js';
import { expectCode, makeSession, randomSub, T0 } from './contract.js';
import { type PrivateRedis, startPrivateRedis } from './redis-support.js';

const UNSAFE_POLICIES = [
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
];

/** Collects the warnings the process emits while `body` runs. */
async function warningsDuring(body: () => Promise<void>): Promise<Error[]> {
  const warnings: Error[] = [];
  const listener = (warning: Error) => warnings.push(warning);
  process.on('warning', listener);
  try {
    await body();
    // process.emitWarning delivers on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return warnings;
}

const server = await startPrivateRedis(['--maxmemory', '64mb', '--maxmemory-policy', 'noeviction']);

if (server === null) {
  describe('redis store: eviction policy', () => {
    it('needs a redis-server executable', (t) => t.skip('redis-server cannot be started here'));
  });
} else {
  describe('redis store: eviction policy', () => {
    let client: Redis;
    let admin: Redis;
    before(async () => {
      client = new Redis(server.url, { maxRetriesPerRequest: 1 });
      admin = new Redis(server.url, { maxRetriesPerRequest: 1 });
      await client.ping();
    });
    after(async () => {
      client.disconnect();
      admin.disconnect();
      await server.stop();
    });
    const setPolicy = (policy: string) => admin.config('SET', 'maxmemory-policy', policy);

    it('refuses every policy that may evict keys, before writing anything', async () => {
      for (const policy of UNSAFE_POLICIES) {
        await setPolicy(policy);
        const prefix = `p-${policy}:`;
        const store = createRedisStore({ client, prefix });
        await assert.rejects(
          store.createSession(makeSession(), 0),
          (error: unknown) =>
            expectCode('ERR_STORE_UNSAFE')(error) && String(error).includes(policy),
          policy,
        );
        await assert.rejects(
          migrateRedisStore({ client, prefix }),
          expectCode('ERR_STORE_UNSAFE'),
          policy,
        );
        assert.deepEqual(await admin.keys(`${prefix}*`), [], policy);
      }
    });

    it('runs under them when told to accept the risk, without a warning', async () => {
      await setPolicy('allkeys-lru');
      const warnings = await warningsDuring(async () => {
        const store = createRedisStore({ client, prefix: 'accepted:', acceptEvictionRisk: true });
        const session = makeSession();
        assert.deepEqual(await store.createSession(session, 0), { created: true, gen: 0 });
        assert.equal(
          await migrateRedisStore({ client, prefix: 'accepted:', acceptEvictionRisk: true }),
          2,
        );
      });
      assert.deepEqual(warnings, []);
      assert.throws(
        () => createRedisStore({ client, acceptEvictionRisk: 'yes' as unknown as boolean }),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
    });

    it('checks once under noeviction, and again after a refusal', async () => {
      await setPolicy('volatile-lru');
      const store = createRedisStore({ client, prefix: 'later:' });
      const sub = randomSub();
      await assert.rejects(store.getSubject(sub), expectCode('ERR_STORE_UNSAFE'));
      await setPolicy('noeviction');
      // The operator fixed the server: the same store works, no restart needed.
      assert.deepEqual(await store.getSubject(sub), { gen: 0, banned: false });
      // Once accepted, the policy is not asked again (a later change goes unnoticed: see docs).
      await setPolicy('allkeys-lru');
      assert.equal(await store.bumpGeneration(sub), 1);
      await setPolicy('noeviction');
    });
  });
}

describe('redis store: eviction policy that cannot be read', () => {
  let hidden: PrivateRedis | null = null;
  before(async () => {
    // As on most managed services: CONFIG is renamed away.
    hidden = await startPrivateRedis(['--rename-command', 'CONFIG', '']);
  });
  after(async () => {
    await hidden?.stop();
  });

  it('warns through process.emitWarning and goes on', async (t) => {
    if (hidden === null) return t.skip('redis-server cannot be started here');
    const client = new Redis(hidden.url, { maxRetriesPerRequest: 1 });
    try {
      const store = createRedisStore({ client, prefix: 'hidden:' });
      const warnings = await warningsDuring(async () => {
        await store.setBanned('someone', true, T0);
        assert.deepEqual(await store.getSubject('someone'), { gen: 0, banned: true });
      });
      assert.equal(warnings.length, 1, 'once per store');
      assert.equal(warnings[0]?.name, 'RevocableRedisWarning');
      assert.equal(
        (warnings[0] as Error & { code?: string }).code,
        'REVOCABLE_REDIS_EVICTION_UNCHECKED',
      );
      assert.match(String(warnings[0]?.message), /noeviction/);
    } finally {
      client.disconnect();
    }
  });
});
