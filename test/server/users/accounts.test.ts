import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { isRevocableError } from '../../../src/errors/index.js';
import {
  type AccountsOptions,
  createAccounts,
  createMemoryLoginThrottle,
  LoginThrottledError,
} from '../../../src/server/users/index.js';
import { sqliteAccounts } from './accounts-support.js';
import { expectCode, sqliteFiles } from './support.js';

const files = sqliteFiles();
after(() => files.remove());

const PASSWORD = 'correct horse battery staple';
const IP = '192.0.2.1';
const FAILED = (error: unknown) => {
  expectCode('ERR_LOGIN_FAILED')(error);
  assert.equal((error as Error).message, 'The username or password is wrong.');
  return true;
};

let env: ReturnType<typeof sqliteAccounts>;
beforeEach(() => {
  env = sqliteAccounts(files.fresh(), { accountLimit: 5, addressLimit: 50, window: 900 });
});
afterEach(() => env.close());

// The dummy hash is made in the background when the accounts are created; the calls that count
// are those of the test itself.
async function settled() {
  await new Promise((resolve) => setImmediate(resolve));
  env.calls.hash.length = 0;
  env.calls.verify.length = 0;
  env.throttleCalls.length = 0;
}

describe('accounts: register', () => {
  it('creates a user with a random id, the name as given, the roles and the clock', async () => {
    const user = await env.accounts.register('Alice', PASSWORD, ['support']);
    assert.match(user.id, /^u_[A-Za-z0-9_-]{22}$/);
    assert.equal(user.username, 'Alice');
    assert.equal(user.passwordHash, `fake:${PASSWORD}`);
    assert.deepEqual(user.roles, ['support']);
    assert.equal(user.createdAt, env.clock.t);
    assert.equal(user.passwordChangedAt, env.clock.t);
    assert.deepEqual(await env.accounts.get(user.id), user);
    assert.deepEqual(await env.accounts.findByUsername('ALICE'), user);
    assert.deepEqual((await env.accounts.register('bob', PASSWORD)).roles, []);
  });

  it('refuses bad input with its own code, and a name taken in any case', async () => {
    await assert.rejects(
      env.accounts.register('al ice', PASSWORD),
      expectCode('ERR_USERNAME_INVALID'),
    );
    await assert.rejects(env.accounts.register(42, PASSWORD), expectCode('ERR_USERNAME_INVALID'));
    await assert.rejects(
      env.accounts.register('alice', 'short'),
      expectCode('ERR_PASSWORD_POLICY'),
    );
    await assert.rejects(env.accounts.register('alice', null), expectCode('ERR_PASSWORD_POLICY'));
    await assert.rejects(
      env.accounts.register('alice', PASSWORD, ['Admin']),
      expectCode('ERR_INVALID_ARGUMENT'),
    );
    await env.accounts.register('alice', PASSWORD);
    await assert.rejects(
      env.accounts.register('ALICE', PASSWORD),
      expectCode('ERR_USERNAME_TAKEN'),
    );
    assert.equal(await env.users.count(), 1);
  });

  it('exposes the registration switch, off by default', () => {
    assert.equal(env.accounts.registration, false);
    const open = createAccounts({
      users: env.users,
      throttle: createMemoryLoginThrottle(),
      registration: true,
    });
    assert.equal(open.registration, true);
  });

  it('refuses options that cannot work', () => {
    const invalid = expectCode('ERR_INVALID_ARGUMENT');
    const throttle = createMemoryLoginThrottle();
    const bad: unknown[] = [
      null,
      { users: {}, throttle },
      { users: env.users, throttle: null },
      { users: env.users, throttle, now: 5 },
      { users: env.users, throttle, registration: 'yes' },
      { users: env.users, throttle, passwords: { hash: () => '' } },
    ];
    for (const options of bad)
      assert.throws(() => createAccounts(options as AccountsOptions), invalid);
  });
});

