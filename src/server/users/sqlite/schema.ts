import { tableNames as storeTableNames } from '../../../stores/sqlite/schema.js';

/**
 * The tables of the SQLite user store, and their schema as numbered steps.
 *
 * @example
 * ```ts
 * const tables = userTableNames('revocable_'); // { users: 'revocable_users', ... }
 * ```
 * @module
 */

/** The table prefix when none is given: the session store's, so one file holds both. */
export const DEFAULT_TABLE_PREFIX = 'revocable_';

/** The names of the user store's tables under one prefix. */
export interface UserTableNames {
  /** One row per component of the server (`users`, ...) and the version its tables are at. */
  readonly components: string;
  readonly users: string;
}

/** The component's name in the versions table. */
export const USERS_COMPONENT = 'users';

/**
 * Checks a table prefix (by the session store's rule: it is pasted into SQL, so letters, digits
 * and underscores only, never `sqlite_`) and returns the table names.
 */
export function userTableNames(prefix: unknown): UserTableNames {
  storeTableNames(prefix);
  return { components: `${prefix}server_schema`, users: `${prefix}users` };
}

/**
 * Step `i` takes the tables from version `i` to `i + 1`; a released step is never edited. The
 * username is kept as registered, and `username_key` (lower-cased in JavaScript, see
 * `usernameKey`) carries the unique index, so that `Alice` and `alice` are one name whatever
 * SQLite's own idea of case. Roles are a JSON array; times REAL epoch seconds. STRICT makes SQLite
 * refuse a value of the wrong type instead of storing it as it comes.
 */
export function userMigrationSteps(tables: UserTableNames): readonly string[] {
  return [
    `CREATE TABLE ${tables.users} (
       id TEXT PRIMARY KEY,
       username TEXT NOT NULL,
       username_key TEXT NOT NULL UNIQUE,
       password_hash TEXT NOT NULL,
       roles TEXT NOT NULL,
       created_at REAL NOT NULL,
       password_changed_at REAL NOT NULL
     ) STRICT;`,
  ];
}

/** The version of the user tables this code reads and writes: the number of steps. */
export const SQLITE_USERS_SCHEMA_VERSION = userMigrationSteps(
  userTableNames(DEFAULT_TABLE_PREFIX),
).length;
