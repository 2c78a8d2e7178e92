import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createRedisLoginThrottle } from '../../../src/server/users/index.js';
import { connectSharedRedis, prefixesOn } from '../../stores/redis-support.js';
import { skipIfMissing } from '../../support/services.js';
import { expectCode } from './support.js';
import { describeThrottleContract } from './throttle-contract.js';

const { client, missing } = await connectSharedRedis();
const prefixes = prefixesOn(client);
after(async () => {
  if (missing === null) await prefixes.dropAll();
  client.disconnect();
});

describeThrottleContract('redis', async () => {
  if (missing !== null) return null;
  const prefix = prefixes.freshPrefix();
  return {
    create: (options = {}) => createRedisLoginThrottle({ ...options, client, prefix }),
    elapse: (seconds) => sleep(seconds * 1000),
    exact: false,
    shortWindow: 1,
    shared: true,
    teardown: () => prefixes.dropPrefix(prefix),
  };
});

describe('redis login throttle', () => {
  it('keeps one expiring string per key, named by the prefix, bounded in length', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const prefix = prefixes.freshPrefix();
    const throttle = createRedisLoginThrottle({ client, prefix, window: 300 });
    await throttle.failed('Alice', '2001:db8::7');
    await throttle.failed('y'.repeat(5000), '192.0.2.1');
    const keys = (await prefixes.keysOf(prefix)).sort();
    assert.equal(keys.length, 4);
    assert.ok(keys.includes(`${prefix}throttle:a:alice`));
    assert.ok(keys.includes(`${prefix}throttle:ip:2001:db8:0:0::/64`));
    assert.ok(keys.includes(`${prefix}throttle:ip:192.0.2.1`));
    assert.ok(
      keys.every((key) => key.length <= prefix.length + 80),
      keys.join(' '),
    );
    for (const key of keys) {
      const ttl = await client.ttl(key);
      assert.ok(ttl > 290 && ttl <= 300, `${key}: ${ttl}`);
    }
    await throttle.failed('alice', '192.0.2.1');
    assert.equal(await client.get(`${prefix}throttle:a:alice`), '2');
    assert.ok((await client.ttl(`${prefix}throttle:a:alice`)) <= 300);
  });

  it('refuses a client with a keyPrefix and a bad prefix', (t) => {
    if (skipIfMissing(t, missing)) return;
    const invalid = expectCode('ERR_INVALID_ARGUMENT');
    const prefixed = new Redis({ lazyConnect: true, keyPrefix: 'x:' });
    assert.throws(() => createRedisLoginThrottle({ client: prefixed }), invalid);
    assert.throws(() => createRedisLoginThrottle({ client, prefix: '' }), invalid);
    assert.throws(() => createRedisLoginThrottle({ client: {} as never }), invalid);
    prefixed.disconnect();
  });

  it('a lost server is ERR_STORE_UNAVAILABLE: the login is refused, not let through', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    try {
      const throttle = createRedisLoginThrottle({ client: dead });
      await assert.rejects(
        throttle.blockedFor('a', '192.0.2.1'),
        expectCode('ERR_STORE_UNAVAILABLE'),
      );
    } finally {
      dead.disconnect();
    }
  });

  it('a server that takes commands and never answers is ERR_STORE_UNAVAILABLE after the timeout', async () => {
    // A listener that accepts connections and never writes: a half-open link, a paused proxy.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const stuck = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
    stuck.on('error', () => {});
    try {
      const throttle = createRedisLoginThrottle({ client: stuck, timeout: 0.2 });
      await assert.rejects(
        throttle.blockedFor('a', '192.0.2.1'),
        (error: unknown) =>
          expectCode('ERR_STORE_UNAVAILABLE')(error) &&
          /did not answer within 0\.2 s/.test((error as Error).message),
      );
      await assert.rejects(throttle.failed('a', '192.0.2.1'), expectCode('ERR_STORE_UNAVAILABLE'));
      const invalid = expectCode('ERR_INVALID_ARGUMENT');
      for (const timeout of [0, -1, '2 h', 7200]) {
        assert.throws(() => createRedisLoginThrottle({ client: stuck, timeout }), invalid);
      }
    } finally {
      stuck.disconnect();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('keys holding something else are ERR_STORE_SCHEMA', async (t) => {
    if (skipIfMissing(t, missing)) return;
    const prefix = prefixes.freshPrefix();
    await client.hset(`${prefix}throttle:a:alice`, 'x', '1');
    const throttle = createRedisLoginThrottle({ client, prefix });
    await assert.rejects(throttle.failed('alice', '192.0.2.1'), expectCode('ERR_STORE_SCHEMA'));
    await assert.rejects(throttle.blockedFor('alice', '192.0.2.1'), expectCode('ERR_STORE_SCHEMA'));
  });
});