describe('accounts: authenticate', () => {
  it('returns the user for the right password, in any case of the name, and clears the account', async () => {
    const alice = await env.accounts.register('Alice', PASSWORD);
    await settled();
    assert.deepEqual(await env.accounts.authenticate('alice', PASSWORD, IP), alice);
    assert.deepEqual(env.calls.verify, [{ hash: alice.passwordHash, password: PASSWORD }]);
    assert.deepEqual(env.throttleCalls, [`blockedFor alice ${IP}`, 'succeeded alice']);
  });

  it('a wrong password and an unknown user get the same answer after exactly one verify', async () => {
    const alice = await env.accounts.register('alice', PASSWORD);
    await settled();
    await assert.rejects(env.accounts.authenticate('alice', 'wrong password', IP), FAILED);
    assert.deepEqual(env.calls.verify, [{ hash: alice.passwordHash, password: 'wrong password' }]);
    await settled();
    await assert.rejects(env.accounts.authenticate('nobody', PASSWORD, IP), FAILED);
    assert.equal(env.calls.verify.length, 1);
    assert.match(env.calls.verify[0]!.hash, /^fake:/);
    assert.notEqual(env.calls.verify[0]!.hash, alice.passwordHash);
    assert.equal(env.calls.verify[0]!.password, PASSWORD);
    assert.deepEqual(env.throttleCalls, [`blockedFor nobody ${IP}`, `failed nobody ${IP}`]);
  });

  it('input of the wrong type or shape is a failed login after one verify, never another error', async () => {
    await env.accounts.register('alice', PASSWORD);
    const inputs: [unknown, unknown][] = [
      [42, PASSWORD],
      [{ username: 'alice' }, PASSWORD],
      [null, PASSWORD],
      [undefined, undefined],
      ['alice', 12345678],
      ['alice', { toString: () => PASSWORD }],
      ['alice', [PASSWORD]],
      ['al ice', PASSWORD],
      ['x'.repeat(100_000), PASSWORD],
      ['alice', 'x'.repeat(1_000_000)],
      ['alice\u0000', PASSWORD],
    ];
    for (const [username, password] of inputs) {
      await settled();
      await assert.rejects(env.accounts.authenticate(username, password, IP), FAILED);
      assert.equal(env.calls.verify.length, 1, String(username).slice(0, 20));
      const verified = env.calls.verify[0]!.password;
      assert.ok(typeof verified === 'string' && verified.length <= 512);
    }
  });

  it('past the account limit: LoginThrottledError with retryAfter, and no verify at all', async () => {
    await env.accounts.register('alice', PASSWORD);
    for (let i = 0; i < 5; i++) {
      await assert.rejects(
        env.accounts.authenticate('alice', 'wrong password', `192.0.2.${i}`),
        FAILED,
      );
    }
    await settled();
    env.clock.t += 100;
    await assert.rejects(
      env.accounts.authenticate('ALICE', PASSWORD, '198.51.100.1'),
      (error: unknown) => {
        assert.ok(error instanceof LoginThrottledError);
        assert.ok(isRevocableError(error, 'ERR_LOGIN_THROTTLED'));
        assert.equal(error.retryAfter, 800);
        assert.equal(error.name, 'LoginThrottledError');
        return true;
      },
    );
    assert.equal(env.calls.verify.length, 0);
    env.clock.t += 800;
    assert.equal((await env.accounts.authenticate('alice', PASSWORD, IP)).username, 'alice');
  });

  it('a failure counts against the address too, for unknown users as well', async () => {
    const many = sqliteAccounts(files.fresh(), { accountLimit: 100, addressLimit: 3 });
    try {
      await many.accounts.register('alice', PASSWORD);
      for (const name of ['nobody', 'alice', 'x y']) {
        await assert.rejects(many.accounts.authenticate(name, 'wrong password', IP), FAILED);
      }
      await assert.rejects(
        many.accounts.authenticate('alice', PASSWORD, IP),
        expectCode('ERR_LOGIN_THROTTLED'),
      );
      assert.ok(await many.accounts.authenticate('alice', PASSWORD, '192.0.2.2'));
    } finally {
      many.close();
    }
  });

  it('a burst of parallel guesses on many accounts from one address: at most three verifies past its limit', async () => {
    const many = sqliteAccounts(files.fresh(), { accountLimit: 100, addressLimit: 5 });
    try {
      await settled();
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) =>
          many.accounts.authenticate(`burst${i}`, 'a guess of a password', IP),
        ),
      );
      const codes = results.map((result) =>
        result.status === 'rejected' && isRevocableError(result.reason) ? result.reason.code : 'ok',
      );
      const failed = codes.filter((code) => code === 'ERR_LOGIN_FAILED').length;
      // Four in flight at most: the fifth failure may be counted while three more are verifying.
      assert.ok(failed >= 5 && failed <= 8, `${failed} verifies`);
      assert.equal(codes.filter((code) => code === 'ERR_LOGIN_THROTTLED').length, 40 - failed);
      // Another address is not held up by it.
      await assert.rejects(many.accounts.authenticate('burst0', 'x', '192.0.2.99'), FAILED);
    } finally {
      many.close();
    }
  });

  it('a burst of parallel guesses gets no more verifies than the account limit', async () => {
    await env.accounts.register('alice', PASSWORD);
    await settled();
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        env.accounts.authenticate(i % 2 ? 'alice' : 'ALICE', `guess ${i}`, `192.0.2.${i}`),
      ),
    );
    const codes = results.map((result) =>
      result.status === 'rejected' && isRevocableError(result.reason) ? result.reason.code : 'ok',
    );
    assert.equal(codes.filter((code) => code === 'ERR_LOGIN_FAILED').length, 5);
    assert.equal(codes.filter((code) => code === 'ERR_LOGIN_THROTTLED').length, 25);
    assert.equal(env.calls.verify.length, 5);
  });
});

