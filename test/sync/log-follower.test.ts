import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../src/errors/index.js';
import {
  createKeyRevocation,
  createRevocationIndex,
  createSessionRevocation,
  createSubjectRevocation,
  createTokenRevocation,
  type RevocationEvent,
} from '../../src/revocation/index.js';
import { createMemoryStore, type Store } from '../../src/stores/index.js';
import {
  createLogFollower,
  type PushedMessage,
  type SyncTransport,
  type TransportHandlers,
} from '../../src/sync/index.js';

const TIMING = { maxAccessTokenLifetime: 600, clockSkew: 5 };

function world(start = 1_900_000_000) {
  const clock = { t: start };
  const now = () => clock.t;
  const index = createRevocationIndex({ ...TIMING, now });
  return { clock, now, index };
}

/** A transport driven by the test: it pushes what the test says, when the test says. */
function manualTransport() {
  let handlers: TransportHandlers | null = null;
  let heartbeats = 0;
  const transport: SyncTransport = {
    kind: 'redis',
    async open(given) {
      handlers = given;
      given.connected();
    },
    async heartbeat() {
      heartbeats++;
      handlers?.message({ type: 'heartbeat' });
    },
    async close() {
      handlers = null;
    },
  };
  return {
    transport,
    push(message: PushedMessage) {
      assert.ok(handlers !== null, 'the transport is open');
      handlers.message(message);
    },
    reconnect() {
      handlers?.disconnected(new Error('connection lost'));
      handlers?.connected();
    },
    heartbeats: () => heartbeats,
  };
}

