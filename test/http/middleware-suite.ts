// The scenarios every adapter must pass, each against a real server: the adapter's test file
// builds the app (its framework, the routes below under each guard's prefix) and this suite sends
// real requests to it.
import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { TokenGuardOptions } from '../../src/http/index.js';
import { KeyRing } from '../../src/jwt/index.js';
import { type Answer, keyOptions, newWorld, send, type World } from './support.js';

/** A guard's options and the realm of its answers. */
export type MountOptions = TokenGuardOptions & { realm?: string };

/**
 * Builds an app that mounts, under `/<prefix>`, with a guard made of `mounts[prefix]`:
 * `GET` and `POST /me` (authenticate()), `GET /admin` ({ roles: ['admin', 'root'] }),
 * `GET /write` ({ scopes: ['write'] }), `GET /recent` ({ maxAge: '15m' }) and `GET /strict`
 * ({ checkStore: true }: every mount has a store), each answering 200 with the request's auth context as JSON; and listens.
 */
export type AppMaker = (
  mounts: Record<string, MountOptions>,
) => Promise<{ base: string; close: () => Promise<void> }>;

function refused(answer: Answer, status: number, code: string, challenge?: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body.error, code);
  assert.equal(typeof answer.body.message, 'string');
  assert.equal(answer.headers['cache-control'], 'no-store');
  if (challenge !== undefined) assert.match(String(answer.headers['www-authenticate']), challenge);
}

function invalidToken(code: string): RegExp {
  return new RegExp(`^Bearer realm="api", error="invalid_token", error_description="${code}"$`);
}