describe('accounts: passwords and roles', () => {
  it('changePassword checks the current password, then the policy, then stores the new one', async () => {
    const alice = await env.accounts.register('alice', PASSWORD);
    env.clock.t += 60;
    await assert.rejects(
      env.accounts.changePassword(alice.id, 'wrong password', 'new password 1'),
      FAILED,
    );
    await assert.rejects(env.accounts.changePassword(alice.id, 42, 'new password 1'), FAILED);
    await assert.rejects(
      env.accounts.changePassword(alice.id, PASSWORD, 'short'),
      expectCode('ERR_PASSWORD_POLICY'),
    );
    await assert.rejects(
      env.accounts.changePassword('u_nobody', PASSWORD, 'new password 1'),
      expectCode('ERR_USER_UNKNOWN'),
    );
    const changed = await env.accounts.changePassword(alice.id, PASSWORD, 'new password 1', IP);
    assert.equal(changed.passwordChangedAt, env.clock.t);
    assert.equal(changed.createdAt, alice.createdAt);
    assert.deepEqual(await env.accounts.get(alice.id), changed);
    await assert.rejects(env.accounts.authenticate('alice', PASSWORD, IP), FAILED);
    assert.ok(await env.accounts.authenticate('alice', 'new password 1', IP));
  });

  it('changePassword runs beforeStore once both checks pass, and keeps the password when it fails', async () => {
    const alice = await env.accounts.register('alice', PASSWORD);
    let calls = 0;
    const count = async () => {
      calls++;
    };
    await assert.rejects(
      env.accounts.changePassword(alice.id, 'wrong password', 'new password 1', IP, count),
      FAILED,
    );
    await assert.rejects(
      env.accounts.changePassword(alice.id, PASSWORD, 'short', IP, count),
      expectCode('ERR_PASSWORD_POLICY'),
    );
    assert.equal(calls, 0);
    await assert.rejects(
      env.accounts.changePassword(alice.id, PASSWORD, 'new password 1', IP, async () => {
        throw new Error('the sessions could not be ended');
      }),
      /could not be ended/,
    );
    assert.ok(await env.accounts.authenticate('alice', PASSWORD, IP));
    await env.accounts.changePassword(alice.id, PASSWORD, 'new password 1', IP, count);
    assert.equal(calls, 1);
    assert.ok(await env.accounts.authenticate('alice', 'new password 1', IP));
  });

  it('changePassword is throttled by the account like a login', async () => {
    const alice = await env.accounts.register('alice', PASSWORD);
    for (let i = 0; i < 5; i++) {
      await assert.rejects(
        env.accounts.changePassword(alice.id, `guess ${i}`, 'new password 1'),
        FAILED,
      );
    }
    await settled();
    await assert.rejects(
      env.accounts.changePassword(alice.id, PASSWORD, 'new password 1'),
      expectCode('ERR_LOGIN_THROTTLED'),
    );
    await assert.rejects(
      env.accounts.authenticate('alice', PASSWORD, IP),
      expectCode('ERR_LOGIN_THROTTLED'),
    );
    assert.equal(env.calls.verify.length, 0);
  });

  it('setPassword needs no current password, applies the policy, and lifts a lockout', async () => {
    const alice = await env.accounts.register('alice', PASSWORD);
    for (let i = 0; i < 5; i++) {
      await assert.rejects(env.accounts.authenticate('alice', 'wrong password', IP), FAILED);
    }
    await assert.rejects(
      env.accounts.setPassword(alice.id, 'short'),
      expectCode('ERR_PASSWORD_POLICY'),
    );
    await assert.rejects(
      env.accounts.setPassword('u_nobody', 'new password 1'),
      expectCode('ERR_USER_UNKNOWN'),
    );
    env.clock.t += 5;
    const reset = await env.accounts.setPassword(alice.id, 'new password 1');
    assert.equal(reset.passwordChangedAt, env.clock.t);
    assert.ok(await env.accounts.authenticate('alice', 'new password 1', '192.0.2.99'));
  });

  it('setRoles checks the roles and the user, and replaces them', async () => {
    const alice = await env.accounts.register('alice', PASSWORD, ['a']);
    await assert.rejects(
      env.accounts.setRoles(alice.id, ['A']),
      expectCode('ERR_INVALID_ARGUMENT'),
    );
    await assert.rejects(
      env.accounts.setRoles(alice.id, 'admin'),
      expectCode('ERR_INVALID_ARGUMENT'),
    );
    await assert.rejects(
      env.accounts.setRoles('u_nobody', ['admin']),
      expectCode('ERR_USER_UNKNOWN'),
    );
    const updated = await env.accounts.setRoles(alice.id, ['admin', 'support']);
    assert.deepEqual(updated.roles, ['admin', 'support']);
    assert.deepEqual(await env.accounts.get(alice.id), updated);
  });

  it('get and findByUsername answer null for unknown or malformed input', async () => {
    assert.equal(await env.accounts.get('u_nobody'), null);
    assert.equal(await env.accounts.findByUsername('nobody'), null);
    assert.equal(await env.accounts.findByUsername('no body'), null);
    assert.equal(await env.accounts.findByUsername(42), null);
  });
});

