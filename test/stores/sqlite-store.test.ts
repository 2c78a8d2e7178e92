import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  createSqliteStore,
  migrateSqliteStore,
  openSqliteDatabase,
} from '../../src/stores/sqlite/index.js';
import { describeSessionSuite } from '../sessions/session-suite.js';
import { describeStoreContract, makeSession } from './contract.js';

const directory = mkdtempSync(join(tmpdir(), 'revocable-sqlite-'));
after(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
function freshFile(): string {
  files += 1;
  return join(directory, `store-${files}.db`);
}

describeStoreContract('sqlite', async () => {
  const database = openSqliteDatabase(freshFile());
  return { store: createSqliteStore({ database }), teardown: async () => void database.close() };
});

describeSessionSuite('the sqlite store', async () => {
  const database = openSqliteDatabase(freshFile());
  return { store: createSqliteStore({ database }), teardown: async () => void database.close() };
});

describe('sqlite store specifics', () => {
  it('migrates once, records the version, and keeps data across reopening the file', async () => {
    const file = freshFile();
    const first = openSqliteDatabase(file);
    assert.equal(first.pragma('journal_mode', { simple: true }), 'wal');
    const store = createSqliteStore({ database: first });
    assert.equal(migrateSqliteStore(first), 1);
    const session = makeSession();
    await store.createSession(session);
    await store.close();
    assert.ok(first.open, 'the store does not close the database it was given');
    first.close();
    const second = openSqliteDatabase(file);
    const reopened = createSqliteStore({ database: second });
    assert.equal((await reopened.getSession(session.sid))?.refreshHash, session.refreshHash);
    second.close();
  });

  it('keeps stores with different table prefixes apart, and refuses unsafe prefixes', async () => {
    const database = openSqliteDatabase(freshFile());
    const a = createSqliteStore({ database, tablePrefix: 'a_' });
    const b = createSqliteStore({ database, tablePrefix: 'b_' });
    const session = makeSession();
    await a.createSession(session);
    assert.equal(await b.getSession(session.sid), null);
    assert.throws(
      () => createSqliteStore({ database, tablePrefix: 'x; DROP TABLE a_sessions' }),
      /tablePrefix/,
    );
    database.close();
  });

  it('lets exactly one of two processes rotate the same refresh token', async () => {
    const file = freshFile();
    const database = openSqliteDatabase(file);
    const store = createSqliteStore({ database });
    const session = makeSession();
    await store.createSession(session);
    const worker = join(dirname(fileURLToPath(import.meta.url)), 'sqlite-race-worker.js');
    const startAt = Date.now() + 500;
    const runs = [0, 1].map(
      () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, [
            worker,
            file,
            session.sid,
            session.refreshHash,
            String(startAt),
          ]);
          let output = '';
          child.stdout.on('data', (chunk: Buffer) => {
            output += chunk.toString();
          });
          child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
          child.on('error', reject);
          child.on('exit', (code) =>
            code === 0 ? resolve(output) : reject(new Error(`worker exited ${code}`)),
          );
        }),
    );
    const outcomes = (await Promise.all(runs)).flatMap((text) => JSON.parse(text) as string[]);
    assert.equal(outcomes.length, 50);
    assert.equal(outcomes.filter((status) => status === 'rotated').length, 1);
    assert.ok(outcomes.every((status) => status === 'rotated' || status === 'stale'));
    assert.notEqual((await store.getSession(session.sid))?.refreshHash, session.refreshHash);
    database.close();
  });
});
