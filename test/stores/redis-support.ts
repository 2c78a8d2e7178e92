// What the Redis test files share: one connection to the shared server, key prefixes of their own
// (removed afterwards with SCAN + UNLINK: other suites share this server, so nothing here flushes
// it), and private redis-server processes for what must change server configuration.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createRedisStore, type RedisStoreOptions } from '../../src/stores/redis/index.js';
import type { Store } from '../../src/stores/types.js';
import { REDIS_URL, serviceMissing } from '../support/services.js';

/** The connection to the shared Redis, and why the suite is skipped (null: it is reachable). */
export interface SharedRedis {
  client: Redis;
  missing: string | null;
}

/** Connects to the shared Redis; outside CI, an unreachable server makes `missing` say why. */
export async function connectSharedRedis(): Promise<SharedRedis> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  // ioredis reports a refused connection as 'Connection is closed.'; the socket error says why.
  let socketError: unknown;
  client.on('error', (error: unknown) => {
    socketError ??= error;
  });
  try {
    await client.connect();
    await client.ping();
    return { client, missing: null };
  } catch (error) {
    client.disconnect();
    return { client, missing: serviceMissing('Redis', socketError ?? error) }; // throws when CI=true
  }
}

/** Prefixes handed out to one test file, and their removal. */
export function prefixesOn(client: Redis) {
  const prefixes = new Set<string>();
  async function keysOf(prefix: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return found;
  }
  async function dropPrefix(prefix: string): Promise<void> {
    const keys = await keysOf(prefix);
    for (let i = 0; i < keys.length; i += 500) await client.unlink(...keys.slice(i, i + 500));
    prefixes.delete(prefix);
  }
  function freshPrefix(tagged = false): string {
    const id = randomBytes(6).toString('hex');
    const prefix = tagged ? `{revocable-test-${id}}:` : `revocable-test:${id}:`;
    prefixes.add(prefix);
    return prefix;
  }
  function freshStore(options: Partial<RedisStoreOptions> = {}): { store: Store; prefix: string } {
    const prefix = options.prefix ?? freshPrefix();
    prefixes.add(prefix);
    return { store: createRedisStore({ client, ...options, prefix }), prefix };
  }
  return {
    keysOf,
    dropPrefix,
    freshPrefix,
    freshStore,
    async dropAll(): Promise<void> {
      for (const prefix of [...prefixes]) await dropPrefix(prefix);
    },
  };
}

/** A free TCP port on the loopback interface (free when asked; taken by whoever binds it first). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A redis-server of a test's own, which it may reconfigure at will. */
export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` on a free port, without persistence (`--save ''`, `--appendonly no`), with
 * extra command-line `settings` (`['--maxmemory-policy', 'allkeys-lru']`); null when no
 * redis-server can be started here.
 */
export async function startPrivateRedis(settings: readonly string[]): Promise<PrivateRedis | null> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        tmpdir(),
        ...settings,
      ],
      { stdio: 'ignore' },
    );
  } catch {
    return null;
  }
  const spawned = await Promise.race([
    once(child, 'spawn').then(() => true),
    once(child, 'error').then(() => false),
  ]);
  if (!spawned) return null;
  const exited = once(child, 'exit');
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: null });
  probe.on('error', () => {});
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await probe.connect();
        await probe.ping();
        return { url, stop };
      } catch (error) {
        probe.disconnect();
        if (attempt >= 50 || child.exitCode !== null) throw error;
        await sleep(100);
      }
    }
  } catch {
    await stop();
    return null;
  } finally {
    probe.disconnect();
  }
}
