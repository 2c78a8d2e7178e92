import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import {
  createAccounts,
  createMemoryLoginThrottle,
  hashPassword,
  newUserId,
  type UserRecord,
  type UserStore,
} from '../../../src/server/users/index.js';
import { sqliteAccounts } from './accounts-support.js';
import { expectCode, sqliteFiles } from './support.js';

const files = sqliteFiles();
after(() => files.remove());

const IP = '192.0.2.1';
const FAILED = expectCode('ERR_LOGIN_FAILED');
// One password, typed on two keyboards: each accented letter as one code point, or as a letter
// and a combining accent.
const COMPOSED = 'caf\u00e9 cr\u00e8me br\u00fbl\u00e9e';
const DECOMPOSED = 'cafe\u0301 cre\u0300me bru\u0302le\u0301e';
// Neither form of it.
const WRONG = 'cafe\u0301 cre\u0300me';
const WRONG_NFKC = 'caf\u00e9 cr\u00e8me';

let env: ReturnType<typeof sqliteAccounts>;
beforeEach(() => {
  env = sqliteAccounts(files.fresh(), { accountLimit: 50, addressLimit: 50, window: 900 });
});
afterEach(() => env.close());

// The dummy hash is made in the background when the accounts are created; the calls that count
// are those of the test itself.
async function settled() {
  await new Promise((resolve) => setImmediate(resolve));
  env.calls.hash.length = 0;
  env.calls.verify.length = 0;
}

/** A user whose hash was made, before passwords were normalised, of the text as typed. */
async function legacyUser(users: UserStore, username: string, passwordHash: string) {
  const user: UserRecord = {
    id: newUserId(),
    username,
    passwordHash,
    roles: [],
    createdAt: 1_900_000_000,
    passwordChangedAt: 1_900_000_000,
  };
  assert.equal(await users.create(user), 'created');
  return user;
}

