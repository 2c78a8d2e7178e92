import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isRevocableError, TokenRevokedError } from '../../src/errors/index.js';
import { KeyRing } from '../../src/jwt/index.js';
import type { RevocationIndex } from '../../src/revocation/index.js';
import { createRevocableVerifier, createRevocationIndex } from '../../src/revocation/index.js';
import type { SessionAuditEvent } from '../../src/sessions/index.js';
import { createSessionManager, type SessionManager } from '../../src/sessions/index.js';
import type { Store } from '../../src/stores/index.js';

/** A store under test and how to dispose of it. */
export interface SessionSuiteSetup {
  store: Store;
  teardown(): Promise<void>;
}

const ISSUER = 'https://auth.test';
// One secret for every manager of a test, as every process sharing a store must have.
const REFRESH_SECRET = 'a refresh secret shared by every process of the test';
const AUDIENCE = 'api';
const START = 1_900_000_000;

interface World {
  clock: { t: number };
  index: RevocationIndex;
  ring: KeyRing;
  manager: SessionManager;
  audit: SessionAuditEvent[];
  verify(token: string): Record<string, unknown>;
  codeOf(token: string): string | null;
}

function expectCode(code: string) {
  return (error: unknown) => {
    assert.ok(isRevocableError(error), `expected a RevocableError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

type Interposers = {
  [K in keyof Store]?: Store[K] extends (...args: infer A) => Promise<infer R>
    ? (call: () => Promise<R>, ...args: A) => Promise<R>
    : never;
};

/** The store with some methods wrapped: each wrapper gets the real call and its arguments. */
function interpose(store: Store, wrappers: Interposers): Store {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      const wrapper = (wrappers as Record<string | symbol, unknown>)[name];
      if (typeof wrapper !== 'function' || typeof value !== 'function') return value;
      return (...args: unknown[]) =>
        (wrapper as (call: () => Promise<unknown>, ...rest: unknown[]) => Promise<unknown>)(
          () => (value as (...rest: unknown[]) => Promise<unknown>).apply(target, args),
          ...args,
        );
    },
  });
}

let counter = 0;
/** A subject id no other test (or earlier run against a shared database) uses. */
function subject(): string {
  counter += 1;
  return `user-${process.pid}-${Date.now()}-${counter}`;
}

/**
 * The session lifecycle, run against one store. Every store runs it, so rotation, reuse
 * detection and every revocation behave the same whatever holds the data.
 */
export function describeSessionSuite(name: string, setup: () => Promise<SessionSuiteSetup>): void {
  describe(`session manager on ${name}`, () => {
    let context: SessionSuiteSetup;
    before(async () => {
      context = await setup();
    });
    after(async () => {
      await context.teardown();
    });

    function world(
      overrides: {
        refreshGrace?: number;
        idleTimeout?: number;
        absoluteLifetime?: number;
        store?: Store;
        clock?: { t: number };
        ring?: KeyRing;
      } = {},
    ): World {
      const clock = overrides.clock ?? { t: START + Math.random() };
      const now = () => clock.t;
      const index = createRevocationIndex({ maxAccessTokenLifetime: '10m', clockSkew: 5, now });
      const ring = overrides.ring ?? KeyRing.generate('HS256');
      const manager = createSessionManager({
        store: overrides.store ?? context.store,
        refreshSecret: REFRESH_SECRET,
        keys: ring,
        index,
        issuer: ISSUER,
        audience: AUDIENCE,
        refreshGrace: overrides.refreshGrace ?? 10,
        idleTimeout: overrides.idleTimeout ?? 3600,
        absoluteLifetime: overrides.absoluteLifetime ?? 86400,
        now,
      });
      const audit: SessionAuditEvent[] = [];
      manager.onAudit((event) => audit.push(event));
      const verifier = createRevocableVerifier({
        keys: ring,
        index,
        issuer: ISSUER,
        audience: AUDIENCE,
      });
      return {
        clock,
        index,
        ring,
        manager,
        audit,
        verify: (token) => verifier.verify(token),
        codeOf(token) {
          try {
            verifier.verify(token);
            return null;
          } catch (error) {
            if (error instanceof TokenRevokedError) return `${error.code}:${error.rule}`;
            if (isRevocableError(error)) return error.code;
            throw error;
          }
        },
      };
    }

    it('login issues an at+jwt access token with the registered claims and a refresh token', async () => {
      const w = world();
      const sub = subject();
      const pair = await w.manager.login(sub, {
        device: 'Firefox',
        ip: '203.0.113.9',
        claims: { role: 'player' },
      });
      const claims = w.verify(pair.accessToken);
      assert.equal(claims.iss, ISSUER);
      assert.equal(claims.aud, AUDIENCE);
      assert.equal(claims.sub, sub);
      assert.equal(claims.sid, pair.sid);
      assert.equal(claims.jti, pair.jti);
      assert.equal(claims.role, 'player');
      assert.equal(typeof claims.sgen, 'number');
      assert.equal(claims.auth_time, Math.floor(w.clock.t));
      assert.equal(claims.exp, (claims.iat as number) + 600);
      assert.match(pair.refreshToken, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      assert.equal(pair.expiresIn, 600);
      const [session] = await w.manager.listSessions(sub);
      assert.equal(session?.device, 'Firefox');
      assert.equal(session?.ip, '203.0.113.9');
      assert.equal(w.audit[0]?.type, 'login');
    });

    it('refresh rotates: a new pair, the old refresh token spent; reuse after the grace window revokes the session', async () => {
      const w = world({ refreshGrace: 5 });
      const first = await w.manager.login(subject());
      w.clock.t += 1;
      const second = await w.manager.refresh(first.refreshToken);
      assert.notEqual(second.refreshToken, first.refreshToken);
      assert.equal(second.sid, first.sid);
      assert.equal(w.codeOf(second.accessToken), null);
      w.clock.t += 6;
      await assert.rejects(w.manager.refresh(first.refreshToken), expectCode('ERR_REFRESH_REUSED'));
      // The whole session is gone: its access tokens and its current refresh token.
      assert.equal(w.codeOf(second.accessToken), 'ERR_TOKEN_REVOKED:session');
      await assert.rejects(
        w.manager.refresh(second.refreshToken),
        expectCode('ERR_SESSION_REVOKED'),
      );
      assert.ok(w.audit.some((event) => event.type === 'reuse-detected'));
    });

    it('a spent token within the grace window gets the same successor', async () => {
      const w = world({ refreshGrace: 5 });
      const first = await w.manager.login(subject());
      const a = await w.manager.refresh(first.refreshToken);
      w.clock.t += 2;
      const b = await w.manager.refresh(first.refreshToken);
      assert.equal(b.refreshToken, a.refreshToken);
      assert.equal(w.codeOf(b.accessToken), null);
      // The successor still works once, and rotation moves on.
      const c = await w.manager.refresh(a.refreshToken);
      assert.notEqual(c.refreshToken, a.refreshToken);
      // Two generations back, even inside the window, is reuse.
      await assert.rejects(w.manager.refresh(first.refreshToken), expectCode('ERR_REFRESH_REUSED'));
    });

    it('50 concurrent refreshes of one token give one successor and no theft detection', async () => {
      const w = world();
      const first = await w.manager.login(subject());
      const results = await Promise.all(
        Array.from({ length: 50 }, () => w.manager.refresh(first.refreshToken)),
      );
      const successors = new Set(results.map((pair) => pair.refreshToken));
      assert.equal(successors.size, 1);
      for (const pair of results) assert.equal(w.codeOf(pair.accessToken), null);
      assert.ok(!w.audit.some((event) => event.type === 'reuse-detected'));
      assert.equal(
        w.audit.filter((event) => event.type === 'refresh' && !event.replayed).length,
        1,
      );
      const next = await w.manager.refresh([...successors][0]!);
      assert.equal(w.codeOf(next.accessToken), null);
    });

    it('the idle timeout and the absolute lifetime end a session', async () => {
      const w = world({ idleTimeout: 100, absoluteLifetime: 250 });
      let pair = await w.manager.login(subject());
      w.clock.t += 90;
      pair = await w.manager.refresh(pair.refreshToken);
      w.clock.t += 90;
      pair = await w.manager.refresh(pair.refreshToken);
      w.clock.t += 101;
      await assert.rejects(w.manager.refresh(pair.refreshToken), expectCode('ERR_SESSION_EXPIRED'));

      let other = await w.manager.login(subject());
      for (let step = 0; step < 2; step++) {
        w.clock.t += 99;
        other = await w.manager.refresh(other.refreshToken);
      }
      w.clock.t += 60; // 258 s after login: past the absolute lifetime though never idle
      await assert.rejects(
        w.manager.refresh(other.refreshToken),
        expectCode('ERR_SESSION_EXPIRED'),
      );
    });

    it('requireRecentAuth checks auth_time against max_age', async () => {
      const w = world();
      const pair = await w.manager.login(subject(), { authTime: Math.floor(w.clock.t) - 100 });
      const claims = w.verify(pair.accessToken);
      w.manager.requireRecentAuth(claims, '5m');
      assert.throws(
        () => w.manager.requireRecentAuth(claims, 60),
        expectCode('ERR_REAUTH_REQUIRED'),
      );
      assert.throws(() => w.manager.requireRecentAuth({}, 60), expectCode('ERR_REAUTH_REQUIRED'));
      // A login after the token's issue would pass for recent for good.
      const t = Math.floor(w.clock.t);
      assert.throws(
        () => w.manager.requireRecentAuth({ auth_time: t + 30, iat: t }, '5m'),
        expectCode('ERR_REAUTH_REQUIRED'),
      );
      // Within the clock skew it is a login just made (a fraction, a clock a little ahead).
      w.manager.requireRecentAuth({ auth_time: t + 0.9, iat: t }, '5m');
      w.manager.requireRecentAuth({ auth_time: t + 4.5, iat: t }, '5m');
    });

    it('logout ends one session: its access and refresh tokens, not the others', async () => {
      const w = world();
      const sub = subject();
      const phone = await w.manager.login(sub, { device: 'phone' });
      const laptop = await w.manager.login(sub, { device: 'laptop' });
      assert.equal(await w.manager.logout(phone.sid), true);
      // A second logout writes nothing: the session's event is in the log once.
      const logged = async () => (await context.store.readEvents(0, 100_000)).length;
      const before = await logged();
      assert.equal(await w.manager.logout(phone.sid), false);
      assert.equal(await logged(), before);
      assert.equal(w.codeOf(phone.accessToken), 'ERR_TOKEN_REVOKED:session');
      await assert.rejects(
        w.manager.refresh(phone.refreshToken),
        expectCode('ERR_SESSION_REVOKED'),
      );
      assert.equal(w.codeOf(laptop.accessToken), null);
      assert.deepEqual(
        (await w.manager.listSessions(sub)).map((s) => s.device),
        ['laptop'],
      );
    });

    it('logoutOthers keeps the current session only', async () => {
      const w = world();
      const sub = subject();
      const a = await w.manager.login(sub);
      const b = await w.manager.login(sub);
      const c = await w.manager.login(sub);
      const ended = await w.manager.logoutOthers(b.sid);
      assert.deepEqual(ended.sort(), [a.sid, c.sid].sort());
      assert.equal(w.codeOf(b.accessToken), null);
      assert.equal(w.codeOf(a.accessToken), 'ERR_TOKEN_REVOKED:session');
      await w.manager.refresh(b.refreshToken);
    });

    it('logoutAll kills every old token; a login in the same second afterwards lives', async () => {
      const w = world();
      const sub = subject();
      const old = await w.manager.login(sub);
      const ended = await w.manager.logoutAll(sub);
      assert.deepEqual(ended, [old.sid]);
      const fresh = await w.manager.login(sub); // same clock second
      // Both the old session and the subject cut-off condemn it; the session rule is checked first.
      assert.match(String(w.codeOf(old.accessToken)), /^ERR_TOKEN_REVOKED:(session|subject)$/);
      assert.equal(w.codeOf(fresh.accessToken), null);
      await assert.rejects(w.manager.refresh(old.refreshToken), expectCode('ERR_SESSION_REVOKED'));
      const next = await w.manager.refresh(fresh.refreshToken);
      assert.equal(w.codeOf(next.accessToken), null);
    });

    it('revokeToken revokes one access token only', async () => {
      const w = world();
      const pair = await w.manager.login(subject());
      const claims = w.verify(pair.accessToken);
      await w.manager.revokeToken(pair.jti, claims.exp as number);
      assert.equal(w.codeOf(pair.accessToken), 'ERR_TOKEN_REVOKED:token');
      const next = await w.manager.refresh(pair.refreshToken);
      assert.equal(w.codeOf(next.accessToken), null);
    });

    it('ban ends everything and refuses login and refresh; unban allows a new login', async () => {
      const w = world();
      const sub = subject();
      const pair = await w.manager.login(sub);
      await w.manager.ban(sub);
      assert.match(String(w.codeOf(pair.accessToken)), /^ERR_TOKEN_REVOKED/);
      await assert.rejects(w.manager.refresh(pair.refreshToken), /./);
      await assert.rejects(w.manager.login(sub), expectCode('ERR_SUBJECT_BANNED'));
      await w.manager.unban(sub);
      const again = await w.manager.login(sub);
      assert.equal(w.codeOf(again.accessToken), null);
      await assert.rejects(w.manager.refresh(pair.refreshToken), expectCode('ERR_SESSION_REVOKED'));
    });

    it('passwordChanged ends every other session; the kept one refreshes into a valid token', async () => {
      const w = world();
      const sub = subject();
      const kept = await w.manager.login(sub);
      const other = await w.manager.login(sub);
      await w.manager.passwordChanged(sub, { keep: kept.sid });
      assert.equal(w.codeOf(kept.accessToken), 'ERR_TOKEN_REVOKED:subject');
      await assert.rejects(
        w.manager.refresh(other.refreshToken),
        expectCode('ERR_SESSION_REVOKED'),
      );
      const next = await w.manager.refresh(kept.refreshToken);
      assert.equal(w.codeOf(next.accessToken), null);
    });

    it('issueAccessToken gives the kept session a live token at once, and nothing to a dead one', async () => {
      const w = world();
      const sub = subject();
      const kept = await w.manager.login(sub, { claims: { role: 'player' } });
      const other = await w.manager.login(sub);
      await w.manager.passwordChanged(sub, { keep: kept.sid });
      const grant = await w.manager.issueAccessToken(kept.sid);
      assert.equal(grant.sid, kept.sid);
      assert.equal(w.codeOf(grant.accessToken), null);
      assert.equal(w.verify(grant.accessToken).role, 'player');
      // The refresh token is untouched: it still rotates.
      await w.manager.refresh(kept.refreshToken);
      await assert.rejects(
        w.manager.issueAccessToken(other.sid),
        expectCode('ERR_SESSION_REVOKED'),
      );
      await assert.rejects(
        w.manager.issueAccessToken('AAAAAAAAAAAAAAAAAAAAAA'),
        expectCode('ERR_SESSION_UNKNOWN'),
      );
      await assert.rejects(w.manager.issueAccessToken('nope'), expectCode('ERR_SESSION_UNKNOWN'));
    });

    it('claimsChanged kills old tokens; the session lives and the next refresh carries the new claims', async () => {
      const w = world();
      const sub = subject();
      const pair = await w.manager.login(sub, { claims: { role: 'player' } });
      await w.manager.claimsChanged(sub, { role: 'admin' });
      assert.equal(w.codeOf(pair.accessToken), 'ERR_TOKEN_REVOKED:subject');
      const next = await w.manager.refresh(pair.refreshToken);
      assert.equal(w.verify(next.accessToken).role, 'admin');
    });

    it('revokeEverything kills every token and every older session; new logins work after the skew', async () => {
      const w = world();
      const pair = await w.manager.login(subject());
      w.clock.t += 1;
      await w.manager.revokeEverything();
      assert.equal(w.codeOf(pair.accessToken), 'ERR_TOKEN_REVOKED:global');
      await assert.rejects(w.manager.refresh(pair.refreshToken), expectCode('ERR_SESSION_REVOKED'));
      w.clock.t += 6;
      const fresh = await w.manager.login(subject());
      assert.equal(w.codeOf(fresh.accessToken), null);
      await w.manager.refresh(fresh.refreshToken);
    });

    it('retireKey refuses every token the key signed', async () => {
      const w = world();
      const old = await w.manager.login(subject());
      const oldKid = w.ring.active.kid;
      w.ring.rotate();
      const fresh = await w.manager.login(subject());
      await w.manager.retireKey(oldKid);
      assert.match(String(w.codeOf(old.accessToken)), /^ERR_(TOKEN_REVOKED:key|JWT_KEY_RETIRED)$/);
      assert.equal(w.codeOf(fresh.accessToken), null);
      await assert.rejects(
        w.manager.retireKey('no-such-kid'),
        expectCode('ERR_KEYRING_KID_UNKNOWN'),
      );
    });

    it('a refresh that read the claims before a claimsChanged never carries them under the new generation', async () => {
      // The store is interposed so claimsChanged runs exactly between the refresh's read of the
      // session and its rotation: the interleaving that once gave a demoted admin a live admin token.
      const sub = subject();
      let between: (() => Promise<void>) | null = null;
      const store = interpose(context.store, {
        async getSession(read) {
          const session = await read();
          const run = between;
          between = null;
          if (run !== null) await run();
          return session;
        },
      });
      const w = world({ store });
      const pair = await w.manager.login(sub, { claims: { role: 'admin' } });
      between = () => w.manager.claimsChanged(sub, { role: 'player' });
      const next = await w.manager.refresh(pair.refreshToken);
      assert.equal(w.codeOf(next.accessToken), null);
      assert.equal(w.verify(next.accessToken).role, 'player');
      assert.equal(w.codeOf(pair.accessToken), 'ERR_TOKEN_REVOKED:subject');
    });

    it('revokeEverything ends the sessions in the store: a process that has not heard of it cannot refresh them', async () => {
      const clock = { t: START + Math.random() };
      const ring = KeyRing.generate('HS256');
      const a = world({ clock, ring });
      const b = world({ clock, ring }); // another process: its index never hears of the emergency
      const old = await b.manager.login(subject());
      clock.t += 1;
      await a.manager.revokeEverything();
      await assert.rejects(b.manager.refresh(old.refreshToken), expectCode('ERR_SESSION_REVOKED'));
      assert.equal(a.codeOf(old.accessToken), 'ERR_TOKEN_REVOKED:global');
      // A login in the same second afterwards, on either process, lives and refreshes: the store
      // ends sessions by what existed, not by clocks.
      const sub = subject();
      const fresh = await b.manager.login(sub);
      const next = await b.manager.refresh(fresh.refreshToken);
      assert.equal(b.codeOf(next.accessToken), null);
      assert.deepEqual(
        (await a.manager.listSessions(sub)).map((session) => session.sid),
        [fresh.sid],
      );
    });

    it('retiring the active key rotates first: logins and refreshes go on with a new key', async () => {
      const w = world();
      const sub = subject();
      const pair = await w.manager.login(sub);
      const oldKid = w.ring.active.kid;
      await w.manager.retireKey(oldKid);
      assert.notEqual(w.ring.active.kid, oldKid);
      assert.equal(w.ring.get(oldKid)?.state, 'retired');
      assert.notEqual(w.codeOf(pair.accessToken), null);
      const next = await w.manager.refresh(pair.refreshToken);
      assert.equal(w.codeOf(next.accessToken), null);
      const again = await w.manager.login(sub);
      assert.equal(w.codeOf(again.accessToken), null);
    });

    it('a refresh or login that cannot sign spends nothing and leaves nothing behind', async () => {
      const w = world();
      const sub = subject();
      const pair = await w.manager.login(sub);
      w.ring.retire(w.ring.active.kid); // the ring has no active key now
      await assert.rejects(
        w.manager.refresh(pair.refreshToken),
        expectCode('ERR_KEYRING_NO_ACTIVE_KEY'),
      );
      await assert.rejects(w.manager.login(sub), expectCode('ERR_KEYRING_NO_ACTIVE_KEY'));
      assert.deepEqual(
        (await w.manager.listSessions(sub)).map((session) => session.sid),
        [pair.sid],
      );
      w.ring.rotate('HS256');
      // The same refresh token still works: the failed attempt was not a use.
      const next = await w.manager.refresh(pair.refreshToken);
      assert.equal(w.codeOf(next.accessToken), null);
    });

    it('a login whose create is replayed by the driver succeeds once, with one session', async () => {
      const sub = subject();
      const store = interpose(context.store, {
        async createSession(create) {
          await create();
          return create(); // what a driver's replay after a reconnect looks like to the caller
        },
      });
      const w = world({ store });
      const pair = await w.manager.login(sub);
      assert.equal(w.codeOf(pair.accessToken), null);
      assert.deepEqual(
        (await w.manager.listSessions(sub)).map((session) => session.sid),
        [pair.sid],
      );
    });

    it('a login racing a logoutAll signs again under the new generation', async () => {
      const sub = subject();
      let between: (() => Promise<unknown>) | null = null;
      const store = interpose(context.store, {
        async getSubject(read) {
          const subjectState = await read();
          const run = between;
          between = null;
          if (run !== null) await run();
          return subjectState;
        },
      });
      const w = world({ store });
      between = () => w.manager.logoutAll(sub);
      const pair = await w.manager.login(sub);
      assert.equal(w.codeOf(pair.accessToken), null);
    });

    it('refresh records the ip and user agent it is given', async () => {
      const w = world();
      const sub = subject();
      const pair = await w.manager.login(sub, { ip: '192.0.2.1', userAgent: 'First' });
      await w.manager.refresh(pair.refreshToken, { ip: '198.51.100.2', userAgent: 'Second' });
      const [info] = await w.manager.listSessions(sub);
      assert.equal(info?.ip, '198.51.100.2');
      assert.equal(info?.userAgent, 'Second');
      await assert.rejects(
        w.manager.refresh(pair.refreshToken, { ip: 42 as unknown as string }),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
    });

    it('an index rebuilt from the log at any moment refuses what the running index refuses', async () => {
      // Token revocations are kept until the token's exp, and a verifier forgiving clock skew
      // accepts it a little past that: a process rebuilt in that window must still know it.
      const w = world();
      const pair = await w.manager.login(subject());
      const claims = w.verify(pair.accessToken);
      const exp = claims.exp as number;
      await w.manager.revokeToken(pair.jti, exp);
      await w.manager.logout(pair.sid);
      for (const offset of [-1, 0, 0.5, 2, 4.9]) {
        w.clock.t = exp + offset;
        const now = () => w.clock.t;
        const rebuilt = createRevocationIndex({ maxAccessTokenLifetime: '10m', clockSkew: 5, now });
        const { events } = await context.store.liveEvents(rebuilt.horizon());
        for (const stored of events) rebuilt.apply(stored.event);
        const lenient = createRevocableVerifier({
          keys: w.ring,
          index: rebuilt,
          issuer: ISSUER,
          audience: AUDIENCE,
          clockTolerance: 5,
        });
        assert.throws(
          () => lenient.verify(pair.accessToken),
          (error: unknown) => error instanceof TokenRevokedError,
          `offset ${offset}`,
        );
      }
    });

    it('refuses a persistent store without a shared refresh secret, saying why', () => {
      if (!context.store.persistent) return;
      const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
      assert.throws(
        () =>
          createSessionManager({
            store: context.store,
            keys: KeyRing.generate('HS256'),
            index,
            issuer: ISSUER,
            audience: AUDIENCE,
          }),
        (error: unknown) =>
          expectCode('ERR_INVALID_ARGUMENT')(error) && /refreshSecret/.test(String(error)),
      );
    });

    it('a refresh racing a logout, a ban or a logoutAll never leaves a usable session or token', async () => {
      for (const operation of ['logout', 'ban', 'logoutAll'] as const) {
        for (let round = 0; round < 10; round++) {
          const w = world();
          const sub = subject();
          const pair = await w.manager.login(sub);
          const end =
            operation === 'logout'
              ? w.manager.logout(pair.sid)
              : operation === 'ban'
                ? w.manager.ban(sub)
                : w.manager.logoutAll(sub);
          const [refreshed] = await Promise.allSettled([w.manager.refresh(pair.refreshToken), end]);
          if (refreshed.status === 'fulfilled') {
            assert.notEqual(
              w.codeOf(refreshed.value.accessToken),
              null,
              `${operation}: new access token lives`,
            );
            await assert.rejects(w.manager.refresh(refreshed.value.refreshToken), /./);
          }
          assert.equal(
            (await w.manager.listSessions(sub)).length,
            0,
            `${operation}: a session lives`,
          );
        }
      }
    });

    it('bad input is refused with a typed error and changes nothing', async () => {
      const w = world();
      const sub = subject();
      const pair = await w.manager.login(sub);
      const malformed: unknown[] = [
        '',
        'x',
        `${pair.sid}.short`,
        `${pair.refreshToken}x`,
        42,
        null,
        undefined,
        {},
        `${pair.refreshToken.slice(0, 22)}.${'A'.repeat(43)}`,
        `${'B'.repeat(22)}.${'A'.repeat(43)}`,
      ];
      for (const token of malformed) {
        await assert.rejects(w.manager.refresh(token as string), expectCode('ERR_REFRESH_INVALID'));
      }
      // Still the same live session: nothing above counted as reuse.
      const next = await w.manager.refresh(pair.refreshToken);
      assert.equal(w.codeOf(next.accessToken), null);
      await assert.rejects(w.manager.login(''), expectCode('ERR_INVALID_ARGUMENT'));
      await assert.rejects(
        w.manager.login(sub, { claims: { sub: 'admin' } }),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      await assert.rejects(
        w.manager.login(sub, { claims: [] as unknown as Record<string, unknown> }),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      await assert.rejects(w.manager.logout('A'.repeat(22)), expectCode('ERR_SESSION_UNKNOWN'));
      await assert.rejects(w.manager.logout('../etc'), expectCode('ERR_INVALID_ARGUMENT'));
      await assert.rejects(
        w.manager.logoutAll(7 as unknown as string),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      await assert.rejects(
        w.manager.passwordChanged(sub, null as unknown as { keep?: string }),
        expectCode('ERR_INVALID_ARGUMENT'),
      );
      await assert.rejects(w.manager.login('user\ud800'), expectCode('ERR_INVALID_ARGUMENT'));
      assert.equal((await w.manager.listSessions(sub)).length, 1);
    });
  });
}
