/**
 * The server's users: records and their stores (SQLite, PostgreSQL), password hashing and
 * policies, the login throttle (memory, Redis, PostgreSQL), and the accounts that put them
 * together.
 *
 * @example
 * ```ts
 * const accounts = createAccounts({
 *   users: createSqliteUserStore({ database }),
 *   throttle: createMemoryLoginThrottle(),
 * });
 * ```
 * @module
 */
export {
  type Accounts,
  type AccountsOptions,
  createAccounts,
  type EnsureAdminResult,
} from './accounts.js';
export { ADMIN_ROLE } from './ensure-admin.js';
export { LoginThrottledError } from './login-throttled-error.js';
export { normalizePassword } from './normalize.js';
export {
  ARGON2_PARAMETERS,
  ARGON2_PASSWORDS,
  createDummyHash,
  dummyPasswordHash,
  hashPassword,
  type PasswordHasher,
  verifyPassword,
} from './passwords.js';
export {
  checkPassword,
  checkRoles,
  checkUsername,
  isUsername,
  MAX_PASSWORD_LENGTH,
  MAX_ROLES,
  MAX_USERNAME_LENGTH,
  MIN_PASSWORD_LENGTH,
} from './policy.js';
export {
  type MigratePostgresUserStoreOptions,
  migratePostgresUserStore,
  POSTGRES_USERS_SCHEMA_VERSION,
} from './postgres/migrate.js';
export { createPostgresUserStore, type PostgresUserStoreOptions } from './postgres/user-store.js';
export {
  type MigrateSqliteUserStoreOptions,
  migrateSqliteUserStore,
} from './sqlite/migrate.js';
export { SQLITE_USERS_SCHEMA_VERSION } from './sqlite/schema.js';
export { createSqliteUserStore, type SqliteUserStoreOptions } from './sqlite/user-store.js';
export {
  createMemoryLoginThrottle,
  type MemoryLoginThrottleOptions,
} from './throttle/memory-throttle.js';
export {
  type MigratePostgresLoginThrottleOptions,
  migratePostgresLoginThrottle,
} from './throttle/postgres-migrate.js';
export {
  createPostgresLoginThrottle,
  type PostgresLoginThrottleOptions,
} from './throttle/postgres-throttle.js';
export {
  createRedisLoginThrottle,
  type RedisLoginThrottleOptions,
} from './throttle/redis-throttle.js';
export type { LoginThrottle, LoginThrottleOptions } from './throttle/types.js';
export type { CreateUserOutcome, UserRecord, UserStore } from './types.js';
export { newUserId } from './user-id.js';
