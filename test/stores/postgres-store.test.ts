import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { serializeRevocationEvent } from '../../src/revocation/events.js';
import { SESSION_COLUMNS, sessionColumns } from '../../src/stores/internal/session-columns.js';
import {
  createPostgresStore,
  migratePostgresStore,
  POSTGRES_SCHEMA_VERSION,
} from '../../src/stores/postgres/index.js';
import { APPEND_LOCK, tableNames } from '../../src/stores/postgres/names.js';
import { sessionValues } from '../../src/stores/postgres/rows.js';
import { migrationSteps } from '../../src/stores/postgres/schema.js';
import {
  REVOKE_EVERYTHING_REASON,
  type SessionRecord,
  type Store,
} from '../../src/stores/types.js';
import { describeSessionSuite } from '../sessions/session-suite.js';
import { DATABASE_URL, serviceMissing } from '../support/services.js';
import {
  describeStoreContract,
  expectCode,
  makeGlobalEvent,
  makeRotation,
  makeSession,
  makeSessionEvent,
  makeTokenEvent,
  RICH_CLAIMS,
  randomId,
  T0,
} from './contract.js';
import type { RaceOperation, RaceOutcome } from './postgres-race-worker.js';

const INVALID = expectCode('ERR_INVALID_ARGUMENT');
const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'postgres-race-worker.js');

const pool = new pg.Pool({
  connectionString: DATABASE_URL,
  max: 10,
  connectionTimeoutMillis: 5000,
});
// The same database, with SERIALIZABLE as every transaction's default isolation.
const strictPool = new pg.Pool({
  connectionString: DATABASE_URL,
  max: 5,
  connectionTimeoutMillis: 5000,
  options: '-c default_transaction_isolation=serializable',
});
let missing: string | null = null;
try {
  await pool.query('SELECT 1');
} catch (error) {
  missing = serviceMissing('PostgreSQL', error);
}

// Every test run gets schemas of its own (random names), dropped when it ends.
const schemas = new Set<string>();
function newSchema(): string {
  const schema = `revocable_test_${randomBytes(6).toString('hex')}`;
  schemas.add(schema);
  return schema;
}
async function dropSchema(schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  schemas.delete(schema);
}
after(async () => {
  if (missing === null) for (const schema of [...schemas]) await dropSchema(schema);
  await Promise.all([pool.end(), strictPool.end()]);
});

interface Fresh {
  store: Store;
  schema: string;
  teardown(): Promise<void>;
}

async function freshStore(client: pg.Pool = pool, schema = newSchema()): Promise<Fresh> {
  await migratePostgresStore(client, { schema });
  return {
    store: createPostgresStore({ client, schema }),
    schema,
    teardown: () => dropSchema(schema),
  };
}

