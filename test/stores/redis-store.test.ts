import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { describeSessionSuite } from '../sessions/session-suite.js';
import { REDIS_URL, serviceMissing } from '../support/services.js';
import { describeStoreContract, makeRotation, makeSession } from './contract.js';
import { runRaceWorkers } from './race.js';

const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
let missing: string | null = null;
try {
  await client.connect();
  await client.ping();
} catch (error) {
  missing = serviceMissing('Redis', error);
}
const prefixes: string[] = [];

async function dropPrefix(prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

after(async () => {
  if (missing === null) for (const prefix of prefixes) await dropPrefix(prefix);
  client.disconnect();
});

function freshPrefix(): string {
  const prefix = `revocable-test:${randomBytes(6).toString('hex')}:`;
  prefixes.push(prefix);
  return prefix;
}

if (missing !== null) {
  describe('redis store', () => {
    it('needs Redis', (t) => t.skip(missing ?? ''));
  });
} else {
  describeStoreContract('redis', async () => ({
    store: createRedisStore({ client, prefix: freshPrefix() }),
    teardown: async () => {},
  }));
  describeSessionSuite('the redis store', async () => ({
    store: createRedisStore({ client, prefix: freshPrefix() }),
    teardown: async () => {},
  }));

  describe('redis store specifics', () => {
    it('reads a session in one round trip and rotates in one round trip', async () => {
      const store = createRedisStore({ client, prefix: freshPrefix() });
      const session = makeSession();
      await store.createSession(session);
      await store.getSession(session.sid); // loads the script once
      await store.rotateRefresh(session.sid, 'warm-up', makeRotation(session));
      const sent: string[] = [];
      const original = client.sendCommand.bind(client);
      client.sendCommand = ((command: { name: string }) => {
        sent.push(command.name);
        return original(command as Parameters<typeof original>[0]);
      }) as typeof client.sendCommand;
      try {
        await store.getSession(session.sid);
        assert.deepEqual(sent, ['evalsha']);
        sent.length = 0;
        assert.equal(
          (await store.rotateRefresh(session.sid, session.refreshHash, makeRotation(session)))
            .status,
          'rotated',
        );
        assert.deepEqual(sent, ['evalsha']);
      } finally {
        client.sendCommand = original;
      }
    });

    it('recovers when the server has forgotten its scripts', async () => {
      const store = createRedisStore({ client, prefix: freshPrefix() });
      const session = makeSession();
      await store.createSession(session);
      await client.script('FLUSH');
      assert.equal((await store.getSession(session.sid))?.sid, session.sid);
    });

    it('gives session keys an expiry and never quits the client', async () => {
      const prefix = freshPrefix();
      const store = createRedisStore({ client, prefix });
      const session = makeSession({ absoluteExpiresAt: Date.now() / 1000 + 3600 });
      await store.createSession(session);
      const ttl = await client.ttl(`${prefix}s:${session.sid}`);
      assert.ok(ttl > 3600 && ttl <= 3600 + 7 * 86400 + 1, `ttl ${ttl}`);
      await store.close();
      assert.equal(await client.ping(), 'PONG');
    });

    it('lets exactly one of two processes rotate the same refresh token', async () => {
      const prefix = freshPrefix();
      const store = createRedisStore({ client, prefix });
      const session = makeSession();
      await store.createSession(session);
      const outcomes = await runRaceWorkers('redis-race-worker.js', [
        REDIS_URL,
        prefix,
        session.sid,
        session.refreshHash,
      ]);
      assert.equal(outcomes.length, 50);
      assert.equal(outcomes.filter((status) => status === 'rotated').length, 1);
      assert.ok(outcomes.every((status) => status === 'rotated' || status === 'stale'));
    });
  });
}
