import { assertEpochSeconds } from '../../../stores/internal/validate.js';
import {
  checkPool,
  constraintOf,
  runStatement,
  sqlState,
} from '../../../stores/postgres/database.js';
import type { PostgresPool } from '../../../stores/postgres/driver-types.js';
import { isSchemaState } from '../../../stores/postgres/version.js';
import { notMigrated } from '../internal/postgres-migrate.js';
import { type ServerTableNames, serverTableNames } from '../internal/postgres-names.js';
import {
  assertPasswordHash,
  assertStoredRoles,
  assertStoredUsername,
  assertUserId,
  assertUserRecord,
  idTaken,
  usernameKey,
} from '../internal/record.js';
import { recordFromColumns, type UserColumns } from '../internal/rows.js';
import { translateStoreFailures } from '../internal/translate.js';
import type { UserRecord, UserStore } from '../types.js';
import { usersComponent } from './migrate.js';

/** Options for {@link createPostgresUserStore}. */
export interface PostgresUserStoreOptions {
  /** A `pg` Pool the application created; the store never ends it. */
  client: PostgresPool;
  /** The schema of the table (default `revocable`): lowercase letters, digits and underscores. */
  schema?: string;
  /** Prefix of the table names (default `revocable_`). */
  tablePrefix?: string;
}

const BACKEND = 'The PostgreSQL user store';
const COLUMNS = 'id, username, password_hash, roles, created_at, password_changed_at';

function fromRows(rows: UserColumns[]): UserRecord | null {
  const row = rows[0];
  return row === undefined ? null : recordFromColumns(row, BACKEND);
}

/**
 * Users in PostgreSQL through `pg`, in `<schema>.<prefix>users`, for several processes or
 * machines. Every method is one statement (one round trip, atomic): `create` is an
 * `INSERT ... ON CONFLICT (username_key) DO NOTHING`, so of two processes creating the same name
 * (in any case) at once exactly one gets `created`.
 *
 * The store does not create its table: run {@link migratePostgresUserStore} first with the same
 * `schema` and `tablePrefix`; a call that meets a missing table fails with `ERR_STORE_SCHEMA`,
 * naming the migration. Driver failures arrive as `ERR_STORE_UNAVAILABLE` with the driver error
 * as cause. `close()` leaves the pool open: it belongs to the application.
 *
 * @example
 * ```ts
 * await migratePostgresUserStore(pool);
 * const users = createPostgresUserStore({ client: pool });
 * const alice = await users.byUsername('alice');
 * ```
 */
export function createPostgresUserStore(options: PostgresUserStoreOptions): UserStore {
  const names = serverTableNames(options);
  const pool = options.client;
  checkPool(pool);
  const component = usersComponent(names);
  const store = postgresUserStore(pool, names);
  // Tables missing or of another shape become a message naming the migration to run.
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(store)) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await (method as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (error) {
        throw isSchemaState(error) ? notMigrated(names, component, error) : error;
      }
    };
  }
  return translateStoreFailures(BACKEND, wrapped as unknown as UserStore);
}

function postgresUserStore(pool: PostgresPool, names: ServerTableNames): UserStore {
  const { users } = names;
  const run = <R extends object>(text: string, values: readonly unknown[]) =>
    runStatement<R>(pool, text, values);
  return {
    async create(user) {
      assertUserRecord(user);
      try {
        const { rowCount } = await run(
          `INSERT INTO ${users} (id, username, username_key, password_hash, roles, created_at,
             password_changed_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (username_key) DO NOTHING`,
          [
            user.id,
            user.username,
            usernameKey(user.username),
            user.passwordHash,
            [...user.roles],
            user.createdAt,
            user.passwordChangedAt,
          ],
        );
        return rowCount === 1 ? 'created' : 'taken';
      } catch (error) {
        if (sqlState(error) === '23505' && constraintOf(error) === names.usersPrimaryKey) {
          throw idTaken();
        }
        throw error;
      }
    },
    async byUsername(username) {
      assertStoredUsername(username);
      const { rows } = await run<UserColumns>(
        `SELECT ${COLUMNS} FROM ${users} WHERE username_key = $1`,
        [usernameKey(username)],
      );
      return fromRows(rows);
    },
    async byId(id) {
      assertUserId(id);
      const { rows } = await run<UserColumns>(`SELECT ${COLUMNS} FROM ${users} WHERE id = $1`, [
        id,
      ]);
      return fromRows(rows);
    },
    async setPassword(id, passwordHash, at) {
      assertUserId(id);
      assertPasswordHash(passwordHash);
      assertEpochSeconds(at, 'at');
      const { rowCount } = await run(
        `UPDATE ${users} SET password_hash = $1, password_changed_at = $2 WHERE id = $3`,
        [passwordHash, at, id],
      );
      return rowCount === 1;
    },
    async setRoles(id, roles) {
      assertUserId(id);
      assertStoredRoles(roles);
      const { rowCount } = await run(`UPDATE ${users} SET roles = $1 WHERE id = $2`, [
        [...roles],
        id,
      ]);
      return rowCount === 1;
    },
    async count() {
      // count(*) is a bigint, which pg returns as a string.
      const { rows } = await run<{ n: unknown }>(`SELECT count(*)::integer AS n FROM ${users}`, []);
      const n = rows[0]?.n;
      return typeof n === 'number' ? n : 0;
    },
    async close() {},
  };
}
