// What a caller of the PostgreSQL store meets when the database is not what the store expects:
// a wrong URL, tables never migrated or of an older version, a connection cut or a statement
// timed out mid-call. Every case runs against the real server.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import pg from 'pg';
import { isRevocableError } from '../../src/errors/index.js';
import {
  connectPostgres,
  createPostgresStore,
  migratePostgresStore,
} from '../../src/stores/postgres/index.js';
import { tableNames } from '../../src/stores/postgres/names.js';
import { migrationSteps } from '../../src/stores/postgres/schema.js';
import { DATABASE_URL, serviceMissing, skipIfMissing } from '../support/services.js';
import { createIn, expectCode, makeSession } from './contract.js';
import { freePort } from './redis-support.js';

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4, connectionTimeoutMillis: 5000 });
let missing: string | null = null;
try {
  await pool.query('SELECT 1');
} catch (error) {
  missing = serviceMissing('PostgreSQL', error);
}
const schemas: string[] = [];
function newSchema(): string {
  const schema = `revocable_err_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return schema;
}
after(async () => {
  if (missing === null) {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
  await pool.end();
});

/** The test database's URL with another port, database or user, and a password to keep secret. */
function variant(change: { port?: number; database?: string; user?: string }): string {
  const url = new URL(DATABASE_URL);
  if (change.port !== undefined) url.port = String(change.port);
  if (change.database !== undefined) url.pathname = `/${change.database}`;
  if (change.user !== undefined) url.username = change.user;
  url.password = 'hunter2-secret';
  return url.toString();
}

/** ERR_STORE_UNAVAILABLE, one line, naming `parts` and never the password. */
function unavailable(...parts: RegExp[]) {
  return (error: unknown): boolean => {
    assert.ok(isRevocableError(error, 'ERR_STORE_UNAVAILABLE'), String(error));
    assert.doesNotMatch(error.message, /\n/);
    assert.doesNotMatch(error.message, /hunter2/);
    // Nor in the cause as a log would print it (ioredis attaches AUTH's arguments to its error).
    assert.doesNotMatch(inspect(error, { depth: 10 }), /hunter2/);
    for (const part of parts) assert.match(error.message, part);
    return true;
  };
}

describe('connectPostgres', () => {
  it('returns a checked pool that the store and migrations use', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const connected = await connectPostgres(DATABASE_URL);
    try {
      const schema = newSchema();
      await migratePostgresStore(connected, { schema });
      const store = createPostgresStore({ client: connected, schema });
      assert.equal((await createIn(store, makeSession())).created, true);
    } finally {
      await connected.end();
    }
  });

  it('says which host and port refused the connection', async () => {
    const port = await freePort();
    await assert.rejects(
      connectPostgres(variant({ port })),
      unavailable(new RegExp(`127\\.0\\.0\\.1:${port}`), /connection refused/),
    );
  });

  it('says which database does not exist', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const database = `no_such_db_${randomBytes(4).toString('hex')}`;
    await assert.rejects(connectPostgres(variant({ database })), (error: unknown) => {
      unavailable(new RegExp(`database "${database}"`), /does not exist/)(error);
      assert.equal((error as Error & { cause: { code?: string } }).cause.code, '3D000');
      return true;
    });
  });

  it('says which user the server refused', async (t) => {
    if (skipIfMissing(t, missing)) return;
    await assert.rejects(
      connectPostgres(variant({ user: 'no_such_role_revocable' })),
      unavailable(/user "no_such_role_revocable"/, /no_such_role_revocable/),
    );
  });

  it('refuses what is not a postgres:// URL without echoing it', async () => {
    await assert.rejects(
      connectPostgres('postgres//admin:hunter2-secret@db.example/app'),
      unavailable(/not a PostgreSQL URL/, /no scheme/),
    );
    await assert.rejects(
      connectPostgres('mysql://admin:hunter2-secret@db.example/app'),
      unavailable(/not a PostgreSQL URL/, /"mysql:"/),
    );
    await assert.rejects(connectPostgres(''), expectCode('ERR_INVALID_ARGUMENT'));
    await assert.rejects(
      connectPostgres(DATABASE_URL, { connectTimeoutMs: 0 }),
      expectCode('ERR_INVALID_ARGUMENT'),
    );
  });
});

describe('postgres store on tables it cannot use', () => {
  it('names the migration to run on a schema never migrated, and works once it has run', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const schema = newSchema();
    const store = createPostgresStore({ client: pool, schema, tablePrefix: 'app_' });
    const call = `migratePostgresStore(pool, { schema: '${schema}', tablePrefix: 'app_' })`;
    for (const attempt of [() => store.getSubject('alice'), () => createIn(store, makeSession())]) {
      await assert.rejects(attempt(), (error: unknown) => {
        expectCode('ERR_STORE_SCHEMA')(error);
        assert.ok((error as Error).message.includes(call), (error as Error).message);
        assert.doesNotMatch((error as Error).message, /relation .* does not exist/);
        return true;
      });
    }
    await migratePostgresStore(pool, { schema, tablePrefix: 'app_' });
    assert.equal((await createIn(store, makeSession())).created, true);
  });

  it('says the tables are of an older version, and which call brings them up', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const schema = newSchema();
    const tables = tableNames({ schema });
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await pool.query(migrationSteps(tables)[0]!);
    await pool.query(`CREATE TABLE ${tables.version} (id integer PRIMARY KEY, version integer)`);
    await pool.query(`INSERT INTO ${tables.version} VALUES (1, 1)`);
    const store = createPostgresStore({ client: pool, schema });
    await assert.rejects(createIn(store, makeSession()), (error: unknown) => {
      expectCode('ERR_STORE_SCHEMA')(error);
      assert.match((error as Error).message, /at version 1; this revocable needs version 2/);
      assert.ok(
        (error as Error).message.includes(
          `migratePostgresStore(pool, { schema: '${schema}', tablePrefix: 'revocable_' })`,
        ),
      );
      return true;
    });
    await migratePostgresStore(pool, { schema });
    assert.equal((await createIn(store, makeSession())).created, true);
  });

  it('refuses to migrate over tables of the same names that are not revocable’s', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const schema = newSchema();
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await pool.query(`CREATE TABLE "${schema}"."revocable_sessions" (id integer)`);
    await assert.rejects(migratePostgresStore(pool, { schema }), expectCode('ERR_STORE_SCHEMA'));
  });
});

describe('postgres driver failures during calls', () => {
  it('reports a pool pointed at a closed port as ERR_STORE_UNAVAILABLE', async () => {
    const closed = new pg.Pool({ host: '127.0.0.1', port: await freePort(), max: 1 });
    try {
      const store = createPostgresStore({ client: closed });
      await assert.rejects(store.getSubject('alice'), (error: unknown) => {
        unavailable(/PostgreSQL store failed/, /connection refused/)(error);
        assert.equal((error as Error & { cause: { code?: string } }).cause.code, 'ECONNREFUSED');
        return true;
      });
      await assert.rejects(migratePostgresStore(closed), unavailable(/connection refused/));
    } finally {
      await closed.end();
    }
  });

  // The store's statement waits on a row lock held by another connection, so that it is
  // running on the server when its connection is cut or its timeout fires.
  async function blockedCall(
    client: pg.Pool,
    schema: string,
    body: (pid: number) => Promise<void>,
  ): Promise<unknown> {
    const store = createPostgresStore({ client, schema });
    await store.setBanned('alice', false, 1_900_000_000);
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `SELECT 1 FROM "${schema}".revocable_subjects WHERE sub = 'alice' FOR UPDATE`,
      );
      const call = store.setBanned('alice', true, 1_900_000_001).then(
        () => null,
        (error: unknown) => error,
      );
      // Wait until the store's statement waits on the lock, and find its backend.
      let pid: number | undefined;
      for (let i = 0; i < 100 && pid === undefined; i++) {
        const { rows } = await pool.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%'`,
          [schema],
        );
        pid = rows[0]?.pid;
        if (pid === undefined) await sleep(20);
      }
      assert.ok(pid !== undefined, 'the store statement waits on the lock');
      await body(pid);
      return await call;
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  }

  it('reports a connection cut mid-statement (pg_terminate_backend) as ERR_STORE_UNAVAILABLE', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const schema = newSchema();
    await migratePostgresStore(pool, { schema });
    const victim = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    // pg raises `error` on the pool when the cut connection was idle; here it is in use, and
    // the failed query is what reports it. The listener keeps a stray event from ending the run.
    victim.on('error', () => {});
    try {
      const error = await blockedCall(victim, schema, async (pid) => {
        await pool.query('SELECT pg_terminate_backend($1)', [pid]);
      });
      unavailable(/PostgreSQL store failed/)(error);
      assert.ok((error as Error).cause instanceof Error);
      // The pool opens a new connection: the store works again without being made anew.
      const store = createPostgresStore({ client: victim, schema });
      assert.deepEqual(await store.getSubject('alice'), { gen: 0, banned: false });
    } finally {
      await victim.end();
    }
  });

  it('reports a statement timeout as ERR_STORE_UNAVAILABLE with the SQLSTATE', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const schema = newSchema();
    await migratePostgresStore(pool, { schema });
    const impatient = new pg.Pool({
      connectionString: DATABASE_URL,
      max: 1,
      options: '-c statement_timeout=300',
    });
    try {
      const error = await blockedCall(impatient, schema, async () => {});
      unavailable(/statement timeout/, /57014/)(error);
      assert.equal((error as Error & { cause: { code?: string } }).cause.code, '57014');
    } finally {
      await impatient.end();
    }
  });
});
