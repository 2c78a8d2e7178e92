import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  createPostgresStore,
  migratePostgresStore,
  POSTGRES_SCHEMA_VERSION,
} from '../../src/stores/postgres/index.js';
import { APPEND_LOCK, tableNames } from '../../src/stores/postgres/names.js';
import type { SessionRecord, Store } from '../../src/stores/types.js';
import { describeSessionSuite } from '../sessions/session-suite.js';
import { DATABASE_URL, serviceMissing } from '../support/services.js';
import {
  describeStoreContract,
  expectCode,
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

async function tablesOf(schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1
     ORDER BY table_name`,
    [schema],
  );
  return rows.map((row) => row.name);
}

const TABLES = [
  'revocable_log',
  'revocable_log_state',
  'revocable_schema_version',
  'revocable_sessions',
  'revocable_subjects',
];

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
      assert.deepEqual(await store.createSession(session), { created: true, gen: 0 });
    });

    it('rolls back a failing step whole, leaving nothing behind', async () => {
      const schema = newSchema();
      await pool.query(`CREATE SCHEMA "${schema}"`);
      // A table in the way of the second CREATE TABLE of step 1.
      await pool.query(`CREATE TABLE "${schema}".revocable_subjects (x int)`);
      await assert.rejects(migratePostgresStore(pool, { schema }), /already exists/);
      assert.deepEqual(await tablesOf(schema), ['revocable_subjects']);
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
        ['createSession', () => store.createSession(session)],
        ['createSession', () => store.createSession(other)],
        ['getSession', () => store.getSession(session.sid)],
        ['listSessions', () => store.listSessions(session.sub)],
        [
          'rotateRefresh',
          () => store.rotateRefresh(session.sid, session.refreshHash, makeRotation(session)),
        ],
        [
          'rotateRefresh (stale)',
          () => store.rotateRefresh(session.sid, 'nope', makeRotation(session)),
        ],
        [
          'revokeSessions',
          () => store.revokeSessions([session.sid], T0, 'logout', [makeSessionEvent(session.sid)]),
        ],
        ['revokeSessions (no events)', () => store.revokeSessions([other.sid], T0, 'logout', [])],
        ['updateClaims', () => store.updateClaims(session.sub, { role: 'x' })],
        ['getSubject', () => store.getSubject(session.sub)],
        ['bumpGeneration', () => store.bumpGeneration(session.sub)],
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
      await a.createSession(session);
      await a.appendEvents([makeSessionEvent(session.sid)]);
      assert.equal(await b.getSession(session.sid), null);
      assert.deepEqual(await b.liveEvents(T0), { events: [], position: 0 });
      assert.deepEqual(await b.createSession(session), { created: true, gen: 0 });
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
      for (const session of bad) await assert.rejects(store.createSession(session), INVALID);
      await store.createSession(good);
      await assert.rejects(store.getSession('a\u0000'), INVALID);
      await assert.rejects(store.updateClaims(good.sub, { a: ['\udfff'] }), INVALID);
      await assert.rejects(
        store.appendEvents([{ ...makeSessionEvent(good.sid), id: 'id\u0000' }]),
        INVALID,
      );
      await assert.rejects(store.revokeSessions([good.sid], T0, 'why\u0000', []), INVALID);
      assert.deepEqual(await store.getSession(good.sid), { ...good, gen: 0, banned: false });
      assert.deepEqual(await store.liveEvents(T0), { events: [], position: 0 });
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
      await store.createSession(session);
      assert.deepEqual((await store.getSession(session.sid))?.claims, claims);
      // An event's target is kept in its JSON text, where a NUL is an escape.
      const event = { ...makeSessionEvent(session.sid), target: 'odd\u0000target' };
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
      await store.createSession(session);
      const job = (): RaceOperation[] =>
        Array.from({ length: 25 }, () => ({
          kind: 'rotate',
          sid: session.sid,
          expected: session.refreshHash,
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
      assert.deepEqual(await store.getSession(session.sid), {
        ...session,
        ...winner.next,
        gen: 0,
        banned: false,
      });
    });

    it('ends revoked when a rotation in one process races a revocation in another', {
      timeout: 60_000,
    }, async () => {
      const { store, schema } = await freshStore();
      const sessions = Array.from({ length: 20 }, () => makeSession());
      for (const session of sessions) await store.createSession(session);
      const rotations = sessions.map((session) => ({
        kind: 'rotate' as const,
        sid: session.sid,
        expected: session.refreshHash,
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
          assert.ok(outcome !== undefined);
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
  });
}
