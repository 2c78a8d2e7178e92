import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  createSqliteUserStore,
  migrateSqliteUserStore,
  SQLITE_USERS_SCHEMA_VERSION,
} from '../../../src/server/users/index.js';
import { createSqliteStore } from '../../../src/stores/sqlite/index.js';
import { openSqliteDatabase } from '../../stores/sqlite-support.js';
import { expectCode, sqliteFiles } from './support.js';
import { describeUserStoreContract, makeUser } from './user-store-contract.js';

const files = sqliteFiles();
after(() => files.remove());

describeUserStoreContract('sqlite (two connections to one file)', async () => {
  const path = files.fresh();
  const first = openSqliteDatabase(path);
  const second = openSqliteDatabase(path);
  return {
    stores: [
      createSqliteUserStore({ database: first }),
      createSqliteUserStore({ database: second }),
    ],
    teardown: async () => {
      first.close();
      second.close();
    },
  };
});

describe('sqlite user store', () => {
  it('migrates once, records its version in its own row, and is idempotent', () => {
    const database = openSqliteDatabase(files.fresh());
    try {
      assert.equal(migrateSqliteUserStore(database), SQLITE_USERS_SCHEMA_VERSION);
      assert.equal(migrateSqliteUserStore(database), SQLITE_USERS_SCHEMA_VERSION);
      const rows = database.prepare('SELECT component, version FROM revocable_server_schema').all();
      assert.deepEqual(rows, [{ component: 'users', version: SQLITE_USERS_SCHEMA_VERSION }]);
    } finally {
      database.close();
    }
  });

  it('shares a file with the session store, whose version stays its own', () => {
    const database = openSqliteDatabase(files.fresh());
    try {
      createSqliteStore({ database });
      createSqliteUserStore({ database });
      const tables = database
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        )
        .all()
        .map((row) => row.name);
      for (const name of ['revocable_schema', 'revocable_server_schema', 'revocable_users']) {
        assert.ok(tables.includes(name), name);
      }
      assert.deepEqual(database.prepare('SELECT id, version FROM revocable_schema').all(), [
        { id: 1, version: 1 },
      ]);
    } finally {
      database.close();
    }
  });

  it('keeps users of two prefixes apart', async () => {
    const database = openSqliteDatabase(files.fresh());
    try {
      const one = createSqliteUserStore({ database, tablePrefix: 'one_' });
      const two = createSqliteUserStore({ database, tablePrefix: 'two_' });
      const user = makeUser({ username: 'same' });
      assert.equal(await one.create(user), 'created');
      assert.equal(await two.create({ ...user }), 'created');
      assert.equal(await one.count(), 1);
      assert.equal(await two.count(), 1);
    } finally {
      database.close();
    }
  });

  it('refuses a version newer than it knows, and tables it did not make', () => {
    const database = openSqliteDatabase(files.fresh());
    try {
      migrateSqliteUserStore(database);
      database
        .prepare("UPDATE revocable_server_schema SET version = 99 WHERE component = 'users'")
        .run();
      assert.throws(() => migrateSqliteUserStore(database), expectCode('ERR_STORE_SCHEMA'));
      assert.throws(() => createSqliteUserStore({ database }), expectCode('ERR_STORE_SCHEMA'));
      database.exec('CREATE TABLE other_users (x TEXT)');
      assert.throws(
        () => migrateSqliteUserStore(database, { tablePrefix: 'other_' }),
        expectCode('ERR_STORE_SCHEMA'),
      );
    } finally {
      database.close();
    }
  });

  it('refuses what is not an open database, and a bad prefix', () => {
    const database = openSqliteDatabase(files.fresh());
    database.close();
    const invalid = expectCode('ERR_INVALID_ARGUMENT');
    assert.throws(() => createSqliteUserStore({ database }), invalid);
    assert.throws(() => createSqliteUserStore({ database: {} as never }), invalid);
    const open = openSqliteDatabase(files.fresh());
    try {
      assert.throws(
        () => createSqliteUserStore({ database: open, tablePrefix: 'x; DROP' }),
        invalid,
      );
    } finally {
      open.close();
    }
  });

  it('close() leaves the database open; a database closed under it is ERR_STORE_UNAVAILABLE', async () => {
    const database = openSqliteDatabase(files.fresh());
    const users = createSqliteUserStore({ database });
    await users.close();
    assert.equal(database.open, true);
    assert.equal(await users.count(), 0);
    database.close();
    await assert.rejects(users.count(), expectCode('ERR_STORE_UNAVAILABLE'));
  });

  it('answers ERR_STORE_UNAVAILABLE, with the driver error as cause, when the file is locked', async () => {
    const path = files.fresh();
    const database = openSqliteDatabase(path, { busyTimeoutMs: 0 });
    const locker = openSqliteDatabase(path);
    try {
      const users = createSqliteUserStore({ database });
      locker.exec('BEGIN IMMEDIATE');
      await assert.rejects(users.create(makeUser()), (error: unknown) => {
        expectCode('ERR_STORE_UNAVAILABLE')(error);
        assert.equal((error as { cause?: { code?: unknown } }).cause?.code, 'SQLITE_BUSY');
        return true;
      });
      locker.exec('ROLLBACK');
    } finally {
      locker.close();
      database.close();
    }
  });
});
