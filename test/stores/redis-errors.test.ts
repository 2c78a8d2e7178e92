// What a caller of the Redis store meets when Redis is not what the store expects: a wrong URL or
// password, a database number the server lacks, a server that stops mid-use, keys under the prefix
// that are not revocable's. Faults that change or stop a server use private redis-servers.
import assert from 'node:assert/strict';
import { after, describe, it, mock } from 'node:test';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { isRevocableError } from '../../src/errors/index.js';
import { connectRedis, createRedisStore } from '../../src/stores/redis/index.js';
import { REDIS_URL } from '../support/services.js';
import { createIn, expectCode, makeSession } from './contract.js';
import { connectSharedRedis, freePort, prefixesOn, startPrivateRedis } from './redis-support.js';

const shared = await connectSharedRedis();
const prefixes = prefixesOn(shared.client);
after(async () => {
  if (shared.missing === null) await prefixes.dropAll();
  shared.client.disconnect();
});

/** ERR_STORE_UNAVAILABLE, one line, naming `parts` and never the password. */
function unavailable(...parts: RegExp[]) {
  return (error: unknown): boolean => {
    assert.ok(isRevocableError(error, 'ERR_STORE_UNAVAILABLE'), String(error));
    assert.doesNotMatch(error.message, /\n/);
    assert.doesNotMatch(error.message, /hunter2/);
    // Nor in the cause as a log would print it (ioredis attaches AUTH's arguments to its error).
    assert.doesNotMatch(inspect(error, { depth: 10 }), /hunter2/);
    for (const part of parts) assert.match(error.message, part);
    return true;
  };
}

describe('connectRedis', () => {
  it('returns a checked client the store uses', async (t) => {
    if (shared.missing !== null) return t.skip(shared.missing);
    const client = await connectRedis(REDIS_URL);
    try {
      const prefix = prefixes.freshPrefix();
      const store = createRedisStore({ client, prefix });
      assert.equal((await createIn(store, makeSession())).created, true);
    } finally {
      client.disconnect();
    }
  });

  it('says which host and port refused the connection, and stops retrying', async () => {
    const port = await freePort();
    await assert.rejects(
      connectRedis(`redis://:hunter2@127.0.0.1:${port}`),
      unavailable(new RegExp(`127\\.0\\.0\\.1:${port}`), /connection refused/),
    );
  });

  it('refuses what is not a redis:// URL without echoing it', async () => {
    await assert.rejects(
      connectRedis('redis//:hunter2@cache.example:6379'),
      unavailable(/not a Redis URL/, /no scheme/),
    );
    await assert.rejects(
      connectRedis('http://:hunter2@cache.example:6379'),
      unavailable(/not a Redis URL/, /"http:"/),
    );
    await assert.rejects(connectRedis(''), expectCode('ERR_INVALID_ARGUMENT'));
  });

  it('says the password was refused, or missing, and that the database does not exist', async (t) => {
    const server = await startPrivateRedis([]);
    if (server === null) return t.skip('redis-server cannot be started here');
    try {
      const admin = new Redis(server.url);
      await admin.config('SET', 'requirepass', 'right-password');
      admin.disconnect();
      const port = new URL(server.url).port;
      await assert.rejects(
        connectRedis(`redis://:hunter2@127.0.0.1:${port}`),
        unavailable(new RegExp(`127\\.0\\.0\\.1:${port}, database 0`), /WRONGPASS/),
      );
      await assert.rejects(connectRedis(`redis://127.0.0.1:${port}`), unavailable(/NOAUTH/));
      // ioredis alone would go on in database 0 after the failed SELECT.
      await assert.rejects(
        connectRedis(`redis://:right-password@127.0.0.1:${port}/99`),
        unavailable(/database 99/, /DB index is out of range/),
      );
      const client = await connectRedis(`redis://:right-password@127.0.0.1:${port}/3`);
      assert.equal(await client.ping(), 'PONG');
      client.disconnect();
    } finally {
      await server.stop();
    }
  });
});

describe('a Redis outage after connectRedis', () => {
  it('is one warning, not an unhandled error event per reconnection attempt', async (t) => {
    const server = await startPrivateRedis([]);
    if (server === null) return t.skip('redis-server cannot be started here');
    const client = await connectRedis(server.url, {
      clientOptions: { retryStrategy: () => 50, maxRetriesPerRequest: 0 },
    });
    const warned = mock.method(process, 'emitWarning', () => {});
    try {
      await server.stop();
      // Some twenty reconnection attempts, each an error event.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const calls = warned.mock.calls.map(
        (call) => call.arguments as unknown as [string, { code: string }],
      );
      assert.equal(calls.length, 1, calls.map(([message]) => message).join('\n'));
      assert.equal(calls[0]?.[1].code, 'REVOCABLE_REDIS_UNAVAILABLE');
      assert.match(calls[0]?.[0] ?? '', /^revocable: Redis at 127\.0\.0\.1:\d+.*reconnecting\.$/);
    } finally {
      warned.mock.restore();
      client.disconnect();
      await server.stop();
    }
  });
});

describe('redis driver failures during calls', () => {
  it('reports a server that stopped as ERR_STORE_UNAVAILABLE with the ioredis error', async (t) => {
    const server = await startPrivateRedis([]);
    if (server === null) return t.skip('redis-server cannot be started here');
    // Fail at once rather than after ioredis's retries, which would outlast the test.
    const client = await connectRedis(server.url, {
      clientOptions: { maxRetriesPerRequest: 0, enableOfflineQueue: false },
    });
    client.on('error', () => {});
    try {
      const store = createRedisStore({ client, prefix: 'revocable-down:' });
      const session = makeSession();
      await createIn(store, session);
      await server.stop();
      for (const call of [
        () => store.getSession(session.sid),
        () => store.revokeSessions([session.sid], 1_900_000_000, 'logout', []),
      ]) {
        await assert.rejects(call(), (error: unknown) => {
          unavailable(/Redis store failed/)(error);
          assert.ok((error as Error).cause instanceof Error);
          return true;
        });
      }
    } finally {
      client.disconnect();
      await server.stop();
    }
  });

  it('reports keys of the wrong type under the prefix as ERR_STORE_SCHEMA', async (t) => {
    if (shared.missing !== null) return t.skip(shared.missing);
    const prefix = prefixes.freshPrefix();
    await shared.client.hset(`${prefix}layout`, 'not', 'ours');
    const store = createRedisStore({ client: shared.client, prefix });
    await assert.rejects(store.getSubject('alice'), (error: unknown) => {
      expectCode('ERR_STORE_SCHEMA')(error);
      assert.match((error as Error).message, /prefix of its own/);
      return true;
    });
  });
});
