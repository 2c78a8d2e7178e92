import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connectToAuthServer } from '../../src/http/index.js';
import {
  call,
  removeDataDirs,
  type ServerProcess,
  startServerProcess,
  temporaryDataDir,
} from './server-process.js';

const ADMIN = { username: 'root', password: 'admin password 1' };

const FEED_TOKEN = 'feed-token-for-the-resource-servers-0123456789';

describe('the auth server with registration closed, fingerprints, a tight login limit, a short request timeout and a feed token', () => {
  let server: ServerProcess;
  let url: string;

  before(async () => {
    server = await startServerProcess({
      env: {
        REVOCABLE_ADMIN_USER: ADMIN.username,
        REVOCABLE_ADMIN_PASSWORD: ADMIN.password,
        REVOCABLE_FEED_TOKEN: FEED_TOKEN,
      },
      args: [
        '--registration',
        'closed',
        '--fingerprint',
        '--login-account-limit',
        '3',
        '--request-timeout',
        '1',
      ],
    });
    url = server.url;
  });

  after(async () => {
    await server?.stop();
    removeDataDirs();
  });

  it('serves the feed and the metrics only with the feed token; the keys and health stay open', async () => {
    for (const path of ['/revocations', '/metrics', '/revocations/stream']) {
      for (const token of [undefined, 'wrong', `${FEED_TOKEN}x`]) {
        const answer = await fetch(`${url}${path}`, {
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        });
        assert.equal(answer.status, 401, `${path} with ${token}`);
        assert.equal(((await answer.json()) as { error: string }).error, 'ERR_AUTH_REQUIRED');
      }
      const controller = new AbortController();
      const allowed = await fetch(`${url}${path}`, {
        headers: { authorization: `Bearer ${FEED_TOKEN}` },
        signal: controller.signal,
      });
      assert.equal(allowed.status, 200, path);
      controller.abort();
    }
    for (const path of ['/.well-known/jwks.json', '/healthz']) {
      assert.equal((await fetch(`${url}${path}`)).status, 200, path);
    }
    // A resource server following the feed sends it as a header.
    const auth = await connectToAuthServer({
      url,
      issuer: `http://localhost:${new URL(url).port}`,
      audience: 'revocable',
      headers: { authorization: `Bearer ${FEED_TOKEN}` },
    });
    try {
      assert.equal(auth.source.health().state, 'fresh');
    } finally {
      await auth.stop();
    }
  });

  it('answers 408 to a body sent too slowly, and closes the connection', async () => {
    const { hostname, port } = new URL(url);
    const started = Date.now();
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) });
      const chunks: Buffer[] = [];
      // Never ended: a client that keeps the connection and trickles its body.
      socket.write(
        'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
      );
      const trickle = setInterval(() => socket.write(' '), 200);
      const giveUp = setTimeout(() => socket.destroy(), 10_000);
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => {
        clearInterval(trickle);
        clearTimeout(giveUp);
        resolve(Buffer.concat(chunks).toString('latin1'));
      });
    });
    assert.match(text, /^HTTP\/1\.1 408/);
    // The code the status table gives 408, in the shape of every error.
    assert.match(text, /\{"error":"ERR_HTTP_REQUEST_TIMEOUT","message":"[^"]+"\}$/);
    assert.ok(Date.now() - started < 8000, 'well before the client gave up');
  });

  it('refuses registrations', async () => {
    const answer = await call(url, 'POST', '/auth/register', {
      json: { username: 'alice', password: 'correct horse' },
    });
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error, 'ERR_REGISTRATION_CLOSED');
  });

  it('binds tokens to a fingerprint cookie: without it, a stolen token is refused', async () => {
    const login = await call(url, 'POST', '/auth/login', { json: ADMIN });
    assert.equal(login.status, 200);
    const cookie = login.headers.getSetCookie().find((line) => line.startsWith('revocable-fgp='));
    assert.ok(cookie !== undefined && /HttpOnly/i.test(cookie), 'an HttpOnly fingerprint cookie');
    const token = login.body.access_token as string;
    const stolen = await call(url, 'GET', '/auth/me', { token });
    assert.equal(stolen.status, 401);
    assert.equal(stolen.body.error, 'ERR_FINGERPRINT_MISMATCH');
    const forged = await call(url, 'GET', '/auth/me', { token, cookies: 'revocable-fgp=guess' });
    assert.equal(forged.body.error, 'ERR_FINGERPRINT_MISMATCH');
    const owner = await call(url, 'GET', '/auth/me', {
      token,
      cookies: (cookie as string).split(';')[0] as string,
    });
    assert.equal(owner.status, 200);
    assert.equal(typeof owner.body.fgp, 'string');
    // The right cookie beside another: which is the user's cannot be told, in either order.
    const fingerprint = (cookie as string).split(';')[0] as string;
    for (const cookies of [
      `${fingerprint}; revocable-fgp=AAAA`,
      `revocable-fgp=AAAA; ${fingerprint}`,
    ]) {
      const twice = await call(url, 'GET', '/auth/me', { token, cookies });
      assert.equal(twice.status, 401, cookies);
      assert.equal(twice.body.error, 'ERR_AUTH_HEADER_INVALID', cookies);
    }
  });

  it('refreshes a fingerprinted session only with its cookie, and a refusal spends nothing', async () => {
    const login = await call(url, 'POST', '/auth/login', { json: ADMIN });
    const cookie = login.headers.getSetCookie().find((line) => line.startsWith('revocable-fgp='));
    const fingerprint = (cookie as string).split(';')[0] as string;
    const refreshToken = login.body.refresh_token as string;
    // A stolen refresh token without the cookie: refused before the rotation.
    for (const cookies of [undefined, 'revocable-fgp=guess']) {
      const stolen = await call(url, 'POST', '/auth/refresh', {
        json: { refresh_token: refreshToken },
        ...(cookies === undefined ? {} : { cookies }),
      });
      assert.equal(stolen.status, 401);
      assert.equal(stolen.body.error, 'ERR_FINGERPRINT_MISMATCH');
    }
    // The owner's refresh is the first use of the token, then its successor's too.
    const owner = await call(url, 'POST', '/auth/refresh', {
      json: { refresh_token: refreshToken },
      cookies: fingerprint,
    });
    assert.equal(owner.status, 200);
    const next = await call(url, 'POST', '/auth/refresh', {
      json: { refresh_token: owner.body.refresh_token },
      cookies: fingerprint,
    });
    assert.equal(next.status, 200);
    const me = await call(url, 'GET', '/auth/me', {
      token: next.body.access_token as string,
      cookies: fingerprint,
    });
    assert.equal(me.status, 200);
  });

  it('revokes a fingerprinted access token at /oauth/revoke only with its cookie', async () => {
    const login = await call(url, 'POST', '/auth/login', { json: ADMIN });
    const cookie = login.headers.getSetCookie().find((line) => line.startsWith('revocable-fgp='));
    const fingerprint = (cookie as string).split(';')[0] as string;
    const token = login.body.access_token as string;
    // Seen without its cookie (in a log, at a resource server): 200, and nothing ends.
    for (const cookies of [undefined, 'revocable-fgp=guess']) {
      const revoke = await call(url, 'POST', '/oauth/revoke', {
        form: { token },
        ...(cookies === undefined ? {} : { cookies }),
      });
      assert.equal(revoke.status, 200);
    }
    assert.equal((await call(url, 'GET', '/auth/me', { token, cookies: fingerprint })).status, 200);
    // With it, the session ends.
    const owner = await call(url, 'POST', '/oauth/revoke', {
      form: { token },
      cookies: fingerprint,
    });
    assert.equal(owner.status, 200);
    const after = await call(url, 'GET', '/auth/me', { token, cookies: fingerprint });
    assert.equal(after.status, 401);
    assert.equal(after.body.error, 'ERR_TOKEN_REVOKED');
    const refresh = await call(url, 'POST', '/auth/refresh', {
      json: { refresh_token: login.body.refresh_token },
      cookies: fingerprint,
    });
    assert.equal(refresh.body.error, 'ERR_SESSION_REVOKED');
  });

  it('throttles failed logins per account, with Retry-After, even for the right password', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const wrong = await call(url, 'POST', '/auth/login', {
        json: { username: ADMIN.username, password: 'wrong password' },
      });
      assert.equal(wrong.body.error, 'ERR_LOGIN_FAILED');
    }
    const blocked = await call(url, 'POST', '/auth/login', { json: ADMIN });
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.error, 'ERR_LOGIN_THROTTLED');
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
  });
});

