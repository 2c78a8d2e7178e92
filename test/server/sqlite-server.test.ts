import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseRawAnswer, rawExchange } from './raw-request.js';
import { call, removeDataDirs, type ServerProcess, startServerProcess } from './server-process.js';

const ADMIN = { username: 'root', password: 'admin password 1' };

async function register(url: string, username: string, password = 'correct horse') {
  const answer = await call(url, 'POST', '/auth/register', { json: { username, password } });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body as { id: string; username: string; roles: string[] };
}

async function login(url: string, username: string, password = 'correct horse', extra = {}) {
  const answer = await call(url, 'POST', '/auth/login', {
    json: { username, password, ...extra },
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as {
    access_token: string;
    refresh_token: string;
    token_type: string;
    expires_in: number;
    session_id: string;
  };
}

function refused(
  answer: { status: number; body: { error?: string } },
  status: number,
  code: string,
) {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body.error, code, JSON.stringify(answer.body));
  assert.equal(typeof (answer.body as { message?: unknown }).message, 'string');
}

describe('the auth server alone on SQLite', () => {
  let server: ServerProcess;
  let url: string;
  let admin: string;

  before(async () => {
    server = await startServerProcess({
      env: { REVOCABLE_ADMIN_USER: ADMIN.username, REVOCABLE_ADMIN_PASSWORD: ADMIN.password },
    });
    url = server.url;
    admin = (await login(url, ADMIN.username, ADMIN.password)).access_token;
  });

  after(async () => {
    await server?.stop();
    removeDataDirs();
  });

  it('answers /healthz, keeps its files for its owner only, and publishes its keys', async () => {
    const health = await call(url, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    for (const file of ['keys-secret', 'revocable.db']) {
      assert.equal(statSync(join(server.dataDir, file)).mode & 0o077, 0, `${file} is private`);
    }
    const jwks = await call(url, 'GET', '/.well-known/jwks.json');
    assert.equal(jwks.status, 200);
    assert.equal(jwks.body.keys[0].kty, 'OKP');
    assert.equal(jwks.body.keys[0].d, undefined, 'no private member');
  });

  it('registers, logs in, verifies, refreshes and catches a replayed refresh token', async () => {
    const user = await register(url, 'alice');
    refused(
      await call(url, 'POST', '/auth/register', {
        json: { username: 'ALICE', password: 'another one' },
      }),
      409,
      'ERR_USERNAME_TAKEN',
    );
    const first = await login(url, 'alice', 'correct horse', { device: 'laptop' });
    assert.equal(first.token_type, 'Bearer');
    const me = await call(url, 'GET', '/auth/me', { token: first.access_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.sub, user.id);
    assert.equal(me.body.sid, first.session_id);
    const second = await call(url, 'POST', '/auth/refresh', {
      json: { refresh_token: first.refresh_token },
    });
    assert.equal(second.status, 200);
    assert.notEqual(second.body.refresh_token, first.refresh_token);
    // Spent twice: within the grace window the same successor comes back...
    const again = await call(url, 'POST', '/auth/refresh', {
      json: { refresh_token: first.refresh_token },
    });
    assert.equal(again.body.refresh_token, second.body.refresh_token);
  });

  it('refuses a wrong password the same way whether or not the user exists', async () => {
    await register(url, 'bob');
    const wrong = await call(url, 'POST', '/auth/login', {
      json: { username: 'bob', password: 'not his password' },
    });
    const nobody = await call(url, 'POST', '/auth/login', {
      json: { username: 'nobody-here', password: 'not his password' },
    });
    refused(wrong, 401, 'ERR_LOGIN_FAILED');
    refused(nobody, 401, 'ERR_LOGIN_FAILED');
    assert.equal(wrong.body.message, nobody.body.message);
  });

  it('logs out one session, then all, and the tokens die at once', async () => {
    await register(url, 'carol');
    const a = await login(url, 'carol');
    const b = await login(url, 'carol');
    const list = await call(url, 'GET', '/auth/sessions', { token: a.access_token });
    assert.equal(list.body.sessions.length, 2);
    assert.equal(list.body.sessions.filter((s: { current: boolean }) => s.current).length, 1);
    // The JSON content type with no body, as some clients send it, is no body.
    const logout = await call(url, 'POST', '/auth/logout', {
      token: a.access_token,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(logout.status, 200, JSON.stringify(logout.body));
    refused(
      await call(url, 'GET', '/auth/me', { token: a.access_token }),
      401,
      'ERR_TOKEN_REVOKED',
    );
    refused(
      await call(url, 'POST', '/auth/refresh', { json: { refresh_token: a.refresh_token } }),
      401,
      'ERR_SESSION_REVOKED',
    );
    assert.equal((await call(url, 'GET', '/auth/me', { token: b.access_token })).status, 200);
    const all = await call(url, 'POST', '/auth/logout-all', { token: b.access_token });
    assert.equal(all.body.sessions_ended, 1);
    refused(
      await call(url, 'GET', '/auth/me', { token: b.access_token }),
      401,
      'ERR_TOKEN_REVOKED',
    );
  });

  it('ends only its own sessions by id', async () => {
    await register(url, 'dave');
    await register(url, 'erin');
    const dave = await login(url, 'dave');
    const erin = await login(url, 'erin');
    refused(
      await call(url, 'DELETE', `/auth/sessions/${erin.session_id}`, { token: dave.access_token }),
      404,
      'ERR_SESSION_UNKNOWN',
    );
    assert.equal((await call(url, 'GET', '/auth/me', { token: erin.access_token })).status, 200);
    const dave2 = await login(url, 'dave');
    const ended = await call(url, 'DELETE', `/auth/sessions/${dave2.session_id}`, {
      token: dave.access_token,
    });
    assert.equal(ended.status, 200);
    refused(
      await call(url, 'GET', '/auth/me', { token: dave2.access_token }),
      401,
      'ERR_TOKEN_REVOKED',
    );
  });

  it('a password change ends the other sessions and keeps this one', async () => {
    await register(url, 'frank');
    const here = await login(url, 'frank');
    const there = await login(url, 'frank');
    refused(
      await call(url, 'POST', '/auth/password', {
        token: here.access_token,
        json: { current_password: 'wrong one!', new_password: 'a new password' },
      }),
      401,
      'ERR_LOGIN_FAILED',
    );
    const changed = await call(url, 'POST', '/auth/password', {
      token: here.access_token,
      json: { current_password: 'correct horse', new_password: 'a new password' },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.sessions_ended, 1);
    refused(
      await call(url, 'GET', '/auth/me', { token: there.access_token }),
      401,
      'ERR_TOKEN_REVOKED',
    );
    assert.equal(
      (await call(url, 'GET', '/auth/me', { token: changed.body.access_token })).status,
      200,
    );
    const next = await call(url, 'POST', '/auth/refresh', {
      json: { refresh_token: here.refresh_token },
    });
    assert.equal(next.status, 200, 'the session lives on');
    refused(
      await call(url, 'POST', '/auth/login', {
        json: { username: 'frank', password: 'correct horse' },
      }),
      401,
      'ERR_LOGIN_FAILED',
    );
    await login(url, 'frank', 'a new password');
  });

  it('admin: ban, unban, logout-all and sessions; others may not', async () => {
    const grace = await register(url, 'grace');
    const session = await login(url, 'grace');
    refused(
      await call(url, 'POST', `/admin/users/${grace.id}/ban`, { token: session.access_token }),
      403,
      'ERR_FORBIDDEN',
    );
    refused(await call(url, 'POST', `/admin/users/${grace.id}/ban`), 401, 'ERR_AUTH_REQUIRED');
    const sessions = await call(url, 'GET', `/admin/users/${grace.id}/sessions`, { token: admin });
    assert.equal(sessions.body.sessions.length, 1);
    const banned = await call(url, 'POST', `/admin/users/${grace.id}/ban`, { token: admin });
    assert.equal(banned.status, 200);
    refused(
      await call(url, 'GET', '/auth/me', { token: session.access_token }),
      401,
      'ERR_TOKEN_REVOKED',
    );
    refused(
      await call(url, 'POST', '/auth/login', {
        json: { username: 'grace', password: 'correct horse' },
      }),
      403,
      'ERR_SUBJECT_BANNED',
    );
    assert.equal(
      (await call(url, 'POST', `/admin/users/${grace.id}/unban`, { token: admin })).status,
      200,
    );
    const back = await login(url, 'grace');
    const out = await call(url, 'POST', `/admin/users/${grace.id}/logout-all`, { token: admin });
    assert.equal(out.body.sessions_ended, 1);
    refused(
      await call(url, 'GET', '/auth/me', { token: back.access_token }),
      401,
      'ERR_TOKEN_REVOKED',
    );
    refused(
      await call(url, 'POST', '/admin/users/u_nobody/ban', { token: admin }),
      404,
      'ERR_USER_UNKNOWN',
    );
  });

  it('admin: a role change ends the sessions and tokens; the next login carries the new roles', async () => {
    const ivy = await register(url, 'ivy');
    assert.deepEqual(ivy.roles, []);
    const phone = await login(url, 'ivy');
    const laptop = await login(url, 'ivy');
    const path = `/admin/users/${ivy.id}/roles`;
    refused(
      await call(url, 'PUT', path, { token: phone.access_token, json: { roles: ['admin'] } }),
      403,
      'ERR_FORBIDDEN',
    );
    // Who is no administrator is told only that, whatever the body: the body is checked after.
    refused(
      await call(url, 'PUT', path, { token: phone.access_token, json: { roles: 'x', extra: 1 } }),
      403,
      'ERR_FORBIDDEN',
    );
    refused(await call(url, 'PUT', path, { json: { nope: 1 } }), 401, 'ERR_AUTH_REQUIRED');
    // Bad roles: refused, and nothing changes (the sessions live on).
    for (const roles of [['Admin'], ['editor', 'editor'], 'editor', [1], Array(17).fill('x')]) {
      const answer = await call(url, 'PUT', path, { token: admin, json: { roles } });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match(answer.body.error, /^ERR_(INVALID_ARGUMENT|HTTP_BODY_INVALID)$/);
    }
    refused(
      await call(url, 'PUT', path, { token: admin, json: { roles: ['editor'], extra: 1 } }),
      400,
      'ERR_HTTP_BODY_INVALID',
    );
    assert.equal((await call(url, 'GET', '/auth/me', { token: phone.access_token })).status, 200);

    const changed = await call(url, 'PUT', path, {
      token: admin,
      json: { roles: ['editor', 'support'] },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.deepEqual(changed.body, {
      id: ivy.id,
      username: 'ivy',
      roles: ['editor', 'support'],
      sessions_ended: 2,
    });
    for (const session of [phone, laptop]) {
      refused(
        await call(url, 'GET', '/auth/me', { token: session.access_token }),
        401,
        'ERR_TOKEN_REVOKED',
      );
      refused(
        await call(url, 'POST', '/auth/refresh', {
          json: { refresh_token: session.refresh_token },
        }),
        401,
        'ERR_SESSION_REVOKED',
      );
    }
    const next = await login(url, 'ivy');
    const me = await call(url, 'GET', '/auth/me', { token: next.access_token });
    assert.deepEqual(me.body.roles, ['editor', 'support']);
    refused(
      await call(url, 'PUT', '/admin/users/u_nobody/roles', { token: admin, json: { roles: [] } }),
      404,
      'ERR_USER_UNKNOWN',
    );
  });

  it('admin: a retired key takes its tokens with it, and signing goes on', async () => {
    await register(url, 'heidi');
    const before = await login(url, 'heidi');
    const rotated = await call(url, 'POST', '/admin/keys/rotate', { token: admin });
    assert.equal(rotated.status, 200);
    const oldKid = JSON.parse(
      Buffer.from(before.access_token.split('.')[0] as string, 'base64url').toString(),
    ).kid;
    assert.equal((await call(url, 'GET', '/auth/me', { token: before.access_token })).status, 200);
    const retired = await call(url, 'POST', `/admin/keys/${oldKid}/retire`, { token: admin });
    assert.equal(retired.status, 200, JSON.stringify(retired.body));
    const gone = await call(url, 'GET', '/auth/me', { token: before.access_token });
    assert.equal(gone.status, 401);
    const after = await login(url, 'heidi');
    assert.equal((await call(url, 'GET', '/auth/me', { token: after.access_token })).status, 200);
    admin = (await login(url, ADMIN.username, ADMIN.password)).access_token;
  });

  it('RFC 7009: revoking an access token or a refresh token; 200 for anything else', async () => {
    await register(url, 'ivan');
    const s = await login(url, 'ivan');
    // A public client sends its client_id along (RFC 7009 section 2.1): ignored, not refused.
    const revokeAccess = await call(url, 'POST', '/oauth/revoke', {
      form: { token: s.access_token, client_id: 'the-spa' },
    });
    assert.equal(revokeAccess.status, 200);
    refused(
      await call(url, 'GET', '/auth/me', { token: s.access_token }),
      401,
      'ERR_TOKEN_REVOKED',
    );
    // Revoking an access token ends its session (RFC 7009 section 2.1 allows it): no refresh.
    refused(
      await call(url, 'POST', '/auth/refresh', { json: { refresh_token: s.refresh_token } }),
      401,
      'ERR_SESSION_REVOKED',
    );
    const again = await login(url, 'ivan');
    assert.equal(
      (
        await call(url, 'POST', '/oauth/revoke', {
          form: { token: again.refresh_token, token_type_hint: 'refresh_token' },
        })
      ).status,
      200,
    );
    refused(
      await call(url, 'POST', '/auth/refresh', { json: { refresh_token: again.refresh_token } }),
      401,
      'ERR_SESSION_REVOKED',
    );
    refused(
      await call(url, 'GET', '/auth/me', { token: again.access_token }),
      401,
      'ERR_TOKEN_REVOKED',
    );
    // An invalid token of any kind is answered 200 (RFC 7009, section 2.2), whatever else comes.
    for (const body of [
      { form: { token: 'garbage' } },
      { form: { token: '' } },
      { form: { token: 'x'.repeat(9000) } },
      { json: { token: 'garbage', foo: 1, bar: { nested: true } } },
    ]) {
      assert.equal((await call(url, 'POST', '/oauth/revoke', body)).status, 200);
    }
    refused(await call(url, 'POST', '/oauth/revoke', { form: {} }), 400, 'ERR_HTTP_BODY_INVALID');
  });

  it('RFC 7009: one account cannot grow the revocation log by revoking its tokens in a loop', async () => {
    await register(url, 'ivo');
    const eventsNow = async (): Promise<number> => {
      const snapshot = await call(url, 'GET', '/revocations');
      assert.equal(snapshot.status, 200);
      return (snapshot.body.events as unknown[]).length;
    };
    const s = await login(url, 'ivo');
    const next = await call(url, 'POST', '/auth/refresh', {
      json: { refresh_token: s.refresh_token },
    });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    const before = await eventsNow();
    // The session's tokens, old and new, revoked again and again: one event, its session's.
    for (const token of [next.body.access_token, next.body.access_token, s.access_token]) {
      assert.equal((await call(url, 'POST', '/oauth/revoke', { form: { token } })).status, 200);
    }
    assert.equal((await eventsNow()) - before, 1);
    // And the loop of refreshing then revoking the new token stops at the first turn.
    refused(
      await call(url, 'POST', '/auth/refresh', {
        json: { refresh_token: next.body.refresh_token },
      }),
      401,
      'ERR_SESSION_REVOKED',
    );
    assert.equal((await eventsNow()) - before, 1);
  });

  it('RFC 7009: an access token cut off by a password change is revoked without ending the session that change kept', async () => {
    await register(url, 'iris');
    const s = await login(url, 'iris');
    const changed = await call(url, 'POST', '/auth/password', {
      token: s.access_token,
      json: { current_password: 'correct horse', new_password: 'battery staple horse' },
    });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(
      (await call(url, 'POST', '/oauth/revoke', { form: { token: s.access_token } })).status,
      200,
    );
    // The kept session and its new access token live on.
    assert.equal(
      (await call(url, 'GET', '/auth/me', { token: changed.body.access_token })).status,
      200,
    );
    const refreshed = await call(url, 'POST', '/auth/refresh', {
      json: { refresh_token: s.refresh_token },
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
  });

  it('a device label: emoji welcome, control characters and bidirectional overrides refused first', async () => {
    await register(url, 'olga');
    const named = await call(url, 'POST', '/auth/login', {
      json: { username: 'olga', password: 'correct horse', device: "Olga's phone 📱" },
    });
    assert.equal(named.status, 200);
    for (const device of ['a\u0000b', 'tab\there', '\u202eenohp', 'x\u0085y']) {
      refused(
        await call(url, 'POST', '/auth/login', {
          json: { username: 'olga', password: 'wrong, and never checked', device },
        }),
        400,
        'ERR_HTTP_BODY_INVALID',
      );
    }
  });

  it('RFC 7662: introspection reflects revocations, and needs an allowed caller', async () => {
    await register(url, 'judy');
    const s = await login(url, 'judy');
    refused(
      await call(url, 'POST', '/oauth/introspect', {
        token: s.access_token,
        form: { token: s.access_token },
      }),
      403,
      'ERR_FORBIDDEN',
    );
    // Checked before the body: a caller without the role is told that whatever it sent.
    refused(
      await call(url, 'POST', '/oauth/introspect', { token: s.access_token, json: {} }),
      403,
      'ERR_FORBIDDEN',
    );
    refused(await call(url, 'POST', '/oauth/introspect', { json: {} }), 401, 'ERR_AUTH_REQUIRED');
    const live = await call(url, 'POST', '/oauth/introspect', {
      token: admin,
      form: { token: s.access_token },
    });
    assert.equal(live.body.active, true);
    assert.equal(live.body.sid, s.session_id);
    const refresh = await call(url, 'POST', '/oauth/introspect', {
      token: admin,
      form: { token: s.refresh_token },
    });
    assert.equal(refresh.body.active, true);
    assert.equal(refresh.body.token_type, 'refresh_token');
    await call(url, 'POST', '/auth/logout', { token: s.access_token });
    for (const token of [s.access_token, s.refresh_token, 'nonsense']) {
      const dead = await call(url, 'POST', '/oauth/introspect', { token: admin, form: { token } });
      assert.deepEqual(dead.body, { active: false });
    }
  });

  it('cookie mode: HttpOnly cookies, and a CSRF token for every change', async () => {
    await register(url, 'ken');
    const answer = await call(url, 'POST', '/auth/login', {
      json: { username: 'ken', password: 'correct horse', mode: 'cookie' },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.access_token, undefined, 'no token in the body');
    const setCookies = answer.headers.getSetCookie();
    const jar = setCookies.map((line) => line.split(';')[0]).join('; ');
    assert.ok(
      setCookies.some(
        (line) => /^revocable-access=.*HttpOnly/i.test(line) && /SameSite=Strict/i.test(line),
      ),
    );
    assert.equal((await call(url, 'GET', '/auth/me', { cookies: jar })).status, 200);
    // An access or refresh cookie given twice (one set by another path or domain): refused.
    const other = await call(url, 'POST', '/auth/login', {
      json: { username: ADMIN.username, password: ADMIN.password, mode: 'cookie' },
    });
    const otherJar = other.headers.getSetCookie().map((line) => line.split(';')[0] ?? '');
    const tossed = `${otherJar.find((pair) => pair.startsWith('revocable-access='))}; ${jar}`;
    refused(
      await call(url, 'GET', '/auth/me', { cookies: tossed }),
      401,
      'ERR_AUTH_HEADER_INVALID',
    );
    const tossedRefresh = `${otherJar.find((pair) => pair.startsWith('revocable-refresh='))}; ${jar}`;
    refused(
      await call(url, 'POST', '/auth/refresh', {
        cookies: tossedRefresh,
        headers: { 'x-csrf-token': answer.body.csrf_token },
      }),
      401,
      'ERR_AUTH_HEADER_INVALID',
    );
    refused(await call(url, 'POST', '/auth/logout', { cookies: jar }), 403, 'ERR_CSRF');
    refused(
      await call(url, 'POST', '/auth/logout', {
        cookies: jar,
        headers: { 'x-csrf-token': 'forged' },
      }),
      403,
      'ERR_CSRF',
    );
    refused(await call(url, 'POST', '/auth/refresh', { cookies: jar }), 403, 'ERR_CSRF');
    const refreshed = await call(url, 'POST', '/auth/refresh', {
      cookies: jar,
      headers: { 'x-csrf-token': answer.body.csrf_token },
    });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    const jar2 = refreshed.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const out = await call(url, 'POST', '/auth/logout', {
      cookies: jar2,
      headers: { 'x-csrf-token': answer.body.csrf_token },
    });
    assert.equal(out.status, 200, JSON.stringify(out.body));
    refused(await call(url, 'GET', '/auth/me', { cookies: jar2 }), 401, 'ERR_TOKEN_REVOKED');
  });

  it('the revocation feed: a snapshot, and a stream that resumes from Last-Event-ID', async () => {
    const snapshot = await call(url, 'GET', '/revocations');
    assert.equal(snapshot.status, 200);
    assert.ok(snapshot.body.events.length > 0);
    const position: number = snapshot.body.position;
    await register(url, 'leo');
    const s = await login(url, 'leo');
    await call(url, 'POST', '/auth/logout', { token: s.access_token });
    const controller = new AbortController();
    const response = await fetch(`${url}/revocations/stream`, {
      headers: { 'last-event-id': String(position) },
      signal: controller.signal,
    });
    assert.equal(response.headers.get('content-type')?.startsWith('text/event-stream'), true);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes(s.session_id)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    assert.match(text, new RegExp(`id: ${position + 1}\\n`));
    assert.ok(text.includes(s.session_id), 'the logout arrives on the stream');
  });

  it('the emergency: revoke-all ends every token and every refresh token', async () => {
    await register(url, 'mallory');
    const s = await login(url, 'mallory');
    const cut = await call(url, 'POST', '/admin/revoke-all', { token: admin });
    assert.equal(cut.status, 200);
    refused(
      await call(url, 'GET', '/auth/me', { token: s.access_token }),
      401,
      'ERR_TOKEN_REVOKED',
    );
    refused(
      await call(url, 'POST', '/auth/refresh', { json: { refresh_token: s.refresh_token } }),
      401,
      'ERR_SESSION_REVOKED',
    );
    refused(await call(url, 'GET', '/auth/me', { token: admin }), 401, 'ERR_TOKEN_REVOKED');
    const fresh = await login(url, 'mallory');
    assert.equal((await call(url, 'GET', '/auth/me', { token: fresh.access_token })).status, 200);
    admin = (await login(url, ADMIN.username, ADMIN.password)).access_token;
  });

  it('counts each login once, by its result', async () => {
    // The three counters, from one read of /metrics.
    const counts = async (): Promise<Record<'success' | 'failed' | 'banned', number>> => {
      const { body } = await call(url, 'GET', '/metrics');
      const count = (result: string): number => {
        const line = new RegExp(`^revocable_logins_total\\{result="${result}"\\} (\\d+)$`, 'm');
        const value = Number(line.exec(body)?.[1]);
        assert.ok(Number.isSafeInteger(value), `revocable_logins_total{result="${result}"}`);
        return value;
      };
      return { success: count('success'), failed: count('failed'), banned: count('banned') };
    };
    const before = await counts();
    const quentin = await register(url, 'quentin');
    await login(url, 'quentin');
    refused(
      await call(url, 'POST', '/auth/login', {
        json: { username: 'quentin', password: 'wrong one' },
      }),
      401,
      'ERR_LOGIN_FAILED',
    );
    assert.equal(
      (await call(url, 'POST', `/admin/users/${quentin.id}/ban`, { token: admin })).status,
      200,
    );
    refused(
      await call(url, 'POST', '/auth/login', {
        json: { username: 'quentin', password: 'correct horse' },
      }),
      403,
      'ERR_SUBJECT_BANNED',
    );
    assert.deepEqual(await counts(), {
      success: before.success + 1,
      failed: before.failed + 1,
      banned: before.banned + 1,
    });
  });

  it('metrics and the OpenAPI document', async () => {
    const metrics = await call(url, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /revocable_logins_total\{result="success"\} \d+/);
    // Every metric served is in docs/server.md's table, and the table names no other.
    const served = [...(metrics.body as string).matchAll(/^# HELP (\S+) /gm)].map((m) => m[1]);
    const docs = readFileSync(new URL('../../../docs/server.md', import.meta.url), 'utf8');
    const documented = [...docs.matchAll(/^\| `(revocable_[a-z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual([...served].sort(), [...documented].sort());
    const openapi = await call(url, 'GET', '/openapi.json');
    assert.equal(openapi.status, 200);
    assert.equal(openapi.body.paths['/auth/login'].post.summary.length > 0, true);
    // Every route is documented, with a summary.
    for (const [path, methods] of Object.entries(openapi.body.paths)) {
      for (const [method, operation] of Object.entries(
        methods as Record<string, { summary?: string }>,
      )) {
        assert.ok(operation.summary, `${method} ${path} has a summary`);
      }
    }
    assert.ok(openapi.body.paths['/admin/revoke-all'].post.security);
  });

  it('bad input: a typed 4xx, never a 5xx', async () => {
    const cases: [string, string, RequestInit][] = [
      [
        'POST',
        '/auth/login',
        { body: '{"username":', headers: { 'content-type': 'application/json' } },
      ],
      [
        'POST',
        '/auth/login',
        { body: 'username=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      ],
      ['POST', '/auth/login', { body: 'hello', headers: { 'content-type': 'text/plain' } }],
      [
        'POST',
        '/auth/login',
        {
          body: JSON.stringify({ username: 1, password: [] }),
          headers: { 'content-type': 'application/json' },
        },
      ],
      [
        'POST',
        '/auth/login',
        {
          body: JSON.stringify({ username: 'a', password: 'b', extra: 1 }),
          headers: { 'content-type': 'application/json' },
        },
      ],
      [
        'POST',
        '/auth/login',
        {
          body: JSON.stringify({ username: 'a', password: 'x'.repeat(100_000) }),
          headers: { 'content-type': 'application/json' },
        },
      ],
      ['GET', '/auth/me', { headers: { authorization: 'Basic abc' } }],
      ['GET', '/auth/me', { headers: { authorization: 'Bearer a b' } }],
      ['GET', '/auth/me', { headers: { authorization: 'Bearer not.a.jwt' } }],
      ['GET', '/nowhere', {}],
      ['POST', '/auth/login', { headers: { 'content-type': 'application/json' } }],
      [
        'POST',
        '/auth/login',
        {
          body: '{"__proto__":{"x":1},"username":"a","password":"b"}',
          headers: { 'content-type': 'application/json' },
        },
      ],
    ];
    for (const [method, path, init] of cases) {
      const response = await fetch(`${url}${path}`, { method, ...init });
      const body = (await response.json()) as { error: string };
      assert.ok(
        response.status >= 400 && response.status < 500,
        `${method} ${path}: ${response.status}`,
      );
      assert.match(body.error, /^ERR_/);
    }
    // RFC 6750 section 3.1: another scheme is no bearer credential, answered with a bare challenge;
    // a malformed Bearer header is invalid_request.
    const basic = await fetch(`${url}/auth/me`, { headers: { authorization: 'Basic YTpi' } });
    assert.equal(basic.status, 401);
    assert.equal(((await basic.json()) as { error: string }).error, 'ERR_AUTH_REQUIRED');
    assert.match(basic.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+"$/);
    const malformed = await fetch(`${url}/auth/me`, { headers: { authorization: 'Bearer a b' } });
    assert.equal(malformed.status, 401);
    assert.equal(((await malformed.json()) as { error: string }).error, 'ERR_AUTH_HEADER_INVALID');
    assert.match(malformed.headers.get('www-authenticate') ?? '', /error="invalid_request"/);
  });

  it('a JSON member given twice is refused, whatever its spelling, and changes nothing', async () => {
    // JSON.parse keeps the last of two members silently: a proxy or a log keeping the first would
    // read another request than the server. Refused like a form parameter given twice.
    const bodies = [
      '{"username":"dup-first","username":"dup-second","password":"correct horse"}',
      '{"username":"dup-first","user\\u006eame":"dup-second","password":"correct horse"}',
    ];
    for (const body of bodies) {
      const response = await fetch(`${url}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      refused(
        { status: response.status, body: (await response.json()) as { error?: string } },
        400,
        'ERR_HTTP_BODY_INVALID',
      );
    }
    for (const username of ['dup-first', 'dup-second']) {
      const answer = await call(url, 'POST', '/auth/login', {
        json: { username, password: 'correct horse' },
      });
      refused(answer, 401, 'ERR_LOGIN_FAILED');
    }
    // Distinct names pass.
    const distinct = await fetch(`${url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"token":"abc","token_type_hint":"x"}',
    });
    assert.equal(distinct.status, 200);
  });

  it('a compressed body is refused with 415 and changes nothing', async () => {
    const body = gzipSync(JSON.stringify({ username: 'gzip-user', password: 'correct horse' }));
    for (const encoding of ['gzip', 'GZIP', 'deflate, gzip']) {
      const response = await fetch(`${url}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body,
      });
      refused(
        { status: response.status, body: (await response.json()) as { error?: string } },
        415,
        'ERR_HTTP_MEDIA_TYPE',
      );
      assert.equal(response.headers.get('accept-encoding'), 'identity');
    }
    refused(
      await call(url, 'POST', '/auth/login', {
        json: { username: 'gzip-user', password: 'correct horse' },
      }),
      401,
      'ERR_LOGIN_FAILED',
    );
    // identity is no encoding at all.
    const plain = await fetch(`${url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'identity' },
      body: '{"token":"abc"}',
    });
    assert.equal(plain.status, 200);
  });

  it('a body that is not well-formed UTF-8 is refused and changes nothing: bytes are never replaced', async () => {
    const bytes = (text: string, bad: number) =>
      Buffer.concat([Buffer.from(text), Buffer.from([bad]), Buffer.from('"}')]);
    const register = await fetch(`${url}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bytes('{"username":"utf8-user","password":"correct horse ', 0xff),
    });
    refused(
      { status: register.status, body: (await register.json()) as { error?: string } },
      400,
      'ERR_HTTP_BODY_INVALID',
    );
    refused(
      await call(url, 'POST', '/auth/login', {
        json: { username: 'utf8-user', password: 'correct horse \ufffd' },
      }),
      401,
      'ERR_LOGIN_FAILED',
    );
    const form = await fetch(`${url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.concat([Buffer.from('token=a'), Buffer.from([0xfe])]),
    });
    assert.equal(form.status, 400);
  });

  it('an HTTP/1.1 request without Host answers 400 in the error shape', async () => {
    const text = await rawExchange(url, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
    const answer = parseRawAnswer(text);
    assert.equal(answer.status, 400, text);
    const body = JSON.parse(answer.body) as { error: string; message: string };
    assert.equal(body.error, 'ERR_INVALID_ARGUMENT');
    assert.equal(typeof body.message, 'string');
    // HTTP/1.0 has no Host requirement.
    const old = parseRawAnswer(await rawExchange(url, 'GET /healthz HTTP/1.0\r\n\r\n'));
    assert.equal(old.status, 200);
  });

  it('stops gracefully on SIGTERM', async () => {
    const code = await server.stop('SIGTERM');
    assert.equal(code, 0, server.output());
  });
});
