/**
 * The PostgreSQL store (`revocable/postgres`), on `pg`.
 *
 * @example
 * ```ts
 * import { createPostgresStore, migratePostgresStore } from 'revocable/postgres';
 * ```
 * @module
 */
export {
  createPostgresStore,
  migratePostgresStore,
  type PostgresStoreOptions,
} from './postgres-store.js';
