import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { isRevocableError } from '../../src/errors/index.js';
import {
  createRevocationIndex,
  createSessionRevocation,
  createTokenRevocation,
  type RevocationEvent,
} from '../../src/revocation/index.js';
import {
  createPostgresPublisher,
  createPostgresStore,
  createPostgresTransport,
} from '../../src/stores/postgres/index.js';
import { createLogFollower } from '../../src/sync/index.js';
import {
  encodeEvents,
  HEARTBEAT_PAYLOAD,
  NOTIFY_PAYLOAD_LIMIT,
  POKE_PAYLOAD,
  parseMessage,
} from '../../src/sync/postgres-messages.js';
import { skipIfMissing } from '../support/services.js';
import {
  DATABASE_URL,
  namedUrl,
  openPostgres,
  randomName,
  terminate,
  waitFor,
} from './postgres-support.js';

const TIMING = { maxAccessTokenLifetime: 600, clockSkew: 5 };
const now = () => Date.now() / 1000;
const db = await openPostgres();
after(() => db.cleanup());

function sessionEvents(count: number, prefix = 'sid'): RevocationEvent[] {
  return Array.from({ length: count }, (_, i) =>
    createSessionRevocation({ sid: `${prefix}-${i}`, at: now() }, TIMING),
  );
}

function isInvalidMessage(error: unknown): boolean {
  return isRevocableError(error, 'ERR_SYNC_MESSAGE_INVALID');
}

/** A raw listener on a channel: every payload, as PostgreSQL delivered it. */
async function rawListener(channel: string) {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  const payloads: string[] = [];
  client.on('notification', (message) => payloads.push(message.payload ?? ''));
  await client.query(`LISTEN "${channel}"`);
  return { payloads, close: () => client.end() };
}

describe('PostgreSQL messages (no server)', () => {
  it('packs events under the limit counted in UTF-8 bytes, not characters', () => {
    // Three bytes a character: by characters each payload would look a third of its size.
    const events = Array.from({ length: 200 }, (_, i) =>
      createSessionRevocation({ sid: `${'語'.repeat(80)}-${i}`, at: 1_900_000_000 }, TIMING),
    );
    const payloads = encodeEvents(events, 100);
    assert.ok(payloads !== null && payloads.length > 1);
    const back: RevocationEvent[] = [];
    for (const payload of payloads) {
      assert.ok(Buffer.byteLength(payload) <= NOTIFY_PAYLOAD_LIMIT);
      const message = parseMessage(payload);
      assert.equal(message.type, 'events');
      if (message.type === 'events') back.push(...message.events);
    }
    assert.deepEqual(back, events);
    // Full payloads really are full: the next event would not have fitted.
    const first = payloads[0]!;
    const parsed = parseMessage(first);
    const inFirst = parsed.type === 'events' ? parsed.events.length : 0;
    const nextEvent = JSON.stringify(events[inFirst]);
    assert.ok(Buffer.byteLength(first) + 1 + Buffer.byteLength(nextEvent) > NOTIFY_PAYLOAD_LIMIT);
  });

  it('fills a payload to exactly the limit, and one byte more makes two', () => {
    const token = (jti: string) =>
      createTokenRevocation({ jti, exp: 1_900_000_600, at: 1_900_000_000 });
    const bytes = (events: RevocationEvent[]) =>
      Buffer.byteLength(encodeEvents(events, 1, 1_000_000)![0]!);
    // Fillers of two-byte characters, then one last event whose ASCII target is grown byte by
    // byte until the payload is exactly the limit.
    const fillers: RevocationEvent[] = [];
    for (let i = 0; ; i++) {
      const next = token(`${'é'.repeat(50)}-${i}`);
      if (bytes([...fillers, next, token('z')]) > NOTIFY_PAYLOAD_LIMIT) break;
      fillers.push(next);
    }
    const slack = NOTIFY_PAYLOAD_LIMIT - bytes([...fillers, token('z')]);
    const exact = [...fillers, token('z'.repeat(1 + slack))];
    const one = encodeEvents(exact, 1);
    assert.ok(one !== null, 'a batch of exactly the limit fits one payload');
    assert.equal(Buffer.byteLength(one[0]!), NOTIFY_PAYLOAD_LIMIT);
    const over = [...fillers, token('z'.repeat(2 + slack))];
    assert.equal(encodeEvents(over, 1), null, 'one byte more does not fit one payload');
    const two = encodeEvents(over, 2);
    assert.equal(two?.length, 2);
    assert.ok(two.every((payload) => Buffer.byteLength(payload) <= NOTIFY_PAYLOAD_LIMIT));
  });

  it('gives up (a poke) past maxPayloads', () => {
    const events = sessionEvents(5000);
    assert.equal(encodeEvents(events, 16), null);
    const all = encodeEvents(events, 1000);
    assert.ok(all !== null && all.length > 16);
    assert.equal(encodeEvents(events, all.length)?.length, all.length);
    assert.equal(encodeEvents(events, all.length - 1), null);
  });

  it('parses strictly: anything but a whole valid message is ERR_SYNC_MESSAGE_INVALID', () => {
    assert.deepEqual(parseMessage(POKE_PAYLOAD), { type: 'poke' });
    assert.deepEqual(parseMessage(HEARTBEAT_PAYLOAD), { type: 'heartbeat' });
    const good = JSON.parse(encodeEvents(sessionEvents(2), 1)![0]!);
    for (const bad of [
      undefined,
      '',
      'not json',
      '[]',
      'null',
      '{"v":2,"type":"poke"}',
      '{"type":"poke"}',
      '{"v":1,"type":"poke","extra":1}',
      '{"v":1,"type":"shout"}',
      '{"v":1,"type":"events"}',
      '{"v":1,"type":"events","events":[]}',
      '{"v":1,"type":"events","events":{}}',
      JSON.stringify({ ...good, events: [...good.events, { v: 1, kind: 'session' }] }),
      JSON.stringify({ ...good, more: true }),
      `{"v":1,"type":"poke","pad":"${'x'.repeat(NOTIFY_PAYLOAD_LIMIT)}"}`,
    ]) {
      assert.throws(() => parseMessage(bad), isInvalidMessage, String(bad).slice(0, 60));
    }
  });
});