describe('accounts: passwords are normalised (NFKC)', () => {
  it('registered composed, signs in decomposed, and the other way round', async () => {
    assert.notEqual(COMPOSED, DECOMPOSED);
    const alice = await env.accounts.register('alice', COMPOSED);
    const bob = await env.accounts.register('bob', DECOMPOSED);
    assert.equal(alice.passwordHash, `fake:${COMPOSED}`);
    assert.equal(bob.passwordHash, `fake:${COMPOSED}`);
    await settled();
    assert.equal((await env.accounts.authenticate('alice', DECOMPOSED, IP)).id, alice.id);
    assert.equal((await env.accounts.authenticate('bob', COMPOSED, IP)).id, bob.id);
    // Each took one verify: the NFKC form matched first.
    assert.deepEqual(env.calls.verify, [
      { hash: alice.passwordHash, password: COMPOSED },
      { hash: bob.passwordHash, password: COMPOSED },
    ]);
  });

  it('takes a compatibility character as its NFKC form: full-width letters, a ligature', async () => {
    const carol = await env.accounts.register('carol', '\uff21\uff22\uff23 \ufb01sh and chips');
    assert.equal(carol.passwordHash, 'fake:ABC fish and chips');
    assert.ok(await env.accounts.authenticate('carol', 'ABC fish and chips', IP));
    await env.accounts.register('dave', 'ABC fish and chips');
    assert.ok(await env.accounts.authenticate('dave', '\uff21\uff22\uff23 \ufb01sh and chips', IP));
  });

  it('an ASCII password costs exactly one verify, right, wrong or for an unknown user', async () => {
    await env.accounts.register('alice', 'correct horse battery staple');
    for (const [username, password] of [
      ['alice', 'correct horse battery staple'],
      ['alice', 'wrong horse battery staple'],
      ['nobody', 'correct horse battery staple'],
    ]) {
      await settled();
      await env.accounts.authenticate(username, password, IP).catch(FAILED);
      assert.equal(env.calls.verify.length, 1, `${username} ${password}`);
      assert.equal(env.calls.verify[0]!.password, password);
    }
  });

  it('a wrong password fails, in any form, after the same verifies known or unknown', async () => {
    await env.accounts.register('alice', COMPOSED);
    for (const username of ['alice', 'nobody']) {
      await settled();
      await assert.rejects(env.accounts.authenticate(username, WRONG, IP), FAILED);
      assert.deepEqual(
        env.calls.verify.map((call) => call.password),
        [WRONG_NFKC, WRONG],
      );
      await settled();
      await assert.rejects(env.accounts.authenticate(username, WRONG_NFKC, IP), FAILED);
      assert.equal(env.calls.verify.length, 1);
    }
  });

  it('a hash of the text as typed, made before normalisation, still signs in with that text', async () => {
    const legacy = await legacyUser(env.users, 'erin', `fake:${DECOMPOSED}`);
    await settled();
    assert.equal((await env.accounts.authenticate('erin', DECOMPOSED, IP)).id, legacy.id);
    assert.deepEqual(env.calls.verify, [
      { hash: legacy.passwordHash, password: COMPOSED },
      { hash: legacy.passwordHash, password: DECOMPOSED },
    ]);
    // Not rewritten at login: the next password change replaces it.
    assert.equal((await env.accounts.get(legacy.id))?.passwordHash, legacy.passwordHash);
    await assert.rejects(env.accounts.authenticate('erin', WRONG, IP), FAILED);
    const changed = await env.accounts.changePassword(legacy.id, DECOMPOSED, DECOMPOSED, IP);
    assert.equal(changed.passwordHash, `fake:${COMPOSED}`);
    assert.ok(await env.accounts.authenticate('erin', COMPOSED, IP));
  });

  it('a password with a lone surrogate is no password at login: one verify of nothing', async () => {
    const alice = await env.accounts.register('alice', 'pass\ufffdword');
    await settled();
    await assert.rejects(env.accounts.authenticate('alice', 'pass\ud800word', IP), FAILED);
    assert.deepEqual(env.calls.verify, [{ hash: alice.passwordHash, password: '' }]);
  });

  it('a password typed longer than 512 units, whose NFKC form fits, signs in', async () => {
    const typed = '\u03b1\u0313\u0300\u0345'.repeat(200);
    await env.accounts.register('greek', typed.normalize('NFC'));
    assert.ok(await env.accounts.authenticate('greek', typed, IP));
  });

  it('changePassword, setPassword and ensureAdmin agree with register and login', async () => {
    const alice = await env.accounts.register('alice', 'first password 1');
    const changed = await env.accounts.changePassword(alice.id, 'first password 1', DECOMPOSED);
    assert.equal(changed.passwordHash, `fake:${COMPOSED}`);
    const reset = await env.accounts.setPassword(alice.id, '\uff21\ufb01 second password');
    assert.equal(reset.passwordHash, 'fake:Afi second password');
    assert.ok(await env.accounts.changePassword(alice.id, 'Afi second password', COMPOSED));
    env.clock.t += 10;
    // The environment's password, in the other form, is the one the account has: nothing to set.
    const { user } = await env.accounts.ensureAdmin('alice', DECOMPOSED);
    assert.equal(user.passwordHash, `fake:${COMPOSED}`);
    assert.equal(user.passwordChangedAt, env.clock.t - 10);
  });
});

describe('accounts: normalised passwords with argon2id', () => {
  it('signs in with either form, and with the typed text of an older hash', async () => {
    const accounts = createAccounts({ users: env.users, throttle: createMemoryLoginThrottle() });
    await accounts.register('alice', DECOMPOSED);
    assert.ok(await accounts.authenticate('alice', COMPOSED, IP));
    assert.ok(await accounts.authenticate('alice', DECOMPOSED, IP));
    await legacyUser(env.users, 'erin', await hashPassword(DECOMPOSED));
    assert.ok(await accounts.authenticate('erin', DECOMPOSED, IP));
    await assert.rejects(accounts.authenticate('erin', WRONG, IP), FAILED);
  });
});
