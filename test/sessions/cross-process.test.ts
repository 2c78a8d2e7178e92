import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { KeyRing } from '../../src/jwt/index.js';
import { createRevocationIndex } from '../../src/revocation/index.js';
import { createSessionManager } from '../../src/sessions/index.js';
import { createPostgresStore, migratePostgresStore } from '../../src/stores/postgres/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import type { Store } from '../../src/stores/types.js';
import { runRaceWorkers } from '../stores/race.js';
import { DATABASE_URL, REDIS_URL, serviceMissing } from '../support/services.js';

const SECRET = randomBytes(32).toString('base64url');
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function postgres(): Promise<{ store: Store; namespace: string } | string> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL });
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end();
    return serviceMissing('PostgreSQL', error);
  }
  const schema = `revocable_test_${randomBytes(6).toString('hex')}`;
  await migratePostgresStore(pool, { schema });
  cleanups.push(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });
  return { store: createPostgresStore({ client: pool, schema }), namespace: schema };
}

async function redis(): Promise<{ store: Store; namespace: string } | string> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    return serviceMissing('Redis', error);
  }
  const prefix = `revocable-test:${randomBytes(6).toString('hex')}:`;
  cleanups.push(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.unlink(...keys);
    client.disconnect();
  });
  return { store: createRedisStore({ client, prefix }), namespace: prefix };
}

describe('one refresh token refreshed by two processes at once', () => {
  for (const [kind, open, url] of [
    ['postgres', postgres, DATABASE_URL],
    ['redis', redis, REDIS_URL],
  ] as const) {
    it(`${kind}: 50 concurrent refreshes from two processes get one successor, no theft detected`, async (t) => {
      const opened = await open();
      if (typeof opened === 'string') return t.skip(opened);
      const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
      const manager = createSessionManager({
        store: opened.store,
        keys: KeyRing.generate('HS256'),
        index,
        issuer: 'https://auth.test',
        audience: 'api',
        refreshSecret: SECRET,
      });
      const pair = await manager.login(`user-${randomBytes(4).toString('hex')}`);
      const outcomes = await runRaceWorkers('../sessions/refresh-race-worker.js', [
        kind,
        url,
        opened.namespace,
        SECRET,
        pair.refreshToken,
      ]);
      assert.equal(outcomes.length, 50);
      assert.equal(new Set(outcomes).size, 1, `outcomes: ${[...new Set(outcomes)].join(', ')}`);
      assert.match(outcomes[0]!, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      const session = await opened.store.getSession(pair.sid);
      assert.equal(session?.revokedAt, null);
      const next = await manager.refresh(outcomes[0]!);
      assert.equal(next.sid, pair.sid);
    });
  }
});