describe('PostgreSQL transport and publisher', () => {
  it('PostgreSQL refuses a payload of 8,000 bytes and takes 7,999, counted in bytes', async (t) => {
    if (skipIfMissing(t, db.missing)) return;
    const channel = randomName('limit');
    const notify = (payload: string) =>
      db.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    await notify('x'.repeat(NOTIFY_PAYLOAD_LIMIT));
    await assert.rejects(notify('x'.repeat(NOTIFY_PAYLOAD_LIMIT + 1)), /payload string too long/);
    // 4,000 characters, 8,000 bytes: refused; the same in 3,999 two-byte characters and one
    // one-byte character (7,999 bytes) passes.
    await assert.rejects(notify('é'.repeat(4000)), /payload string too long/);
    await notify(`${'é'.repeat(3999)}x`);
  });

  it('applies pushed events at once, hears heartbeats, ignores and reports malformed payloads', async (t) => {
    if (skipIfMissing(t, db.missing)) return;
    const store = createPostgresStore({ client: db.pool, schema: await db.newSchema() });
    const channel = randomName('push');
    const index = createRevocationIndex(TIMING);
    const errors: unknown[] = [];
    const transport = createPostgresTransport({
      pool: db.pool,
      channel,
      onError: (error) => errors.push(error),
    });
    const follower = createLogFollower({
      store,
      index,
      transport,
      pollInterval: 3600,
      heartbeatInterval: 0.05,
    });
    await follower.start();
    await waitFor(() => follower.health().connected);
    await waitFor(
      () =>
        follower.health().lastHeartbeatAt !== null &&
        follower.health().lastHeartbeatAt! > now() - 1,
    );
    const publisher = createPostgresPublisher({ pool: db.pool, channel });
    // Published without being appended: only the push can have brought it.
    const [event] = sessionEvents(1, 'pushed');
    await publisher.publish([event!]);
    await waitFor(() => index.check({ sid: 'pushed-0' }) === 'session');
    assert.equal(follower.health().position, 0);

    const garbage = [
      'not json',
      '{"v":9,"type":"poke"}',
      '{"v":1,"type":"events","events":[{"v":1}]}',
    ];
    for (const payload of garbage) {
      await db.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    }
    const [after] = sessionEvents(1, 'after-garbage');
    await publisher.publish([after!]);
    await waitFor(() => index.check({ sid: 'after-garbage-0' }) === 'session');
    assert.equal(errors.length, garbage.length);
    assert.ok(errors.every(isInvalidMessage));
    assert.equal(follower.health().connected, true);
    await follower.stop();
  });

  it('splits a batch past 8,000 bytes into several notifications of one statement', async (t) => {
    if (skipIfMissing(t, db.missing)) return;
    const channel = randomName('split');
    const raw = await rawListener(channel);
    try {
      const events = Array.from({ length: 300 }, (_, i) =>
        createSessionRevocation({ sid: `${'ü'.repeat(60)}-${i}`, at: now() }, TIMING),
      );
      const expected = encodeEvents(events, 16)!;
      assert.ok(expected.length > 3);
      await createPostgresPublisher({ pool: db.pool, channel }).publish(events);
      await waitFor(() => raw.payloads.length === expected.length);
      const received = raw.payloads.flatMap((payload) => {
        assert.ok(Buffer.byteLength(payload) <= NOTIFY_PAYLOAD_LIMIT);
        const message = parseMessage(payload);
        return message.type === 'events' ? message.events : [];
      });
      assert.deepEqual(new Set(received.map((e) => e.id)), new Set(events.map((e) => e.id)));
    } finally {
      await raw.close();
    }
  });

  it('pokes instead of pushing a ban wave; the followers read it from the log', async (t) => {
    if (skipIfMissing(t, db.missing)) return;
    const store = createPostgresStore({ client: db.pool, schema: await db.newSchema() });
    const channel = randomName('wave');
    const raw = await rawListener(channel);
    const index = createRevocationIndex(TIMING);
    const follower = createLogFollower({
      store,
      index,
      transport: createPostgresTransport({ pool: db.pool, channel }),
      pollInterval: 3600,
      heartbeatInterval: 3600,
    });
    try {
      await follower.start();
      await waitFor(() => follower.health().connected);
      const events = sessionEvents(20_000, 'wave');
      await store.appendEvents(events);
      await createPostgresPublisher({ pool: db.pool, channel }).publish(events);
      await waitFor(() => raw.payloads.length === 1);
      assert.equal(raw.payloads[0], POKE_PAYLOAD);
      await waitFor(() => index.check({ sid: 'wave-19999' }) === 'session', 30_000);
      assert.equal(follower.health().position, 20_000);
    } finally {
      await follower.stop();
      await raw.close();
    }
  });

  for (const mode of ['connectionString', 'pool'] as const) {
    it(`${mode}: a connection killed by pg_terminate_backend reconnects and catches up`, async (t) => {
      if (skipIfMissing(t, db.missing)) return;
      const store = createPostgresStore({ client: db.pool, schema: await db.newSchema() });
      const channel = randomName('kill');
      const name = randomName('listen');
      const ownPool = new pg.Pool({ connectionString: namedUrl(name), max: 2 });
      const index = createRevocationIndex(TIMING);
      const errors: unknown[] = [];
      const follower = createLogFollower({
        store,
        index,
        transport:
          mode === 'pool'
            ? createPostgresTransport({ pool: ownPool, channel })
            : createPostgresTransport({ connectionString: namedUrl(name), channel }),
        pollInterval: 3600,
        heartbeatInterval: 3600,
        onError: (error) => errors.push(error),
      });
      try {
        await follower.start();
        await waitFor(() => follower.health().connected);
        assert.equal(await terminate(db.pool, name), 1);
        await waitFor(() => !follower.health().connected);
        // Appended and published while the listener is gone: the push is lost.
        const missed = sessionEvents(3, 'missed');
        await store.appendEvents(missed);
        await createPostgresPublisher({ pool: db.pool, channel }).publish(missed);
        await waitFor(() => follower.health().reconnects === 1);
        await waitFor(() => index.check({ sid: 'missed-2' }) === 'session');
        assert.ok(errors.some((error) => isRevocableError(error, 'ERR_SYNC_CONNECTION')));
        // And it listens again.
        const [later] = sessionEvents(1, 'later');
        await createPostgresPublisher({ pool: db.pool, channel }).publish([later!]);
        await waitFor(() => index.check({ sid: 'later-0' }) === 'session');
      } finally {
        await follower.stop();
        if (mode === 'pool') {
          // Its connection went back to the pool without its LISTEN.
          assert.equal(ownPool.totalCount - ownPool.idleCount, 0);
        }
        await ownPool.end();
      }
    });
  }

  it('refuses bad options', () => {
    assert.throws(() => createPostgresTransport({ channel: 'x' }), /either pool or/);
    assert.throws(
      () => createPostgresTransport({ pool: db.pool, connectionString: DATABASE_URL }),
      /either pool or/,
    );
    for (const channel of ['', 'Upper', '1abc', 'a-b', 'a"b', 'x'.repeat(64)]) {
      assert.throws(() => createPostgresTransport({ pool: db.pool, channel }), /channel must be/);
      assert.throws(() => createPostgresPublisher({ pool: db.pool, channel }), /channel must be/);
    }
    assert.throws(
      () => createPostgresPublisher({ pool: db.pool, maxNotifications: 0 }),
      /maxNotif/,
    );
  });
});