describe('accounts: ensureAdmin', () => {
  it('creates the administrator once, then finds it unchanged', async () => {
    const first = await env.accounts.ensureAdmin('root', PASSWORD);
    assert.equal(first.created, true);
    assert.deepEqual(first.user.roles, ['admin']);
    const again = await env.accounts.ensureAdmin('ROOT', PASSWORD);
    assert.deepEqual(again, { user: first.user, created: false });
  });

  it('adds the admin role, keeps the others, and sets the password the environment gives', async () => {
    const alice = await env.accounts.register('alice', PASSWORD, ['support']);
    env.clock.t += 10;
    const { user, created } = await env.accounts.ensureAdmin('alice', 'the new password');
    assert.equal(created, false);
    assert.equal(user.id, alice.id);
    assert.deepEqual(user.roles, ['support', 'admin']);
    assert.equal(user.passwordChangedAt, env.clock.t);
    assert.deepEqual(await env.accounts.get(alice.id), user);
    assert.ok(await env.accounts.authenticate('alice', 'the new password', IP));
  });

  it('refuses bad credentials from the environment with their own codes', async () => {
    await assert.rejects(
      env.accounts.ensureAdmin('', PASSWORD),
      expectCode('ERR_USERNAME_INVALID'),
    );
    await assert.rejects(
      env.accounts.ensureAdmin('root', 'short'),
      expectCode('ERR_PASSWORD_POLICY'),
    );
  });

  it('of several runs at once exactly one creates, and all agree', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () => env.accounts.ensureAdmin('root', PASSWORD)),
    );
    assert.equal(results.filter((result) => result.created).length, 1);
    assert.equal(new Set(results.map((result) => result.user.id)).size, 1);
    assert.equal(await env.users.count(), 1);
  });
});
