// SIGTERM ends the auth server within a bound, whatever its services do: with its Redis behind a
// connection that stopped answering (a QUIT that nobody answers must not hold it), and with its PostgreSQL behind a connection that
// stopped answering (no error ever ends the statements in flight). A request that reaches the
// server while it closes is answered in the shape of every other error.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SHUTDOWN_TIMEOUT_SECONDS } from '../../src/cli/commands/serve.js';
import { startTcpProxy } from '../http/e2e/tcp-proxy.js';
import { DATABASE_URL, REDIS_URL } from '../support/services.js';
import { ADMIN, type ClusterServices, openClusterServices } from './cluster-support.js';
import { call, removeDataDirs, type ServerProcess, startServerProcess } from './server-process.js';

let services: ClusterServices;
const started: ServerProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
before(async () => {
  services = await openClusterServices();
});
after(async () => {
  await Promise.all(started.map((server) => server.stop('SIGKILL')));
  for (const cleanup of cleanups.reverse()) await cleanup();
  await services.cleanup();
  removeDataDirs();
});

/** The environment of a cluster process on `databaseUrl` (a schema of its own), without Redis. */
function clusterEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    REVOCABLE_KEYS_SECRET: randomBytes(32).toString('base64'),
    REVOCABLE_PG_SCHEMA: services.newSchema(),
    REVOCABLE_ADMIN_USER: ADMIN.username,
    REVOCABLE_ADMIN_PASSWORD: ADMIN.password,
  };
}

/** Sends SIGTERM; resolves to the exit code and how long the exit took, or 'hang'. */
async function terminate(server: ServerProcess, limitMs: number) {
  const startedAt = Date.now();
  const code = await Promise.race([server.stop('SIGTERM'), sleep(limitMs).then(() => 'hang')]);
  return { code, ms: Date.now() - startedAt };
}

describe('auth server shutdown', () => {
  it('ends at once on SIGTERM while its Redis answers nothing', async (t) => {
    if (services.missing !== null) return t.skip(services.missing);
    const proxy = await startTcpProxy(REDIS_URL);
    cleanups.push(() => proxy.close());
    const server = await startServerProcess({
      env: {
        ...clusterEnv(DATABASE_URL),
        REDIS_URL: proxy.via(REDIS_URL),
        REVOCABLE_REDIS_PREFIX: services.newPrefix(),
      },
    });
    started.push(server);
    assert.equal((await call(server.url, 'GET', '/healthz')).status, 200);
    // Connected, and nothing comes back: a QUIT would wait for ever.
    proxy.stall();
    const { code, ms } = await terminate(server, 8000);
    assert.equal(code, 0, `exit ${code} after ${ms} ms:\n${server.output()}`);
    assert.ok(ms < 5000, `took ${ms} ms`);
    proxy.restore();
  });

  it(`ends within ${SHUTDOWN_TIMEOUT_SECONDS} s on SIGTERM while PostgreSQL answers nothing`, async (t) => {
    if (services.missing !== null) return t.skip(services.missing);
    const proxy = await startTcpProxy(DATABASE_URL);
    cleanups.push(() => proxy.close());
    const server = await startServerProcess({ env: clusterEnv(proxy.via(DATABASE_URL)) });
    started.push(server);
    assert.equal((await call(server.url, 'GET', '/healthz')).status, 200);
    proxy.stall();
    // A request in flight, waiting on a statement that never comes back.
    const login = call(server.url, 'POST', '/auth/login', {
      json: { username: ADMIN.username, password: ADMIN.password },
    }).catch((error: unknown) => error);
    await sleep(500);
    const { code, ms } = await terminate(server, (SHUTDOWN_TIMEOUT_SECONDS + 10) * 1000);
    assert.notEqual(code, 'hang', `no exit within ${SHUTDOWN_TIMEOUT_SECONDS + 10} s`);
    assert.ok(ms < (SHUTDOWN_TIMEOUT_SECONDS + 3) * 1000, `took ${ms} ms`);
    assert.equal(code, 1);
    assert.match(server.output(), /not stopped after \d+ s/);
    await login;
    proxy.restore();
  });

  it('answers a request that arrives while it closes with 503 ERR_SERVER_CLOSING', async () => {
    const server = await startServerProcess();
    started.push(server);
    const { hostname, port } = new URL(server.url);
    const socket = connect({ host: hostname, port: Number(port) });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    // A request whose body is still on its way keeps the connection busy while the server
    // closes; a second one follows it on the same connection (pipelined).
    const body = JSON.stringify({ username: 'nobody', password: 'not a password at all' });
    const head =
      `POST /auth/login HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    socket.write(head + body.slice(0, 10));
    await sleep(500);
    server.child.kill('SIGTERM');
    const deadline = Date.now() + 10_000;
    while (!server.output().includes('SIGTERM: finishing') && Date.now() < deadline)
      await sleep(10);
    await sleep(200);
    socket.write(`${body.slice(10)}GET /healthz HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
    await Promise.race([closed, sleep(10_000)]);
    socket.destroy();
    const answers = received.split(/(?=HTTP\/1\.1 \d{3} )/);
    assert.equal(answers.length, 2, received);
    assert.match(answers[0]!, /^HTTP\/1\.1 401 /);
    assert.match(answers[1]!, /^HTTP\/1\.1 503 /);
    const json = JSON.parse(answers[1]!.slice(answers[1]!.indexOf('\r\n\r\n') + 4)) as {
      error: string;
      message: string;
    };
    assert.equal(json.error, 'ERR_SERVER_CLOSING');
    assert.equal(typeof json.message, 'string');
    // It ends by itself, from the one SIGTERM.
    const code = server.child.exitCode ?? (await once(server.child, 'exit'))[0];
    assert.equal(code, 0);
  });
});
