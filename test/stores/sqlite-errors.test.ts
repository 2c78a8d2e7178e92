// What a caller of the SQLite store meets when the driver is missing, the file cannot be opened,
// the tables are not revocable's, or the driver fails mid-call.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isRevocableError } from '../../src/errors/index.js';
import { createSqliteStore } from '../../src/stores/sqlite/index.js';
import { createIn, expectCode, makeSession } from './contract.js';
import { openSqliteDatabase } from './sqlite-support.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const directory = mkdtempSync(join(tmpdir(), 'revocable-sqlite-errors-'));
after(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
function freshFile(): string {
  files += 1;
  return join(directory, `${files}.db`);
}

describe('revocable/sqlite without better-sqlite3', () => {
  it('imports, and openSqliteDatabase says which packages to install', { timeout: 30_000 }, () => {
    // An application folder whose node_modules holds revocable (its built code, by symlink) and
    // nothing else, and no node_modules above it that has better-sqlite3. --preserve-symlinks
    // makes Node.js resolve from the symlink's place, not from this repository.
    const app = mkdtempSync(join(tmpdir(), 'revocable-no-driver-'));
    try {
      for (let dir = dirname(app); dir !== dirname(dir); dir = dirname(dir)) {
        assert.ok(
          !existsSync(join(dir, 'node_modules', 'better-sqlite3')),
          `${dir} has the driver`,
        );
      }
      const installed = join(app, 'node_modules', 'revocable');
      mkdirSync(installed, { recursive: true });
      symlinkSync(join(root, 'dist'), join(installed, 'dist'));
      symlinkSync(join(root, 'package.json'), join(installed, 'package.json'));
      writeFileSync(
        join(app, 'main.mjs'),
        `import { createSqliteStore, openSqliteDatabase } from 'revocable/sqlite';
         import { RevocableError } from 'revocable/errors';
         const imported = typeof createSqliteStore === 'function';
         try {
           openSqliteDatabase('app.db');
           console.log(JSON.stringify({ imported, opened: true }));
         } catch (error) {
           console.log(JSON.stringify({
             imported,
             revocable: error instanceof RevocableError,
             code: error.code,
             message: error.message,
           }));
         }`,
      );
      const env = { ...process.env };
      delete env.NODE_PATH;
      const child = spawnSync(process.execPath, ['--preserve-symlinks', 'main.mjs'], {
        cwd: app,
        encoding: 'utf8',
        env,
      });
      assert.equal(child.status, 0, child.stderr);
      const result = JSON.parse(child.stdout) as Record<string, unknown>;
      assert.equal(result.imported, true);
      assert.equal(result.revocable, true, child.stdout);
      assert.equal(result.code, 'ERR_DRIVER_MISSING');
      assert.match(String(result.message), /npm install better-sqlite3/);
      assert.match(String(result.message), /npm install -D @types\/better-sqlite3/);
      assert.doesNotMatch(String(result.message), /\n/);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});

describe('sqlite files that cannot be used', () => {
  it('says which path could not be opened, and why', () => {
    const path = join(directory, 'no-such-directory', 'app.db');
    assert.throws(
      () => openSqliteDatabase(path),
      (error: unknown) => {
        assert.ok(isRevocableError(error, 'ERR_STORE_UNAVAILABLE'), String(error));
        assert.ok(error.message.includes(JSON.stringify(path)), error.message);
        assert.match(error.message, /directory does not exist/);
        assert.ok(error.cause instanceof Error);
        return true;
      },
    );
  });

  it('refuses a file that is not a database', () => {
    const path = freshFile();
    writeFileSync(
      path,
      'this is a text file, not a database, and long enough to have a header'.repeat(20),
    );
    assert.throws(
      () => openSqliteDatabase(path),
      (error: unknown) => {
        assert.ok(isRevocableError(error, 'ERR_STORE_UNAVAILABLE'), String(error));
        assert.match(error.message, /not a database/);
        return true;
      },
    );
  });

  it('refuses tables of the same names that are not revocable’s', () => {
    const database = openSqliteDatabase(freshFile());
    database.exec('CREATE TABLE revocable_sessions (id INTEGER)');
    assert.throws(
      () => createSqliteStore({ database }),
      (error: unknown) => {
        expectCode('ERR_STORE_SCHEMA')(error);
        assert.match((error as Error).message, /another tablePrefix/);
        return true;
      },
    );
    createSqliteStore({ database, tablePrefix: 'other_' });
    database.close();
  });
});

describe('sqlite driver failures during calls', () => {
  it('reports a write that waits past the busy timeout as ERR_STORE_UNAVAILABLE, on every write', async () => {
    const file = freshFile();
    const database = openSqliteDatabase(file, { busyTimeoutMs: 20 });
    const store = createSqliteStore({ database });
    const session = makeSession();
    await createIn(store, session);
    const writer = openSqliteDatabase(file);
    writer.exec('BEGIN IMMEDIATE');
    try {
      const busy = (error: unknown): boolean => {
        assert.ok(isRevocableError(error, 'ERR_STORE_UNAVAILABLE'), String(error));
        assert.equal((error.cause as { code?: unknown }).code, 'SQLITE_BUSY');
        return true;
      };
      await assert.rejects(createIn(store, makeSession()), busy);
      await assert.rejects(store.revokeSessions([session.sid], 1_900_000_000, 'logout', []), busy);
      await assert.rejects(store.setBanned(session.sub, true, 1_900_000_000), busy);
      await assert.rejects(store.revokeAll(1_900_000_000, []), busy);
      // Reads do not wait for the writer (WAL).
      assert.equal((await store.getSession(session.sid))?.revokedAt, null);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
    database.close();
  });

  it('reports a database closed under the store as ERR_STORE_UNAVAILABLE', async () => {
    const database = openSqliteDatabase(freshFile());
    const store = createSqliteStore({ database });
    database.close();
    await assert.rejects(store.getSubject('alice'), expectCode('ERR_STORE_UNAVAILABLE'));
    // Bad input is still refused as such, before the driver is reached.
    await assert.rejects(store.getSubject(''), expectCode('ERR_INVALID_ARGUMENT'));
  });
});
