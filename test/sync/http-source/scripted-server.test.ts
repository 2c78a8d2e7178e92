import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { isRevocableError } from '../../../src/errors/index.js';
import { exportJwk, generateKey, KeyRing } from '../../../src/jwt/index.js';
import {
  createKeyRevocation,
  createRevocationIndex,
  createSessionRevocation,
  type RevocationEvent,
} from '../../../src/revocation/index.js';
import {
  cleanUp,
  eventStream,
  heartbeat,
  json,
  revocation,
  scriptedServer,
  sourceFor,
  waitUntil,
} from './support.js';

afterEach(cleanUp);

const TIMING = { maxAccessTokenLifetime: 600 };

function session(sid: string): RevocationEvent {
  return createSessionRevocation({ sid }, TIMING);
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}

interface FeedScript {
  /** The snapshots served, in order; the last one again once they run out. */
  snapshots?: Array<{ position: number; events: unknown[] }>;
  /** Serves the n-th stream request (from 0). */
  stream: (request: IncomingMessage, response: ServerResponse, n: number) => void;
  /** The JWKS document (default: one public EdDSA key). */
  jwks?: () => unknown;
}

/** A scripted auth server: the snapshot, the stream and the JWKS, as the test says. */
async function feedServer(script: FeedScript) {
  const ring = KeyRing.generate('EdDSA');
  const snapshots = script.snapshots ?? [{ position: 0, events: [] }];
  const seen = { snapshots: 0, streams: [] as IncomingMessage[], jwks: 0 };
  const server = await scriptedServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/revocations') {
      json(response, snapshots[Math.min(seen.snapshots, snapshots.length - 1)]);
      seen.snapshots++;
    } else if (path === '/revocations/stream') {
      seen.streams.push(request);
      script.stream(request, response, seen.streams.length - 1);
    } else if (path === '/.well-known/jwks.json') {
      seen.jwks++;
      json(response, script.jwks?.() ?? ring.jwks());
    } else {
      json(response, { error: 'ERR_HTTP_NOT_FOUND', message: 'Not found.' }, 404);
    }
  });
  return { ...server, seen, ring };
}

/** The event stream is kept open (and ended by the clean-up of the server). */
function hold(response: ServerResponse): void {
  eventStream(response);
}

/** A server whose JWKS lists two keys until the test changes `keys`, its stream one heartbeat. */
async function twoKeyServer() {
  const first = generateKey('EdDSA', { state: 'verify-only' });
  const second = generateKey('EdDSA', { state: 'verify-only' });
  const jwks = { keys: [exportJwk(first), exportJwk(second)] };
  const server = await feedServer({
    jwks: () => ({ keys: jwks.keys }),
    stream(_q, response) {
      hold(response);
      response.write(heartbeat(0));
    },
  });
  return { first, second, jwks, server };
}

/** Has the source read the JWKS once more (a read is allowed once a second). */
async function readJwksAgain(
  source: { refreshKeys(): Promise<boolean> },
  server: { seen: { jwks: number } },
): Promise<void> {
  const reads = server.seen.jwks;
  await waitUntil('a fetch is allowed', async () => {
    await source.refreshKeys();
    return server.seen.jwks > reads;
  });
}

