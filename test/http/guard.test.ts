import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ErrorCode, isRevocableError } from '../../src/errors/index.js';
import {
  type AuthContext,
  createTokenGuard,
  InsufficientScopeError,
  ReauthRequiredError,
  type TokenGuard,
} from '../../src/http/index.js';
import { createRevocableVerifier, createSigner, createVerifier, KeyRing } from '../../src/index.js';
import { decodeUnverified } from '../../src/jwt/decode.js';
import { createKeyRevocation, createRevocationIndex } from '../../src/revocation/index.js';
import { createLogFollower } from '../../src/sync/index.js';
import { AUDIENCE, bearer, fingerprintHash, ISSUER, keyOptions, newWorld } from './support.js';

async function refusal(promise: unknown, code: ErrorCode): Promise<unknown> {
  let caught: unknown = null;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(isRevocableError(caught, code), `expected ${code}, got ${String(caught)}`);
  return caught;
}

function rejects(guard: TokenGuard, headers: object, code: ErrorCode): Promise<unknown> {
  return refusal(guard.check(headers), code);
}

describe('createTokenGuard', () => {
  it('accepts a valid token, synchronously, and says who it is', async () => {
    const world = newWorld();
    const guard = createTokenGuard(keyOptions(world));
    const { token, sid } = await world.login('user-1', {
      roles: ['admin', 7],
      scope: 'read  write',
    });
    const auth = guard.checkFast(bearer(token));
    assert.ok(!(auth instanceof Promise));
    assert.equal(auth.sub, 'user-1');
    assert.equal(auth.sid, sid);
    assert.deepEqual(auth.roles, ['admin']);
    assert.deepEqual(auth.scopes, ['read', 'write']);
    assert.equal(auth.token, token);
    assert.equal(auth.via, 'bearer');
    assert.equal(auth.claims.iss, ISSUER);
    assert.deepEqual((await guard.check(bearer(token))).sub, 'user-1');
  });

  it('refuses no token, a malformed header, and a revoked token', async () => {
    const world = newWorld();
    const guard = createTokenGuard(keyOptions(world));
    await rejects(guard, {}, 'ERR_AUTH_REQUIRED');
    await rejects(guard, { authorization: 'Bearer a b' }, 'ERR_AUTH_HEADER_INVALID');
    // Another scheme is no bearer token (RFC 6750 section 3.1): as if there were no header.
    await rejects(guard, { authorization: 'Token abc' }, 'ERR_AUTH_REQUIRED');
    await rejects(guard, bearer('abc'), 'ERR_JWT_MALFORMED');
    const { token, sid } = await world.login('user-1');
    await world.sessions.logout(sid);
    await rejects(guard, bearer(token), 'ERR_TOKEN_REVOKED');
    const other = await world.login('user-2');
    await world.sessions.ban('user-2');
    await rejects(guard, bearer(other.token), 'ERR_TOKEN_REVOKED');
  });

  it('holds a route to its roles (any of them) and scopes (all of them)', async () => {
    const world = newWorld();
    const guard = createTokenGuard(keyOptions(world));
    const { token } = await world.login('user-1', { roles: ['editor'], scope: 'read write' });
    const headers = bearer(token);
    assert.equal((await guard.check(headers, { roles: ['admin', 'editor'] })).sub, 'user-1');
    await refusal(guard.check(headers, { roles: ['admin'] }), 'ERR_FORBIDDEN');
    assert.equal((await guard.check(headers, { scopes: ['read', 'write'] })).sub, 'user-1');
    await refusal(guard.check(headers, { scopes: ['read', 'delete'] }), 'ERR_FORBIDDEN');
    const prepared = guard.route({ roles: ['editor'], scopes: ['read'] });
    assert.ok(Object.isFrozen(prepared));
    assert.equal((await guard.check(headers, prepared)).sub, 'user-1');
  });

  it('refuses a token whose login is older than maxAge: ERR_REAUTH_REQUIRED with the limit', async () => {
    const world = newWorld();
    const guard = createTokenGuard(keyOptions(world));
    const old = await world.login('user-1', {}, Math.floor(Date.now() / 1000) - 3600);
    const error = await refusal(
      guard.check(bearer(old.token), { maxAge: '15m' }),
      'ERR_REAUTH_REQUIRED',
    );
    assert.ok(error instanceof ReauthRequiredError);
    assert.equal(error.maxAge, 900);
    assert.equal((await guard.check(bearer(old.token), { maxAge: '2h' })).sub, 'user-1');
    // A missing role or scope is a 403 first: logging in again would not give it.
    await refusal(
      guard.check(bearer(old.token), { maxAge: '15m', roles: ['admin'] }),
      'ERR_FORBIDDEN',
    );
    const scope = await refusal(
      guard.check(bearer(old.token), { maxAge: '15m', scopes: ['write'] }),
      'ERR_FORBIDDEN',
    );
    assert.ok(scope instanceof InsufficientScopeError);
    assert.deepEqual(scope.scope, ['write']);
    // A login after the token was issued (only its issuer can sign one) would pass for recent
    // for good: refused like an old one.
    const now = Math.floor(Date.now() / 1000);
    const signer = createSigner({
      keys: world.authRing,
      issuer: ISSUER,
      audience: AUDIENCE,
      ttl: 300,
    });
    const future = signer.sign({ sub: 'user-1', sid: 'sid-future', auth_time: now + 3600 });
    await refusal(guard.check(bearer(future), { maxAge: '15m' }), 'ERR_REAUTH_REQUIRED');
    const recent = signer.sign({ sub: 'user-1', sid: 'sid-recent', auth_time: now - 5 });
    assert.equal((await guard.check(bearer(recent), { maxAge: '15m' })).sub, 'user-1');
    // Within the clock skew it is a login just made: a fractional auth_time, or one of a clock
    // a little ahead (iat is whole seconds of the signing process's clock).
    for (const ahead of [0.9, 4.5]) {
      const token = signer.sign({ sub: 'user-1', sid: `sid-${ahead}`, auth_time: now + ahead });
      assert.equal((await guard.check(bearer(token), { maxAge: '15m' })).sub, 'user-1');
    }
  });

  it('checks bad route requirements when the route is prepared', () => {
    const world = newWorld();
    const guard = createTokenGuard(keyOptions(world));
    for (const route of [
      { roles: [] },
      { roles: 'admin' },
      { scopes: [''] },
      // One scope token each (RFC 6749): a claim split on spaces could never hold these.
      { scopes: ['read write'] },
      { scopes: ['read\u00e9'] },
      { scopes: ['a"b'] },
      { maxAge: 'soon' },
      { maxAge: 1.5 },
      { checkStore: 'yes' },
      { role: ['admin'] },
      { checkStore: true },
    ]) {
      assert.throws(
        () => guard.route(route as never),
        (error: unknown) => isRevocableError(error, 'ERR_INVALID_ARGUMENT'),
        JSON.stringify(route),
      );
    }
  });

  it('asks the store on a checkStore route: what the index has not heard of is refused', async () => {
    const world = newWorld();
    const guard = createTokenGuard({ ...keyOptions(world), store: world.store });
    const route = guard.route({ checkStore: true });
    const { token, sid } = await world.login('user-1');
    const pending = guard.checkFast(bearer(token), route);
    assert.ok(pending instanceof Promise);
    assert.equal((await pending).sid, sid);
    // Written to the store alone: no event, so this process's index never hears of it.
    await world.store.revokeSessions([sid], Math.floor(Date.now() / 1000), 'logout', []);
    assert.equal((guard.checkFast(bearer(token)) as AuthContext).sid, sid);
    await refusal(guard.check(bearer(token), route), 'ERR_SESSION_REVOKED');

    const banned = await world.login('user-2');
    await world.store.setBanned('user-2', true, Math.floor(Date.now() / 1000));
    await refusal(guard.check(bearer(banned.token), route), 'ERR_SESSION_REVOKED');

    const cut = await world.login('user-3');
    await world.store.bumpGeneration('user-3');
    await refusal(guard.check(bearer(cut.token), route), 'ERR_SESSION_REVOKED');
  });

  it('refuses a checkStore route for an expired session, and answers 503 for a store that fails', async () => {
    const world = newWorld({ absoluteLifetime: 60 });
    let now = Date.now() / 1000;
    const guard = createTokenGuard({ ...keyOptions(world), store: world.store, now: () => now });
    const { token } = await world.login('user-1');
    now += 120;
    await refusal(guard.check(bearer(token), { checkStore: true }), 'ERR_SESSION_EXPIRED');

    const failing = createTokenGuard({
      ...keyOptions(world),
      store: {
        getSession: async () => {
          throw new Error('connection refused');
        },
      },
    });
    const live = await world.login('user-2');
    const error = await refusal(
      failing.check(bearer(live.token), { checkStore: true }),
      'ERR_STORE_UNAVAILABLE',
    );
    assert.equal((error as Error).cause instanceof Error, true);
  });

  it('refuses with 503 when the store does not answer within storeTimeout, and asks again next time', async () => {
    const world = newWorld();
    const { token } = await world.login('user-1');
    const hang = { session: true, log: true };
    const calls = { session: 0, log: 0 };
    const never = new Promise<never>(() => {});
    const store = {
      getSession: (sid: string) => {
        calls.session++;
        return hang.session ? never : world.store.getSession(sid);
      },
      liveEvents: (horizon: number) => {
        calls.log++;
        return hang.log ? never : world.store.liveEvents(horizon);
      },
      readEvents: (after: number, limit: number) => world.store.readEvents(after, limit),
    };
    // A checkStore route: the session read.
    const guard = createTokenGuard({ ...keyOptions(world), store, storeTimeout: 0.1 });
    const error = await refusal(
      guard.check(bearer(token), { checkStore: true }),
      'ERR_STORE_UNAVAILABLE',
    );
    assert.match((error as Error).message, /within 0\.1 s/);
    hang.session = false;
    assert.equal((await guard.check(bearer(token), { checkStore: true })).sub, 'user-1');

    // 'check-store' on a stale index: the log read, shared while in flight (a slow store is
    // not given more reads), given up for a new one after three timeouts.
    const stale = createTokenGuard({
      ...keyOptions(world),
      maxStaleness: 1,
      onStale: 'check-store',
      store,
      storeTimeout: 0.1,
    });
    await Promise.all([
      rejects(stale, bearer(token), 'ERR_STORE_UNAVAILABLE'),
      rejects(stale, bearer(token), 'ERR_STORE_UNAVAILABLE'),
    ]);
    await rejects(stale, bearer(token), 'ERR_STORE_UNAVAILABLE');
    assert.equal(calls.log, 1);
    hang.log = false;
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal((await stale.check(bearer(token))).sub, 'user-1');
    assert.equal(calls.log, 2);

    for (const bad of [0, -1, '5 minutes', 100_000]) {
      assert.throws(
        () => createTokenGuard({ ...keyOptions(world), store, storeTimeout: bad as never }),
        (thrown: unknown) =>
          isRevocableError(thrown, 'ERR_INVALID_ARGUMENT') && /storeTimeout/.test(thrown.message),
      );
    }
  });

  it('fails closed on a stale index: ERR_REVOCATION_STALE', async () => {
    const world = newWorld();
    const guard = createTokenGuard({ ...keyOptions(world), maxStaleness: 1 });
    const { token } = await world.login('user-1');
    await rejects(guard, bearer(token), 'ERR_REVOCATION_STALE');
    world.index.markFresh();
    assert.equal((await guard.check(bearer(token))).sub, 'user-1');
  });

  it("under 'check-store', asks the store while the index is stale", async () => {
    const world = newWorld();
    const guard = createTokenGuard({
      ...keyOptions(world),
      maxStaleness: 1,
      onStale: 'check-store',
      store: world.store,
    });
    const { token, sid } = await world.login('user-1');
    const pending = guard.checkFast(bearer(token));
    assert.ok(pending instanceof Promise);
    assert.equal((await pending).sid, sid);
    await world.store.revokeSessions([sid], Math.floor(Date.now() / 1000), 'logout', []);
    await rejects(guard, bearer(token), 'ERR_SESSION_REVOKED');
    // What the index knows is still refused by it.
    const other = await world.login('user-2');
    await world.sessions.logout(other.sid);
    await rejects(guard, bearer(other.token), 'ERR_TOKEN_REVOKED');
    // Fresh again: no store read.
    world.index.markFresh();
    const third = await world.login('user-3');
    assert.ok(!(guard.checkFast(bearer(third.token)) instanceof Promise));
  });

  it("under 'check-store' with the follower, reads the log past it while stale: a jti revoked meanwhile is refused", async () => {
    const world = newWorld();
    // The resource side: its own index, followed over a connection the test can cut.
    let cut = false;
    let offset = 0;
    const followed = {
      liveEvents: (horizon: number) => world.store.liveEvents(horizon),
      readEvents: (after: number, limit: number) =>
        cut ? Promise.reject(new Error('connection cut')) : world.store.readEvents(after, limit),
    };
    const index = createRevocationIndex({
      maxAccessTokenLifetime: '10m',
      now: () => Date.now() / 1000 + offset,
    });
    const follower = createLogFollower({
      store: followed,
      index,
      maxStaleness: 1,
      pollInterval: 3600,
      onError: () => {},
    });
    await follower.start();
    try {
      const guard = createTokenGuard({
        ...keyOptions(world),
        index,
        maxStaleness: 1,
        onStale: 'check-store',
        store: world.store,
        follower,
      });
      const revoked = await world.login('user-1');
      const live = await world.login('user-2');
      assert.equal((await guard.check(bearer(revoked.token))).sub, 'user-1');
      cut = true;
      offset = 2; // the follower has not read the log for 2 s: stale
      const { jti, exp } = decodeUnverified(revoked.token).claims;
      await world.sessions.revokeToken(jti as string, exp as number);
      // The session still lives in the store; only the log knows the token is revoked.
      await rejects(guard, bearer(revoked.token), 'ERR_TOKEN_REVOKED');
      assert.equal((await guard.check(bearer(live.token))).sub, 'user-2');
      // A log the store cannot read is a refusal, not a pass.
      const failing = createTokenGuard({
        ...keyOptions(world),
        index,
        maxStaleness: 1,
        onStale: 'check-store',
        store: {
          getSession: (sid) => world.store.getSession(sid),
          readEvents: followed.readEvents,
        },
        follower,
      });
      await rejects(failing, bearer(live.token), 'ERR_STORE_UNAVAILABLE');
    } finally {
      await follower.stop();
      index.close();
    }
  });

  it("under 'check-store' without a follower, loads the log's live events while stale: a jti revoked meanwhile is refused", async () => {
    const world = newWorld();
    // The resource side: its own index, which nothing feeds once the test has loaded it.
    let offset = 0;
    const index = createRevocationIndex({
      maxAccessTokenLifetime: '10m',
      now: () => Date.now() / 1000 + offset,
    });
    const calls = { live: 0, read: 0 };
    const store = {
      getSession: (sid: string) => world.store.getSession(sid),
      liveEvents: (horizon: number) => {
        calls.live++;
        return world.store.liveEvents(horizon);
      },
      readEvents: (after: number, limit: number) => {
        calls.read++;
        return world.store.readEvents(after, limit);
      },
    };
    const options = {
      ...keyOptions(world),
      index,
      maxStaleness: 1,
      onStale: 'check-store' as const,
    };
    try {
      const guard = createTokenGuard({ ...options, store });
      const first = await world.login('user-1');
      const second = await world.login('user-2');
      const live = await world.login('user-3');
      index.markFresh();
      assert.equal((await guard.check(bearer(first.token))).sub, 'user-1');
      offset = 2; // stale
      const revokeJti = async (token: string) => {
        const { jti, exp } = decodeUnverified(token).claims;
        await world.sessions.revokeToken(jti as string, exp as number);
      };
      await revokeJti(first.token);
      // The sessions still live in the store; only the log knows the tokens are revoked.
      await rejects(guard, bearer(first.token), 'ERR_TOKEN_REVOKED');
      assert.equal(calls.live, 1);
      assert.equal((await guard.check(bearer(live.token))).sub, 'user-3');
      // Within the minute, on from the position the live events reached.
      await revokeJti(second.token);
      await rejects(guard, bearer(second.token), 'ERR_TOKEN_REVOKED');
      assert.equal(calls.live, 1);
      assert.ok(calls.read >= 1);
      // A minute without a read: the live events again, not the whole log since.
      offset = 70;
      assert.equal((await guard.check(bearer(live.token))).sub, 'user-3');
      assert.equal(calls.live, 2);

      // A store that cannot load them is a refusal, not a pass.
      const failing = createTokenGuard({
        ...options,
        store: { ...store, liveEvents: () => Promise.reject(new Error('connection cut')) },
      });
      await rejects(failing, bearer(live.token), 'ERR_STORE_UNAVAILABLE');
      // A store that reads only sessions tells what it knows: a jti revoked in the log passes.
      const other = createRevocationIndex({
        maxAccessTokenLifetime: '10m',
        now: () => Date.now() / 1000 + 2,
      });
      const sessionsOnly = createTokenGuard({
        ...options,
        index: other,
        store: { getSession: (sid: string) => world.store.getSession(sid) },
      });
      assert.equal((await sessionsOnly.check(bearer(first.token))).sub, 'user-1');
      other.close();
    } finally {
      index.close();
    }
  });

  it('takes a follower only for check-store, with keys and a store that reads the log', () => {
    const world = newWorld();
    const invalid = (error: unknown) => isRevocableError(error, 'ERR_INVALID_ARGUMENT');
    const follower = { health: () => ({ position: 0 }) } as never;
    const options = { ...keyOptions(world), maxStaleness: 1, store: world.store, follower };
    assert.throws(() => createTokenGuard(options), invalid);
    assert.throws(
      () =>
        createTokenGuard({
          ...options,
          onStale: 'check-store',
          store: { getSession: (sid: string) => world.store.getSession(sid) },
        }),
      invalid,
    );
    assert.throws(
      () => createTokenGuard({ ...options, onStale: 'check-store', follower: {} as never }),
      invalid,
    );
    const verifier = createRevocableVerifier({ ...keyOptions(world), maxStaleness: 1 });
    assert.throws(
      () =>
        createTokenGuard({
          verifier,
          staleVerifier: verifier,
          onStale: 'check-store',
          store: world.store,
          follower,
        } as never),
      invalid,
    );
    createTokenGuard({ ...options, onStale: 'check-store' });
    // A policy for a stale index with no bound for staleness would never apply.
    const { maxStaleness: _bound, ...unbounded } = options;
    assert.throws(
      () => createTokenGuard({ ...unbounded, onStale: 'check-store' }),
      (error: unknown) => invalid(error) && /maxStaleness/.test((error as Error).message),
    );
  });

  it("refuses 'check-store' without a store, and a verifier of its own without a staleVerifier", () => {
    const world = newWorld();
    const invalid = (error: unknown) => isRevocableError(error, 'ERR_INVALID_ARGUMENT');
    assert.throws(
      () => createTokenGuard({ ...keyOptions(world), onStale: 'check-store' }),
      invalid,
    );
    const verifier = createRevocableVerifier({ ...keyOptions(world), maxStaleness: 1 });
    assert.throws(
      () => createTokenGuard({ verifier, onStale: 'check-store', store: world.store }),
      invalid,
    );
    assert.throws(() => createTokenGuard({ verifier, cookie: 'bad name' }), invalid);
    assert.throws(() => createTokenGuard({ verifier, keys: world.ring } as never), invalid);
  });

  it("takes a verifier of its own, with a staleVerifier for 'check-store'", async () => {
    const world = newWorld();
    const verifier = createRevocableVerifier({ ...keyOptions(world), maxStaleness: 1 });
    const staleVerifier = createVerifier({ keys: world.ring, issuer: ISSUER, audience: AUDIENCE });
    const guard = createTokenGuard({
      verifier,
      staleVerifier,
      onStale: 'check-store',
      store: world.store,
    });
    const { token, sid } = await world.login('user-1');
    assert.equal((await guard.check(bearer(token))).sid, sid);
    await world.store.revokeSessions([sid], Math.floor(Date.now() / 1000), 'logout', []);
    await rejects(guard, bearer(token), 'ERR_SESSION_REVOKED');
  });

  it('reads the access cookie when there is no Authorization header, with the CSRF check', async () => {
    const world = newWorld();
    const guard = createTokenGuard(keyOptions(world));
    const { token } = await world.login('user-1');
    const cookie = `theme=dark; __Host-revocable-access=${token}; __Host-revocable-csrf=c5rf`;
    const auth = await guard.check({ cookie }, undefined, 'GET');
    assert.equal(auth.via, 'cookie');
    assert.equal(auth.token, token);
    await refusal(guard.check({ cookie }, undefined, 'POST'), 'ERR_CSRF');
    await refusal(guard.check({ cookie, 'x-csrf-token': 'other' }, undefined, 'POST'), 'ERR_CSRF');
    await refusal(guard.check({ cookie }), 'ERR_CSRF');
    assert.equal(
      (await guard.check({ cookie, 'x-csrf-token': 'c5rf' }, undefined, 'POST')).sub,
      'user-1',
    );
    // The header wins: a bad one is refused, whatever the cookie.
    await refusal(
      guard.check({ cookie, authorization: 'Bearer' }, undefined, 'GET'),
      'ERR_AUTH_HEADER_INVALID',
    );
    // Two access cookies, in either order, the first empty or not: which is the user's is unknown.
    for (const twice of [
      `__Host-revocable-access=; ${cookie}`,
      `${cookie}; __Host-revocable-access=`,
      `__Host-revocable-access=other; ${cookie}`,
    ]) {
      await refusal(guard.check({ cookie: twice }, undefined, 'GET'), 'ERR_AUTH_HEADER_INVALID');
    }
    // A header of another scheme (a proxy's HTTP Basic authentication) leaves the cookie to sign in.
    const basic = `Basic ${Buffer.from('staging:secret').toString('base64')}`;
    assert.equal(
      (await guard.check({ cookie, authorization: basic }, undefined, 'GET')).via,
      'cookie',
    );
    // Plain-http development names, and the cookie turned off.
    const insecure = createTokenGuard({ ...keyOptions(world), cookie: 'revocable-access' });
    const plain = `revocable-access=${token}; revocable-csrf=x`;
    assert.equal(
      (await insecure.check({ cookie: plain, 'x-csrf-token': 'x' }, undefined, 'PUT')).via,
      'cookie',
    );
    const bearerOnly = createTokenGuard({ ...keyOptions(world), cookie: false });
    await refusal(bearerOnly.check({ cookie }, undefined, 'GET'), 'ERR_AUTH_REQUIRED');
    const noCsrf = createTokenGuard({ ...keyOptions(world), csrfCookie: false });
    assert.equal((await noCsrf.check({ cookie }, undefined, 'POST')).via, 'cookie');
  });

  it('holds a token with an fgp claim to its fingerprint cookie', async () => {
    const world = newWorld();
    const guard = createTokenGuard(keyOptions(world));
    const { token } = await world.login('user-1', { fgp: fingerprintHash('finger') });
    await refusal(guard.check(bearer(token)), 'ERR_FINGERPRINT_MISMATCH');
    await refusal(
      guard.check({ ...bearer(token), cookie: '__Host-revocable-fgp=thumb' }),
      'ERR_FINGERPRINT_MISMATCH',
    );
    const auth = await guard.check({ ...bearer(token), cookie: '__Host-revocable-fgp=finger' });
    assert.equal(auth.sub, 'user-1');
    for (const cookie of [
      '__Host-revocable-fgp=finger; __Host-revocable-fgp=thumb',
      '__Host-revocable-fgp=thumb; __Host-revocable-fgp=finger',
    ]) {
      await refusal(guard.check({ ...bearer(token), cookie }), 'ERR_AUTH_HEADER_INVALID');
    }
  });

  it('refuses a token of a revoked key the ring has dropped at once, without a reload', async () => {
    const world = newWorld();
    let calls = 0;
    // The resource ring after a restart: the JWKS no longer lists the retired key.
    const { token } = await world.login('user-1');
    const kid = decodeUnverified(token).header.kid as string;
    world.index.apply(
      createKeyRevocation({ kid }, { maxAccessTokenLifetime: world.index.maxAccessTokenLifetime }),
    );
    const guard = createTokenGuard({
      ...keyOptions(world),
      keys: KeyRing.fromJSON(KeyRing.generate('EdDSA').jwks()),
      refreshKeys: async () => {
        calls++;
        return false;
      },
    });
    await refusal(guard.check(bearer(token)), 'ERR_JWT_KEY_RETIRED');
    assert.equal(calls, 0);
  });

  it('reloads the keys once for an unknown kid, shared by concurrent requests and throttled', async () => {
    const world = newWorld();
    let now = Date.now() / 1000;
    let calls = 0;
    let fail = false;
    const guard = createTokenGuard({
      ...keyOptions(world),
      now: () => now,
      refreshKeys: async () => {
        calls++;
        if (fail) throw new Error('auth server down');
        const published = KeyRing.fromJSON(world.authRing.jwks());
        let changed = false;
        for (const key of published.keys()) {
          if (world.ring.get(key.kid) === undefined) {
            world.ring.add(key);
            changed = true;
          }
        }
        return changed;
      },
    });
    world.authRing.rotate();
    const { token } = await world.login('user-1');
    const [first, second] = await Promise.all([
      guard.check(bearer(token)),
      guard.check(bearer(token)),
    ]);
    assert.equal(first.sub, 'user-1');
    assert.equal(second.sub, 'user-1');
    assert.equal(calls, 1);

    // The auth server down: each reload fails and the token is refused; a second request within
    // the second waits for the next allowed reload instead of being refused without one.
    world.authRing.rotate();
    const next = await world.login('user-2');
    fail = true;
    now += 2;
    await rejects(guard, bearer(next.token), 'ERR_JWT_KID_UNKNOWN');
    assert.equal(calls, 2);
    await rejects(guard, bearer(next.token), 'ERR_JWT_KID_UNKNOWN');
    assert.equal(calls, 3);
    fail = false;
    now += 2;
    assert.equal((await guard.check(bearer(next.token))).sub, 'user-2');
    assert.equal(calls, 4);
  });

  it('answers the requests waiting on a key reload that never settles after 5 s', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const world = newWorld();
    let calls = 0;
    const guard = createTokenGuard({
      ...keyOptions(world),
      refreshKeys: () => {
        calls++;
        return new Promise<boolean>(() => {});
      },
    });
    world.authRing.rotate();
    const { token } = await world.login('user-1');
    let settled = false;
    const refused = refusal(guard.check(bearer(token)), 'ERR_JWT_KID_UNKNOWN').finally(() => {
      settled = true;
    });
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(calls, 1);
    t.mock.timers.tick(4_900);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    t.mock.timers.tick(100);
    await refused;
    // A refreshKeys that throws synchronously is a failed reload, not a rejection of its own.
    const throwing = createTokenGuard({
      ...keyOptions(world),
      refreshKeys: () => {
        throw new Error('no network');
      },
    });
    await rejects(throwing, bearer(token), 'ERR_JWT_KID_UNKNOWN');
  });

  it('refuses at once while key reloads time out, and waits on them again once one answers', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const world = newWorld();
    let now = Date.now() / 1000;
    const pending: Array<(changed: boolean) => void> = [];
    const guard = createTokenGuard({
      ...keyOptions(world),
      now: () => now,
      // An auth server that accepts the connection and answers only when the test says so.
      refreshKeys: () => new Promise<boolean>((resolve) => pending.push(resolve)),
    });
    const learn = (): boolean => {
      let changed = false;
      for (const key of KeyRing.fromJSON(world.authRing.jwks()).keys()) {
        if (world.ring.get(key.kid) === undefined) {
          world.ring.add(key);
          changed = true;
        }
      }
      return changed;
    };
    const turns = async (): Promise<void> => {
      for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    };
    // Settled within a few turns of the event loop, with no timer moved.
    const soon = async (promise: Promise<unknown>): Promise<boolean> => {
      let settled = false;
      void promise.then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      await turns();
      return settled;
    };

    world.authRing.rotate();
    const { token } = await world.login('user-1');
    // The first request waits out the whole timeout.
    const first = guard.check(bearer(token));
    assert.equal(await soon(first), false);
    assert.equal(pending.length, 1);
    t.mock.timers.tick(5_000);
    await refusal(first, 'ERR_JWT_KID_UNKNOWN');

    // Then requests are refused without waiting, while a reload goes on behind them, at most
    // once a second and one at a time.
    now += 2;
    const second = guard.check(bearer(token));
    assert.equal(await soon(second), true);
    await refusal(second, 'ERR_JWT_KID_UNKNOWN');
    assert.equal(pending.length, 2);
    const third = guard.check(bearer(token));
    assert.equal(await soon(third), true);
    await refusal(third, 'ERR_JWT_KID_UNKNOWN');
    assert.equal(pending.length, 2);

    // The hung reload answers at last (after its own timeout): the source is back, the key known.
    t.mock.timers.tick(5_000);
    await turns();
    pending[1]!(learn());
    await turns();
    assert.equal((await guard.check(bearer(token))).sub, 'user-1');

    // A key rotated now is waited for again, as before the outage.
    world.authRing.rotate();
    const next = await world.login('user-2');
    now += 2;
    const waiting = guard.check(bearer(next.token));
    assert.equal(await soon(waiting), false);
    assert.equal(pending.length, 3);
    pending[2]!(learn());
    assert.equal((await waiting).sub, 'user-2');
  });

  it('reads characters through its own reference, whatever becomes of String.prototype', async () => {
    // An application's imports can put String.prototype in dictionary mode (ioredis does), where
    // each `text.charCodeAt(i)` looks the method up again: the verify path holds its own reference
    // (src/lib/char-code.ts). Replacing the method proves no loop of the path reads through it.
    const world = newWorld();
    const guard = createTokenGuard(keyOptions(world));
    const { token } = await world.login('user-1', { roles: ['admin'] });
    const revoked = await world.login('user-2');
    await world.sessions.logout(revoked.sid);
    const cookie = `theme=dark; __Host-revocable-access=${token}; __Host-revocable-csrf=c5rf`;
    const original = Object.getOwnPropertyDescriptor(String.prototype, 'charCodeAt')!;
    Object.defineProperty(String.prototype, 'charCodeAt', {
      ...original,
      value() {
        throw new Error('String.prototype.charCodeAt was called');
      },
    });
    try {
      for (let i = 0; i < 2; i++) {
        // The first verify is a miss (signature, payload checks), the second a cache hit.
        const auth = guard.checkFast(bearer(token), { roles: ['admin'] });
        assert.ok(!(auth instanceof Promise));
        assert.equal(auth.sub, 'user-1');
        assert.equal((await guard.check({ cookie }, undefined, 'GET')).via, 'cookie');
        await rejects(guard, bearer(revoked.token), 'ERR_TOKEN_REVOKED');
        await rejects(guard, { authorization: 'Bearer a b' }, 'ERR_AUTH_HEADER_INVALID');
        await rejects(guard, { authorization: 'Basic abc' }, 'ERR_AUTH_REQUIRED');
      }
    } finally {
      Object.defineProperty(String.prototype, 'charCodeAt', original);
    }
  });
});
