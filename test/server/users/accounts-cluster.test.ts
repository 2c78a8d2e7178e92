import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import {
  createAccounts,
  createPostgresUserStore,
  createRedisLoginThrottle,
  migratePostgresUserStore,
  verifyPassword,
} from '../../../src/server/users/index.js';
import { connectSharedRedis, prefixesOn } from '../../stores/redis-support.js';
import { DATABASE_URL, skipIfMissing } from '../../support/services.js';
import { expectCode, openPostgres } from './support.js';

// Two "processes" of a cluster: accounts over PostgreSQL users and a Redis throttle, each with
// pools and clients of its own, and the real argon2id hasher.
const postgres = await openPostgres();
const redis = await connectSharedRedis();
const prefixes = prefixesOn(redis.client);
const missing = postgres.missing ?? redis.missing;
const otherPool = new pg.Pool({ connectionString: DATABASE_URL, max: 5 });
after(async () => {
  await otherPool.end();
  await postgres.cleanup();
  if (redis.missing === null) await prefixes.dropAll();
  redis.client.disconnect();
});

async function cluster() {
  const schema = postgres.newSchema();
  const prefix = prefixes.freshPrefix();
  await migratePostgresUserStore(postgres.pool, { schema });
  const node = (pool: pg.Pool) =>
    createAccounts({
      users: createPostgresUserStore({ client: pool, schema }),
      throttle: createRedisLoginThrottle({ client: redis.client, prefix, accountLimit: 3 }),
    });
  return [node(postgres.pool), node(otherPool)] as const;
}

describe('accounts on PostgreSQL and Redis, with argon2id', () => {
  it('registers on one node, logs in on the other, and throttles as one', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const [one, two] = await cluster();
    const alice = await one.register('Alice', 'correct horse battery staple', ['support']);
    assert.equal(await verifyPassword(alice.passwordHash, 'correct horse battery staple'), true);
    assert.deepEqual(
      await two.authenticate('alice', 'correct horse battery staple', '192.0.2.1'),
      alice,
    );
    await assert.rejects(
      two.register('ALICE', 'another password'),
      expectCode('ERR_USERNAME_TAKEN'),
    );
    const failed = expectCode('ERR_LOGIN_FAILED');
    await assert.rejects(one.authenticate('alice', 'wrong password', '192.0.2.1'), failed);
    await assert.rejects(two.authenticate('alice', 'wrong password', '192.0.2.2'), failed);
    await assert.rejects(one.authenticate('nobody', 'wrong password', '192.0.2.3'), failed);
    await assert.rejects(two.authenticate('alice', 'wrong password', '192.0.2.4'), failed);
    await assert.rejects(
      one.authenticate('alice', 'correct horse battery staple', '192.0.2.5'),
      (error: unknown) => {
        expectCode('ERR_LOGIN_THROTTLED')(error);
        const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
        assert.ok(typeof retryAfter === 'number' && retryAfter > 800 && retryAfter <= 900);
        return true;
      },
    );
  });

  it('ensureAdmin on two nodes at once creates one administrator', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const [one, two] = await cluster();
    const results = await Promise.all([
      one.ensureAdmin('root', 'operator password'),
      two.ensureAdmin('root', 'operator password'),
      one.ensureAdmin('Root', 'operator password'),
      two.ensureAdmin('ROOT', 'operator password'),
    ]);
    assert.equal(results.filter((result) => result.created).length, 1);
    assert.equal(new Set(results.map((result) => result.user.id)).size, 1);
    assert.ok(results.every((result) => result.user.roles.includes('admin')));
    const { user } = await two.ensureAdmin('root', 'a changed password');
    assert.ok(await one.authenticate('root', 'a changed password', '192.0.2.1'));
    assert.equal(user.username.toLowerCase(), 'root');
  });
});
