// The auth server as a cluster, tested from outside: real `revocable serve` processes, each with a
// data directory of its own, sharing one PostgreSQL schema, one Redis prefix and one keys secret.
// Every change made through one process must be seen by the other within the staleness bound
// (polled, never timed); the latencies observed are printed at the end.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { skipIfMissing } from '../support/services.js';
import {
  ADMIN,
  accepted,
  assertRefused,
  type Deployment,
  deployment,
  describeLatencies,
  login,
  newName,
  openClusterServices,
  PASSWORD,
  refresh,
  register,
  revoked,
  seen,
} from './cluster-support.js';
import { openStream } from './feed/sse-client.js';
import { call, removeDataDirs, type ServerProcess } from './server-process.js';

const services = await openClusterServices();
after(async () => {
  await services.cleanup();
  removeDataDirs();
  console.log(describeLatencies());
});

/** The JOSE header of a token. */
function headerOf(token: string): { alg: string; kid: string } {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
}

/** Asserts a 200 answer; resolves to its body. */
async function ok<T = unknown>(answer: Promise<{ status: number; body: unknown }>): Promise<T> {
  const { status, body } = await answer;
  assert.equal(status, 200, JSON.stringify(body));
  return body as T;
}

async function jwksOf(url: string): Promise<{ keys: { kid: string }[] }> {
  return ok(call(url, 'GET', '/.well-known/jwks.json'));
}

