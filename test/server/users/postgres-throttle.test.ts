import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import {
  createPostgresLoginThrottle,
  migratePostgresLoginThrottle,
} from '../../../src/server/users/index.js';
import { DATABASE_URL, skipIfMissing } from '../../support/services.js';
import { expectCode, openPostgres, randomName, testClock } from './support.js';
import { describeThrottleContract } from './throttle-contract.js';

const postgres = await openPostgres();
const { pool, missing } = postgres;
const schema = postgres.newSchema();
// A second pool, so that the two throttles of the sharing test go through other connections.
const second = new pg.Pool({ connectionString: DATABASE_URL, max: 5 });
after(async () => {
  await second.end();
  await postgres.cleanup();
});

describeThrottleContract('postgres', async () => {
  if (missing !== null) return null;
  const tablePrefix = `${randomName('t')}_`;
  await migratePostgresLoginThrottle(pool, { schema, tablePrefix });
  const clock = testClock();
  let made = 0;
  return {
    create: (options = {}) => {
      made += 1;
      const client = made % 2 === 0 ? second : pool;
      return createPostgresLoginThrottle({
        ...options,
        client,
        schema,
        tablePrefix,
        now: clock.now,
      });
    },
    elapse: async (seconds) => {
      clock.t += seconds;
    },
    exact: true,
    shortWindow: 60,
    shared: true,
    teardown: async () => {
      await pool.query(`DROP TABLE "${schema}"."${tablePrefix}login_throttle"`);
    },
  };
});

describe('postgres login throttle', () => {
  it('sweeps ended windows as it counts, so the table stays about one window big', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const tablePrefix = `${randomName('s')}_`;
    await migratePostgresLoginThrottle(pool, { schema, tablePrefix });
    const clock = testClock();
    const throttle = createPostgresLoginThrottle({
      client: pool,
      schema,
      tablePrefix,
      window: 60,
      now: clock.now,
    });
    for (let i = 0; i < 150; i++) await throttle.failed(`old${i}`);
    clock.t += 61;
    for (let i = 0; i < 50; i++) await throttle.failed(`new${i}`);
    const { rows } = await pool.query(
      `SELECT count(*)::integer AS n FROM "${schema}"."${tablePrefix}login_throttle"`,
    );
    assert.equal(rows[0].n, 50);
  });

  it('over a table never migrated says which migration to run', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const throttle = createPostgresLoginThrottle({ client: pool, schema: randomName('none') });
    await assert.rejects(throttle.blockedFor('a', '192.0.2.1'), (error: unknown) => {
      expectCode('ERR_STORE_SCHEMA')(error);
      assert.match((error as Error).message, /migratePostgresLoginThrottle/);
      return true;
    });
  });

  it('a dead server is ERR_STORE_UNAVAILABLE', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const nowhere = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      connectionTimeoutMillis: 2000,
    });
    try {
      const throttle = createPostgresLoginThrottle({ client: nowhere });
      await assert.rejects(throttle.failed('a', '192.0.2.1'), expectCode('ERR_STORE_UNAVAILABLE'));
    } finally {
      await nowhere.end();
    }
  });
});
