import type { PostgresPool } from '../../../stores/postgres/driver-types.js';
import type { Component } from '../internal/postgres-migrate.js';
import { migrateComponent } from '../internal/postgres-migrate.js';
import { type ServerTableNames, serverTableNames } from '../internal/postgres-names.js';

/** Options for {@link migratePostgresUserStore}: the same names as the store's. */
export interface MigratePostgresUserStoreOptions {
  /** The schema of the table (default `revocable`), created if missing. */
  schema?: string;
  /** Prefix of the table names (default `revocable_`). */
  tablePrefix?: string;
}

/**
 * The users component: its steps (step `i` takes the tables from version `i` to `i + 1`; a
 * released step is never edited). `username_key` is the username lower-cased in JavaScript (never
 * by `lower()`, whose answer depends on the database's collation) and carries the unique
 * constraint that decides a race between two processes. Times are `double precision` epoch
 * seconds, which keeps a JavaScript number exactly.
 */
export function usersComponent(names: ServerTableNames): Component {
  return {
    name: 'users',
    label: 'user store',
    call: `migratePostgresUserStore(pool, { schema: '${names.schemaName}', tablePrefix: '${names.prefix}' })`,
    steps: [
      `CREATE TABLE ${names.users} (
         id text PRIMARY KEY,
         username text NOT NULL,
         username_key text NOT NULL UNIQUE,
         password_hash text NOT NULL,
         roles text[] NOT NULL,
         created_at double precision NOT NULL,
         password_changed_at double precision NOT NULL
       )`,
    ],
  };
}

/** The version of the user table this code reads and writes. */
export const POSTGRES_USERS_SCHEMA_VERSION = usersComponent(serverTableNames({})).steps.length;

/**
 * Brings the user table to the current version ({@link POSTGRES_USERS_SCHEMA_VERSION}) and
 * returns it. Run it at startup or in a deploy step, before {@link createPostgresUserStore} is
 * used (the store does not migrate by itself, so the everyday role needs no right to create
 * tables).
 *
 * The version is the `users` row of `<prefix>server_schema`. Idempotent: tables already current
 * cost one read and no lock. Otherwise the missing steps run in one transaction under the session
 * store's advisory migration lock for the same schema and prefix, so two processes starting at
 * once take turns and the second finds the work done. Refuses tables newer than this code.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgresUserStore(pool, { schema: 'auth' });
 * const users = createPostgresUserStore({ client: pool, schema: 'auth' });
 * ```
 */
export async function migratePostgresUserStore(
  client: PostgresPool,
  options: MigratePostgresUserStoreOptions = {},
): Promise<number> {
  const names = serverTableNames(options);
  return migrateComponent(client, names, usersComponent(names));
}
