import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createPostgresStore, migratePostgresStore } from '../../src/stores/postgres/index.js';
import { describeSessionSuite } from '../sessions/session-suite.js';
import { DATABASE_URL, serviceMissing } from '../support/services.js';
import { describeStoreContract, makeRotation, makeSession } from './contract.js';

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
let missing: string | null = null;
try {
  await pool.query('SELECT 1');
} catch (error) {
  missing = serviceMissing('PostgreSQL', error);
}
const schemas: string[] = [];
after(async () => {
  if (missing === null)
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await pool.end();
});

async function freshStore(options: { client?: pg.Pool } = {}) {
  const schema = `revocable_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  const client = options.client ?? pool;
  await migratePostgresStore({ client, schema });
  return createPostgresStore({ client, schema });
}

if (missing !== null) {
  describe('postgres store', () => {
    it('needs PostgreSQL', (t) => t.skip(missing ?? ''));
  });
} else {
  describeStoreContract('postgres', async () => ({
    store: await freshStore(),
    teardown: async () => {},
  }));
  describeSessionSuite('the postgres store', async () => ({
    store: await freshStore(),
    teardown: async () => {},
  }));

  describe('postgres store specifics', () => {
    let schema: string;
    before(() => {
      schema = `revocable_test_${randomBytes(6).toString('hex')}`;
      schemas.push(schema);
    });

    it('migrations are idempotent and safe when several run at once', async () => {
      const versions = await Promise.all(
        [1, 2, 3].map(() => migratePostgresStore({ client: pool, schema })),
      );
      assert.deepEqual(versions, [1, 1, 1]);
      const { rows } = await pool.query(`SELECT version FROM "${schema}".revocable_schema`);
      assert.deepEqual(rows, [{ version: 1 }]);
    });

    it('reads a session in one round trip and rotates in one round trip', async () => {
      let queries = 0;
      const counting = new Proxy(pool, {
        get(target, property, receiver) {
          if (property === 'query') {
            return (...args: Parameters<pg.Pool['query']>) => {
              queries += 1;
              return (target.query as (...a: unknown[]) => unknown).apply(target, args);
            };
          }
          const value = Reflect.get(target, property, receiver) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }) as pg.Pool;
      const store = await freshStore({ client: counting });
      const session = makeSession();
      await store.createSession(session);
      queries = 0;
      await store.getSession(session.sid);
      assert.equal(queries, 1);
      queries = 0;
      assert.equal(
        (await store.rotateRefresh(session.sid, session.refreshHash, makeRotation(session))).status,
        'rotated',
      );
      assert.equal(queries, 1);
    });

    it('lets exactly one of two processes rotate the same refresh token', async () => {
      const store = await freshStore();
      const session = makeSession();
      await store.createSession(session);
      const { runRaceWorkers } = await import('./race.js');
      const outcomes = await runRaceWorkers('postgres-race-worker.js', [
        DATABASE_URL,
        schemas.at(-1)!,
        session.sid,
        session.refreshHash,
      ]);
      assert.equal(outcomes.length, 50);
      assert.equal(outcomes.filter((status) => status === 'rotated').length, 1);
      assert.ok(outcomes.every((status) => status === 'rotated' || status === 'stale'));
    });

    it('does not end the pool it was given', async () => {
      const store = await freshStore();
      await store.close();
      await pool.query('SELECT 1');
    });
  });
}