/** A pool that counts the round trips made through it: `query` calls and checked-out clients. */
function countingPool(target: pg.Pool) {
  const counts = { query: 0, connect: 0 };
  const proxy = new Proxy(target, {
    get(object, property) {
      if (property === 'query' || property === 'connect') {
        return (...args: unknown[]) => {
          counts[property] += 1;
          return (object[property] as (...a: unknown[]) => unknown).apply(object, args);
        };
      }
      const value = Reflect.get(object, property, object) as unknown;
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
  return { pool: proxy, counts };
}

/**
 * A pool whose `query` runs each statement in an explicit transaction on a checked-out client and
 * records `synchronous_commit` as it stands just before COMMIT.
 */
function settingAtCommit(target: pg.Pool) {
  const settings: string[] = [];
  const query = async (text: string, values: unknown[]) => {
    const client = await target.connect();
    try {
      await client.query('BEGIN');
      const result = await client.query(text, values);
      const { rows } = await client.query<{ synchronous_commit: string }>(
        'SHOW synchronous_commit',
      );
      settings.push(rows[0]?.synchronous_commit ?? '');
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  };
  const proxy = new Proxy(target, {
    get(object, property) {
      if (property === 'query') return query;
      const value = Reflect.get(object, property, object) as unknown;
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
  return { pool: proxy, settings };
}

async function tablesOf(schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1
     ORDER BY table_name`,
    [schema],
  );
  return rows.map((row) => row.name);
}

const TABLES = [
  'revocable_epoch',
  'revocable_epoch_ends',
  'revocable_log',
  'revocable_log_state',
  'revocable_schema_version',
  'revocable_sessions',
  'revocable_subjects',
];

/**
 * Numbers, in one sequence, the writes the race tests order: a session inserted (`create <sid>`),
 * its refresh hash or its claims changed (`rotate <sid>`, `claims <sid>`), the epoch advanced
 * (`epoch`). Each number is drawn while the write holds its row lock, before it commits, so two
 * writes of one row are numbered in the order they took the lock.
 */
async function installAudit(schema: string): Promise<void> {
  const q = (name: string) => `"${schema}".${name}`;
  await pool.query(`
    CREATE SEQUENCE ${q('audit_seq')};
    CREATE TABLE ${q('audit')} (seq bigint NOT NULL, what text NOT NULL);
    CREATE FUNCTION ${q('audit_session')}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO ${q('audit')} VALUES (nextval('${q('audit_seq')}'), 'create ' || NEW.sid);
      ELSE
        IF NEW.refresh_hash IS DISTINCT FROM OLD.refresh_hash THEN
          INSERT INTO ${q('audit')} VALUES (nextval('${q('audit_seq')}'), 'rotate ' || NEW.sid);
        END IF;
        IF NEW.claims IS DISTINCT FROM OLD.claims THEN
          INSERT INTO ${q('audit')} VALUES (nextval('${q('audit_seq')}'), 'claims ' || NEW.sid);
        END IF;
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER audit AFTER INSERT OR UPDATE ON ${q('revocable_sessions')}
      FOR EACH ROW EXECUTE FUNCTION ${q('audit_session')}();
    CREATE FUNCTION ${q('audit_epoch')}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ${q('audit')} VALUES (nextval('${q('audit_seq')}'), 'epoch');
      RETURN NULL;
    END $$;
    CREATE TRIGGER audit AFTER UPDATE ON ${q('revocable_epoch')}
      FOR EACH ROW EXECUTE FUNCTION ${q('audit_epoch')}();
  `);
}

/** The audit trail: the number of each write by what it was. */
async function auditOf(schema: string): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ seq: string; what: string }>(
    `SELECT seq, what FROM "${schema}".audit`,
  );
  const trail = new Map<string, number>();
  for (const row of rows) {
    assert.ok(!trail.has(row.what), `${row.what} happened once`);
    trail.set(row.what, Number(row.seq));
  }
  return trail;
}

/**
 * Runs one worker process per job; each opens its connections and says it is ready, and only when
 * all are ready is every job written to its worker, so their operations start together.
 */
async function runWorkers(schema: string, jobs: RaceOperation[][]): Promise<RaceOutcome[][]> {
  const children: ChildProcess[] = [];
  try {
    const runs = jobs.map(() => {
      const child = spawn(process.execPath, [WORKER, DATABASE_URL, schema], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      children.push(child);
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const exited = new Promise<void>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`the worker exited with ${code}`)),
        );
      });
      exited.catch(() => {});
      const ready = lines.next().then((line) => assert.equal(line.value, 'ready'));
      return { child, lines, exited, ready };
    });
    await Promise.all(runs.map((run) => Promise.race([run.ready, run.exited])));
    for (const [i, run] of runs.entries()) run.child.stdin!.end(`${JSON.stringify(jobs[i])}\n`);
    const outcomes = await Promise.all(
      runs.map(
        async (run) => JSON.parse((await run.lines.next()).value as string) as RaceOutcome[],
      ),
    );
    await Promise.all(runs.map((run) => run.exited));
    return outcomes;
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

function statusOf(outcome: RaceOutcome | undefined): string {
  assert.ok(outcome !== undefined && 'status' in outcome);
  return outcome.status;
}

if (missing !== null) {
  describe('postgres store', () => {
    it('needs PostgreSQL', (t) => t.skip(missing ?? ''));
  });
} else {
  describeStoreContract('postgres', () => freshStore());
  describeStoreContract('postgres, serializable by default', () => freshStore(strictPool));
  describeSessionSuite('the postgres store', () => freshStore());

  it('runs the second contract run under SERIALIZABLE indeed', async () => {
    const { rows } = await strictPool.query('SHOW default_transaction_isolation');
    assert.deepEqual(rows, [{ default_transaction_isolation: 'serializable' }]);
  });

  describe('migratePostgresStore', () => {
    it('creates the schema and tables once; when current it costs one read and no lock', async () => {
      const schema = newSchema();
      assert.equal(await migratePostgresStore(pool, { schema }), POSTGRES_SCHEMA_VERSION);
      assert.deepEqual(await tablesOf(schema), TABLES);
      const { pool: counted, counts } = countingPool(pool);
      assert.equal(await migratePostgresStore(counted, { schema }), POSTGRES_SCHEMA_VERSION);
      assert.deepEqual(counts, { query: 1, connect: 0 });
      const { rows } = await pool.query(
        `SELECT id, version FROM "${schema}".revocable_schema_version`,
      );
      assert.deepEqual(rows, [{ id: 1, version: POSTGRES_SCHEMA_VERSION }]);
    });

    it('is safe when several run at once, from separate pools', async () => {
      const schema = newSchema();
      const pools = Array.from(
        { length: 4 },
        () => new pg.Pool({ connectionString: DATABASE_URL }),
      );
      try {
        const versions = await Promise.all(
          pools.map((client) => migratePostgresStore(client, { schema })),
        );
        assert.deepEqual(
          versions,
          [1, 1, 1, 1].map(() => POSTGRES_SCHEMA_VERSION),
        );
      } finally {
        await Promise.all(pools.map((client) => client.end()));
      }
      assert.deepEqual(await tablesOf(schema), TABLES);
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM "${schema}".revocable_schema_version`,
      );
      assert.deepEqual(rows, [{ n: 1 }]);
      const { store } = await freshStore(pool, schema);
      const session = makeSession();
      assert.deepEqual(await store.createSession(session, 0), { created: true, gen: 0 });
    });

    it('rolls back a failing step whole, leaving nothing behind', async () => {
      const schema = newSchema();
      await pool.query(`CREATE SCHEMA "${schema}"`);
      // A table in the way of the second CREATE TABLE of step 1.
      await pool.query(`CREATE TABLE "${schema}".revocable_subjects (x int)`);
      await assert.rejects(migratePostgresStore(pool, { schema }), /already exists/);
      assert.deepEqual(await tablesOf(schema), ['revocable_subjects']);
    });

    it('upgrades tables of version 1 with what they hold', async () => {
      assert.equal(POSTGRES_SCHEMA_VERSION, 2);
      const schema = newSchema();
      const tables = tableNames({ schema });
      // Version 1 exactly as its migration left it, with a session, a subject and an event.
      await pool.query(`CREATE SCHEMA "${schema}"`);
      await pool.query(
        `CREATE TABLE ${tables.version} (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)`,
      );
      await pool.query(migrationSteps(tables)[0]!);
      await pool.query(`INSERT INTO ${tables.version} (id, version) VALUES (1, 1)`);
      const live = makeSession();
      const ended = makeSession({ sub: live.sub, revokedAt: T0, revokedReason: 'logout' });
      for (const session of [live, ended]) {
        await pool.query(
          `INSERT INTO ${tables.sessions} (${sessionColumns()})
           VALUES (${SESSION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`,
          sessionValues(session),
        );
      }
      await pool.query(`INSERT INTO ${tables.subjects} (sub, gen) VALUES ($1, 2)`, [live.sub]);
      const event = makeSessionEvent(ended.sid);
      await pool.query(`INSERT INTO ${tables.log} (id, until, body) VALUES ($1, $2, $3)`, [
        event.id,
        event.until,
        serializeRevocationEvent(event),
      ]);

      assert.equal(await migratePostgresStore(pool, { schema }), POSTGRES_SCHEMA_VERSION);
      assert.deepEqual(await tablesOf(schema), TABLES);
      const store = createPostgresStore({ client: pool, schema });
      assert.deepEqual(await store.getSession(live.sid), { ...live, gen: 2, banned: false });
      assert.deepEqual(await store.getSession(ended.sid), { ...ended, gen: 2, banned: false });
      assert.deepEqual(await store.listSessions(live.sub), [live]);
      // The event logged by version 1 got its digest: appended again it is skipped, and with
      // other contents it is refused.
      await store.appendEvents([event]);
      await assert.rejects(
        store.appendEvents([{ ...event, at: event.at + 1 }]),
        expectCode('ERR_STORE_EVENT_CONFLICT'),
      );
      assert.deepEqual(await store.readEvents(0, 10), [{ seq: 1, event }]);
      const rotation = makeRotation(live);
      assert.deepEqual(await store.rotateRefresh(live.sid, live.refreshHash, 2, rotation), {
        status: 'rotated',
        gen: 2,
      });
      // The sessions of version 1 belong to the first epoch, which a revokeAll ends.
      await store.revokeAll(T0 + 2, []);
      assert.equal((await store.getSession(live.sid))?.revokedReason, REVOKE_EVERYTHING_REASON);
      assert.equal((await store.getSession(ended.sid))?.revokedReason, 'logout');
      const next = makeSession({ sub: live.sub });
      assert.deepEqual(await store.createSession(next, 2), { created: true, gen: 2 });
      assert.deepEqual(await store.listSessions(live.sub), [next]);
      await store.appendEvents([makeSessionEvent(next.sid)]);
      const positions = (await store.readEvents(0, 10)).map((stored) => stored.seq);
      assert.equal(positions.length, 2);
      assert.ok(positions[0] === 1 && positions[1]! > 1);
    });

    it('refuses tables of a newer version, and changes nothing', async () => {
      const { schema } = await freshStore();
      await pool.query(`UPDATE "${schema}".revocable_schema_version SET version = 99`);
      await assert.rejects(
        migratePostgresStore(pool, { schema }),
        (error: unknown) => (error as { code?: string }).code === 'ERR_STORE_SCHEMA',
      );
      const { rows } = await pool.query(`SELECT version FROM "${schema}".revocable_schema_version`);
      assert.deepEqual(rows, [{ version: 99 }]);
    });

    it('refuses a bad client, schema or prefix', async () => {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      for (const bad of [null, {}, client, { query: () => {} }]) {
        await assert.rejects(migratePostgresStore(bad as unknown as pg.Pool), INVALID);
      }
      for (const schema of ['Public', 'pg_temp', 'a-b', '1a', '', 'x'.repeat(64), 5]) {
        await assert.rejects(
          migratePostgresStore(pool, { schema: schema as string }),
          INVALID,
          String(schema),
        );
      }
      for (const tablePrefix of ['A_', 'a b', '1_', 'p'.repeat(41), 'x"; DROP', null]) {
        await assert.rejects(
          migratePostgresStore(pool, { tablePrefix: tablePrefix as string }),
          INVALID,
          String(tablePrefix),
        );
      }
    });
  });

  describe('createPostgresStore', () => {
    it('refuses a bad client, schema or prefix', () => {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      for (const bad of [undefined, null, {}, { client }, { client: {} }]) {
        assert.throws(() => createPostgresStore(bad as unknown as { client: pg.Pool }), INVALID);
      }
      assert.throws(() => createPostgresStore({ client: pool, schema: 'Bad' }), INVALID);
      assert.throws(() => createPostgresStore({ client: pool, tablePrefix: 'bad-' }), INVALID);
    });

    it('makes every call one round trip through pool.query, never a checked-out client', async () => {
      const { schema } = await freshStore();
      const { pool: counted, counts } = countingPool(pool);
      const store = createPostgresStore({ client: counted, schema });
      const session = makeSession();
      const other = makeSession({ sub: session.sub });
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['createSession', () => store.createSession(session, 0)],
        ['createSession', () => store.createSession(other, 0)],
        ['createSession (replay)', () => store.createSession(other, 0)],
        ['getSession', () => store.getSession(session.sid)],
        ['listSessions', () => store.listSessions(session.sub)],
        [
          'rotateRefresh',
          () => store.rotateRefresh(session.sid, session.refreshHash, 0, makeRotation(session)),
        ],
        [
          'rotateRefresh (stale)',
          () => store.rotateRefresh(session.sid, 'nope', 0, makeRotation(session)),
        ],
        [
          'revokeSessions',
          () => store.revokeSessions([session.sid], T0, 'logout', [makeSessionEvent(session.sid)]),
        ],
        ['revokeSessions (no events)', () => store.revokeSessions([other.sid], T0, 'logout', [])],
        ['getSubject', () => store.getSubject(session.sub)],
        ['bumpGeneration', () => store.bumpGeneration(session.sub)],
        ['bumpGeneration (claims)', () => store.bumpGeneration(session.sub, { role: 'x' })],
        ['revokeAll', () => store.revokeAll(T0, [makeGlobalEvent(T0)])],
        ['revokeAll (no events)', () => store.revokeAll(T0, [])],
        ['setBanned', () => store.setBanned(session.sub, true, T0)],
        ['appendEvents', () => store.appendEvents([makeSessionEvent(randomId())])],
        ['readEvents', () => store.readEvents(0, 10)],
        ['liveEvents', () => store.liveEvents(T0)],
        ['prune', () => store.prune(T0, 0)],
      ];
      for (const [name, call] of calls) {
        counts.query = 0;
        await call();
        assert.deepEqual(counts, { query: 1, connect: 0 }, name);
      }
      counts.query = 0;
      assert.deepEqual(await store.revokeSessions([], T0, 'logout', []), []);
      await store.appendEvents([]);
      await store.close();
      assert.deepEqual(counts, { query: 0, connect: 0 });
    });

    it('does not end the pool it was given', async () => {
      const { store } = await freshStore();
      await store.close();
      assert.equal(pool.ended, false);
      assert.deepEqual((await pool.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    });

    it('keeps stores in one schema apart by table prefix', async () => {
      const schema = newSchema();
      await migratePostgresStore(pool, { schema });
      await migratePostgresStore(pool, { schema, tablePrefix: 'other_' });
      const a = createPostgresStore({ client: pool, schema });
      const b = createPostgresStore({ client: pool, schema, tablePrefix: 'other_' });
      const session = makeSession();
      await a.createSession(session, 0);
      await a.appendEvents([makeSessionEvent(session.sid)]);
      assert.equal(await b.getSession(session.sid), null);
      assert.deepEqual(await b.liveEvents(T0), { events: [], position: 0 });
      assert.deepEqual(await b.createSession(session, 0), { created: true, gen: 0 });
    });
  });

  describe('postgres store specifics', () => {
    it('refuses strings PostgreSQL would not keep exactly, and writes nothing', async () => {
      const { store } = await freshStore();
      const good = makeSession();
      const bad: SessionRecord[] = [
        { ...good, sid: 'nul\u0000sid' },
        { ...good, sub: 'lone\ud800' },
        { ...good, device: '\udc00x' },
        { ...good, spentHashes: ['ok', 'n\u0000'] },
        { ...good, claims: { text: 'nul\u0000' } },
        { ...good, claims: { 'k\ud83c': 1 } },
      ];
      for (const session of bad) await assert.rejects(store.createSession(session, 0), INVALID);
      await store.createSession(good, 0);
      await assert.rejects(store.getSession('a\u0000'), INVALID);
      await assert.rejects(store.bumpGeneration(good.sub, { a: ['\udfff'] }), INVALID);
      await assert.rejects(
        store.rotateRefresh(good.sid, good.refreshHash, 0, {
          ...makeRotation(good),
          userAgent: 'nul\u0000',
        }),
        INVALID,
      );
      await assert.rejects(
        store.appendEvents([{ ...makeSessionEvent(good.sid), id: 'id\u0000' }]),
        expectCode('ERR_REVOCATION_EVENT_INVALID'),
      );
      await assert.rejects(store.revokeSessions([good.sid], T0, 'why\u0000', []), INVALID);
      assert.deepEqual(await store.getSession(good.sid), { ...good, gen: 0, banned: false });
      assert.deepEqual(await store.getSubject(good.sub), { gen: 0, banned: false });
      assert.deepEqual(await store.liveEvents(T0), { events: [], position: 0 });
    });

    // Issue 12, item 12: a logout that returned must survive a power cut. With synchronous_commit
    // off a commit returns before its WAL is on disk; the calls that end or spend something raise
    // it for their own transaction. Each call below runs inside a transaction that reads the
    // setting just before COMMIT, which is when PostgreSQL reads it.
    it('flushes the commits that end or spend something, even with synchronous_commit off', async () => {
      const lazy = new pg.Pool({
        connectionString: DATABASE_URL,
        max: 1,
        options: '-c synchronous_commit=off',
      });
      try {
        const { schema } = await freshStore();
        const { pool: inspected, settings } = settingAtCommit(lazy);
        const store = createPostgresStore({ client: inspected, schema });
        const session = makeSession();
        const other = makeSession({ sub: session.sub });
        const calls: Array<[string, string, () => Promise<unknown>]> = [
          ['createSession', 'off', () => store.createSession(session, 0)],
          ['createSession', 'off', () => store.createSession(other, 0)],
          ['getSession', 'off', () => store.getSession(session.sid)],
          [
            'rotateRefresh',
            'local',
            () => store.rotateRefresh(session.sid, session.refreshHash, 0, makeRotation(session)),
          ],
          [
            'revokeSessions',
            'local',
            () =>
              store.revokeSessions([session.sid], T0, 'logout', [makeSessionEvent(session.sid)]),
          ],
          ['revokeSessions', 'local', () => store.revokeSessions([other.sid], T0, 'logout', [])],
          ['bumpGeneration', 'local', () => store.bumpGeneration(session.sub, { role: 'x' })],
          ['setBanned', 'local', () => store.setBanned(session.sub, true, T0)],
          ['appendEvents', 'local', () => store.appendEvents([makeSessionEvent(randomId())])],
          ['revokeAll', 'local', () => store.revokeAll(T0, [makeGlobalEvent(T0)])],
          ['prune', 'off', () => store.prune(T0, 0)],
        ];
        for (const [name, expected, call] of calls) {
          settings.length = 0;
          await call();
          assert.deepEqual(settings, [expected], name);
        }
        // Without the inspecting transaction: the commit is on disk when the call returns (the
        // WAL flushed past where it was before the call), and the connection's own setting is
        // untouched afterwards.
        const plain = createPostgresStore({ client: lazy, schema });
        for (const call of [
          () => plain.revokeSessions([randomId()], T0, 'logout', [makeSessionEvent(randomId())]),
          () => plain.revokeAll(T0, []),
        ]) {
          const before = await lazy.query<{ lsn: string }>(
            'SELECT pg_current_wal_insert_lsn() AS lsn',
          );
          await call();
          const { rows } = await lazy.query<{ flushed: boolean; setting: string }>(
            `SELECT pg_current_wal_flush_lsn() > $1::pg_lsn AS flushed,
               current_setting('synchronous_commit') AS setting`,
            [before.rows[0]?.lsn],
          );
          assert.deepEqual(rows, [{ flushed: true, setting: 'off' }]);
        }
      } finally {
        await lazy.end();
      }
    });

    it('keeps a stronger synchronous_commit as it is', async () => {
      const strict = new pg.Pool({
        connectionString: DATABASE_URL,
        max: 1,
        options: '-c synchronous_commit=remote_apply',
      });
      try {
        const { schema } = await freshStore();
        const { pool: inspected, settings } = settingAtCommit(strict);
        const store = createPostgresStore({ client: inspected, schema });
        await store.revokeSessions([randomId()], T0, 'logout', [makeSessionEvent(randomId())]);
        assert.deepEqual(settings, ['remote_apply']);
      } finally {
        await strict.end();
      }
    });

    it('keeps what only looks like an escape, astral characters and extreme numbers', async () => {
      const { store } = await freshStore();
      const claims = {
        ...RICH_CLAIMS,
        escape: '\\u0000 and \\ud800',
        pair: '🎮\ud83c\udfae',
        tiny: 5e-324,
        huge: 1.7976931348623157e308,
        exact: 0.30000000000000004,
      };
      const session = makeSession({ claims });
      await store.createSession(session, 0);
      assert.deepEqual((await store.getSession(session.sid))?.claims, claims);
      // An event's target is kept in its JSON text, with its escapes and astral characters.
      const event = { ...makeSessionEvent(session.sid), target: 'odd\\u0000 🎮 target' };
      await store.appendEvents([event]);
      assert.deepEqual(
        (await store.readEvents(0, 10)).map((stored) => stored.event),
        [event],
      );
    });

    it('makes an append wait for the log lock, so positions follow commit order', async () => {
      const { store, schema } = await freshStore();
      const { lockKey } = tableNames({ schema });
      const holder = await pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock($1, $2)', [APPEND_LOCK, lockKey]);
        let done = false;
        const append = store.appendEvents([makeSessionEvent(randomId())]).then(() => {
          done = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(done, false, 'the append waited for the lock');
        assert.deepEqual(await store.readEvents(0, 10), []);
        await holder.query('COMMIT');
        await append;
        assert.equal((await store.readEvents(0, 10)).length, 1);
      } finally {
        holder.release();
      }
    });

    it('lets a reader that follows positions see every event of concurrent appends', async () => {
      const { store } = await freshStore();
      const events = Array.from({ length: 60 }, () => makeSessionEvent(randomId()));
      const seen = new Set<string>();
      let appending = true;
      const follower = (async () => {
        let position = 0;
        for (;;) {
          // Whether the appends had all returned is noted before the read starts, not after it
          // returns: a read that began while the last append was committing may come back empty,
          // and must not end the follow.
          const finished = !appending;
          const page = await store.readEvents(position, 1000);
          for (const stored of page) seen.add(stored.event.id);
          position = page.at(-1)?.seq ?? position;
          if (finished && page.length === 0) break;
        }
      })();
      await Promise.all(events.map((event) => store.appendEvents([event])));
      appending = false;
      await follower;
      assert.equal(seen.size, events.length, 'no event was passed over');
    });

    it('prunes every expired event without moving the position back', async () => {
      const { store } = await freshStore();
      await store.appendEvents([makeTokenEvent(T0 + 1), makeTokenEvent(T0 + 2)]);
      const { position } = await store.liveEvents(T0);
      assert.deepEqual(await store.prune(T0 + 10, 0), { sessions: 0, events: 2 });
      assert.deepEqual(await store.liveEvents(T0), { events: [], position });
      await store.appendEvents([makeTokenEvent(T0 + 3)]);
      const [next] = await store.readEvents(position, 10);
      assert.ok(next !== undefined && next.seq > position);
    });
  });

  describe('postgres store across processes', () => {
    it('lets exactly one of 50 rotations from two processes win', { timeout: 60_000 }, async () => {
      const { store, schema } = await freshStore();
      const session = makeSession();
      await store.createSession(session, 0);
      const job = (): RaceOperation[] =>
        Array.from({ length: 25 }, () => ({
          kind: 'rotate',
          sid: session.sid,
          expected: session.refreshHash,
          gen: 0,
          next: makeRotation(session),
        }));
      const jobs = [job(), job()];
      const outcomes = await runWorkers(schema, jobs);
      const statuses = outcomes.flat().map(statusOf);
      assert.equal(statuses.length, 50);
      assert.equal(statuses.filter((status) => status === 'rotated').length, 1);
      assert.equal(statuses.filter((status) => status === 'stale').length, 49);
      const winner = jobs.flat()[statuses.indexOf('rotated')];
      assert.ok(winner?.kind === 'rotate');
      const { ip: _ip, userAgent: _userAgent, ...written } = winner.next;
      assert.deepEqual(await store.getSession(session.sid), {
        ...session,
        ...written,
        gen: 0,
        banned: false,
      });
    });

    it('ends revoked when a rotation in one process races a revocation in another', {
      timeout: 60_000,
    }, async () => {
      const { store, schema } = await freshStore();
      const sessions = Array.from({ length: 20 }, () => makeSession());
      for (const session of sessions) await store.createSession(session, 0);
      const rotations = sessions.map((session) => ({
        kind: 'rotate' as const,
        sid: session.sid,
        expected: session.refreshHash,
        gen: 0,
        next: makeRotation(session),
      }));
      const revocations = sessions.map((session) => ({
        kind: 'revoke' as const,
        sid: session.sid,
        at: T0 + 1,
        reason: 'logout',
        events: [makeSessionEvent(session.sid, T0 + 1)],
      }));
      // Each process rotates half of the sessions and revokes the other half, so that neither
      // kind of call always gets the head start of the process that happens to start first.
      const half = sessions.length / 2;
      const jobs: RaceOperation[][] = [
        [...rotations.slice(0, half), ...revocations.slice(half)],
        [...revocations.slice(0, half), ...rotations.slice(half)],
      ];
      const outcomes = await runWorkers(schema, jobs);
      const bySid = new Map<string, RaceOutcome[]>();
      for (const [j, job] of jobs.entries()) {
        for (const [k, operation] of job.entries()) {
          const outcome = outcomes[j]?.[k];
          assert.ok(outcome !== undefined && 'sid' in operation);
          bySid.set(operation.sid, [...(bySid.get(operation.sid) ?? []), outcome]);
        }
      }
      const logged = new Set((await store.readEvents(0, 1000)).map((stored) => stored.event.id));
      for (const [i, session] of sessions.entries()) {
        const seen = bySid.get(session.sid) ?? [];
        assert.ok(
          seen.some((outcome) => 'revoked' in outcome && outcome.revoked[0] === session.sid),
        );
        const status = statusOf(seen.find((outcome) => 'status' in outcome));
        const read = await store.getSession(session.sid);
        assert.equal(read?.revokedAt, T0 + 1);
        assert.equal(read?.revokedReason, 'logout');
        if (status === 'rotated') assert.equal(read?.refreshHash, rotations[i]?.next.refreshHash);
        else {
          assert.equal(status, 'revoked');
          assert.equal(read?.refreshHash, session.refreshHash);
        }
        assert.ok(logged.has(revocations[i]!.events[0]!.id));
      }
    });

    // Issue 12, bug 1: a rotation that waited for a bump's lock on the session row compared the
    // generation it had read before the wait, and succeeded with a generation that was no longer
    // the current one, handing out the old claims. The audit trail numbers the row writes in the
    // order they took their locks: a rotation may only have succeeded if it wrote before the bump.
    it('lets no rotation racing bumpGeneration from another process succeed with an old generation', {
      timeout: 60_000,
    }, async () => {
      const { store, schema } = await freshStore();
      await installAudit(schema);
      const sessions = Array.from({ length: 40 }, () => makeSession());
      for (const session of sessions) await store.createSession(session, 0);
      const rotations = sessions.map((session) => ({
        kind: 'rotate' as const,
        sid: session.sid,
        expected: session.refreshHash,
        gen: 0,
        next: makeRotation(session),
      }));
      const newClaims = (sub: string) => ({ role: 'admin', of: sub });
      const bumps = sessions.map((session) => ({
        kind: 'bump' as const,
        sub: session.sub,
        claims: newClaims(session.sub),
      }));
      const half = sessions.length / 2;
      const jobs: RaceOperation[][] = [
        [...rotations.slice(0, half), ...bumps.slice(half)],
        [...bumps.slice(0, half), ...rotations.slice(half)],
      ];
      const outcomes = await runWorkers(schema, jobs);
      const audit = await auditOf(schema);
      const tally = { rotated: 0, changed: 0 };
      for (const [i, session] of sessions.entries()) {
        // Both jobs list the calls of session i at position i.
        const rotation = outcomes[i < half ? 0 : 1]?.[i];
        const bump = outcomes[i < half ? 1 : 0]?.[i];
        assert.ok(rotation !== undefined && 'status' in rotation, 'a rotation outcome');
        assert.deepEqual(bump, { gen: 1 });
        const claimsAt = audit.get(`claims ${session.sid}`);
        const rotatedAt = audit.get(`rotate ${session.sid}`);
        assert.ok(claimsAt !== undefined, 'the bump replaced the claims of the live session');
        if (rotation.status === 'rotated') {
          tally.rotated += 1;
          assert.equal(rotation.gen, 0);
          assert.ok(rotatedAt !== undefined && rotatedAt < claimsAt, 'rotated before the bump');
        } else {
          tally.changed += 1;
          assert.equal(rotation.status, 'changed');
          assert.equal(rotatedAt, undefined);
        }
        const read = await store.getSession(session.sid);
        assert.deepEqual(read?.claims, newClaims(session.sub));
        assert.equal(read?.gen, 1);
      }
      assert.equal(tally.rotated + tally.changed, sessions.length);
    });

    it('orders revokeAll against rotations and logins from another process', {
      timeout: 60_000,
    }, async () => {
      const { store, schema } = await freshStore();
      await installAudit(schema);
      const sessions = Array.from({ length: 40 }, () => makeSession());
      for (const session of sessions) await store.createSession(session, 0);
      const at = T0 + 5;
      const global = makeGlobalEvent(at);
      const rotations: RaceOperation[] = sessions.map((session) => ({
        kind: 'rotate',
        sid: session.sid,
        expected: session.refreshHash,
        gen: 0,
        next: makeRotation(session),
      }));
      const logins = Array.from({ length: 20 }, () => makeSession({ createdAt: at }));
      const creates: RaceOperation[] = logins.map((session) => ({
        kind: 'create',
        session,
        gen: 0,
      }));
      // The emergency sits in the middle of the other process's calls, so that some of them
      // come before it and some after.
      const jobs: RaceOperation[][] = [
        [...rotations.slice(0, 20), ...creates.slice(0, 10), ...rotations.slice(20)],
        [
          ...creates.slice(10, 15),
          { kind: 'revokeAll', at, events: [global] },
          ...creates.slice(15),
        ],
      ];
      const outcomes = await runWorkers(schema, jobs);
      const audit = await auditOf(schema);
      const epochAt = audit.get('epoch');
      assert.ok(epochAt !== undefined, 'the epoch was advanced');
      const rotationOutcomes = [...outcomes[0]!.slice(0, 20), ...outcomes[0]!.slice(30)];
      for (const [i, session] of sessions.entries()) {
        const outcome = rotationOutcomes[i];
        assert.ok(outcome !== undefined && 'status' in outcome);
        const rotatedAt = audit.get(`rotate ${session.sid}`);
        if (outcome.status === 'rotated') {
          assert.ok(rotatedAt !== undefined && rotatedAt < epochAt, 'rotated before revokeAll');
        } else {
          assert.equal(outcome.status, 'revoked');
          assert.equal(rotatedAt, undefined);
        }
        const read = await store.getSession(session.sid);
        assert.equal(read?.revokedAt, at);
        assert.equal(read?.revokedReason, REVOKE_EVERYTHING_REASON);
        assert.equal(
          (await store.rotateRefresh(session.sid, read.refreshHash, 0, makeRotation(read))).status,
          'revoked',
        );
      }
      const createOutcomes = [
        ...outcomes[0]!.slice(20, 30),
        ...outcomes[1]!.slice(0, 5),
        ...outcomes[1]!.slice(6),
      ];
      assert.deepEqual(outcomes[1]![5], { done: true });
      for (const [i, session] of logins.entries()) {
        assert.deepEqual(createOutcomes[i], { created: true, gen: 0 });
        const createdAt = audit.get(`create ${session.sid}`);
        assert.ok(createdAt !== undefined);
        const read = await store.getSession(session.sid);
        if (createdAt < epochAt) {
          assert.equal(read?.revokedAt, at, 'a login before the emergency is ended by it');
          assert.equal(read?.revokedReason, REVOKE_EVERYTHING_REASON);
        } else {
          assert.equal(read?.revokedAt, null, 'a login after the emergency lives');
          assert.equal(
            (await store.rotateRefresh(session.sid, session.refreshHash, 0, makeRotation(session)))
              .status,
            'rotated',
          );
        }
      }
      assert.deepEqual(
        (await store.readEvents(0, 10)).map((stored) => stored.event),
        [global],
      );
    });

    it('stores an event appended by two processes at once once, and refuses other contents', {
      timeout: 60_000,
    }, async () => {
      const { store, schema } = await freshStore();
      const shared = Array.from({ length: 30 }, () => makeSessionEvent(randomId()));
      const disputed = makeSessionEvent(randomId());
      const job = (target: string): RaceOperation[] => [
        ...shared.map((event) => ({ kind: 'append' as const, events: [event] })),
        { kind: 'append', events: [{ ...disputed, target }] },
      ];
      const outcomes = await runWorkers(schema, [job('first'), job('second')]);
      for (const outcome of outcomes.flatMap((list) => list.slice(0, shared.length))) {
        assert.deepEqual(outcome, { done: true });
      }
      const verdicts = outcomes.map((list) => list[shared.length]);
      assert.deepEqual(verdicts.map((outcome) => JSON.stringify(outcome)).sort(), [
        '{"done":true}',
        '{"error":"ERR_STORE_EVENT_CONFLICT"}',
      ]);
      const stored = await store.readEvents(0, 1000);
      assert.equal(stored.length, shared.length + 1);
      assert.deepEqual(
        new Set(stored.map((entry) => entry.event.id)),
        new Set([...shared.map((event) => event.id), disputed.id]),
      );
      const winner = verdicts[0] !== undefined && 'done' in verdicts[0] ? 'first' : 'second';
      const kept = stored.find((entry) => entry.event.id === disputed.id);
      assert.equal(kept?.event.target, winner);
    });
  });
}
