import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { isRevocableError } from '../../src/errors/index.js';
import { decodeUnverified } from '../../src/jwt/decode.js';
import { KeyRing } from '../../src/jwt/key-ring.js';
import { createRevocationIndex } from '../../src/revocation/revocation-index.js';
import { startLoginSession } from '../../src/server/http/login-session.js';
import type { UserRecord } from '../../src/server/users/index.js';
import { createSessionManager, type SessionManager } from '../../src/sessions/session-manager.js';
import { createMemoryStore } from '../../src/stores/memory-store.js';
import { sqliteAccounts } from './users/accounts-support.js';
import { sqliteFiles } from './users/support.js';

const files = sqliteFiles();
after(() => files.remove());

const PASSWORD = 'correct horse battery staple';
const IP = '192.0.2.1';

let env: ReturnType<typeof sqliteAccounts>;
let sessions: SessionManager;
let store: ReturnType<typeof createMemoryStore>;

beforeEach(() => {
  env = sqliteAccounts(files.fresh());
  store = createMemoryStore();
  sessions = createSessionManager({
    store,
    keys: KeyRing.generate('EdDSA'),
    index: createRevocationIndex({ maxAccessTokenLifetime: '10m' }),
    issuer: 'https://auth.test',
    audience: 'api',
    refreshSecret: 'a refresh secret of the test, long enough to be one',
  });
});
afterEach(() => env.close());

const input = (user: UserRecord) => ({
  claims: { roles: [...user.roles], preferred_username: user.username },
});

function rolesOf(accessToken: string): unknown {
  return decodeUnverified(accessToken).claims.roles;
}

describe('the session of a login (startLoginSession)', () => {
  it('starts one session with the roles the account has', async () => {
    await env.accounts.register('alice', PASSWORD, ['editor']);
    const verified = await env.accounts.authenticate('alice', PASSWORD, IP);
    const pair = await startLoginSession(env.accounts, sessions, verified, input);
    assert.deepEqual(rolesOf(pair.accessToken), ['editor']);
    assert.equal((await sessions.listSessions(verified.id)).length, 1);
  });

  it('a role change between the password check and the session: the session gets the new roles', async () => {
    await env.accounts.register('bob', PASSWORD, ['admin']);
    const verified = await env.accounts.authenticate('bob', PASSWORD, IP);
    // What the role route does, while this login's password check was under way.
    await env.accounts.setRoles(verified.id, ['viewer']);
    await sessions.logoutAll(verified.id);
    const pair = await startLoginSession(env.accounts, sessions, verified, input);
    assert.deepEqual(rolesOf(pair.accessToken), ['viewer']);
    // The session started with the old roles is ended; only the new one lives.
    const live = await sessions.listSessions(verified.id);
    assert.deepEqual(
      live.map((session) => session.sid),
      [pair.sid],
    );
    const refreshed = await sessions.refresh(pair.refreshToken);
    assert.deepEqual(rolesOf(refreshed.accessToken), ['viewer']);
  });

  it('a password change meanwhile: no session lives, and the login fails', async () => {
    await env.accounts.register('carol', PASSWORD, []);
    const verified = await env.accounts.authenticate('carol', PASSWORD, IP);
    await env.accounts.setPassword(verified.id, 'another long enough password');
    await sessions.logoutAll(verified.id);
    await assert.rejects(startLoginSession(env.accounts, sessions, verified, input), (error) =>
      isRevocableError(error, 'ERR_LOGIN_FAILED'),
    );
    assert.deepEqual(await sessions.listSessions(verified.id), []);
  });

  it('an account that keeps changing: gives up after three sessions, none of them alive', async () => {
    await env.accounts.register('dave', PASSWORD, ['a0']);
    const verified = await env.accounts.authenticate('dave', PASSWORD, IP);
    let turn = 0;
    // Each read of the account finds other roles than the session was started with.
    const changing = {
      async get(id: string) {
        turn++;
        return env.accounts.setRoles(id, [`a${turn}`]);
      },
    };
    await assert.rejects(startLoginSession(changing, sessions, verified, input), (error) =>
      isRevocableError(error, 'ERR_LOGIN_FAILED'),
    );
    assert.equal(turn, 3);
    assert.deepEqual(await sessions.listSessions(verified.id), []);
  });
});
