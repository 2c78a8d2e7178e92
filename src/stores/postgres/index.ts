/**
 * The PostgreSQL store (`revocable/postgres`) on pg 8: for several processes or machines sharing
 * one database. This subpath is the only one that needs pg, and it loads pg only in
 * {@link connectPostgres}; its declarations describe the pool structurally
 * ({@link PostgresPool}), so they need no `@types/pg`.
 *
 * Migrations are explicit: {@link migratePostgresStore} creates or upgrades the tables
 * (versioned, idempotent, safe when several processes run it at once); run it before
 * {@link createPostgresStore} is used.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { createPostgresStore, migratePostgresStore } from 'revocable/postgres';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migratePostgresStore(pool);
 * const store = createPostgresStore({ client: pool });
 * ```
 *
 * The same subpath carries PostgreSQL's revocation bus ({@link createPostgresTransport} and
 * {@link createPostgresPublisher}, for `createLogFollower` of `revocable/sync` and the session
 * manager's `publisher`), so that `revocable/sync` stays free of any driver.
 * @module
 */

export {
  createPostgresPublisher,
  type PostgresPublisherOptions,
} from '../../sync/postgres-publisher.js';
export {
  createPostgresTransport,
  type PostgresTransportOptions,
} from '../../sync/postgres-transport.js';
export { type ConnectPostgresOptions, connectPostgres } from './connect.js';
export type {
  ConnectedPostgresPool,
  PostgresPool,
  PostgresPoolClient,
  PostgresQueryResult,
} from './driver-types.js';
export {
  createPostgresKeyRingStore,
  type MigratePostgresKeyRingStoreOptions,
  migratePostgresKeyRingStore,
  POSTGRES_KEY_RING_SCHEMA_VERSION,
  type PostgresKeyRingStoreOptions,
} from './key-ring-store.js';
export { type MigratePostgresStoreOptions, migratePostgresStore } from './migrate.js';
export { createPostgresStore, type PostgresStoreOptions } from './postgres-store.js';
export { POSTGRES_SCHEMA_VERSION } from './schema.js';
