import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type BetterSqlite3 from 'better-sqlite3';
import { isRevocableError } from '../../src/errors/index.js';
import type { RevocationEvent } from '../../src/revocation/index.js';
import { createSessionRevocation, createTokenRevocation } from '../../src/revocation/index.js';
import {
  createSqliteStore,
  migrateSqliteStore,
  SQLITE_SCHEMA_VERSION,
} from '../../src/stores/sqlite/index.js';
import { describeSessionSuite } from '../sessions/session-suite.js';
import {
  createIn,
  describeStoreContract,
  makeRotation,
  makeSession,
  randomId,
} from './contract.js';
import { openSqliteDatabase } from './sqlite-support.js';

const T0 = 1_900_000_000;
const directory = mkdtempSync(join(tmpdir(), 'revocable-sqlite-'));
after(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
function freshFile(): string {
  files += 1;
  return join(directory, `store-${files}.db`);
}

function expectCode(code: string) {
  return (error: unknown) => {
    assert.ok(isRevocableError(error), `expected a RevocableError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

function sessionEvent(sid: string, id = randomId()): RevocationEvent {
  return { ...createSessionRevocation({ sid, at: T0 }, { maxAccessTokenLifetime: 600 }), id };
}

function scalar(database: BetterSqlite3.Database, sql: string): unknown {
  return database.prepare<[], { value: unknown }>(sql).get()?.value;
}

function schemaOf(database: BetterSqlite3.Database): unknown[] {
  return database.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all();
}

describeStoreContract('sqlite', async () => {
  const database = openSqliteDatabase(freshFile());
  return { store: createSqliteStore({ database }), teardown: async () => void database.close() };
});

describeSessionSuite('the sqlite store', async () => {
  const database = openSqliteDatabase(freshFile());
  return { store: createSqliteStore({ database }), teardown: async () => void database.close() };
});

describe('openSqliteDatabase', () => {
  it('turns on WAL, a busy timeout, synchronous NORMAL and foreign keys', () => {
    const database = openSqliteDatabase(freshFile());
    assert.equal(database.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(database.pragma('busy_timeout', { simple: true }), 5000);
    assert.equal(database.pragma('synchronous', { simple: true }), 1);
    assert.equal(database.pragma('foreign_keys', { simple: true }), 1);
    database.close();
    const patient = openSqliteDatabase(freshFile(), { busyTimeoutMs: 250 });
    assert.equal(patient.pragma('busy_timeout', { simple: true }), 250);
    patient.close();
  });

  it('refuses a bad path or timeout', () => {
    assert.throws(() => openSqliteDatabase(''), expectCode('ERR_INVALID_ARGUMENT'));
    assert.throws(
      () => openSqliteDatabase(freshFile(), { busyTimeoutMs: -1 }),
      expectCode('ERR_INVALID_ARGUMENT'),
    );
  });
});

describe('sqlite migrations', () => {
  it('records the schema version, and running again changes nothing', async () => {
    const file = freshFile();
    const first = openSqliteDatabase(file);
    const store = createSqliteStore({ database: first });
    assert.deepEqual(first.prepare('SELECT id, version FROM revocable_schema').all(), [
      { id: 1, version: SQLITE_SCHEMA_VERSION },
    ]);
    const shape = schemaOf(first);
    const session = makeSession();
    await createIn(store, session);
    // Again on the same connection, and from a second connection to the same file.
    assert.equal(migrateSqliteStore(first), SQLITE_SCHEMA_VERSION);
    const second = openSqliteDatabase(file);
    const other = createSqliteStore({ database: second });
    assert.equal(migrateSqliteStore(second), SQLITE_SCHEMA_VERSION);
    assert.deepEqual(schemaOf(second), shape);
    assert.equal((await other.getSession(session.sid))?.refreshHash, session.refreshHash);
    assert.equal(scalar(first, 'SELECT COUNT(*) AS value FROM revocable_schema'), 1);
    first.close();
    second.close();
  });

  it('only reads a current schema: a store starts while another connection writes', () => {
    const file = freshFile();
    const setup = openSqliteDatabase(file);
    migrateSqliteStore(setup);
    const writer = openSqliteDatabase(file);
    writer.exec('BEGIN IMMEDIATE');
    const impatient = openSqliteDatabase(file, { busyTimeoutMs: 0 });
    assert.doesNotThrow(() => createSqliteStore({ database: impatient }));
    writer.exec('ROLLBACK');
    for (const database of [setup, writer, impatient]) database.close();
  });

  it('refuses a schema newer than this code, changing nothing', () => {
    const database = openSqliteDatabase(freshFile());
    migrateSqliteStore(database);
    database.prepare('UPDATE revocable_schema SET version = ?').run(SQLITE_SCHEMA_VERSION + 1);
    const shape = schemaOf(database);
    assert.throws(() => createSqliteStore({ database }), expectCode('ERR_STORE_SCHEMA'));
    assert.throws(
      () => migrateSqliteStore(database),
      (error: unknown) =>
        (error as { code?: string }).code === 'ERR_STORE_SCHEMA' && /newer/.test(String(error)),
    );
    assert.deepEqual(schemaOf(database), shape);
    database.close();
  });

  it('rolls a failed migration back whole', () => {
    const database = openSqliteDatabase(freshFile());
    // A table in the way of a later statement of the first step.
    database.exec('CREATE TABLE revocable_log (x INTEGER)');
    const shape = schemaOf(database);
    assert.throws(() => migrateSqliteStore(database), /already exists/);
    assert.deepEqual(schemaOf(database), shape);
    database.close();
  });

  it('keeps table prefixes apart and refuses unsafe ones', async () => {
    const database = openSqliteDatabase(freshFile());
    const a = createSqliteStore({ database, tablePrefix: 'a_' });
    const b = createSqliteStore({ database, tablePrefix: 'b_' });
    const bare = createSqliteStore({ database, tablePrefix: '' });
    const session = makeSession();
    await createIn(a, session);
    assert.equal(await b.getSession(session.sid), null);
    assert.equal(await bare.getSession(session.sid), null);
    assert.equal(scalar(database, 'SELECT version AS value FROM b_schema'), 1);
    for (const tablePrefix of ['x; DROP TABLE a_sessions; --', '1x_', 'sqlite_x', 'a'.repeat(41)]) {
      assert.throws(
        () => createSqliteStore({ database, tablePrefix }),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
    }
    assert.throws(
      () => createSqliteStore({ database, tablePrefix: 7 as unknown as string }),
      expectCode('ERR_INVALID_ARGUMENT'),
    );
    database.close();
  });

  it('refuses what is not an open better-sqlite3 database', () => {
    const closed = openSqliteDatabase(freshFile());
    closed.close();
    for (const database of [undefined, {}, closed]) {
      assert.throws(
        () => createSqliteStore({ database: database as BetterSqlite3.Database }),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
    }
  });
});

describe('sqlite store specifics', () => {
  it('keeps data across reopening the file, and never closes the database it was given', async () => {
    const file = freshFile();
    const first = openSqliteDatabase(file);
    const store = createSqliteStore({ database: first });
    const session = makeSession();
    await createIn(store, session);
    const event = sessionEvent(session.sid);
    await store.revokeSessions([session.sid], T0 + 1, 'logout', [event]);
    await store.bumpGeneration(session.sub);
    await store.close();
    assert.ok(first.open);
    assert.equal(scalar(first, 'SELECT COUNT(*) AS value FROM revocable_sessions'), 1);
    first.close();
    const second = openSqliteDatabase(file);
    const reopened = createSqliteStore({ database: second });
    assert.deepEqual(await reopened.getSession(session.sid), {
      ...session,
      revokedAt: T0 + 1,
      revokedReason: 'logout',
      gen: 1,
      banned: false,
    });
    assert.deepEqual(
      (await reopened.readEvents(0, 10)).map((stored) => stored.event),
      [event],
    );
    second.close();
  });

  it('stores times as REAL and JSON as TEXT', async () => {
    const database = openSqliteDatabase(freshFile());
    const store = createSqliteStore({ database });
    const session = makeSession({ createdAt: T0, spentHashes: ['a'] });
    await createIn(store, session);
    const row = database
      .prepare(
        'SELECT typeof(created_at) AS created, typeof(idle_expires_at) AS idle, claims, spent_hashes FROM revocable_sessions WHERE sid = ?',
      )
      .get(session.sid) as { created: string; idle: string; claims: string; spent_hashes: string };
    assert.deepEqual(
      { ...row, claims: JSON.parse(row.claims), spent_hashes: JSON.parse(row.spent_hashes) },
      { created: 'real', idle: 'real', claims: session.claims, spent_hashes: ['a'] },
    );
    database.close();
  });

  it('refuses claims that do not serialize to a JSON object, writing nothing', async () => {
    const database = openSqliteDatabase(freshFile());
    const store = createSqliteStore({ database });
    const session = makeSession();
    await createIn(store, session);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const claims of [{ big: 1n }, cyclic, { toJSON: () => 'text' }]) {
      await assert.rejects(
        store.bumpGeneration(session.sub, claims),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      const other = makeSession({ claims });
      await assert.rejects(createIn(store, other), expectCode('ERR_INVALID_ARGUMENT'));
      assert.equal(await store.getSession(other.sid), null);
    }
    assert.deepEqual((await store.getSession(session.sid))?.claims, session.claims);
    database.close();
  });

  it('rolls a revocation back when its events cannot be appended', async () => {
    const database = openSqliteDatabase(freshFile());
    const store = createSqliteStore({ database });
    const session = makeSession();
    await createIn(store, session);
    database.exec(`CREATE TRIGGER refuse BEFORE INSERT ON revocable_log WHEN NEW.id = 'refused'
                   BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    const events = [sessionEvent(session.sid), sessionEvent(session.sid, 'refused')];
    await assert.rejects(
      store.revokeSessions([session.sid], T0 + 1, 'logout', events),
      /refused by the test/,
    );
    assert.equal((await store.getSession(session.sid))?.revokedAt, null);
    assert.deepEqual(await store.readEvents(0, 10), []);
    database.close();
  });

  it('never hands out a log position twice, even after prune empties the log', async () => {
    const database = openSqliteDatabase(freshFile());
    const store = createSqliteStore({ database });
    assert.equal((await store.liveEvents(T0)).position, 0);
    const early = createTokenRevocation({ jti: randomId(), exp: T0 + 10, at: T0 }, {});
    await store.appendEvents([early]);
    const { position } = await store.liveEvents(T0);
    assert.equal(position, 1);
    assert.equal((await store.prune(T0 + 100, 0)).events, 1);
    assert.deepEqual(await store.liveEvents(T0 + 100), { events: [], position });
    const late = createTokenRevocation({ jti: randomId(), exp: T0 + 1000, at: T0 + 100 }, {});
    await store.appendEvents([late, early]);
    const read = await store.readEvents(0, 10);
    assert.equal(read.length, 2);
    assert.ok(read.every((stored) => stored.seq > position));
    database.close();
  });

  it('reads while another connection holds the write lock, without seeing its writes', async () => {
    const file = freshFile();
    const database = openSqliteDatabase(file);
    const store = createSqliteStore({ database });
    const session = makeSession();
    await createIn(store, session);
    const writer = openSqliteDatabase(file);
    writer.exec('BEGIN IMMEDIATE');
    writer.prepare("UPDATE revocable_sessions SET device = 'uncommitted'").run();
    assert.equal((await store.getSession(session.sid))?.device, 'Pixel 8');
    assert.equal((await store.listSessions(session.sub)).length, 1);
    writer.exec('ROLLBACK');
    writer.close();
    database.close();
  });

  it('fails a write held up past the busy timeout with ERR_STORE_UNAVAILABLE, writing nothing', async () => {
    const file = freshFile();
    const database = openSqliteDatabase(file, { busyTimeoutMs: 50 });
    const store = createSqliteStore({ database });
    const session = makeSession();
    await createIn(store, session);
    const writer = openSqliteDatabase(file);
    writer.exec('BEGIN IMMEDIATE');
    await assert.rejects(
      store.rotateRefresh(session.sid, session.refreshHash, 0, makeRotation(session)),
      (error: unknown) =>
        isRevocableError(error, 'ERR_STORE_UNAVAILABLE') &&
        (error.cause as { code?: unknown }).code === 'SQLITE_BUSY' &&
        /database is locked/.test(error.message),
    );
    writer.exec('ROLLBACK');
    writer.close();
    assert.equal((await store.getSession(session.sid))?.refreshHash, session.refreshHash);
    database.close();
  });
});
