// A Redis without persistence that restarts empty while followers of its store run: the store's log
// starts again, and a follower still holds its position in the old one. The new log's positions
// must come after it, or the follower would skip every new event below its old position (a logout
// made after the restart, with its push missed, would never reach that process) while each read
// still marked its index fresh. On a redis-server of the test's own, so the shared one is untouched.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRevocationIndex, createSessionRevocation } from '../../src/revocation/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';
import { createLogFollower } from '../../src/sync/index.js';
import { type OwnRedis, startOwnRedis, waitUntil } from './sync-support.js';

const TIMING = { maxAccessTokenLifetime: 600, clockSkew: 5 };
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function ownRedis(t: { skip(reason: string): void }): Promise<OwnRedis | null> {
  const own = await startOwnRedis();
  if (own === null) {
    if (process.env.CI === 'true') throw new Error('redis-server cannot be started here');
    t.skip('redis-server cannot be started here');
    return null;
  }
  cleanups.push(() => own.stop());
  return own;
}

describe('the Redis store through a restart of an empty Redis', () => {
  it('a running follower reads every event of the new log, past its old position', async (t) => {
    const own = await ownRedis(t);
    if (own === null) return;
    const client = new Redis(own.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    cleanups.push(() => client.disconnect());
    const store = createRedisStore({ client, prefix: 'reset-test:' });
    const old = Array.from({ length: 30 }, (_, i) =>
      createSessionRevocation({ sid: `before-${i}` }, TIMING),
    );
    await store.appendEvents(old);
    const index = createRevocationIndex(TIMING);
    // Polling only: what a follower reads is all it gets (no push to make up for a skipped read).
    const follower = createLogFollower({
      store,
      index,
      pollInterval: 0.05,
      maxStaleness: 5,
      onError: () => {},
    });
    await follower.start();
    cleanups.push(() => follower.stop());
    const held = follower.health().position;
    assert.equal(index.check({ sid: 'before-29' }), 'session');

    await own.restart(); // empty: no persistence
    await waitUntil('the client is connected again', async () => {
      try {
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    });
    const logout = createSessionRevocation({ sid: 'after-restart' }, TIMING);
    await store.appendEvents([logout]);
    await waitUntil(
      'the follower reads the event appended after the restart',
      () => index.check({ sid: 'after-restart' }) === 'session',
      5000,
    );
    const [stored] = await store.readEvents(0, 10);
    assert.ok(
      stored !== undefined && stored.seq > held,
      `the new log goes on past the old one's positions (${stored?.seq} after ${held})`,
    );
    assert.equal(follower.health().state, 'fresh');
    // What the index held before stays: the restart lost the log, not this process's memory.
    assert.equal(index.check({ sid: 'before-0' }), 'session');
  });
});
