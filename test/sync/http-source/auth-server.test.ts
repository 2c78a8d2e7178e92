import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { afterEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  cleanUp,
  outcome,
  recordingFetch,
  requestsTo,
  sourceFor,
  startAuthServer,
  verifierOf,
  waitUntil,
} from './support.js';

afterEach(cleanUp);

const REVOKED = 'ERR_TOKEN_REVOKED';

describe('an HTTP revocation source on a real auth server', () => {
  it('loads the keys and the snapshot, then applies each revocation as it is made', async () => {
    const server = await startAuthServer();
    const { sessions } = server.running().runtime;
    const alice = await sessions.login('alice');
    const bob = await sessions.login('bob');
    const carol = await sessions.login('carol');
    await sessions.logout(bob.sid);
    const recorder = recordingFetch();
    const { source, index, errors } = sourceFor(server.url, { fetch: recorder.fetch });
    assert.equal(source.health().state, 'starting');
    await source.start();
    const verifier = verifierOf(source, index);
    // The snapshot brought bob's logout; the JWKS the key of every token.
    assert.equal(outcome(verifier, alice.accessToken), 'ok');
    assert.equal(outcome(verifier, bob.accessToken), REVOKED);
    assert.equal(outcome(verifier, carol.accessToken), 'ok');
    const health = source.health();
    assert.equal(health.transport, 'http');
    assert.equal(health.state, 'fresh');
    assert.equal(health.connected, true);
    assert.ok(health.position >= 1);
    assert.ok(health.freshAt !== null && health.staleness < 5);
    assert.equal(source.position, health.position);
    // The stream resumed after the snapshot's position, with no Last-Event-ID.
    const [snapshotRequest] = requestsTo(recorder.requests, '/revocations');
    const [stream] = requestsTo(recorder.requests, '/revocations/stream');
    assert.ok(snapshotRequest !== undefined && stream !== undefined);
    assert.equal(stream.url.searchParams.get('after'), String(health.position));
    assert.equal(stream.headers.get('last-event-id'), null);

    // Live: a logout, a token revocation, a ban.
    await sessions.logout(alice.sid);
    await waitUntil('alice is refused', () => outcome(verifier, alice.accessToken) === REVOKED);
    const dave = await sessions.login('dave');
    assert.equal(outcome(verifier, dave.accessToken), 'ok');
    await sessions.revokeToken(dave.jti);
    await waitUntil('dave is refused', () => outcome(verifier, dave.accessToken) === REVOKED);
    await sessions.ban('carol');
    await waitUntil('carol is refused', () => outcome(verifier, carol.accessToken) === REVOKED);
    assert.ok(source.health().eventsApplied >= 4);
    assert.ok(source.health().lagMs !== null);
    assert.deepEqual(errors, []);
  });

  it('resumes after a cut with Last-Event-ID: what was revoked meanwhile arrives, nothing is lost', async () => {
    const server = await startAuthServer();
    const { sessions } = server.running().runtime;
    const recorder = recordingFetch();
    const { source, index, errors } = sourceFor(server.url, { fetch: recorder.fetch });
    await source.start();
    const verifier = verifierOf(source, index);
    const tokens = await Promise.all(['u1', 'u2', 'u3', 'u4'].map((sub) => sessions.login(sub)));
    await sessions.logout(tokens[0]!.sid);
    await waitUntil('u1 is refused', () => outcome(verifier, tokens[0]!.accessToken) === REVOKED);
    const before = source.position;
    // The stream is cut, and held from reconnecting while two more sessions end.
    recorder.hold();
    server.running().app.server.closeAllConnections();
    await waitUntil('the source sees the cut', () => !source.health().connected);
    await sessions.logout(tokens[1]!.sid);
    await sessions.logoutAll('u3');
    assert.equal(outcome(verifier, tokens[1]!.accessToken), 'ok', 'not yet heard');
    const streamsBefore = requestsTo(recorder.requests, '/revocations/stream').length;
    recorder.release();
    await waitUntil('u2 is refused', () => outcome(verifier, tokens[1]!.accessToken) === REVOKED);
    await waitUntil('u3 is refused', () => outcome(verifier, tokens[2]!.accessToken) === REVOKED);
    assert.equal(outcome(verifier, tokens[3]!.accessToken), 'ok');
    const resumed = requestsTo(recorder.requests, '/revocations/stream')[streamsBefore];
    assert.ok(resumed !== undefined);
    const lastId = Number(resumed.headers.get('last-event-id'));
    assert.ok(lastId >= before, `resumed after ${lastId}, at least ${before}`);
    // Never the snapshot again: a resumed stream needs none.
    assert.equal(requestsTo(recorder.requests, '/revocations').length, 1);
    await waitUntil('fresh again', () => source.health().state === 'fresh');
    assert.ok(source.health().reconnects >= 1);
    assert.ok(errors.length >= 1, 'the cut was reported');
    for (const error of errors)
      assert.equal((error as { code?: string }).code, 'ERR_SYNC_CONNECTION');
  });

  it('follows a rotation and a retirement: the new key verifies, the retired one is refused', async () => {
    const server = await startAuthServer();
    const runtime = server.running().runtime;
    const { source, index, errors } = sourceFor(server.url);
    await source.start();
    const verifier = verifierOf(source, index);
    const first = await runtime.sessions.login('alice');
    const firstKid = runtime.keys.ring.active.kid;
    assert.equal(outcome(verifier, first.accessToken), 'ok');
    // A rotation: the new key is unknown here until the JWKS is read again.
    const second = await runtime.keys.rotate();
    const fresh = await runtime.sessions.login('bob');
    assert.equal(outcome(verifier, fresh.accessToken), 'ERR_JWT_KID_UNKNOWN');
    assert.equal(await source.refreshKeys(), true);
    assert.equal(outcome(verifier, fresh.accessToken), 'ok');
    assert.equal(source.keys.get(second.kid)?.state, 'verify-only');
    // The active key retired on the server: its tokens die at once here (the key event), and
    // its replacement arrives with the JWKS read that the event sets off.
    await runtime.sessions.retireKey(second.kid);
    await waitUntil("bob's token is refused", () => outcome(verifier, fresh.accessToken) !== 'ok');
    assert.equal(source.keys.get(second.kid)?.state, 'retired');
    const third = runtime.keys.ring.active.kid;
    assert.notEqual(third, second.kid);
    const after = await runtime.sessions.login('carol');
    await waitUntil('the replacement key arrives', () => source.keys.get(third) !== undefined);
    assert.equal(outcome(verifier, after.accessToken), 'ok');
    // The first key was rotated out, not retired: its tokens live until they expire.
    assert.equal(source.keys.get(firstKid)?.state, 'verify-only');
    assert.equal(outcome(verifier, first.accessToken), 'ok');
    assert.deepEqual(errors, []);
  });

  it('fetches the keys again every keyRefreshInterval', async () => {
    const server = await startAuthServer();
    const runtime = server.running().runtime;
    const { source } = sourceFor(server.url, { keyRefreshInterval: 0.2 });
    await source.start();
    const rotated = await runtime.keys.rotate();
    await waitUntil('the rotated key arrives', () => source.keys.get(rotated.kid) !== undefined);
  });

  it('fetches the JWKS for an unknown kid at most once a second, callers sharing the fetch', async () => {
    const server = await startAuthServer();
    const recorder = recordingFetch();
    const { source } = sourceFor(server.url, { fetch: recorder.fetch });
    await source.start();
    const jwksFetches = () => requestsTo(recorder.requests, '/.well-known/jwks.json').length;
    assert.equal(jwksFetches(), 1);
    // A burst of tokens with unknown kids: one fetch, shared.
    const burst = await Promise.all(Array.from({ length: 20 }, () => source.refreshKeys()));
    assert.deepEqual(new Set(burst), new Set([false]));
    assert.equal(jwksFetches(), 2);
    // Another burst at once waits for the next second's fetch.
    await Promise.all(Array.from({ length: 5 }, () => source.refreshKeys()));
    assert.equal(jwksFetches(), 3);
    await server.running().runtime.keys.rotate();
    assert.equal(await source.refreshKeys(), true);
    assert.equal(jwksFetches(), 4);
    // The interval itself is checked on a test clock in key-refresher.test.ts.
  });

  it('grows stale while the server is down and is fresh again once it is back', async () => {
    const server = await startAuthServer();
    const { sessions } = server.running().runtime;
    const token = await sessions.login('alice');
    const { source, index } = sourceFor(server.url, { maxStaleness: 2 });
    await source.start();
    const verifier = verifierOf(source, index, 2);
    assert.equal(outcome(verifier, token.accessToken), 'ok');
    await server.stop();
    await waitUntil('the source is stale', () => source.health().state === 'stale');
    assert.ok(index.staleness() > 2);
    assert.equal(source.health().connected, false);
    // Past the bound the verifier fails closed.
    assert.equal(outcome(verifier, token.accessToken), 'ERR_REVOCATION_STALE');
    await server.restart();
    await waitUntil('the source is fresh again', () => source.health().state === 'fresh');
    assert.equal(outcome(verifier, token.accessToken), 'ok');
    // And it follows the restarted server.
    await server.running().runtime.sessions.logout(token.sid);
    await waitUntil('alice is refused', () => outcome(verifier, token.accessToken) === REVOKED);
  });

  it('lets a process exit once stopped: no timer, no connection left', async () => {
    const server = await startAuthServer();
    const worker = fileURLToPath(new URL('./exit-worker.js', import.meta.url));
    const child = spawn(process.execPath, [worker, server.url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
    });
    // Killed only if it does not exit by itself: then the assertion below fails.
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    clearTimeout(killer);
    assert.equal(signal, null, `the worker did not exit by itself: ${output}`);
    assert.equal(code, 0, output);
    assert.match(output, /started fresh/);
    assert.match(output, /stopped/);
  });
});
