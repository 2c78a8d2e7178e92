import assert from 'node:assert/strict';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { after, afterEach, describe, it } from 'node:test';
import Fastify from 'fastify';
import { isRevocableError } from '../../../src/errors/index.js';
import { parseRevocationEventJson } from '../../../src/revocation/index.js';
import {
  REVOCATION_STREAM_HEADERS,
  resumePosition,
  writeRevocationStream,
} from '../../../src/server/feed/index.js';
import { createMemoryStore } from '../../../src/stores/index.js';
import {
  cleanUp,
  manualFeed,
  STORE_KINDS,
  serveStream,
  T0,
  tokenEvents,
  unexpectedErrors,
  waitUntil,
  world,
} from './feed-support.js';
import { eventIds, openStream, range } from './sse-client.js';

afterEach(cleanUp);
after(() => assert.deepEqual(unexpectedErrors, []));

function invalidArgument(error: unknown): boolean {
  return isRevocableError(error, 'ERR_INVALID_ARGUMENT');
}

for (const kind of STORE_KINDS) {
  describe(`revocation stream on the ${kind.name}`, () => {
    it('streams every event in order, and resumes after Last-Event-ID with no gap and no duplicate', async () => {
      const { store, close } = kind.open();
      const { index, clock } = world();
      const appended = tokenEvents(6, T0);
      await store.appendEvents(appended);
      const feed = manualFeed({ store, index });
      await feed.poll();
      const server = await serveStream(feed);
      const first = await openStream(server.port, '/revocations/stream');
      assert.equal(first.status, 200);
      assert.equal(first.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(first.headers['cache-control'], 'no-store');
      assert.equal(first.headers['x-accel-buffering'], 'no');
      await first.until('six events and a heartbeat', (messages) => messages.length === 7);
      assert.equal(first.retry(), 1000);
      assert.deepEqual(eventIds(first.messages), range(1, 6));
      // Each is the event exactly as the log holds it.
      assert.deepEqual(
        first.messages.slice(0, 6).map((message) => parseRevocationEventJson(message.data)),
        appended,
      );
      assert.deepEqual(first.messages[6], {
        id: '6',
        event: 'heartbeat',
        data: JSON.stringify({ position: 6, freshAt: T0 }),
      });
      // Two more events, then the client drops in the middle of the stream.
      await store.appendEvents(tokenEvents(2, T0));
      await feed.poll();
      await first.until('eight events', (messages) => eventIds(messages).length === 8);
      const lastId = first.messages.filter((m) => m.event === 'revocation').at(-1)!.id!;
      first.close();
      await waitUntil('the subscription is freed', () => feed.status().subscribers === 0);
      // Appended while it was away.
      await store.appendEvents(tokenEvents(4, T0));
      clock.t = T0 + 5;
      await feed.poll();
      const second = await openStream(server.port, '/revocations/stream?after=2', {
        'last-event-id': lastId,
      });
      await store.appendEvents(tokenEvents(3, T0));
      await feed.poll();
      await second.until('every event', (messages) => eventIds(messages).at(-1) === 15);
      assert.deepEqual(eventIds(second.messages), range(9, 15));
      assert.deepEqual(second.messages.at(-1), {
        id: '15',
        event: 'heartbeat',
        data: JSON.stringify({ position: 15, freshAt: T0 + 5 }),
      });
      second.close();
      await server.close();
      feed.close();
      close();
    });

    it('streams a log of 5,000 events, read in pages, then what comes after', async () => {
      const { store, close } = kind.open();
      const { index } = world();
      for (let i = 0; i < 10; i++) await store.appendEvents(tokenEvents(500, T0));
      const feed = manualFeed({ store, index, pageSize: 256 });
      await feed.poll();
      const server = await serveStream(feed);
      const stream = await openStream(server.port, '/revocations/stream?after=0');
      await stream.until('5,000 events', (messages) => eventIds(messages).length === 5000);
      await store.appendEvents(tokenEvents(10, T0));
      await feed.poll();
      await stream.until('5,010 events', (messages) => eventIds(messages).length === 5010);
      assert.deepEqual(eventIds(stream.messages), range(1, 5010));
      stream.close();
      await server.close();
      feed.close();
      close();
    });
  });
}

describe('revocation stream', () => {
  it('resumes from a heartbeat id, since the heartbeat says nothing below it is missing', async () => {
    const store = createMemoryStore();
    const { index } = world();
    await store.appendEvents(tokenEvents(3, T0));
    const feed = manualFeed({ store, index });
    await feed.poll();
    const server = await serveStream(feed);
    const stream = await openStream(server.port, '/revocations/stream?after=3');
    await stream.until('a heartbeat', (messages) => messages.length === 1);
    assert.equal(stream.lastEventId(), '3');
    stream.close();
    await store.appendEvents(tokenEvents(1, T0));
    const again = await openStream(server.port, '/revocations/stream', {
      'last-event-id': stream.lastEventId(),
    });
    await feed.poll();
    await again.until('the new event', (messages) => eventIds(messages).length === 1);
    assert.deepEqual(eventIds(again.messages), [4]);
    again.close();
    await server.close();
    feed.close();
  });

  it('answers a position past the head with a reset, and ends the stream', async () => {
    const store = createMemoryStore();
    const { index } = world();
    await store.appendEvents(tokenEvents(3, T0));
    const feed = manualFeed({ store, index });
    await feed.poll();
    const server = await serveStream(feed);
    const stream = await openStream(server.port, '/revocations/stream', { 'last-event-id': '40' });
    await stream.end();
    assert.deepEqual(stream.messages, [{ id: '', event: 'reset', data: '{"position":3}' }]);
    // The empty id clears the client's last event id: an EventSource would not send 40 again.
    assert.equal(stream.lastEventId(), '');
    assert.equal(feed.status().subscribers, 0);
    await server.close();
    feed.close();
  });

  it('refuses a malformed position with ERR_INVALID_ARGUMENT before it writes anything', async () => {
    const store = createMemoryStore();
    const { index } = world();
    const feed = manualFeed({ store, index });
    const server = await serveStream(feed);
    const bad: Array<[string, Record<string, string>]> = [
      ['/revocations/stream', { 'last-event-id': '-1' }],
      ['/revocations/stream', { 'last-event-id': '1e3' }],
      ['/revocations/stream', { 'last-event-id': '' }],
      ['/revocations/stream', { 'last-event-id': '0x10' }],
      ['/revocations/stream', { 'last-event-id': '9007199254740992' }],
      ['/revocations/stream?after=abc', {}],
      ['/revocations/stream?after=', {}],
      ['/revocations/stream?after=1.5', {}],
      ['/revocations/stream?after=1&after=2', {}],
      // A bad Last-Event-ID is refused even beside a good after.
      ['/revocations/stream?after=1', { 'last-event-id': 'x' }],
    ];
    for (const [path, headers] of bad) {
      const answer = await openStream(server.port, path, headers);
      await answer.end();
      assert.equal(answer.status, 400, `${path} ${JSON.stringify(headers)}`);
      assert.equal(answer.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(answer.text()), { code: 'ERR_INVALID_ARGUMENT' });
    }
    assert.equal(feed.status().subscribers, 0);
    await server.close();
    feed.close();
  });

  it('takes Last-Event-ID over after, after over nothing, and nothing as 0', () => {
    const request = (url: string, headers: Record<string, string> = {}) =>
      ({ url, headers }) as unknown as IncomingMessage;
    assert.equal(resumePosition(request('/s')), 0);
    assert.equal(resumePosition(request('/s?after=12')), 12);
    assert.equal(resumePosition(request('/s?after=12', { 'last-event-id': '30' })), 30);
    assert.equal(resumePosition(request('/s?after=007')), 7);
    assert.equal(resumePosition(request('/s?after=9007199254740991')), 2 ** 53 - 1);
    assert.throws(() => resumePosition(request('/s?after=%2B1')), invalidArgument);
    assert.throws(() => resumePosition(request('/s', { 'last-event-id': ' 12' })), invalidArgument);
    assert.throws(
      () => resumePosition(request('/s', { 'last-event-id': '12\n' })),
      invalidArgument,
    );
  });

  it('frees the subscription when the client disconnects', async () => {
    const store = createMemoryStore();
    const { index } = world();
    const feed = manualFeed({ store, index });
    await feed.poll();
    const server = await serveStream(feed);
    const streams = await Promise.all(
      [0, 1, 2].map(() => openStream(server.port, '/revocations/stream')),
    );
    await waitUntil('three subscriptions', () => feed.status().subscribers === 3);
    streams[1]!.close();
    await waitUntil('two subscriptions', () => feed.status().subscribers === 2);
    await server.streams[1]!.closed;
    await store.appendEvents(tokenEvents(1, T0));
    await feed.poll();
    for (const stream of [streams[0]!, streams[2]!]) {
      await stream.until('the event', (messages) => eventIds(messages).length === 1);
    }
    for (const stream of streams) stream.close();
    await waitUntil('none', () => feed.status().subscribers === 0);
    await server.close();
    feed.close();
  });

  it('ends every open stream when the feed closes', async () => {
    const store = createMemoryStore();
    const { index } = world();
    const feed = manualFeed({ store, index });
    await feed.poll();
    const server = await serveStream(feed);
    const streams = await Promise.all(
      [0, 1].map(() => openStream(server.port, '/revocations/stream')),
    );
    await waitUntil('two subscriptions', () => feed.status().subscribers === 2);
    feed.close();
    await Promise.all(streams.map((stream) => stream.end()));
    await Promise.all(server.streams.map((stream) => stream.closed));
    // A stream asked for after that ends at once.
    const late = await openStream(server.port, '/revocations/stream');
    await late.end();
    assert.equal(late.status, 200);
    await server.close();
  });

  it('serves a backlog at the pace of a slow client, without ending its stream', async () => {
    const store = createMemoryStore();
    const { index } = world();
    // About 400 bytes each: some 8 MB, far more than the buffers hold.
    for (let i = 0; i < 20; i++) await store.appendEvents(tokenEvents(1000, T0, 240));
    const feed = manualFeed({ store, index, pageSize: 200 });
    await feed.poll();
    const server = await serveStream(feed, { maxBufferedBytes: 64 * 1024 });
    const stream = await openStream(server.port, '/revocations/stream');
    stream.pause();
    await waitUntil('the server waits for the client', () =>
      server.responses.some((response) => response.writableNeedDrain),
    );
    stream.resume();
    await stream.until('every event', (messages) => eventIds(messages).length === 20_000);
    assert.equal(stream.ended(), false);
    assert.deepEqual(eventIds(stream.messages), range(1, 20_000));
    stream.close();
    await server.close();
    feed.close();
  });

  it('cuts the connection of a client that does not read while live events pile up', async () => {
    const store = createMemoryStore();
    const { index } = world();
    const feed = manualFeed({ store, index });
    await feed.poll();
    // A connection that never takes what is written to it.
    const socket = new Duplex({ read() {}, write() {} });
    const request = new IncomingMessage(socket as never);
    request.url = '/revocations/stream';
    const response = new ServerResponse(request);
    response.assignSocket(socket as never);
    const stream = writeRevocationStream(request, response, feed, { maxBufferedBytes: 16 * 1024 });
    await waitUntil('live', () => feed.status().subscribers === 1 && response.writableLength > 0);
    await store.appendEvents(tokenEvents(100, T0, 200));
    await feed.poll();
    await stream.closed;
    assert.equal(response.writableEnded, true);
    // Cut, not only ended: its buffer and socket go now, not whenever the client reads.
    assert.equal(socket.destroyed, true);
    assert.equal(feed.status().subscribers, 0);
    feed.close();
  });

  it('refuses a response that has started and bad options', () => {
    const store = createMemoryStore();
    const { index } = world();
    const feed = manualFeed({ store, index });
    const socket = new Duplex({
      read() {},
      write(_chunk, _encoding, done) {
        done();
      },
    });
    const request = new IncomingMessage(socket as never);
    request.url = '/';
    const response = new ServerResponse(request);
    response.assignSocket(socket as never);
    for (const options of [{ maxBufferedBytes: 0 }, { retry: -1 }, { retry: 1.5 }]) {
      assert.throws(() => writeRevocationStream(request, response, feed, options), invalidArgument);
    }
    response.writeHead(200);
    assert.throws(() => writeRevocationStream(request, response, feed), invalidArgument);
    assert.equal(feed.status().subscribers, 0);
    socket.destroy();
    feed.close();
  });

  it('works as a Fastify route that hijacks the reply once the stream is open', async () => {
    const store = createMemoryStore();
    const { index } = world();
    await store.appendEvents(tokenEvents(2, T0));
    const feed = manualFeed({ store, index });
    await feed.poll();
    const app = Fastify();
    app.setErrorHandler((error, _request, reply) => {
      const status = isRevocableError(error, 'ERR_INVALID_ARGUMENT') ? 400 : 500;
      return reply.code(status).send({ code: isRevocableError(error) ? error.code : 'unknown' });
    });
    app.get('/revocations/stream', (request, reply) => {
      writeRevocationStream(request.raw, reply.raw, feed);
      reply.hijack();
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    assert.ok(address !== null && typeof address === 'object');
    const bad = await openStream(address.port, '/revocations/stream?after=x');
    await bad.end();
    assert.equal(bad.status, 400);
    assert.deepEqual(JSON.parse(bad.text()), { code: 'ERR_INVALID_ARGUMENT' });
    const stream = await openStream(address.port, '/revocations/stream');
    assert.equal(stream.headers['content-type'], REVOCATION_STREAM_HEADERS['content-type']);
    await stream.until('two events', (messages) => eventIds(messages).length === 2);
    feed.close();
    await stream.end();
    await app.close();
  });
});
