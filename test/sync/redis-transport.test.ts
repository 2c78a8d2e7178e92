import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Cluster, Redis } from 'ioredis';
import { isRevocableError } from '../../src/errors/index.js';
import {
  createRevocationIndex,
  createSessionRevocation,
  createSubjectRevocation,
  createTokenRevocation,
  serializeRevocationEvent,
} from '../../src/revocation/index.js';
import { createMemoryStore } from '../../src/stores/index.js';
import {
  createRedisPublisher,
  createRedisStore,
  createRedisTransport,
} from '../../src/stores/redis/index.js';
import { createLogFollower, type PushedMessage } from '../../src/sync/index.js';
import { decodeMessage, encodeEvents } from '../../src/sync/internal/bus-messages.js';
import { connectSharedRedis, type SharedRedis } from '../stores/redis-support.js';
import { skipIfMissing } from '../support/services.js';
import { startOwnRedis, waitUntil } from './sync-support.js';

const TIMING = { maxAccessTokenLifetime: 600, clockSkew: 5 };
let shared: SharedRedis;
const cleanups: Array<() => Promise<void> | void> = [];

before(async () => {
  shared = await connectSharedRedis();
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  shared.client.disconnect();
});

/** A channel prefix of this test alone: the shared server's other users never hear it. */
function freshPrefix(): string {
  return `revocable-test-sync:${randomBytes(6).toString('hex')}:`;
}

/** A follower on a memory store (its log) and the given Redis, that polls only when told to. */
async function follower(client: Redis, prefix: string, extra: { heartbeatInterval?: number } = {}) {
  const store = createMemoryStore();
  const index = createRevocationIndex(TIMING);
  const errors: unknown[] = [];
  const transport = createRedisTransport({ client, prefix });
  const instance = createLogFollower({
    store,
    index,
    transport,
    pollInterval: 3600,
    heartbeatInterval: extra.heartbeatInterval ?? 3600,
    onError: (error) => errors.push(error),
  });
  await instance.start();
  await waitUntil('the follower is subscribed', () => instance.health().connected);
  cleanups.push(() => instance.stop());
  return { store, index, follower: instance, errors };
}

