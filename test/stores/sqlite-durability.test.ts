import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../src/stores/sqlite/index.js';
import type { Store } from '../../src/stores/types.js';
import {
  createIn,
  expectCode,
  makeRotation,
  makeSession,
  makeSessionEvent,
  T0,
} from './contract.js';
import { openSqliteDatabase } from './sqlite-support.js';

const directory = mkdtempSync(join(tmpdir(), 'revocable-sqlite-durability-'));
after(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
function freshFile(): string {
  files += 1;
  return join(directory, `store-${files}.db`);
}

const NORMAL = 1;
const FULL = 2;
const EXTRA = 3;

/**
 * Records, from inside each write's own transaction, the `synchronous` level the connection had
 * then: SQLite cannot change it inside a transaction, so it is the level the commit runs with.
 */
function probeLevels(database: Database.Database): () => number[] {
  database.exec('CREATE TABLE probe (level INTEGER)');
  const record = 'INSERT INTO probe SELECT synchronous FROM pragma_synchronous';
  for (const table of ['revocable_sessions', 'revocable_subjects', 'revocable_log']) {
    for (const change of ['INSERT', 'UPDATE', 'DELETE']) {
      database.exec(
        `CREATE TRIGGER probe_${table}_${change} AFTER ${change} ON ${table} BEGIN ${record}; END`,
      );
    }
  }
  const read = database.prepare<[], number>('SELECT DISTINCT level FROM probe').pluck();
  const clear = database.prepare('DELETE FROM probe');
  return () => {
    const levels = read.all();
    clear.run();
    return levels;
  };
}

function level(database: Database.Database): number {
  return Number(database.pragma('synchronous', { simple: true }));
}

describe('sqlite durability', () => {
  it('commits what revokes with synchronous FULL, logins and refreshes at the connection level', async () => {
    const database = openSqliteDatabase(freshFile());
    const store: Store = createSqliteStore({ database });
    const levels = probeLevels(database);
    const session = makeSession();
    const other = makeSession();
    const cases: Array<[string, () => Promise<unknown>, number]> = [
      ['login', () => createIn(store, session), NORMAL],
      ['login', () => createIn(store, other), NORMAL],
      [
        'refresh',
        () => store.rotateRefresh(session.sid, session.refreshHash, 0, makeRotation(session)),
        NORMAL,
      ],
      [
        'revokeSessions',
        () => store.revokeSessions([session.sid], T0, 'logout', [makeSessionEvent(session.sid)]),
        FULL,
      ],
      ['appendEvents', () => store.appendEvents([makeSessionEvent(other.sid)]), FULL],
      ['setBanned', () => store.setBanned(other.sub, true, T0), FULL],
      ['setBanned', () => store.setBanned(other.sub, false, T0), FULL],
      ['bumpGeneration', () => store.bumpGeneration(other.sub, { role: 'x' }), FULL],
      ['revokeAll', () => store.revokeAll(T0 + 1, []), FULL],
      ['prune', () => store.prune(T0 + 1_000_000, 0), NORMAL],
    ];
    for (const [name, write, expected] of cases) {
      await write();
      assert.deepEqual(levels(), [expected], name);
      assert.equal(level(database), NORMAL, `${name} puts the connection's level back`);
    }
    database.close();
  });

  it('puts the level back when a revoking commit fails', async () => {
    const database = openSqliteDatabase(freshFile());
    const store = createSqliteStore({ database });
    const event = makeSessionEvent('some-sid');
    await store.appendEvents([event]);
    await assert.rejects(
      store.appendEvents([{ ...event, until: event.until + 1 }]),
      expectCode('ERR_STORE_EVENT_CONFLICT'),
    );
    assert.equal(level(database), NORMAL);
    database.close();
  });

  it('never lowers a level the application raised', async () => {
    const database = openSqliteDatabase(freshFile());
    database.pragma('synchronous = EXTRA');
    const store = createSqliteStore({ database });
    const levels = probeLevels(database);
    const session = makeSession();
    await createIn(store, session);
    await store.revokeSessions([session.sid], T0, 'logout', []);
    assert.deepEqual(levels(), [EXTRA]);
    assert.equal(level(database), EXTRA);
    database.close();
  });

  it("leaves the level alone inside the application's own transaction", async () => {
    const database = openSqliteDatabase(freshFile());
    const store = createSqliteStore({ database });
    const session = makeSession();
    await createIn(store, session);
    // The store's methods run synchronously up to their first await, so the write happens inside.
    let pending: Promise<string[]> | undefined;
    database.transaction(() => {
      pending = store.revokeSessions([session.sid], T0, 'logout', []);
    })();
    assert.deepEqual(await pending, [session.sid]);
    assert.equal(level(database), NORMAL);
    assert.equal((await store.getSession(session.sid))?.revokedAt, T0);
    database.close();
  });

  it('refuses a file database with synchronous OFF, and accepts NORMAL, FULL and EXTRA', () => {
    const database = openSqliteDatabase(freshFile());
    database.pragma('synchronous = OFF');
    assert.throws(() => createSqliteStore({ database }), expectCode('ERR_STORE_UNSAFE'));
    for (const setting of ['NORMAL', 'FULL', 'EXTRA']) {
      database.pragma(`synchronous = ${setting}`);
      assert.doesNotThrow(() => createSqliteStore({ database }));
    }
    database.close();
  });

  it('accepts an in-memory database whatever its level, and calls it not persistent', async () => {
    for (const name of [':memory:', '']) {
      const database = new Database(name);
      database.pragma('synchronous = OFF');
      const store = createSqliteStore({ database });
      assert.equal(store.persistent, false);
      const session = makeSession();
      await createIn(store, session);
      assert.deepEqual(await store.revokeSessions([session.sid], T0, 'logout', []), [session.sid]);
      database.close();
    }
    const file = openSqliteDatabase(freshFile());
    assert.equal(createSqliteStore({ database: file }).persistent, true);
    file.close();
  });
});