describe('fingerprints turned off after bound logins', () => {
  let server: ServerProcess | undefined;

  after(async () => {
    await server?.stop();
    removeDataDirs();
  });

  it('a session bound while they were on still refreshes only with its cookie', async () => {
    const env = { REVOCABLE_ADMIN_USER: ADMIN.username, REVOCABLE_ADMIN_PASSWORD: ADMIN.password };
    const dataDir = temporaryDataDir();
    server = await startServerProcess({ env, dataDir, args: ['--fingerprint'] });
    const login = await call(server.url, 'POST', '/auth/login', { json: ADMIN });
    assert.equal(login.status, 200);
    const cookie = login.headers.getSetCookie().find((line) => line.startsWith('revocable-fgp='));
    const fingerprint = (cookie as string).split(';')[0] as string;
    assert.equal(await server.stop(), 0);

    // The same data, the setting off: new logins are not bound, the earlier session still is.
    server = await startServerProcess({ env, dataDir });
    const unbound = await call(server.url, 'POST', '/auth/login', { json: ADMIN });
    assert.equal(unbound.status, 200);
    assert.equal(
      unbound.headers.getSetCookie().some((line) => line.startsWith('revocable-fgp=')),
      false,
    );
    const stolen = await call(server.url, 'POST', '/auth/refresh', {
      json: { refresh_token: login.body.refresh_token },
    });
    assert.equal(stolen.status, 401);
    assert.equal(stolen.body.error, 'ERR_FINGERPRINT_MISMATCH');
    // The refusal spent nothing: the owner, with the cookie, refreshes with the same token.
    const owner = await call(server.url, 'POST', '/auth/refresh', {
      json: { refresh_token: login.body.refresh_token },
      cookies: fingerprint,
    });
    assert.equal(owner.status, 200);
    const me = await call(server.url, 'GET', '/auth/me', {
      token: owner.body.access_token as string,
      cookies: fingerprint,
    });
    assert.equal(me.status, 200);
    assert.equal(typeof me.body.fgp, 'string');
  });
});
