import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import {
  createPostgresUserStore,
  migratePostgresLoginThrottle,
  migratePostgresUserStore,
  POSTGRES_USERS_SCHEMA_VERSION,
} from '../../../src/server/users/index.js';
import { migratePostgresStore } from '../../../src/stores/postgres/index.js';
import { DATABASE_URL, skipIfMissing } from '../../support/services.js';
import { expectCode, openPostgres, randomName } from './support.js';
import { describeUserStoreContract, makeUser } from './user-store-contract.js';

const postgres = await openPostgres();
const { pool, missing } = postgres;
after(() => postgres.cleanup());

describeUserStoreContract('postgres (two pools on one schema)', async () => {
  if (missing !== null) return null;
  const schema = postgres.newSchema();
  await migratePostgresUserStore(pool, { schema });
  const second = new pg.Pool({ connectionString: DATABASE_URL, max: 5 });
  return {
    stores: [
      createPostgresUserStore({ client: pool, schema }),
      createPostgresUserStore({ client: second, schema }),
    ],
    teardown: () => second.end(),
  };
});

describe('postgres user store', () => {
  it('migrates in a schema of its own by default name, idempotently', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const schema = postgres.newSchema();
    assert.equal(await migratePostgresUserStore(pool, { schema }), POSTGRES_USERS_SCHEMA_VERSION);
    assert.equal(await migratePostgresUserStore(pool, { schema }), POSTGRES_USERS_SCHEMA_VERSION);
    const { rows } = await pool.query(
      `SELECT component, version FROM "${schema}".revocable_server_schema`,
    );
    assert.deepEqual(rows, [{ component: 'users', version: POSTGRES_USERS_SCHEMA_VERSION }]);
  });

  it('migrations of several processes at once, with the store and the throttle, all succeed', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const schema = postgres.newSchema();
    const pools = Array.from(
      { length: 4 },
      () => new pg.Pool({ connectionString: DATABASE_URL, max: 2 }),
    );
    try {
      const results = await Promise.all(
        pools.flatMap((each) => [
          migratePostgresUserStore(each, { schema }),
          migratePostgresLoginThrottle(each, { schema }),
          migratePostgresStore(each, { schema }),
        ]),
      );
      assert.ok(results.every((version) => version >= 1));
      const { rows } = await pool.query(
        `SELECT component FROM "${schema}".revocable_server_schema ORDER BY component`,
      );
      assert.deepEqual(
        rows.map((row: { component: string }) => row.component),
        ['login_throttle', 'users'],
      );
    } finally {
      await Promise.all(pools.map((each) => each.end()));
    }
  });

  it('a store over tables never migrated says which migration to run', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const schema = postgres.newSchema();
    const users = createPostgresUserStore({ client: pool, schema });
    await assert.rejects(users.byId('u_x'), (error: unknown) => {
      expectCode('ERR_STORE_SCHEMA')(error);
      assert.match((error as Error).message, /migratePostgresUserStore\(pool, \{ schema: '/);
      return true;
    });
  });

  it('refuses a version newer than it knows, and tables it did not make', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const schema = postgres.newSchema();
    await migratePostgresUserStore(pool, { schema });
    await pool.query(
      `UPDATE "${schema}".revocable_server_schema SET version = 99 WHERE component = 'users'`,
    );
    await assert.rejects(
      migratePostgresUserStore(pool, { schema }),
      expectCode('ERR_STORE_SCHEMA'),
    );
    await pool.query(`CREATE TABLE "${schema}".other_users (x text)`);
    await assert.rejects(
      migratePostgresUserStore(pool, { schema, tablePrefix: 'other_' }),
      expectCode('ERR_STORE_SCHEMA'),
    );
  });

  it('refuses bad names and a single Client', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const invalid = expectCode('ERR_INVALID_ARGUMENT');
    assert.throws(() => createPostgresUserStore({ client: pool, schema: 'Bad-Name' }), invalid);
    assert.throws(() => createPostgresUserStore({ client: pool, schema: 'pg_x' }), invalid);
    assert.throws(() => createPostgresUserStore({ client: pool, tablePrefix: 'a"b' }), invalid);
    const client = new pg.Client({ connectionString: DATABASE_URL });
    assert.throws(() => createPostgresUserStore({ client: client as never }), invalid);
    await assert.rejects(migratePostgresUserStore({} as never), invalid);
  });

  it('close() leaves the pool open; a dead server is ERR_STORE_UNAVAILABLE with the cause', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const schema = postgres.newSchema();
    await migratePostgresUserStore(pool, { schema });
    const users = createPostgresUserStore({ client: pool, schema });
    await users.create(makeUser());
    await users.close();
    assert.equal(await users.count(), 1);
    const nowhere = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      connectionTimeoutMillis: 2000,
    });
    try {
      const dead = createPostgresUserStore({ client: nowhere, schema: randomName('x') });
      await assert.rejects(dead.count(), (error: unknown) => {
        expectCode('ERR_STORE_UNAVAILABLE')(error);
        assert.ok((error as Error).cause instanceof Error);
        return true;
      });
    } finally {
      await nowhere.end();
    }
  });
});