describe('a cluster of auth servers on PostgreSQL and Redis', () => {
  let cluster: Deployment;
  let a: ServerProcess;
  let b: ServerProcess;
  let admin: string;

  before(async () => {
    if (services.missing !== null) return;
    // A grace window of one second, so that the theft test need not wait ten.
    cluster = deployment(services, { redis: true, args: ['--refresh-grace', '1'] });
    [a, b] = await Promise.all([cluster.start(), cluster.start()]);
    admin = (await login(a.url, ADMIN.username, ADMIN.password)).access_token;
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  /** A new user registered on A, and its id. */
  async function newUser(stem: string): Promise<{ name: string; id: string }> {
    const name = newName(stem);
    return { name, id: await register(a.url, name) };
  }

  it('shares users and the key ring: registered on A, logged in on B, verified on A', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name, id } = await newUser('alice');
    const tokens = await login(b.url, name);
    assert.equal((await accepted(a.url, tokens.access_token)).sub, id);
    assert.equal((await accepted(b.url, tokens.access_token)).sub, id);
    assertRefused(
      await call(b.url, 'POST', '/auth/register', {
        json: { username: name.toUpperCase(), password: PASSWORD },
      }),
      409,
      'ERR_USERNAME_TAKEN',
    );
    const [jwksA, jwksB] = await Promise.all([jwksOf(a.url), jwksOf(b.url)]);
    assert.ok(jwksA.keys.length >= 1);
    assert.deepEqual(jwksA, jwksB);
    // The same issuer on both (the deployment's, not each process's URL).
    assert.equal(
      (await accepted(a.url, tokens.access_token)).iss,
      (await accepted(b.url, (await login(a.url, name)).access_token)).iss,
    );
  });

  it('a logout on A is refused on B, and its refresh token with it', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('logout');
    const gone = await login(b.url, name);
    const kept = await login(b.url, name);
    await accepted(b.url, gone.access_token); // verified (and cached, if B caches) before
    await ok(call(a.url, 'POST', '/auth/logout', { token: gone.access_token }));
    await seen('logout', () => revoked(b.url, gone.access_token));
    assertRefused(
      await call(b.url, 'POST', '/auth/refresh', { json: { refresh_token: gone.refresh_token } }),
      401,
      'ERR_SESSION_REVOKED',
    );
    await accepted(b.url, kept.access_token);
  });

  it('a logout of every device on A is refused on B', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('logoutall');
    const one = await login(a.url, name);
    const two = await login(b.url, name);
    await accepted(b.url, one.access_token);
    await accepted(b.url, two.access_token);
    const answer = await ok<{ sessions_ended: number }>(
      call(a.url, 'POST', '/auth/logout-all', { token: one.access_token }),
    );
    assert.equal(answer.sessions_ended, 2);
    await seen('logout-all', async () => {
      await revoked(b.url, one.access_token);
      await revoked(b.url, two.access_token);
    });
    assertRefused(
      await call(b.url, 'POST', '/auth/refresh', { json: { refresh_token: two.refresh_token } }),
      401,
      'ERR_SESSION_REVOKED',
    );
    // Logging in again right away works, on either process.
    await accepted(a.url, (await login(b.url, name)).access_token);
  });

  it('a session ended by id on A is refused on B; the caller lives on', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('bysid');
    const caller = await login(a.url, name);
    const other = await login(b.url, name);
    await accepted(b.url, other.access_token);
    await ok(
      call(a.url, 'DELETE', `/auth/sessions/${other.session_id}`, { token: caller.access_token }),
    );
    await seen('DELETE /auth/sessions/:sid', () => revoked(b.url, other.access_token));
    await accepted(b.url, caller.access_token);
    const list = await ok<{ sessions: { session_id: string; current: boolean }[] }>(
      call(b.url, 'GET', '/auth/sessions', { token: caller.access_token }),
    );
    assert.deepEqual(
      list.sessions.map((session) => [session.session_id, session.current]),
      [[caller.session_id, true]],
    );
  });

  it('a password change on A ends the other sessions on B; the kept one lives with its new token', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('password');
    const keep = await login(a.url, name);
    const other = await login(b.url, name);
    await accepted(b.url, keep.access_token);
    await accepted(b.url, other.access_token);
    const newPassword = 'a brand new passphrase';
    const changed = (await ok(
      call(a.url, 'POST', '/auth/password', {
        token: keep.access_token,
        json: { current_password: PASSWORD, new_password: newPassword },
      }),
    )) as { access_token: string; session_id: string; sessions_ended: number };
    assert.equal(changed.session_id, keep.session_id);
    assert.equal(changed.sessions_ended, 1);
    await seen('password change', async () => {
      await revoked(b.url, other.access_token);
      await revoked(b.url, keep.access_token);
    });
    // B has the cut-off now, and still accepts the token issued with it.
    await accepted(b.url, changed.access_token);
    assertRefused(
      await call(b.url, 'POST', '/auth/refresh', { json: { refresh_token: other.refresh_token } }),
      401,
      'ERR_SESSION_REVOKED',
    );
    const next = await refresh(b.url, keep.refresh_token);
    await accepted(a.url, next.access_token);
    assertRefused(
      await call(b.url, 'POST', '/auth/login', { json: { username: name, password: PASSWORD } }),
      401,
      'ERR_LOGIN_FAILED',
    );
    await accepted(a.url, (await login(b.url, name, newPassword)).access_token);
  });

  it('an admin ban on A is refused on B, and so is a login there; an unban lets it in again', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name, id } = await newUser('banned');
    const session = await login(b.url, name);
    await accepted(b.url, session.access_token);
    const ban = (await ok(call(a.url, 'POST', `/admin/users/${id}/ban`, { token: admin }))) as {
      sessions_ended: number;
    };
    assert.equal(ban.sessions_ended, 1);
    await seen('admin ban', () => revoked(b.url, session.access_token));
    assertRefused(
      await call(b.url, 'POST', '/auth/login', { json: { username: name, password: PASSWORD } }),
      403,
      'ERR_SUBJECT_BANNED',
    );
    const again = await call(b.url, 'POST', '/auth/refresh', {
      json: { refresh_token: session.refresh_token },
    });
    assert.ok(
      again.status === 401 || again.status === 403,
      `a banned user's refresh is refused: ${JSON.stringify(again.body)}`,
    );
    await ok(call(a.url, 'POST', `/admin/users/${id}/unban`, { token: admin }));
    const back = await login(b.url, name);
    await accepted(a.url, back.access_token);
    await accepted(b.url, back.access_token);
    assertRefused(
      await call(b.url, 'GET', '/auth/me', { token: session.access_token }),
      401,
      'ERR_TOKEN_REVOKED',
    );
  });

  it("an admin's logout-all of a user on A is refused on B", async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name, id } = await newUser('adminlogout');
    const one = await login(a.url, name);
    const two = await login(b.url, name);
    await accepted(b.url, one.access_token);
    const sessions = (await ok(
      call(b.url, 'GET', `/admin/users/${id}/sessions`, { token: admin }),
    )) as { sessions: unknown[] };
    assert.equal(sessions.sessions.length, 2);
    await ok(call(a.url, 'POST', `/admin/users/${id}/logout-all`, { token: admin }));
    await seen('admin logout-all', async () => {
      await revoked(b.url, one.access_token);
      await revoked(b.url, two.access_token);
    });
    await accepted(b.url, (await login(b.url, name)).access_token);
  });

  it('RFC 7009 on A: a revoked access token, or refresh token, ends its session on B', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('oauth');
    const session = await login(b.url, name);
    await accepted(b.url, session.access_token);
    await ok(call(a.url, 'POST', '/oauth/revoke', { form: { token: session.access_token } }));
    await seen('RFC 7009 access token', () => revoked(b.url, session.access_token));
    // The session ends with it, in the shared store: B refuses its refresh.
    assertRefused(
      await call(b.url, 'POST', '/auth/refresh', {
        json: { refresh_token: session.refresh_token },
      }),
      401,
      'ERR_SESSION_REVOKED',
    );
    const next = await login(b.url, name);
    await accepted(a.url, next.access_token);
    await ok(call(a.url, 'POST', '/oauth/revoke', { json: { token: next.refresh_token } }));
    await seen('RFC 7009 refresh token', () => revoked(b.url, next.access_token));
    assertRefused(
      await call(b.url, 'POST', '/auth/refresh', { json: { refresh_token: next.refresh_token } }),
      401,
      'ERR_SESSION_REVOKED',
    );
  });

  it('theft across processes: a token spent on A and replayed on B after the grace window ends the session on both', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('theft');
    const first = await login(a.url, name);
    const next = await refresh(a.url, first.refresh_token);
    await accepted(b.url, next.access_token);
    await sleep(1600); // past the one-second grace window of these servers
    assertRefused(
      await call(b.url, 'POST', '/auth/refresh', { json: { refresh_token: first.refresh_token } }),
      401,
      'ERR_REFRESH_REUSED',
    );
    for (const url of [a.url, b.url]) {
      assertRefused(
        await call(url, 'POST', '/auth/refresh', { json: { refresh_token: next.refresh_token } }),
        401,
        'ERR_SESSION_REVOKED',
      );
    }
    await revoked(b.url, next.access_token);
    await seen('refresh-token reuse on B', () => revoked(a.url, next.access_token));
    await revoked(a.url, first.access_token);
  });

  it('within the grace window, one refresh token spent on A and B at once gives both the same successor', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('tabs');
    let tokens = await login(a.url, name);
    for (let round = 0; round < 5; round++) {
      const spent: string = tokens.refresh_token;
      const [onA, onB] = await Promise.all([refresh(a.url, spent), refresh(b.url, spent)]);
      assert.equal(onA.refresh_token, onB.refresh_token, `round ${round}`);
      assert.equal(onA.session_id, tokens.session_id);
      for (const token of [onA.access_token, onB.access_token]) {
        await accepted(a.url, token);
        await accepted(b.url, token);
      }
      tokens = round % 2 === 0 ? onA : onB;
    }
    await accepted(b.url, (await refresh(b.url, tokens.refresh_token)).access_token);
  });

  it("B's revocation stream, resumed from its snapshot's position, carries a logout made on A", async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('feed');
    const session = await login(a.url, name);
    const snapshot = (await ok(call(b.url, 'GET', '/revocations'))) as { position: number };
    const stream = await openStream(Number(new URL(b.url).port), '/revocations/stream', {
      'last-event-id': String(snapshot.position),
    });
    try {
      assert.equal(stream.status, 200);
      await ok(call(a.url, 'POST', '/auth/logout', { token: session.access_token }));
      await seen('revocation stream of B', async () => {
        const carried = stream.messages.find((message) => {
          if (message.event !== 'revocation') return false;
          const event = JSON.parse(message.data) as { kind: string; target: string };
          return event.kind === 'session' && event.target === session.session_id;
        });
        assert.ok(carried, 'the logout made on A');
        assert.ok(Number(carried.id) > snapshot.position);
      });
    } finally {
      stream.close();
    }
  });

  it('a process killed with SIGKILL comes back with nothing revoked alive; the other kept working', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('restart');
    const before = await login(a.url, name);
    const during = await login(a.url, name);
    const alive = await login(a.url, name);
    for (const session of [before, during, alive]) await accepted(b.url, session.access_token);
    await ok(call(a.url, 'POST', '/auth/logout', { token: before.access_token }));
    await seen('logout (before a SIGKILL)', () => revoked(b.url, before.access_token));

    const dataDir = b.dataDir;
    await b.stop('SIGKILL');
    // A goes on alone: a revocation, a login, a verification.
    await ok(call(a.url, 'POST', '/auth/logout', { token: during.access_token }));
    await revoked(a.url, during.access_token);
    const meanwhile = await login(a.url, name);
    await accepted(a.url, meanwhile.access_token);

    b = await cluster.start(dataDir);
    // It prints its URL only once its index is fresh: no waiting here.
    await revoked(b.url, before.access_token);
    await revoked(b.url, during.access_token);
    await accepted(b.url, alive.access_token);
    await accepted(b.url, meanwhile.access_token);
    const health = (await ok(call(b.url, 'GET', '/healthz'))) as { sync: { state: string } };
    assert.equal(typeof health.sync.state, 'string');
    // And it follows the bus again.
    await ok(call(a.url, 'POST', '/auth/logout', { token: alive.access_token }));
    await seen('logout (after a restart)', () => revoked(b.url, alive.access_token));
  });

  it('a key rotated on A signs the next login there, and B verifies it at once', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('rotate');
    const old = await login(a.url, name);
    const rotated = (await ok(call(a.url, 'POST', '/admin/keys/rotate', { token: admin }))) as {
      kid: string;
    };
    assert.notEqual(rotated.kid, headerOf(old.access_token).kid);
    const fresh = await login(a.url, name);
    assert.equal(headerOf(fresh.access_token).kid, rotated.kid);
    await accepted(b.url, fresh.access_token); // B reloads its ring on the unknown kid
    await accepted(b.url, old.access_token); // the old key still verifies
    await seen('key rotation (JWKS)', async () => {
      const [jwksA, jwksB] = await Promise.all([jwksOf(a.url), jwksOf(b.url)]);
      assert.deepEqual(jwksB, jwksA);
      assert.ok(jwksB.keys.some((key) => key.kid === rotated.kid));
    });
  });

  it("a key retired on A takes its tokens with it on B; A's next logins verify on B", async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('retire');
    const old = await login(b.url, name);
    const kid = headerOf(old.access_token).kid;
    await accepted(b.url, old.access_token);
    const retired = (await ok(
      call(a.url, 'POST', `/admin/keys/${kid}/retire`, { token: admin }),
    )) as {
      retired: string;
      active_kid: string;
    };
    assert.equal(retired.retired, kid);
    assert.notEqual(retired.active_kid, kid);
    await seen('key retirement', async () => {
      const answer = await call(b.url, 'GET', '/auth/me', { token: old.access_token });
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
      assert.ok(
        ['ERR_JWT_KEY_RETIRED', 'ERR_TOKEN_REVOKED'].includes(answer.body.error),
        JSON.stringify(answer.body),
      );
    });
    // B's ring follows: the retired key leaves its JWKS, the one that replaced it comes in.
    await seen('key retirement (JWKS)', async () => {
      const keys = (await jwksOf(b.url)).keys.map((key) => key.kid);
      assert.ok(!keys.includes(kid) && keys.includes(retired.active_kid), keys.join());
    });
    // The session itself lives on: its next access token, made on B, is signed with the new key.
    const next = await refresh(b.url, old.refresh_token);
    assert.equal(headerOf(next.access_token).kid, retired.active_kid);
    await accepted(a.url, next.access_token);
    await accepted(b.url, (await login(a.url, name)).access_token);
    // The admin's token was signed with that key too.
    admin = (await login(a.url, ADMIN.username, ADMIN.password)).access_token;
  });

  it('the emergency on A: revoke-all is refused on B; new logins afterwards work on both', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const { name } = await newUser('emergency');
    const one = await login(a.url, name);
    const two = await login(b.url, name);
    await accepted(b.url, one.access_token);
    await ok(call(a.url, 'POST', '/admin/revoke-all', { token: admin }));
    await seen('admin revoke-all', async () => {
      await revoked(b.url, one.access_token);
      await revoked(b.url, two.access_token);
      await revoked(b.url, admin);
    });
    assertRefused(
      await call(b.url, 'POST', '/auth/refresh', { json: { refresh_token: two.refresh_token } }),
      401,
      'ERR_SESSION_REVOKED',
    );
    // Logins wait out the clock skew after the cut-off, so that their tokens are not born dead.
    const [onA, onB] = await Promise.all([login(a.url, name), login(b.url, name)]);
    for (const token of [onA.access_token, onB.access_token]) {
      await accepted(a.url, token);
      await accepted(b.url, token);
    }
    admin = (await login(b.url, ADMIN.username, ADMIN.password)).access_token;
    await accepted(a.url, admin);
  });
});

describe('a cluster on PostgreSQL alone (LISTEN/NOTIFY as the bus)', () => {
  let a: ServerProcess;
  let b: ServerProcess;

  before(async () => {
    if (services.missing !== null) return;
    const cluster = deployment(services, { redis: false });
    [a, b] = await Promise.all([cluster.start(), cluster.start()]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('a logout on A is refused on B', async (t) => {
    if (skipIfMissing(t, services.missing)) return;
    const name = newName('pgbus');
    await register(a.url, name);
    const session = await login(b.url, name);
    await accepted(a.url, session.access_token);
    await accepted(b.url, session.access_token);
    await ok(call(a.url, 'POST', '/auth/logout', { token: session.access_token }));
    await seen('logout (PostgreSQL bus)', () => revoked(b.url, session.access_token));
  });
});