export function describeMiddlewareSuite(name: string, makeApp: AppMaker): void {
  describe(`${name}: the middleware against a real server`, () => {
    let world: World;
    let base = '';
    let close = async () => {};

    before(async () => {
      world = newWorld();
      const resource = keyOptions(world);
      ({ base, close } = await makeApp({
        main: { ...resource, store: world.store, realm: 'api' },
        stale: { ...resource, store: world.store, maxStaleness: 1, realm: 'api' },
        degraded: {
          ...resource,
          maxStaleness: 1,
          onStale: 'check-store',
          store: world.store,
          realm: 'api',
        },
      }));
    });

    after(() => close());

    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    it('lets a valid token through, with who it is', async () => {
      const { token, sid } = await world.login('user-1', { roles: ['editor'], scope: 'read' });
      const answer = await send(base, '/main/me', bearer(token));
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, {
        sub: 'user-1',
        sid,
        roles: ['editor'],
        scopes: ['read'],
        via: 'bearer',
      });
    });

    it('refuses a token revoked by a logout or a ban: 401 with the challenge', async () => {
      const { token, sid } = await world.login('user-1');
      await world.sessions.logout(sid);
      refused(
        await send(base, '/main/me', bearer(token)),
        401,
        'ERR_TOKEN_REVOKED',
        invalidToken('ERR_TOKEN_REVOKED'),
      );
      const banned = await world.login('banned-user');
      await world.sessions.ban('banned-user');
      refused(
        await send(base, '/main/me', bearer(banned.token)),
        401,
        'ERR_TOKEN_REVOKED',
        invalidToken('ERR_TOKEN_REVOKED'),
      );
    });

    it('answers a request without a token with a bare challenge', async () => {
      refused(await send(base, '/main/me'), 401, 'ERR_AUTH_REQUIRED', /^Bearer realm="api"$/);
      // Another scheme is no bearer token (RFC 6750 section 3.1): the same bare challenge.
      const basic = `Basic ${Buffer.from('a:b').toString('base64')}`;
      refused(
        await send(base, '/main/me', { authorization: basic }),
        401,
        'ERR_AUTH_REQUIRED',
        /^Bearer realm="api"$/,
      );
    });

    it('refuses a malformed Authorization header, never with a 500', async () => {
      const { token } = await world.login('user-1');
      const headers = [
        token,
        `Bearer ${token} ${token}`,
        `Bearer ${token}, Bearer ${token}`,
        [`Bearer ${token}`, `Bearer ${token}`],
        `Bearer ${'a'.repeat(20 * 1024)}`,
        `Bearer ${token}é`,
        '',
      ];
      for (const authorization of headers) {
        const answer = await send(base, '/main/me', { authorization } as OutgoingHttpHeaders);
        refused(
          answer,
          401,
          'ERR_AUTH_HEADER_INVALID',
          /^Bearer realm="api", error="invalid_request", error_description="ERR_AUTH_HEADER_INVALID"$/,
        );
      }
    });

    it('answers 403 insufficient_scope for a missing role or scope', async () => {
      const { token } = await world.login('user-1', { roles: ['editor'], scope: 'read' });
      refused(
        await send(base, '/main/admin', bearer(token)),
        403,
        'ERR_FORBIDDEN',
        /^Bearer realm="api", error="insufficient_scope", error_description="ERR_FORBIDDEN"$/,
      );
      refused(
        await send(base, '/main/write', bearer(token)),
        403,
        'ERR_FORBIDDEN',
        /^Bearer realm="api", error="insufficient_scope", error_description="ERR_FORBIDDEN", scope="write"$/,
      );
      const root = await world.login('user-2', { roles: ['root'], scope: 'read write' });
      assert.equal((await send(base, '/main/admin', bearer(root.token))).status, 200);
      assert.equal((await send(base, '/main/write', bearer(root.token))).status, 200);
    });

    it('answers 401 ERR_REAUTH_REQUIRED past maxAge', async () => {
      const old = await world.login('user-1', {}, Math.floor(Date.now() / 1000) - 3600);
      refused(
        await send(base, '/main/recent', bearer(old.token)),
        401,
        'ERR_REAUTH_REQUIRED',
        /error="insufficient_user_authentication", error_description="ERR_REAUTH_REQUIRED", max_age="900"$/,
      );
      const fresh = await world.login('user-2');
      assert.equal((await send(base, '/main/recent', bearer(fresh.token))).status, 200);
    });

    it('asks the store on a checkStore route: a revocation the index has not heard of is refused', async () => {
      const { token, sid } = await world.login('user-1');
      assert.equal((await send(base, '/main/strict', bearer(token))).status, 200);
      await world.store.revokeSessions([sid], Math.floor(Date.now() / 1000), 'logout', []);
      assert.equal((await send(base, '/main/me', bearer(token))).status, 200);
      refused(
        await send(base, '/main/strict', bearer(token)),
        401,
        'ERR_SESSION_REVOKED',
        invalidToken('ERR_SESSION_REVOKED'),
      );
    });

    it('fails closed on a stale index: 503 with Retry-After', async () => {
      const { token } = await world.login('user-1');
      const answer = await send(base, '/stale/me', bearer(token));
      refused(answer, 503, 'ERR_REVOCATION_STALE');
      assert.equal(answer.headers['retry-after'], '1');
      assert.equal(answer.headers['www-authenticate'], undefined);
    });

    it("under 'check-store', lets a live session through and refuses a revoked one", async () => {
      const { token, sid } = await world.login('user-1');
      const answer = await send(base, '/degraded/me', bearer(token));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.sid, sid);
      await world.store.revokeSessions([sid], Math.floor(Date.now() / 1000), 'logout', []);
      refused(
        await send(base, '/degraded/me', bearer(token)),
        401,
        'ERR_SESSION_REVOKED',
        invalidToken('ERR_SESSION_REVOKED'),
      );
    });

    it('reads the access cookie of cookie mode, with the CSRF check on POST', async () => {
      const { token } = await world.login('user-1');
      const cookie = `__Host-revocable-access=${token}; __Host-revocable-csrf=the-csrf-token`;
      const answer = await send(base, '/main/me', { cookie });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.via, 'cookie');
      refused(await send(base, '/main/me', { cookie }, 'POST'), 403, 'ERR_CSRF');
      const posted = await send(
        base,
        '/main/me',
        { cookie, 'x-csrf-token': 'the-csrf-token' },
        'POST',
      );
      assert.equal(posted.status, 200);
      assert.equal((await send(base, '/main/me', bearer(token), 'POST')).status, 200);
    });

    it('refuses a cookie name given twice (another path or domain set one), in cookie mode', async () => {
      const { token } = await world.login('user-1');
      const access = `__Host-revocable-access=${token}`;
      // A CSRF cookie put ahead of the real one, and a header that repeats it.
      const tossed = `__Host-revocable-csrf=chosen; ${access}; __Host-revocable-csrf=the-csrf-token`;
      refused(
        await send(base, '/main/me', { cookie: tossed, 'x-csrf-token': 'chosen' }, 'POST'),
        403,
        'ERR_CSRF',
      );
      const { token: other } = await world.login('user-2');
      const twoAccess = `__Host-revocable-access=${other}; ${access}`;
      refused(
        await send(base, '/main/me', { cookie: twoAccess }),
        401,
        'ERR_AUTH_HEADER_INVALID',
        /error="invalid_request"/,
      );
      // Names that only begin alike are other cookies.
      const alike = `__Host-revocable-access-old=x; ${access}; __Host-revocable-csrf2=y`;
      assert.equal((await send(base, '/main/me', { cookie: alike })).status, 200);
    });

    it('signs in with the cookie beside a long credential of another scheme', async () => {
      const { token } = await world.login('user-1');
      const answer = await send(base, '/main/me', {
        authorization: `Negotiate ${'Y'.repeat(12_000)}`,
        cookie: `__Host-revocable-access=${token}`,
      });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.via, 'cookie');
    });

    it('reloads the keys once for a token of a key rotated in since, then lets it through', async () => {
      const keyWorld = newWorld();
      let reloads = 0;
      const app = await makeApp({
        keys: {
          ...keyOptions(keyWorld),
          store: keyWorld.store,
          realm: 'api',
          refreshKeys: async () => {
            reloads++;
            for (const key of KeyRing.fromJSON(keyWorld.authRing.jwks()).keys()) {
              if (keyWorld.ring.get(key.kid) === undefined) keyWorld.ring.add(key);
            }
            return true;
          },
        },
      });
      try {
        keyWorld.authRing.rotate();
        const { token } = await keyWorld.login('user-1');
        const answer = await send(app.base, '/keys/me', bearer(token));
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(reloads, 1);
        assert.equal((await send(app.base, '/keys/me', bearer(token))).status, 200);
        assert.equal(reloads, 1);
      } finally {
        await app.close();
      }
    });
  });
}
