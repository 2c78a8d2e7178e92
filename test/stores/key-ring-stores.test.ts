import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { isRevocableError } from '../../src/errors/index.js';
import { createMemoryKeyRingStore } from '../../src/stores/index.js';
import {
  createPostgresKeyRingStore,
  migratePostgresKeyRingStore,
  migratePostgresStore,
  POSTGRES_KEY_RING_SCHEMA_VERSION,
} from '../../src/stores/postgres/index.js';
import { createRedisKeyRingStore } from '../../src/stores/redis/index.js';
import {
  createSqliteKeyRingStore,
  createSqliteStore,
  migrateSqliteKeyRingStore,
  SQLITE_KEY_RING_SCHEMA_VERSION,
} from '../../src/stores/sqlite/index.js';
import { DATABASE_URL, REDIS_URL, serviceMissing } from '../support/services.js';
import { describeKeyRingStoreContract } from './key-ring-contract.js';
import { openSqliteDatabase } from './sqlite-support.js';

const directory = mkdtempSync(join(tmpdir(), 'revocable-key-ring-'));
after(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
function freshFile(): string {
  files += 1;
  return join(directory, `ring-${files}.db`);
}

describeKeyRingStoreContract('memory', async () => ({
  async fresh() {
    // Handles share one store, as connections share a database.
    const store = createMemoryKeyRingStore();
    return { store, another: async () => store };
  },
  async teardown() {},
}));

// A file per test; further handles are further connections to it.
describeKeyRingStoreContract('sqlite', async () => {
  const opened: Array<{ close(): void }> = [];
  const open = (path: string) => {
    const database = openSqliteDatabase(path);
    opened.push(database);
    return createSqliteKeyRingStore({ database, tablePrefix: 'test_' });
  };
  return {
    async fresh() {
      const path = freshFile();
      return { store: open(path), another: async () => open(path) };
    },
    async teardown() {
      for (const database of opened) database.close();
    },
  };
});

// PostgreSQL: a random schema per test (the server is shared), a pool per handle.
const pgPools: pg.Pool[] = [];
const pgSchemas: string[] = [];
after(async () => {
  const [first] = pgPools;
  if (first !== undefined) {
    for (const schema of pgSchemas) await first.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
  await Promise.all(pgPools.map((pool) => pool.end()));
});
async function pgPool(): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: DATABASE_URL,
    max: 4,
    connectionTimeoutMillis: 5000,
  });
  pgPools.push(pool);
  await pool.query('SELECT 1');
  return pool;
}

describeKeyRingStoreContract('postgres', async () => {
  try {
    await pgPool();
  } catch (error) {
    return serviceMissing('PostgreSQL', error);
  }
  return {
    async fresh() {
      const schema = `revocable_test_${randomBytes(6).toString('hex')}`;
      pgSchemas.push(schema);
      const pool = await pgPool();
      await migratePostgresKeyRingStore(pool, { schema });
      return {
        store: createPostgresKeyRingStore({ client: pool, schema }),
        another: async () => createPostgresKeyRingStore({ client: await pgPool(), schema }),
      };
    },
    async teardown() {},
  };
});

// Redis: a random prefix per test (the server is shared), a client per handle.
const redisClients: Redis[] = [];
const redisPrefixes: string[] = [];
after(async () => {
  const [first] = redisClients;
  if (first !== undefined && first.status === 'ready') {
    for (const prefix of redisPrefixes) {
      const keys = await first.keys(`${prefix}*`);
      if (keys.length > 0) await first.unlink(...keys);
    }
  }
  for (const client of redisClients) client.disconnect();
});
async function redisClient(): Promise<Redis> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redisClients.push(client);
  await client.connect();
  return client;
}

describeKeyRingStoreContract('redis', async () => {
  try {
    await redisClient();
  } catch (error) {
    return serviceMissing('Redis', error);
  }
  return {
    async fresh() {
      const prefix = `revocable-test:${randomBytes(6).toString('hex')}:`;
      redisPrefixes.push(prefix);
      return {
        store: createRedisKeyRingStore({ client: await redisClient(), prefix }),
        another: async () => createRedisKeyRingStore({ client: await redisClient(), prefix }),
      };
    },
    async teardown() {},
  };
});

describe('key ring store migrations', () => {
  it('sqlite: its own versioned table beside the session store, idempotent', () => {
    const database = openSqliteDatabase(freshFile());
    try {
      createSqliteStore({ database, tablePrefix: 'app_' });
      assert.equal(migrateSqliteKeyRingStore(database, { tablePrefix: 'app_' }), 1);
      assert.equal(migrateSqliteKeyRingStore(database, { tablePrefix: 'app_' }), 1);
      assert.equal(SQLITE_KEY_RING_SCHEMA_VERSION, 1);
      const tables = database
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'app_%' ORDER BY name",
        )
        .all()
        .map((row) => row.name);
      assert.deepEqual(tables, [
        'app_key_ring',
        'app_key_ring_schema',
        'app_log',
        'app_schema',
        'app_sessions',
        'app_subjects',
      ]);
      database.prepare('UPDATE app_key_ring_schema SET version = 99').run();
      assert.throws(
        () => createSqliteKeyRingStore({ database, tablePrefix: 'app_' }),
        (error: unknown) => isRevocableError(error, 'ERR_STORE_SCHEMA'),
      );
      assert.throws(
        () => createSqliteKeyRingStore({ database, tablePrefix: 'bad-prefix' }),
        (error: unknown) => isRevocableError(error, 'ERR_INVALID_ARGUMENT'),
      );
    } finally {
      database.close();
    }
  });

  it('postgres: explicit, beside the session store, idempotent under concurrency; unmigrated is ERR_STORE_SCHEMA', async (t) => {
    let pool: pg.Pool;
    try {
      pool = await pgPool();
    } catch (error) {
      return t.skip(serviceMissing('PostgreSQL', error));
    }
    const schema = `revocable_test_${randomBytes(6).toString('hex')}`;
    pgSchemas.push(schema);
    const unmigrated = createPostgresKeyRingStore({ client: pool, schema });
    await assert.rejects(unmigrated.load(), (error: unknown) =>
      isRevocableError(error, 'ERR_STORE_SCHEMA'),
    );
    await migratePostgresStore(pool, { schema });
    const versions = await Promise.all(
      Array.from({ length: 4 }, () => migratePostgresKeyRingStore(pool, { schema })),
    );
    assert.deepEqual(versions, [1, 1, 1, 1]);
    assert.equal(POSTGRES_KEY_RING_SCHEMA_VERSION, 1);
    const { rows } = await pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE '%key_ring%' ORDER BY 1`,
      [schema],
    );
    assert.deepEqual(
      rows.map((row) => row.table_name),
      ['revocable_key_ring', 'revocable_key_ring_version'],
    );
    assert.equal(await unmigrated.revision(), 0);
  });

  it('redis: refuses a client with a keyPrefix (the prefix is an option of the store)', () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true, keyPrefix: 'x:' });
    try {
      assert.throws(
        () => createRedisKeyRingStore({ client }),
        (error: unknown) => isRevocableError(error, 'ERR_INVALID_ARGUMENT'),
      );
    } finally {
      client.disconnect();
    }
  });
});