describe('log follower', () => {
  it('loads the live events at start and marks the index fresh as of that read', async () => {
    const store = createMemoryStore();
    const { index, now } = world();
    await store.appendEvents([
      createSessionRevocation({ sid: 's1', at: now() }, TIMING),
      createSubjectRevocation({ sub: 'u1', gen: 2, at: now() }, TIMING),
    ]);
    const follower = createLogFollower({ store, index, pollInterval: 3600 });
    assert.equal(follower.health().state, 'starting');
    await follower.start();
    assert.equal(index.check({ sid: 's1' }), 'session');
    assert.equal(index.check({ sub: 'u1', sgen: 1, iat: now() }), 'subject');
    const health = follower.health();
    assert.equal(health.state, 'fresh');
    assert.equal(health.position, 2);
    assert.equal(health.transport, 'polling');
    assert.equal(index.freshAt, now());
    await follower.stop();
    assert.equal(follower.health().state, 'stopped');
  });

  it('reads what was appended since, on catchUp, in pages', async () => {
    const store = createMemoryStore();
    const { index, now } = world();
    const follower = createLogFollower({ store, index, pollInterval: 3600, pageSize: 3 });
    await follower.start();
    const events = Array.from({ length: 10 }, (_, i) =>
      createSessionRevocation({ sid: `sid-${i}`, at: now() }, TIMING),
    );
    await store.appendEvents(events);
    await follower.catchUp();
    for (let i = 0; i < 10; i++) assert.equal(index.check({ sid: `sid-${i}` }), 'session');
    assert.equal(follower.health().position, 10);
    assert.equal(follower.health().eventsApplied, 10);
    await follower.stop();
  });

  it('applies pushed events at once, and duplicates or reordering change nothing', async () => {
    const store = createMemoryStore();
    const { index, now } = world();
    const bus = manualTransport();
    const follower = createLogFollower({
      store,
      index,
      transport: bus.transport,
      pollInterval: 3600,
      heartbeatInterval: 3600,
    });
    await follower.start();
    const a = createTokenRevocation({ jti: 'j1', exp: now() + 600, at: now() });
    const b = createSubjectRevocation({ sub: 'u1', gen: 3, at: now() }, TIMING);
    const older = createSubjectRevocation({ sub: 'u1', gen: 2, at: now() - 1 }, TIMING);
    bus.push({ type: 'events', events: [b, a] });
    bus.push({ type: 'events', events: [a, older, b] });
    assert.equal(index.check({ jti: 'j1' }), 'token');
    // The later generation wins whatever the order: a token of generation 2 is dead.
    assert.equal(index.check({ sub: 'u1', sgen: 2, iat: now() }), 'subject');
    assert.equal(index.check({ sub: 'u1', sgen: 3, iat: now() }), null);
    const health = follower.health();
    assert.equal(health.eventsReceived, 5);
    assert.equal(health.eventsApplied, 2);
    assert.equal(health.connected, true);
    await follower.stop();
  });

  it('reads the log after a reconnect and on a poke: a lost message is recovered', async () => {
    const store = createMemoryStore();
    const { index, now } = world();
    const bus = manualTransport();
    const errors: unknown[] = [];
    const follower = createLogFollower({
      store,
      index,
      transport: bus.transport,
      pollInterval: 3600,
      heartbeatInterval: 3600,
      onError: (error) => errors.push(error),
    });
    await follower.start();
    // Appended and never pushed (the publisher died, or the message was lost).
    await store.appendEvents([createSessionRevocation({ sid: 'lost', at: now() }, TIMING)]);
    assert.equal(index.check({ sid: 'lost' }), null);
    bus.reconnect();
    await follower.catchUp();
    assert.equal(index.check({ sid: 'lost' }), 'session');
    assert.equal(follower.health().reconnects, 1);
    assert.match(String(errors[0]), /connection lost/);
    await store.appendEvents([createSessionRevocation({ sid: 'poked', at: now() }, TIMING)]);
    bus.push({ type: 'poke' });
    await follower.catchUp();
    assert.equal(index.check({ sid: 'poked' }), 'session');
    await follower.stop();
  });

  it('polls the log on its own, and marks freshness only by a complete read', async () => {
    const store = createMemoryStore();
    const { index, now, clock } = world();
    const follower = createLogFollower({ store, index, pollInterval: 0.02, maxStaleness: 5 });
    await follower.start();
    await store.appendEvents([createSessionRevocation({ sid: 'polled', at: now() }, TIMING)]);
    await waitFor(() => index.check({ sid: 'polled' }) === 'session');
    const freshAt = index.freshAt;
    clock.t += 10;
    await waitFor(() => index.freshAt !== freshAt);
    assert.equal(index.freshAt, clock.t);
    await follower.stop();
  });

  it('reports stale when the log cannot be read, and fresh again once it can', async () => {
    const store = createMemoryStore();
    const { index, clock } = world();
    let broken = false;
    const failing: Pick<Store, 'liveEvents' | 'readEvents'> = {
      liveEvents: (horizon) => store.liveEvents(horizon),
      async readEvents(after, limit) {
        if (broken) throw new Error('the store is down');
        return store.readEvents(after, limit);
      },
    };
    const errors: unknown[] = [];
    const follower = createLogFollower({
      store: failing,
      index,
      pollInterval: 3600,
      maxStaleness: 5,
      onError: (error) => errors.push(error),
    });
    await follower.start();
    broken = true;
    await assert.rejects(follower.catchUp(), /the store is down/);
    clock.t += 4;
    assert.equal(follower.health().state, 'recovering');
    clock.t += 2;
    const health = follower.health();
    assert.equal(health.state, 'stale');
    assert.equal(health.readFailures, 1);
    assert.match(String(health.lastError), /the store is down/);
    assert.equal(errors.length, 1);
    broken = false;
    await follower.catchUp();
    assert.equal(follower.health().state, 'fresh');
    await follower.stop();
  });

  it('reports recovering after a gap or a reconnect until caught up, and not during a routine read', async () => {
    const store = createMemoryStore();
    const { index, now } = world();
    const bus = manualTransport();
    // Reads after start wait for the test's word, as a slow store's would.
    let hold: Promise<void> | null = null;
    let release = (): void => {};
    const slow: Pick<Store, 'liveEvents' | 'readEvents'> = {
      liveEvents: (horizon) => store.liveEvents(horizon),
      async readEvents(after, limit) {
        if (hold !== null) await hold;
        return store.readEvents(after, limit);
      },
    };
    const follower = createLogFollower({
      store: slow,
      index,
      transport: bus.transport,
      pollInterval: 3600,
      heartbeatInterval: 3600,
      maxStaleness: 5,
      onError: () => {},
    });
    await follower.start();
    await follower.catchUp();
    const holdReads = () => {
      hold = new Promise<void>((resolve) => {
        release = () => {
          hold = null;
          resolve();
        };
      });
    };

    // A routine read in progress (a poll, a poke) is no recovery.
    holdReads();
    const routine = follower.catchUp();
    assert.equal(follower.health().state, 'fresh');
    release();
    await routine;

    // A message that starts past what was applied: a gap, read at once.
    await store.appendEvents([createSessionRevocation({ sid: 'missed', at: now() }, TIMING)]);
    await store.appendEvents([createSessionRevocation({ sid: 'pushed', at: now() }, TIMING)]);
    holdReads();
    bus.push({
      type: 'events',
      position: 2,
      events: [createSessionRevocation({ sid: 'pushed', at: now() }, TIMING)],
    });
    assert.equal(follower.health().state, 'recovering');
    release();
    await follower.catchUp();
    assert.equal(index.check({ sid: 'missed' }), 'session');
    assert.equal(follower.health().state, 'fresh');

    // A reconnection: whatever was published meanwhile is read from the log.
    holdReads();
    bus.reconnect();
    assert.equal(follower.health().state, 'recovering');
    release();
    await follower.catchUp();
    assert.equal(follower.health().state, 'fresh');
    await follower.stop();
  });

  it('stops within a bound when a read of the log never comes back (a stalled store)', async () => {
    const store = createMemoryStore();
    const { index, now } = world();
    let stall = false;
    const stalling: Pick<Store, 'liveEvents' | 'readEvents'> = {
      liveEvents: (horizon) => store.liveEvents(horizon),
      readEvents: (after, limit) =>
        stall ? new Promise<never>(() => {}) : store.readEvents(after, limit),
    };
    const follower = createLogFollower({ store: stalling, index, pollInterval: 3600 });
    await follower.start();
    await store.appendEvents([createSessionRevocation({ sid: 'held', at: now() }, TIMING)]);
    stall = true;
    // A read in flight that will never come back; a routine one, so no recovery is reported.
    void follower.catchUp().catch(() => {});
    assert.equal(follower.health().state, 'fresh');
    const started = Date.now();
    const outcome = await Promise.race([
      follower.stop().then(() => 'stopped'),
      new Promise((resolve) => setTimeout(resolve, 5000, 'still waiting after 5 s')),
    ]);
    assert.equal(outcome, 'stopped');
    assert.ok(Date.now() - started < 3000);
    assert.equal(follower.health().state, 'stopped');
  });

  it('starts from a snapshot file and the events after it, and saves one on stop', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'revocable-follower-'));
    try {
      const file = join(directory, 'index.snapshot');
      const store = createMemoryStore();
      const first = world();
      await store.appendEvents([
        createSessionRevocation({ sid: 'early', at: first.now() }, TIMING),
      ]);
      const one = createLogFollower({
        store,
        index: first.index,
        pollInterval: 3600,
        snapshotFile: file,
      });
      await one.start();
      await one.stop();
      await store.appendEvents([
        createSessionRevocation({ sid: 'later', at: first.now() }, TIMING),
      ]);
      // A store that cannot load live events proves the restart used the file.
      const second = world();
      const follower = createLogFollower({
        store: {
          liveEvents: async () => {
            throw new Error('liveEvents must not be called');
          },
          readEvents: (after, limit) => store.readEvents(after, limit),
        },
        index: second.index,
        pollInterval: 3600,
        snapshotFile: file,
      });
      await follower.start();
      assert.equal(second.index.check({ sid: 'early' }), 'session');
      assert.equal(second.index.check({ sid: 'later' }), 'session');
      assert.equal(follower.health().position, 2);
      await follower.stop();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('loads the log instead of a corrupt snapshot file, reporting it', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'revocable-follower-'));
    try {
      const file = join(directory, 'index.snapshot');
      writeFileSync(file, 'not a snapshot');
      const store = createMemoryStore();
      const { index, now } = world();
      await store.appendEvents([createKeyRevocation({ kid: 'k1', at: now() }, TIMING)]);
      const errors: unknown[] = [];
      const follower = createLogFollower({
        store,
        index,
        pollInterval: 3600,
        snapshotFile: file,
        onError: (error) => errors.push(error),
      });
      await follower.start();
      assert.equal(index.check({}, 'k1'), 'key');
      assert.ok(isRevocableError(errors[0], 'ERR_REVOCATION_SNAPSHOT_INVALID'));
      await follower.stop();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('applies a ban wave of 100,000 events, yielding to the event loop between slices', async () => {
    const store = createMemoryStore();
    const { index, now } = world();
    const events: RevocationEvent[] = [];
    for (let i = 0; i < 100_000; i++) {
      events.push(createSessionRevocation({ sid: `wave-${i}`, at: now() }, TIMING));
    }
    await store.appendEvents(events);
    const follower = createLogFollower({ store, index, pollInterval: 3600, applyChunk: 5000 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    await follower.start();
    clearInterval(ticker);
    assert.ok(ticks > 0, 'timers ran while the wave was applied');
    assert.equal(index.check({ sid: 'wave-99999' }), 'session');
    assert.equal(follower.health().eventsApplied, 100_000);
    await follower.stop();
  });

  it('refuses bad options with a typed error', () => {
    const store = createMemoryStore();
    const { index } = world();
    for (const options of [
      null,
      { store: {}, index },
      { store, index: {} },
      { store, index, pollInterval: 0 },
      { store, index, pageSize: 0 },
      { store, index, applyChunk: 1.5 },
      { store, index, transport: {} },
      { store, index, snapshotFile: '' },
    ]) {
      assert.throws(
        () => createLogFollower(options as never),
        (error: unknown) => isRevocableError(error, 'ERR_INVALID_ARGUMENT'),
      );
    }
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
