import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from './feed/feed-support.js';
import { openStream, type SseStream } from './feed/sse-client.js';
import { call, removeDataDirs, type ServerProcess, startServerProcess } from './server-process.js';

// The test's connections come from 127.0.0.1, the proxy the server is told to trust: the client
// address is then the rightmost X-Forwarded-For entry that is not a trusted address.
function from(address: string): Record<string, string> {
  return { 'x-forwarded-for': address };
}

describe('the auth server behind a trusted proxy, with stream limits of 3 in all and 2 per address', () => {
  let server: ServerProcess;
  let port: number;
  const open: SseStream[] = [];

  before(async () => {
    server = await startServerProcess({
      args: ['--max-streams', '3', '--max-streams-per-address', '2', '--trust-proxy=127.0.0.1'],
    });
    port = Number(new URL(server.url).port);
  });

  after(async () => {
    for (const stream of open) stream.close();
    await server?.stop();
    removeDataDirs();
  });

  async function stream(headers: Record<string, string>): Promise<SseStream> {
    const opened = await openStream(port, '/revocations/stream', headers);
    open.push(opened);
    return opened;
  }

  function assertRefused(refused: SseStream, what: string): void {
    assert.equal(refused.status, 503, what);
    assert.equal(refused.headers['retry-after'], '5', what);
    assert.match(String(refused.headers['content-type']), /^application\/json/, what);
  }

  it('refuses a third stream from one address and a fourth in all, with 503 ERR_STREAM_LIMIT, and admits again once one closes', async () => {
    const a1 = await stream(from('198.51.100.1'));
    const a2 = await stream(from('198.51.100.1'));
    assert.equal(a1.status, 200);
    assert.equal(a2.status, 200);

    const a3 = await stream(from('198.51.100.1'));
    assertRefused(a3, 'a third from one address');
    await a3.end();
    const perAddress = JSON.parse(a3.text());
    assert.equal(perAddress.error, 'ERR_STREAM_LIMIT');
    // Written for the client, unlike other 503s: which limit, and when to try again.
    assert.match(perAddress.message, /limit of one address: retry in 5 seconds/);

    // The leftmost entry is the client's own writing: it does not make another address.
    const spoofed = await stream(from('203.0.113.77, 198.51.100.1'));
    assertRefused(spoofed, 'a spoofed leftmost entry counts under the proxy-given address');

    // A proxy that writes the client's port: the same client, whatever its port.
    assertRefused(await stream(from('198.51.100.1:61001')), 'an address with a port');

    const b1 = await stream(from('198.51.100.2'));
    assert.equal(b1.status, 200);
    const c1 = await stream(from('198.51.100.3'));
    assertRefused(c1, 'a fourth in all');
    await c1.end();
    assert.match(JSON.parse(c1.text()).message, /serves 3 revocation streams, its limit/);

    // The other routes still answer while the streams are full.
    assert.equal((await call(server.url, 'GET', '/healthz')).status, 200);

    a1.close();
    // The place comes back when the server sees the client go.
    let c2: SseStream | undefined;
    await waitUntil('a stream from a third address is admitted', async () => {
      const attempt = await openStream(port, '/revocations/stream', from('198.51.100.3'));
      open.push(attempt);
      if (attempt.status === 200) c2 = attempt;
      else attempt.close();
      return attempt.status === 200;
    });
    assert.ok(c2 !== undefined);
    await c2.until('the catch-up heartbeat', (messages) =>
      messages.some((message) => message.event === 'heartbeat'),
    );
  });

  it('records the address the trusted proxy gave, not the one the client wrote', async () => {
    const register = await call(server.url, 'POST', '/auth/register', {
      json: { username: 'proxied', password: 'a password of length' },
    });
    assert.equal(register.status, 201, JSON.stringify(register.body));
    const login = await call(server.url, 'POST', '/auth/login', {
      json: { username: 'proxied', password: 'a password of length' },
      headers: from('203.0.113.77, 198.51.100.9'),
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const sessions = await call(server.url, 'GET', '/auth/sessions', {
      token: login.body.access_token,
    });
    assert.equal(sessions.status, 200);
    assert.deepEqual(
      sessions.body.sessions.map((session: { ip: string }) => session.ip),
      ['198.51.100.9'],
    );
  });
});

describe('the auth server with 2 streams per address, against HTTP pipelining', () => {
  let server: ServerProcess;
  let port: number;

  before(async () => {
    server = await startServerProcess({ args: ['--max-streams-per-address', '2'] });
    port = Number(new URL(server.url).port);
  });

  after(async () => {
    await server?.stop();
    removeDataDirs();
  });

  it('closes a connection that pipelines streams behind a stream, and gives every place back', async () => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    // Four requests at once: the first is a stream that never ends, the others queue behind it.
    socket.write('GET /revocations/stream HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(4));
    const ended = await Promise.race([
      closed.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000)),
    ]);
    socket.destroy();
    assert.ok(ended, 'the server closed the connection');
    // Whatever reached the client before the close is the first stream's, never a second answer.
    assert.ok(received.split('HTTP/1.1 ').length <= 2, received);

    // Both places of this address are free again.
    const streams: SseStream[] = [];
    try {
      await waitUntil('two streams are admitted', async () => {
        for (const stream of streams.splice(0)) stream.close();
        for (let i = 0; i < 2; i++) streams.push(await openStream(port, '/revocations/stream'));
        return streams.every((stream) => stream.status === 200);
      });
      const third = await openStream(port, '/revocations/stream');
      streams.push(third);
      assert.equal(third.status, 503);
    } finally {
      for (const stream of streams) stream.close();
    }
  });
});