describe('Redis transport and publisher', () => {
  it('delivers published events to every follower at once, and not across prefixes', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    const prefix = freshPrefix();
    const a = await follower(shared.client, prefix);
    const b = await follower(shared.client, prefix);
    const otherPrefix = freshPrefix();
    const other = await follower(shared.client, otherPrefix);
    const publisher = createRedisPublisher({ client: shared.client, prefix });
    const event = createSessionRevocation({ sid: 'pushed' }, TIMING);
    await publisher.publish([event]);
    // The log (a memory store each) never sees it: only the push can have delivered it.
    await waitUntil('a applied it', () => a.index.check({ sid: 'pushed' }) === 'session');
    await waitUntil('b applied it', () => b.index.check({ sid: 'pushed' }) === 'session');
    // A marker on the other channel, published after it, arrives after anything published before
    // to that follower's connection: the event would have arrived first.
    await createRedisPublisher({ client: shared.client, prefix: otherPrefix }).publish([
      createSessionRevocation({ sid: 'marker' }, TIMING),
    ]);
    await waitUntil('the marker arrived', () => other.index.check({ sid: 'marker' }) === 'session');
    assert.equal(other.index.check({ sid: 'pushed' }), null);
    assert.equal(a.index.check({ sid: 'marker' }), null);
    assert.ok(a.follower.health().lagMs !== null);
  });

  it('splits a large batch into bounded messages, all applied', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    const prefix = freshPrefix();
    const a = await follower(shared.client, prefix);
    const events = Array.from({ length: 500 }, (_, i) =>
      createSessionRevocation({ sid: `batch-${i}` }, TIMING),
    );
    const messages = encodeEvents(events, 4096);
    assert.ok(messages.length > 10);
    for (const message of messages) assert.ok(message.length <= 4096);
    const decoded = messages.flatMap((message) => {
      const parsed = decodeMessage(message);
      return parsed.type === 'events' ? parsed.events : [];
    });
    assert.deepEqual(
      decoded.map((event) => event.id),
      events.map((event) => event.id),
    );
    await createRedisPublisher({ client: shared.client, prefix, maxMessageLength: 4096 }).publish(
      events,
    );
    await waitUntil('every event applied', () => a.follower.health().eventsApplied === 500);
  });

  it('reports malformed messages, applies none of their events, reads the log instead', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    const prefix = freshPrefix();
    const a = await follower(shared.client, prefix);
    const channel = `${prefix}revocations`;
    const good = JSON.parse(
      serializeRevocationEvent(createSessionRevocation({ sid: 'half' }, TIMING)),
    );
    const malformed = [
      'not json',
      '[]',
      '"t"',
      '{"t":"x"}',
      '{"t":"h","extra":1}',
      '{"t":"e"}',
      '{"t":"e","e":[]}',
      '{"t":"e","e":{}}',
      JSON.stringify({ t: 'e', e: [good, { ...good, v: 2 }] }),
      JSON.stringify({ t: 'e', e: [good], more: true }),
      JSON.stringify({ t: 'e', e: [{ ...good, __proto__: null, extra: 1 }] }),
      `{"t":"e","e":[${'1,'.repeat(600_000)}1]}`,
    ];
    // An event only the log holds: each malformed message makes the follower read the log.
    await a.store.appendEvents([createSessionRevocation({ sid: 'in-log' }, TIMING)]);
    for (const text of malformed) await shared.client.publish(channel, text);
    await waitUntil('every message reported', () => a.errors.length >= malformed.length);
    for (const error of a.errors) assert.ok(isRevocableError(error, 'ERR_SYNC_MESSAGE_INVALID'));
    assert.equal(a.index.check({ sid: 'half' }), null, 'no event of a bad message is applied');
    await waitUntil('the log was read', () => a.index.check({ sid: 'in-log' }) === 'session');
    // And the channel still works.
    await createRedisPublisher({ client: shared.client, prefix }).publish([
      createTokenRevocation({ jti: 'after', exp: Date.now() / 1000 + 60 }),
    ]);
    await waitUntil('a later message applied', () => a.index.check({ jti: 'after' }) === 'token');
  });

  it('the Redis store publishes what it appends, with log positions, in the same script', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    const prefix = freshPrefix();
    const listener = shared.client.duplicate();
    cleanups.push(() => listener.disconnect());
    const heard: string[] = [];
    listener.on('message', (_channel: string, text: string) => heard.push(text));
    await listener.subscribe(`${prefix}revocations`);
    const store = createRedisStore({ client: shared.client, prefix });
    const first = createSessionRevocation({ sid: 'one' }, TIMING);
    const second = createSessionRevocation({ sid: 'two' }, TIMING);
    await store.appendEvents([first, second]);
    await store.appendEvents([first]); // in the log already: nothing appended, nothing published
    const wave = Array.from({ length: 1200 }, (_, i) =>
      createSessionRevocation({ sid: `wave-${i}` }, TIMING),
    );
    await store.revokeSessions(['no-such-session'], 1_900_000_000, 'ban', wave);
    await store.revokeAll(1_900_000_000, [createSessionRevocation({ sid: 'last' }, TIMING)]);
    await waitUntil('every message heard', () => heard.length === 5);
    const messages = heard.map(
      (text) => decodeMessage(text) as Extract<PushedMessage, { type: 'events' }>,
    );
    // A new log counts from the server's clock (see the store's append), not from 1.
    const log = await store.readEvents(0, 2000);
    const origin = log[0]!.seq - 1;
    assert.deepEqual(
      messages.map((message) => [(message.position ?? 0) - origin, message.events.length]),
      [
        [1, 2],
        [3, 500],
        [503, 500],
        [1003, 200],
        [1203, 1],
      ],
    );
    assert.deepEqual(messages[0]!.events, [first, second]);
    assert.deepEqual(
      log.map((stored) => stored.seq - origin),
      Array.from({ length: 1203 }, (_, i) => i + 1),
    );
  });

  it('a follower sees a gap in positioned messages at once, and reads the log', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    const prefix = freshPrefix();
    const a = await follower(shared.client, prefix); // polls only once an hour
    // In the log at position 1, and never heard on the channel.
    await a.store.appendEvents([createSessionRevocation({ sid: 'missed' }, TIMING)]);
    const later = createSessionRevocation({ sid: 'later' }, TIMING);
    const positioned = (position: number) =>
      JSON.stringify({ t: 'e', s: position, e: [JSON.parse(serializeRevocationEvent(later))] });
    // Position 2 right after position 0: position 1 was missed, so the log is read at once.
    await shared.client.publish(`${prefix}revocations`, positioned(2));
    await waitUntil(
      'the missed event read from the log',
      () => a.index.check({ sid: 'missed' }) === 'session',
    );
    assert.equal(a.index.check({ sid: 'later' }), 'session');
    assert.equal(a.follower.health().head, 2);
    assert.equal(a.errors.length, 0);
  });

  it('parses every well-formed kind, and refuses look-alikes', () => {
    assert.deepEqual(decodeMessage('{"t":"h"}'), { type: 'heartbeat' });
    assert.deepEqual(decodeMessage('{ "t": "p" }'), { type: 'poke' });
    const event = createSubjectRevocation({ sub: 'u', gen: 2 }, TIMING);
    const [text] = encodeEvents([event], 65_536);
    const parsed = decodeMessage(text!) as Extract<PushedMessage, { type: 'events' }>;
    assert.equal(parsed.type, 'events');
    assert.deepEqual(parsed.events, [event]);
    for (const bad of ['{"t":"H"}', '{"t":"h","t":"p"}x', '{"T":"h"}', 'null']) {
      assert.throws(
        () => decodeMessage(bad),
        (error: unknown) => isRevocableError(error, 'ERR_SYNC_MESSAGE_INVALID'),
      );
    }
  });

  it('sends heartbeats every process hears, its own included', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    const prefix = freshPrefix();
    const listener = shared.client.duplicate();
    cleanups.push(() => listener.disconnect());
    const heard: string[] = [];
    listener.on('message', (_channel: string, text: string) => heard.push(text));
    await listener.subscribe(`${prefix}revocations`);
    const a = await follower(shared.client, prefix, { heartbeatInterval: 0.02 });
    const before = a.follower.health().lastHeartbeatAt;
    await waitUntil('heartbeats on the channel', () => heard.length >= 3);
    assert.ok(heard.every((text) => text === '{"t":"h"}'));
    await waitUntil(
      'the follower heard one after it connected',
      () => (a.follower.health().lastHeartbeatAt ?? 0) > (before ?? 0),
    );
    assert.equal(a.errors.length, 0);
  });

  it('reopens a subscriber connection that no heartbeat comes back on', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    // The application's client publishes into the void: the subscriber hears nothing, as over a
    // half-open connection.
    const deaf = Object.create(shared.client) as Redis;
    deaf.publish = (async () => 0) as Redis['publish'];
    const store = createMemoryStore();
    const index = createRevocationIndex(TIMING);
    const errors: unknown[] = [];
    const instance = createLogFollower({
      store,
      index,
      transport: createRedisTransport({ client: deaf, prefix: freshPrefix() }),
      pollInterval: 3600,
      heartbeatInterval: 0.02,
      onError: (error) => errors.push(error),
    });
    cleanups.push(() => instance.stop());
    await instance.start();
    await waitUntil('reconnected', () => instance.health().reconnects >= 1);
    assert.ok(errors.some((error) => isRevocableError(error, 'ERR_SYNC_UNAVAILABLE')));
    assert.equal(instance.health().connected, true);
  });

  it('reconnects after the server restarts and catches up from the log', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    const server = await startOwnRedis();
    if (server === null) {
      if (process.env.CI === 'true') throw new Error('redis-server cannot be started here');
      return t.skip('redis-server cannot be started here');
    }
    cleanups.push(() => server.stop());
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    cleanups.push(() => client.disconnect());
    const prefix = freshPrefix();
    const a = await follower(client, prefix);
    const publisher = createRedisPublisher({ client, prefix });

    // A dropped connection (the server kills it) while an event goes only to the log.
    await client.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitUntil('disconnected or already back', () => a.follower.health().reconnects >= 1);
    await a.store.appendEvents([createSessionRevocation({ sid: 'while-killed' }, TIMING)]);
    await a.follower.catchUp();

    // The server stops; events are appended meanwhile and their publishing fails fast.
    await server.stop();
    await waitUntil('disconnected', () => !a.follower.health().connected);
    const missed = createSessionRevocation({ sid: 'while-down' }, TIMING);
    await a.store.appendEvents([missed]);
    await waitUntil('the publisher sees the client down', () => client.status !== 'ready');
    await assert.rejects(publisher.publish([missed]), (error: unknown) =>
      isRevocableError(error, 'ERR_SYNC_UNAVAILABLE'),
    );
    assert.equal(a.index.check({ sid: 'while-down' }), null);

    await server.restart();
    await waitUntil('reconnected', () => a.follower.health().reconnects >= 2);
    // connected() made the follower read the log: the event published into the outage is there.
    await waitUntil('caught up', () => a.index.check({ sid: 'while-down' }) === 'session');
    assert.equal(a.index.check({ sid: 'while-killed' }), 'session');
    assert.ok(a.errors.some((error) => isRevocableError(error, 'ERR_SYNC_UNAVAILABLE')));
    await waitUntil('the client is back', () => client.status === 'ready');
    await publisher.publish([createSessionRevocation({ sid: 'after-restart' }, TIMING)]);
    await waitUntil('pushed again', () => a.index.check({ sid: 'after-restart' }) === 'session');
  });

  it('closes only the connection it made', async (t) => {
    if (skipIfMissing(t, shared.missing)) return;
    const client = shared.client.duplicate();
    cleanups.push(() => client.disconnect());
    const a = await follower(client, freshPrefix());
    await a.follower.stop();
    assert.equal(await client.ping(), 'PONG');
    assert.equal(a.follower.health().state, 'stopped');
  });

  it('refuses bad options with a typed error', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    const client = new Redis({ lazyConnect: true });
    for (const make of [
      () => createRedisTransport(null as never),
      () => createRedisTransport({ client: {} as Redis }),
      () => createRedisTransport({ client: cluster as unknown as Redis }),
      () => createRedisTransport({ client, channel: 'a', prefix: 'b' }),
      () => createRedisTransport({ client, channel: '' }),
      () => createRedisTransport({ client, prefix: 'a\nb' }),
      () => createRedisPublisher({ client, maxMessageLength: 10 }),
      () => createRedisPublisher({ client, timeout: 0 }),
    ]) {
      assert.throws(make, (error: unknown) => isRevocableError(error, 'ERR_INVALID_ARGUMENT'));
    }
    // A Cluster may publish: PUBLISH reaches every node.
    assert.ok(createRedisPublisher({ client: cluster }));
    cluster.disconnect();
    client.disconnect();
  });

  it('fails fast when the client is not connected', async () => {
    const client = new Redis({ lazyConnect: true });
    const publisher = createRedisPublisher({ client });
    await assert.rejects(
      publisher.publish([createSessionRevocation({ sid: 'x' }, TIMING)]),
      (error: unknown) => isRevocableError(error, 'ERR_SYNC_UNAVAILABLE'),
    );
    client.disconnect();
  });
});
