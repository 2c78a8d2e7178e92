import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { withDeadline } from '../../lib/deadline.js';
import type { KeyRingStore } from '../../stores/key-ring-store.js';
import { connectPostgres } from '../../stores/postgres/connect.js';
import type { ConnectedPostgresPool } from '../../stores/postgres/driver-types.js';
import {
  createPostgresKeyRingStore,
  migratePostgresKeyRingStore,
} from '../../stores/postgres/key-ring-store.js';
import { migratePostgresStore } from '../../stores/postgres/migrate.js';
import { createPostgresStore } from '../../stores/postgres/postgres-store.js';
import { connectRedis } from '../../stores/redis/connect.js';
import { createSqliteKeyRingStore } from '../../stores/sqlite/key-ring-store.js';
import { openSqliteDatabase } from '../../stores/sqlite/open-database.js';
import { createSqliteStore } from '../../stores/sqlite/sqlite-store.js';
import type { Store } from '../../stores/types.js';
import { createPostgresPublisher } from '../../sync/postgres-publisher.js';
import { createPostgresTransport } from '../../sync/postgres-transport.js';
import { createRedisPublisher } from '../../sync/redis-publisher.js';
import { createRedisTransport } from '../../sync/redis-transport.js';
import type { RevocationPublisher, SyncTransport } from '../../sync/types.js';
import type { ServerConfig } from '../config/index.js';
import {
  createMemoryLoginThrottle,
  createPostgresLoginThrottle,
  createPostgresUserStore,
  createRedisLoginThrottle,
  createSqliteUserStore,
  type LoginThrottle,
  migratePostgresLoginThrottle,
  migratePostgresUserStore,
  migrateSqliteUserStore,
  type UserStore,
} from '../users/index.js';

/** The database file of a single server, in its data directory. */
export const DATABASE_FILE = 'revocable.db';

/**
 * Where one server keeps its state and how it hears of other processes: the parts that differ
 * between a single server on SQLite and a cluster on PostgreSQL (with Redis as the bus when given).
 */
export interface Backend {
  readonly store: Store;
  readonly keyRingStore: KeyRingStore;
  readonly users: UserStore;
  readonly throttle: LoginThrottle;
  /** The push channel of the follower; none for a single server, which has nobody to hear. */
  readonly transport: SyncTransport | undefined;
  readonly publisher: RevocationPublisher | undefined;
  /** Closes what `openBackend` opened, in reverse order. */
  close(): Promise<void>;
}

/** Opens the single server's SQLite database in its data directory, or the cluster's services. */
export async function openBackend(config: ServerConfig): Promise<Backend> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  return config.databaseUrl === null ? openSqlite(config) : openCluster(config, config.databaseUrl);
}

function openSqlite(config: ServerConfig): Backend {
  const path = join(config.dataDir, DATABASE_FILE);
  const database = openSqliteDatabase(path);
  // Password hashes and session records: for the owner's eyes only, like the keys secret.
  chmodSync(path, 0o600);
  migrateSqliteUserStore(database);
  const store = createSqliteStore({ database });
  const users = createSqliteUserStore({ database });
  const throttle = createMemoryLoginThrottle({
    accountLimit: config.loginAccountLimit,
    addressLimit: config.loginAddressLimit,
    window: config.loginWindow,
  });
  return {
    store,
    keyRingStore: createSqliteKeyRingStore({ database }),
    users,
    throttle,
    transport: undefined,
    publisher: undefined,
    async close() {
      await throttle.close();
      await users.close();
      await store.close();
      database.close();
    },
  };
}

async function openCluster(config: ServerConfig, databaseUrl: string): Promise<Backend> {
  const schema = config.pgSchema;
  const pool: ConnectedPostgresPool = await connectPostgres(databaseUrl);
  let redis: Redis | undefined;
  try {
    // Each migration is idempotent and serialised across processes: a cluster starting all at once
    // migrates once.
    await migratePostgresStore(pool, { schema });
    await migratePostgresKeyRingStore(pool, { schema });
    await migratePostgresUserStore(pool, { schema });
    if (config.redisUrl !== null) redis = await connectRedis(config.redisUrl);
    else await migratePostgresLoginThrottle(pool, { schema });
  } catch (error) {
    redis?.disconnect();
    await pool.end();
    throw error;
  }
  const limits = {
    accountLimit: config.loginAccountLimit,
    addressLimit: config.loginAddressLimit,
    window: config.loginWindow,
  };
  const store = createPostgresStore({ client: pool, schema });
  const users = createPostgresUserStore({ client: pool, schema });
  const prefix = config.redisPrefix;
  const throttle =
    redis === undefined
      ? createPostgresLoginThrottle({ client: pool, schema, ...limits })
      : createRedisLoginThrottle({ client: redis, prefix, ...limits });
  const transport =
    redis === undefined
      ? createPostgresTransport({ pool, channel: busChannel(schema) })
      : createRedisTransport({ client: redis, prefix });
  const publisher =
    redis === undefined
      ? createPostgresPublisher({ pool, channel: busChannel(schema) })
      : createRedisPublisher({ client: redis, prefix });
  return {
    store,
    keyRingStore: createPostgresKeyRingStore({ client: pool, schema }),
    users,
    throttle,
    transport,
    publisher,
    async close() {
      await throttle.close();
      await users.close();
      await store.close();
      if (redis !== undefined) await closeRedis(redis);
      await pool.end();
    },
  };
}

// QUIT waits for Redis to answer it, and ioredis holds a command while it is not connected until
// it is again: during an outage (Redis down, or a connection that stopped answering) a shutdown
// would wait for ever. Disconnected at once when not connected, and after a second otherwise.
async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await withDeadline(redis.quit(), 1, () => new Error('Redis did not answer QUIT.'));
  } catch {
    redis.disconnect();
  }
}

// The PostgreSQL bus channel of a schema: deployments that share a database (each in its own
// schema) must not hear each other. Channels are identifiers of at most 63 bytes.
function busChannel(schema: string): string {
  return `${schema}_revocations`.slice(0, 63);
}
