// One process of a cluster sharing a key ring: its session store, its key ring store, a shared key
// ring refreshed by a log follower, a session manager and a verifier, on the backend its parent
// names (a JSON WorkerConfig in argv[2]):
//   sqlite: one file, a polling follower;
//   postgres: one schema, a LISTEN/NOTIFY follower and publisher on one channel;
//   redis: one key prefix, a pub/sub follower and publisher on that prefix's channel.
// It answers the test's commands, one JSON line each on stdin, with one JSON line on stdout.
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import pg from 'pg';
import { isRevocableError } from '../../src/errors/index.js';
import {
  createRevocableVerifier,
  createRevocationIndex,
  TokenRevokedError,
} from '../../src/revocation/index.js';
import { createSessionManager } from '../../src/sessions/index.js';
import type { KeyRingStore } from '../../src/stores/key-ring-store.js';
import {
  createPostgresKeyRingStore,
  createPostgresPublisher,
  createPostgresStore,
  createPostgresTransport,
} from '../../src/stores/postgres/index.js';
import {
  createRedisKeyRingStore,
  createRedisPublisher,
  createRedisStore,
  createRedisTransport,
} from '../../src/stores/redis/index.js';
import { createSqliteKeyRingStore, createSqliteStore } from '../../src/stores/sqlite/index.js';
import type { Store } from '../../src/stores/types.js';
import {
  createLogFollower,
  openSharedKeyRing,
  type RevocationPublisher,
  type SyncTransport,
} from '../../src/sync/index.js';
import { openSqliteDatabase } from '../stores/sqlite-support.js';

/** Where the processes of one deployment keep their sessions, log and ring. */
export type BackendConfig =
  | { backend: 'sqlite'; path: string }
  | { backend: 'postgres'; url: string; schema: string; channel: string }
  | { backend: 'redis'; url: string; prefix: string };

/** What the parent gives a worker, as JSON in argv[2]. */
export type WorkerConfig = BackendConfig & { refreshSecret: string; pollInterval: number };

/** One backend's pieces, and how to release what this process opened for them. */
interface Backend {
  store: Store;
  keyRingStore: KeyRingStore;
  transport?: SyncTransport;
  publisher?: RevocationPublisher;
  close(): Promise<void>;
}

function openBackend(config: WorkerConfig): Backend {
  switch (config.backend) {
    case 'sqlite': {
      const database = openSqliteDatabase(config.path);
      return {
        store: createSqliteStore({ database }),
        keyRingStore: createSqliteKeyRingStore({ database }),
        close: async () => {
          database.close();
        },
      };
    }
    case 'postgres': {
      // The parent migrated the schema (a deploy step). The transport keeps one connection of the
      // pool for its LISTEN; the rest serve the stores and the publisher.
      const pool = new pg.Pool({ connectionString: config.url, max: 5 });
      const names = { schema: config.schema };
      // The channel is this test's own: the database is shared with other runs, whose
      // notifications would otherwise reach this index.
      const { channel } = config;
      return {
        store: createPostgresStore({ client: pool, ...names }),
        keyRingStore: createPostgresKeyRingStore({ client: pool, ...names }),
        transport: createPostgresTransport({ pool, channel }),
        publisher: createPostgresPublisher({ pool, channel }),
        close: () => pool.end(),
      };
    }
    case 'redis': {
      // The prefix names the keys and the channel both, so other runs on this Redis never meet it.
      const client = new Redis(config.url, { maxRetriesPerRequest: 2 });
      const { prefix } = config;
      return {
        store: createRedisStore({ client, prefix }),
        keyRingStore: createRedisKeyRingStore({ client, prefix }),
        transport: createRedisTransport({ client, prefix }),
        publisher: createRedisPublisher({ client, prefix }),
        close: async () => {
          await client.quit();
        },
      };
    }
  }
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const backend = openBackend(config);
const { store } = backend;
// The key ring secret comes from the environment, as in production.
const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
const shared = await openSharedKeyRing({ store: backend.keyRingStore, index, alg: 'ES256' });
const follower = createLogFollower({
  store,
  index,
  ...(backend.transport === undefined ? {} : { transport: backend.transport }),
  // A rotation logs no event: other processes see it at their next read of the log, whatever the
  // transport, so reads come often enough for the test to be quick.
  pollInterval: config.pollInterval,
  afterRead: shared.refresh,
});
await follower.start();
const manager = createSessionManager({
  store,
  keys: shared,
  index,
  issuer: 'https://auth.test',
  audience: 'api',
  refreshSecret: config.refreshSecret,
  ...(backend.publisher === undefined ? {} : { publisher: backend.publisher }),
});
const verifier = createRevocableVerifier({
  keys: shared.ring,
  index,
  issuer: 'https://auth.test',
  audience: 'api',
});

interface Command {
  op: 'state' | 'login' | 'verify' | 'rotate' | 'retireKey' | 'exit';
  arg?: string;
}

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'state': {
      let active: string | null = null;
      try {
        active = shared.ring.active.kid;
      } catch {
        // No signer for a moment (a retirement applied before its ring reload).
      }
      const health = follower.health();
      return {
        active,
        revision: shared.revision,
        states: Object.fromEntries(shared.ring.keys().map((key) => [key.kid, key.state])),
        transport: health.transport,
        connected: health.connected,
      };
    }
    case 'login':
      return (await manager.login(`user-${process.pid}`)).accessToken;
    case 'verify':
      try {
        verifier.verify(command.arg ?? '');
        return 'ok';
      } catch (error) {
        // A revocation says which rule refused: the test expects the key's, nothing broader.
        if (error instanceof TokenRevokedError) return `${error.code}:${error.rule}`;
        return isRevocableError(error) ? error.code : String(error);
      }
    case 'rotate':
      return (await shared.rotate()).kid;
    case 'retireKey':
      await manager.retireKey(command.arg ?? '');
      return null;
    case 'exit':
      // Everything this process opened, so that it ends by itself: the parent waits for that.
      await follower.stop();
      shared.close();
      await backend.close();
      return null;
  }
}

const lines = createInterface({ input: process.stdin });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of lines) {
  const command = JSON.parse(line) as Command;
  let reply: unknown;
  try {
    reply = { value: await run(command) };
  } catch (error) {
    reply = { error: isRevocableError(error) ? error.code : String(error) };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
  if (command.op === 'exit') break;
}
lines.close();
