import type Database from 'better-sqlite3';
import { RevocableError } from '../../../errors/revocable-error.js';
import { storeUnavailable } from '../../../stores/internal/driver-errors.js';
import { assertEpochSeconds } from '../../../stores/internal/validate.js';
import { checkDatabase, driverDatabase } from '../../../stores/sqlite/database.js';
import type { SqliteDatabase } from '../../../stores/sqlite/driver-types.js';
import {
  assertPasswordHash,
  assertStoredRoles,
  assertStoredUsername,
  assertUserId,
  assertUserRecord,
  idTaken,
  usernameKey,
} from '../internal/record.js';
import { parseRoles, recordFromColumns, type UserColumns } from '../internal/rows.js';
import { translateStoreFailures } from '../internal/translate.js';
import type { CreateUserOutcome, UserRecord, UserStore } from '../types.js';
import { migrateSqliteUserStore } from './migrate.js';
import { DEFAULT_TABLE_PREFIX, type UserTableNames, userTableNames } from './schema.js';

/** Options for {@link createSqliteUserStore}. */
export interface SqliteUserStoreOptions {
  /** A better-sqlite3 database the application opened; the store never closes it. */
  database: SqliteDatabase;
  /** Prefix of the table names (default `revocable_`): letters, digits and underscores. */
  tablePrefix?: string;
}

const BACKEND = 'The SQLite user store';
const COLUMNS = 'id, username, password_hash, roles, created_at, password_changed_at';

interface UserRow {
  id: string;
  username: string;
  username_key: string;
  password_hash: string;
  roles: string;
  created_at: number;
  password_changed_at: number;
}

function fromRow(row: UserColumns | undefined): UserRecord | null {
  if (row === undefined) return null;
  return recordFromColumns({ ...row, roles: parseRoles(row.roles) }, BACKEND);
}

function prepare(database: Database.Database, tables: UserTableNames) {
  const { users } = tables;
  return {
    insert: database.prepare<UserRow, never>(
      `INSERT INTO ${users} (id, username, username_key, password_hash, roles, created_at,
         password_changed_at)
       VALUES (@id, @username, @username_key, @password_hash, @roles, @created_at,
         @password_changed_at)`,
    ),
    keyTaken: database.prepare<[string], { id: string }>(
      `SELECT id FROM ${users} WHERE username_key = ?`,
    ),
    idTaken: database.prepare<[string], { id: string }>(`SELECT id FROM ${users} WHERE id = ?`),
    byKey: database.prepare<[string], UserColumns>(
      `SELECT ${COLUMNS} FROM ${users} WHERE username_key = ?`,
    ),
    byId: database.prepare<[string], UserColumns>(`SELECT ${COLUMNS} FROM ${users} WHERE id = ?`),
    setPassword: database.prepare<[string, number, string], never>(
      `UPDATE ${users} SET password_hash = ?, password_changed_at = ? WHERE id = ?`,
    ),
    setRoles: database.prepare<[string, string], never>(
      `UPDATE ${users} SET roles = ? WHERE id = ?`,
    ),
    count: database.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${users}`),
  };
}

/**
 * Users in SQLite through better-sqlite3, in the table `<prefix>users` of the file the session
 * store uses (or any other). Creating the store migrates its table (see
 * {@link migrateSqliteUserStore}) and prepares every statement once.
 *
 * better-sqlite3 is synchronous; the Promise API is the {@link UserStore}'s, shared with the
 * PostgreSQL store. `create` reads and inserts in one `BEGIN IMMEDIATE` transaction, so writers in
 * this process and in others sharing the file take turns and a name is handed out once; the
 * unique index on the lower-cased name backs that up. Every other method is one statement.
 * Driver failures arrive as `ERR_STORE_UNAVAILABLE` with the driver error as cause. `close()`
 * leaves the database open: it belongs to the application.
 *
 * @example
 * ```ts
 * import { openSqliteDatabase } from 'revocable/sqlite';
 * const database = openSqliteDatabase('/var/lib/app/revocable.db');
 * const users = createSqliteUserStore({ database });
 * await users.byUsername('alice');
 * ```
 */
export function createSqliteUserStore(options: SqliteUserStoreOptions): UserStore {
  const given = options?.database;
  checkDatabase(given);
  const tablePrefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  const tables = userTableNames(tablePrefix);
  migrateSqliteUserStore(given, { tablePrefix });
  try {
    return translateStoreFailures(BACKEND, sqliteUserStore(driverDatabase(given), tables));
  } catch (error) {
    // Preparing failed on a current version row: a table changed by hand.
    if ((error as { code?: unknown } | null)?.code === 'SQLITE_ERROR') {
      throw new RevocableError(
        'ERR_STORE_SCHEMA',
        `The ${tables.users} table does not have the shape of its version (changed by hand?).`,
        { cause: error },
      );
    }
    throw storeUnavailable(BACKEND, error);
  }
}

function sqliteUserStore(database: Database.Database, tables: UserTableNames): UserStore {
  const statements = prepare(database, tables);

  // better-sqlite3 runs it in BEGIN IMMEDIATE ... COMMIT (ROLLBACK if it throws).
  const insert = database.transaction((row: UserRow): CreateUserOutcome | 'id' => {
    if (statements.keyTaken.get(row.username_key) !== undefined) return 'taken';
    if (statements.idTaken.get(row.id) !== undefined) return 'id';
    statements.insert.run(row);
    return 'created';
  });

  return {
    async create(user) {
      assertUserRecord(user);
      const outcome = insert.immediate({
        id: user.id,
        username: user.username,
        username_key: usernameKey(user.username),
        password_hash: user.passwordHash,
        roles: JSON.stringify(user.roles),
        created_at: user.createdAt,
        password_changed_at: user.passwordChangedAt,
      });
      if (outcome === 'id') throw idTaken();
      return outcome;
    },
    async byUsername(username) {
      assertStoredUsername(username);
      return fromRow(statements.byKey.get(usernameKey(username)));
    },
    async byId(id) {
      assertUserId(id);
      return fromRow(statements.byId.get(id));
    },
    async setPassword(id, passwordHash, at) {
      assertUserId(id);
      assertPasswordHash(passwordHash);
      assertEpochSeconds(at, 'at');
      return statements.setPassword.run(passwordHash, at, id).changes === 1;
    },
    async setRoles(id, roles) {
      assertUserId(id);
      assertStoredRoles(roles);
      return statements.setRoles.run(JSON.stringify(roles), id).changes === 1;
    },
    async count() {
      return statements.count.get()?.n ?? 0;
    },
    async close() {},
  };
}