describe('an HTTP revocation source on a scripted server', () => {
  it('loads the snapshot again on a reset and streams after its position', async () => {
    const server = await feedServer({
      snapshots: [
        { position: 5, events: [session('s1')] },
        { position: 2, events: [session('s2')] },
      ],
      stream(_request, response, n) {
        eventStream(response);
        if (n === 0) response.end('id:\nevent: reset\ndata: {"position":2}\n\n');
        else response.write(heartbeat(2));
      },
    });
    const { source, index, errors } = sourceFor(server.url);
    await source.start();
    assert.equal(index.check({ sid: 's1' }), 'session');
    assert.equal(index.check({ sid: 's2' }), 'session');
    assert.equal(source.position, 2);
    assert.equal(server.seen.snapshots, 2);
    const [first, second] = server.seen.streams;
    assert.equal(new URL(first!.url!, 'http://x').searchParams.get('after'), '5');
    assert.equal(new URL(second!.url!, 'http://x').searchParams.get('after'), '2');
    assert.equal(second!.headers['last-event-id'], undefined);
    // A reset is the protocol, not an error.
    assert.deepEqual(errors, []);
    assert.equal(source.health().state, 'fresh');
  });

  it('backs off from a server that resets every stream, heartbeats between', async () => {
    const server = await feedServer({
      stream(_request, response) {
        eventStream(response);
        response.end(`${heartbeat(0)}id:\nevent: reset\ndata: {"position":0}\n\n`);
      },
    });
    const { source } = sourceFor(server.url, { reconnectDelay: 0.1, maxReconnectDelay: 0.4 });
    await source.start();
    const before = server.seen.snapshots;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Waits of 0.1, 0.2, 0.4, 0.4... s: a handful of snapshots a second, not hundreds.
    const loads = server.seen.snapshots - before;
    assert.ok(loads >= 2 && loads <= 8, `${loads} snapshots in a second`);
  });

  it('loads the snapshot again when the server refuses the position (400)', async () => {
    const server = await feedServer({
      snapshots: [{ position: 3, events: [] }],
      stream(_request, response, n) {
        if (n === 0) {
          json(response, { error: 'ERR_INVALID_ARGUMENT', message: 'bad position' }, 400);
        } else {
          hold(response);
          response.write(heartbeat(3));
        }
      },
    });
    const { source, errors } = sourceFor(server.url);
    await source.start();
    assert.equal(server.seen.snapshots, 2);
    assert.equal(errors.length, 1);
    assert.equal(codeOf(errors[0]), 'ERR_SYNC_CONNECTION');
    assert.match(String((errors[0] as Error).message), /HTTP 400 \(ERR_INVALID_ARGUMENT\)/);
  });

  it('drops a connection at a malformed message, applying nothing of it or after it, and resumes after the last good id', async () => {
    const now = Date.now() / 1000;
    const bad = { ...session('s3'), kind: 'nope' };
    const second: { response: ServerResponse | null } = { response: null };
    const server = await feedServer({
      snapshots: [{ position: 1, events: [] }],
      stream(_request, response, n) {
        hold(response);
        if (n === 0) {
          response.write(
            heartbeat(1, now - 2) +
              revocation(2, session('s2')) +
              revocation(3, bad) +
              revocation(4, session('s4')) +
              heartbeat(4, now - 1),
          );
        } else {
          second.response = response;
        }
      },
    });
    const { source, index, errors } = sourceFor(server.url);
    await source.start();
    await waitUntil('the source reconnects', () => second.response !== null);
    assert.equal(index.check({ sid: 's2' }), 'session');
    assert.equal(index.check({ sid: 's4' }), null, 'nothing after the malformed message');
    assert.equal(index.freshAt, now - 2, 'the heartbeat after it was not heard');
    assert.equal(server.seen.streams[1]!.headers['last-event-id'], '2');
    assert.equal(errors.length, 1);
    assert.equal(codeOf(errors[0]), 'ERR_SYNC_MESSAGE_INVALID');
    assert.equal(codeOf((errors[0] as Error).cause), 'ERR_REVOCATION_EVENT_INVALID');
    second.response!.write(
      revocation(3, session('s3')) + revocation(4, session('s4')) + heartbeat(4, now),
    );
    await waitUntil('s4 arrives', () => index.check({ sid: 's4' }) === 'session');
    assert.equal(index.check({ sid: 's3' }), 'session');
    assert.equal(index.freshAt, now);
    assert.equal(source.position, 4);
  });

  it('never marks the index fresh from a heartbeat it cannot read whole', async () => {
    const now = Date.now() / 1000;
    const second: { response: ServerResponse | null } = { response: null };
    const server = await feedServer({
      stream(_request, response, n) {
        hold(response);
        if (n === 0) {
          response.write(
            `${heartbeat(0, now - 3)}id: 0\nevent: heartbeat\ndata: {"position":0,"freshAt":${now},"extra":1}\n\n`,
          );
        } else second.response = response;
      },
    });
    const { source, index, errors } = sourceFor(server.url);
    await source.start();
    await waitUntil('the source reconnects', () => second.response !== null);
    assert.equal(index.freshAt, now - 3);
    assert.equal(codeOf(errors[0]), 'ERR_SYNC_MESSAGE_INVALID');
  });

  it('reopens a stream that goes silent past heartbeatTimeout', async () => {
    const server = await feedServer({
      stream(_request, response, n) {
        hold(response);
        if (n <= 1) response.write(heartbeat(0));
      },
    });
    const { source, errors } = sourceFor(server.url, { pollInterval: 0.1, heartbeatTimeout: 0.3 });
    await source.start();
    await waitUntil('a second stream', () => server.seen.streams.length >= 2);
    assert.equal(server.seen.streams[1]!.headers['last-event-id'], '0');
    assert.equal(codeOf(errors[0]), 'ERR_SYNC_CONNECTION');
    assert.match(String((errors[0] as Error).message), /nothing received for 0\.3 s/);
  });

  it('refuses a message or a line longer than maxMessageLength, and reconnects', async () => {
    const server = await feedServer({
      stream(_request, response, n) {
        hold(response);
        response.write(heartbeat(0));
        if (n === 0) response.write(`data: ${'x'.repeat(5000)}`);
        if (n === 1) response.write(`${'data: 0123456789\n'.repeat(400)}`);
      },
    });
    const { source, errors } = sourceFor(server.url, { maxMessageLength: 4096 });
    await source.start();
    await waitUntil('a third stream', () => server.seen.streams.length >= 3);
    assert.deepEqual(errors.map(codeOf), ['ERR_SYNC_MESSAGE_INVALID', 'ERR_SYNC_MESSAGE_INVALID']);
    assert.match(String((errors[0] as Error).message), /a line is longer than 4096/);
    assert.match(String((errors[1] as Error).message), /a message is longer than 4096/);
  });

  it('never takes a server clock ahead of its own for freshness', async () => {
    const server = await feedServer({
      stream(_request, response) {
        hold(response);
        response.write(heartbeat(0, Date.now() / 1000 + 3600));
      },
    });
    const { source, index } = sourceFor(server.url);
    await source.start();
    assert.ok(index.freshAt !== null && index.freshAt <= Date.now() / 1000);
  });

  it('goes stale when the heartbeats repeat a freshAt, even one ahead of its clock', async () => {
    // A server an hour ahead whose log reads have stopped: its heartbeats go on, freshAt frozen.
    const frozen = Date.now() / 1000 + 3600;
    const server = await feedServer({
      stream(_request, response) {
        hold(response);
        response.write(heartbeat(0, frozen));
        const timer = setInterval(() => response.write(heartbeat(0, frozen)), 100);
        response.on('close', () => clearInterval(timer));
      },
    });
    const { source, index } = sourceFor(server.url, { maxStaleness: 0.5 });
    await source.start();
    const markedAt = index.freshAt;
    await new Promise((resolve) => setTimeout(resolve, 900));
    // Heartbeats kept coming, and none of them made the index fresher.
    assert.equal(index.freshAt, markedAt);
    assert.ok(index.staleness() > 0.5, String(index.staleness()));
    assert.equal(source.health().state, 'stale');
  });

  it('stays fresh when the server clock is set back, its reads going on', async () => {
    // An hour ahead, then corrected: the freshAt values drop, and go on moving.
    let offset = 3600;
    const server = await feedServer({
      stream(_request, response) {
        hold(response);
        response.write(heartbeat(0, Date.now() / 1000 + offset));
        const timer = setInterval(
          () => response.write(heartbeat(0, Date.now() / 1000 + offset)),
          100,
        );
        response.on('close', () => clearInterval(timer));
      },
    });
    const { source } = sourceFor(server.url, { maxStaleness: 0.5 });
    await source.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    offset = 0;
    await new Promise((resolve) => setTimeout(resolve, 900));
    assert.equal(source.health().state, 'fresh');
  });

  it('sends its headers with every request and never shows them', async () => {
    const secret = 'Bearer proxy-secret-token';
    const seenHeaders: Array<string | undefined> = [];
    const server = await feedServer({
      stream(request, response) {
        seenHeaders.push(request.headers.authorization);
        hold(response);
        response.write(heartbeat(0));
      },
    });
    const { source } = sourceFor(`${server.url}/`, { headers: { Authorization: secret } });
    await source.start();
    for (const request of server.requests) assert.equal(request.headers.authorization, secret);
    assert.equal(server.requests.length, 3);
    await source.stop();
    // A failing start names the URL, never the header.
    const failing = await scriptedServer((_request, response) =>
      json(response, { error: 'ERR_STORE_UNAVAILABLE', message: 'down' }, 503),
    );
    const other = sourceFor(`${failing.url}/auth`, { headers: { authorization: secret } });
    await assert.rejects(other.source.start(), (error: unknown) => {
      assert.ok(isRevocableError(error, 'ERR_SYNC_CONNECTION'));
      assert.match(
        error.message,
        /^GET http:\/\/127\.0\.0\.1:\d+\/auth\/(revocations|\.well-known\/jwks\.json) answered HTTP 503 \(ERR_STORE_UNAVAILABLE\)\.$/,
      );
      assert.ok(!error.message.includes('proxy-secret'));
      return true;
    });
    assert.equal(other.source.health().state, 'stopped');
    assert.ok(!String(other.source.health().lastError).includes('proxy-secret'));
  });

  it('rejects start, naming the URL, when the server cannot be reached', async () => {
    const { source } = sourceFor('http://127.0.0.1:1');
    await assert.rejects(source.start(), (error: unknown) => {
      assert.ok(isRevocableError(error, 'ERR_SYNC_CONNECTION'));
      assert.match(
        error.message,
        /^GET http:\/\/127\.0\.0\.1:1\/(revocations|\.well-known\/jwks\.json) failed: /,
      );
      return true;
    });
    assert.equal(source.health().state, 'stopped');
  });

  it('follows no redirect: the keys and the feed come only from the URL it was given', async () => {
    // Where a redirect would lead: a server with keys of its own, which must never be asked.
    const elsewhere = await feedServer({ stream: (_q, response) => hold(response) });
    const redirect = (response: ServerResponse, path: string) => {
      response.writeHead(302, { location: `${elsewhere.url}${path}` });
      response.end();
    };
    const server = await scriptedServer((request, response) => {
      redirect(response, new URL(request.url ?? '/', 'http://x').pathname);
    });
    const { source } = sourceFor(server.url);
    await assert.rejects(source.start(), (error: unknown) => {
      assert.ok(isRevocableError(error, 'ERR_SYNC_CONNECTION'), String(error));
      assert.match(
        error.message,
        /answered HTTP 302: a redirect, which the source does not follow/,
      );
      return true;
    });

    // The stream alone redirected: reported, retried on the same URL, never followed.
    const feed = await feedServer({
      stream: (_q, response) => redirect(response, '/revocations/stream'),
    });
    const streaming = sourceFor(feed.url, { startTimeout: 0.5 });
    await assert.rejects(streaming.source.start());
    assert.ok(feed.seen.streams.length >= 1);
    assert.ok(
      streaming.errors.some((error) => /HTTP 302: a redirect/.test(String(error))),
      String(streaming.errors),
    );
    assert.equal(elsewhere.seen.snapshots, 0);
    assert.equal(elsewhere.seen.jwks, 0);
    assert.equal(elsewhere.seen.streams.length, 0);
  });

  it('rejects start when the JWKS holds a private key, or is not a JWKS', async () => {
    const privateKey = generateKey('EdDSA', { state: 'active' });
    for (const [jwks, pattern] of [
      [{ keys: [exportJwk(privateKey, { includePrivate: true })] }, /public keys only/],
      [{ keys: [] }, /is invalid/],
      ['{', /is invalid/],
    ] as const) {
      const server = await feedServer({
        jwks: () => jwks,
        stream: (_q, response) => hold(response),
      });
      const { source } = sourceFor(server.url);
      await assert.rejects(source.start(), (error: unknown) => {
        assert.ok(isRevocableError(error, 'ERR_KEYRING_INVALID'), String(error));
        assert.match(error.message, pattern);
        return true;
      });
    }
  });

  it('rejects start when the snapshot holds an invalid event, applying none of it', async () => {
    const server = await feedServer({
      snapshots: [{ position: 2, events: [session('s1'), { v: 1, kind: 'session' }] }],
      stream: (_q, response) => hold(response),
    });
    const { source, index } = sourceFor(server.url);
    await assert.rejects(source.start(), (error: unknown) =>
      isRevocableError(error, 'ERR_SYNC_MESSAGE_INVALID'),
    );
    assert.equal(index.check({ sid: 's1' }), null);
  });

  it('rejects start when no heartbeat comes within startTimeout', async () => {
    const server = await feedServer({
      stream: (_q, response) =>
        json(response, { error: 'ERR_STORE_UNAVAILABLE', message: 'x' }, 503),
    });
    const { source } = sourceFor(server.url, { startTimeout: 0.5 });
    await assert.rejects(source.start(), (error: unknown) => {
      assert.ok(isRevocableError(error, 'ERR_SYNC_CONNECTION'));
      assert.match(
        error.message,
        /^No heartbeat from http:\/\/127\.0\.0\.1:\d+\/revocations\/stream within 0\.5 s \(last error: .*HTTP 503/,
      );
      return true;
    });
    assert.equal(source.health().state, 'stopped');
  });

  it('stops cleanly: during start, twice, and refreshKeys after it', async () => {
    const server = await feedServer({ stream: (_q, response) => hold(response) });
    const { source } = sourceFor(server.url);
    const starting = source.start();
    await waitUntil('the stream is open', () => source.health().connected);
    await source.stop();
    await assert.rejects(starting, (error: unknown) =>
      isRevocableError(error, 'ERR_SYNC_CONNECTION'),
    );
    await source.stop();
    assert.equal(source.health().state, 'stopped');
    assert.equal(source.health().connected, false);
    assert.equal(await source.refreshKeys(), false);
    await assert.rejects(source.start(), (error: unknown) =>
      isRevocableError(error, 'ERR_INVALID_ARGUMENT'),
    );
  });

  it('mirrors the JWKS: a key it drops is retired, a kid whose key changes is refused', async () => {
    const { first, second, jwks, server } = await twoKeyServer();
    let offset = 0;
    const index = createRevocationIndex({
      maxAccessTokenLifetime: '10m',
      now: () => Date.now() / 1000 + offset,
    });
    const { source } = sourceFor(server.url, { index });
    await source.start();
    assert.equal(source.keys.get(first.kid)?.state, 'verify-only');
    jwks.keys = [exportJwk(second)];
    // A first read without it holds it (an auth process may be a reload behind)...
    await readJwksAgain(source, server);
    assert.equal(source.keys.get(first.kid)?.state, 'verify-only');
    // ...and one past the grace retires it.
    offset = 30; // the default droppedKeyGrace
    await waitUntil('a fetch is allowed', async () => (await source.refreshKeys()) === true);
    assert.equal(source.keys.get(first.kid)?.state, 'retired');
    // The same kid with another key: refused, the ring kept.
    const impostor = generateKey('EdDSA', { state: 'verify-only', kid: second.kid });
    jwks.keys = [exportJwk(impostor)];
    const revision = source.keys.revision;
    await assert.rejects(source.refreshKeys(), (error: unknown) =>
      isRevocableError(error, 'ERR_KEYRING_INVALID'),
    );
    assert.equal(source.keys.revision, revision);
    assert.equal(source.keys.get(second.kid)?.verifyKey.equals(second.verifyKey), true);
  });

  it('reads the JWKS again once a dropped key is past droppedKeyGrace, and retires it then', async () => {
    const { first, second, jwks, server } = await twoKeyServer();
    const { source } = sourceFor(server.url, { droppedKeyGrace: 0.3 });
    await source.start();
    jwks.keys = [exportJwk(second)];
    await readJwksAgain(source, server);
    assert.equal(source.keys.get(first.kid)?.state, 'verify-only');
    // No call here: the source reads again by itself once the grace is over.
    await waitUntil(
      'the dropped key is retired',
      () => source.keys.get(first.kid)?.state === 'retired',
    );
    assert.equal(source.keys.get(second.kid)?.state, 'verify-only');
  });

  it('retires a key the snapshot revoked even when the JWKS listing it comes after', async () => {
    const revoked = generateKey('EdDSA', { state: 'verify-only' });
    const live = generateKey('EdDSA', { state: 'verify-only' });
    const server = await scriptedServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      if (path === '/revocations') {
        json(response, {
          position: 1,
          events: [createKeyRevocation({ kid: revoked.kid }, TIMING)],
        });
      } else if (path === '/.well-known/jwks.json') {
        // Later than the snapshot: the key revocation is in the index before the key is here.
        setTimeout(() => json(response, { keys: [exportJwk(revoked), exportJwk(live)] }), 200);
      } else {
        eventStream(response);
        response.write(heartbeat(1));
      }
    });
    const { source } = sourceFor(server.url);
    await source.start();
    assert.equal(source.keys.get(revoked.kid)?.state, 'retired');
    assert.equal(source.keys.get(live.kid)?.state, 'verify-only');
  });

  it('retires a key at once on a key revocation and fetches the JWKS for its replacement', async () => {
    const old = generateKey('EdDSA', { state: 'verify-only' });
    const replacement = generateKey('EdDSA', { state: 'verify-only' });
    let keys = [exportJwk(old)];
    const stream: { response: ServerResponse | null } = { response: null };
    const server = await feedServer({
      jwks: () => ({ keys }),
      stream(_q, response) {
        hold(response);
        response.write(heartbeat(0));
        stream.response = response;
      },
    });
    const { source, index } = sourceFor(server.url);
    await source.start();
    keys = [exportJwk(replacement)];
    stream.response!.write(revocation(1, createKeyRevocation({ kid: old.kid }, TIMING)));
    await waitUntil('the key is retired', () => source.keys.get(old.kid)?.state === 'retired');
    assert.deepEqual(index.revokedKeys(), [old.kid]);
    await waitUntil(
      'the replacement arrives',
      () => source.keys.get(replacement.kid) !== undefined,
    );
    assert.equal(server.seen.jwks, 2);
  });
});
