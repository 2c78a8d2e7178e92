import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newUserId, type UserRecord, type UserStore } from '../../../src/server/users/index.js';
import { expectCode } from './support.js';

/** Two stores over the same data (two connections, pools or processes' worth) and its removal. */
export interface UserStoreSetup {
  stores: readonly [UserStore, UserStore];
  teardown(): Promise<void>;
}

const T0 = 1_900_000_000.125;
const INVALID = expectCode('ERR_INVALID_ARGUMENT');
let serial = 0;

/** A record with a fresh id and a name of its own unless given. */
export function makeUser(overrides: Partial<UserRecord> = {}): UserRecord {
  serial += 1;
  return {
    id: newUserId(),
    username: `user${serial}_${Math.random().toString(36).slice(2, 8)}`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
    roles: [],
    createdAt: T0,
    passwordChangedAt: T0,
    ...overrides,
  };
}

/**
 * The contract every user store passes against its real backend. `setup` returns null when the
 * backend is missing (outside CI), and the suite is skipped.
 */
export function describeUserStoreContract(
  name: string,
  setup: () => Promise<UserStoreSetup | null>,
): void {
  describe(`user store contract: ${name}`, () => {
    let context: UserStoreSetup | null = null;
    let store: UserStore;
    let other: UserStore;
    before(async () => {
      context = await setup();
      if (context !== null) [store, other] = context.stores;
    });
    after(async () => {
      await context?.teardown();
    });
    const test = (title: string, body: () => Promise<void>) =>
      it(title, async (t) => {
        if (context === null) {
          t.skip('backend missing');
          return;
        }
        await body();
      });

    test('keeps every field of a record exactly, and finds it by id and by name', async () => {
      const user = makeUser({
        username: 'Alice.Example@host-1_x',
        roles: ['admin', 'support'],
        createdAt: 1_900_000_000.123456,
        passwordChangedAt: 1_900_000_001.5,
      });
      assert.equal(await store.create(user), 'created');
      assert.deepEqual(await store.byId(user.id), user);
      assert.deepEqual(await other.byUsername(user.username), user);
    });

    test('compares usernames without regard to case, and keeps the case given', async () => {
      const user = makeUser({ username: `Alice${serial}` });
      assert.equal(await store.create(user), 'created');
      for (const spelled of [user.username.toLowerCase(), user.username.toUpperCase()]) {
        assert.equal((await store.byUsername(spelled))?.username, user.username);
      }
      const clash = makeUser({ username: user.username.toLowerCase() });
      assert.equal(await other.create(clash), 'taken');
      assert.equal(await store.byId(clash.id), null);
      assert.equal((await store.byUsername(clash.username))?.id, user.id);
    });

    test('of concurrent creates of one name, in any case, exactly one is created', async () => {
      const base = `Race${serial}_${Date.now()}`;
      const spellings = [base, base.toLowerCase(), base.toUpperCase()];
      const attempts = Array.from({ length: 12 }, (_, i) =>
        makeUser({ username: spellings[i % spellings.length]! }),
      );
      const outcomes = await Promise.all(
        attempts.map((user, i) => (i % 2 === 0 ? store : other).create(user)),
      );
      assert.equal(outcomes.filter((outcome) => outcome === 'created').length, 1);
      assert.equal(outcomes.filter((outcome) => outcome === 'taken').length, 11);
      const winner = attempts[outcomes.indexOf('created')]!;
      assert.deepEqual(await other.byUsername(base), winner);
    });

    test('unknown ids and names: null and false, nothing written', async () => {
      const ghost = newUserId();
      const before = await store.count();
      assert.equal(await store.byId(ghost), null);
      assert.equal(await store.byUsername('nobody-at-all-here'), null);
      assert.equal(await store.setPassword(ghost, 'x$hash', T0), false);
      assert.equal(await store.setRoles(ghost, ['admin']), false);
      assert.equal(await store.count(), before);
    });

    test('setPassword and setRoles replace only what they name', async () => {
      const user = makeUser({ roles: ['a', 'b'] });
      await store.create(user);
      assert.equal(await other.setPassword(user.id, '$argon2id$new', T0 + 60.25), true);
      assert.deepEqual(await store.byId(user.id), {
        ...user,
        passwordHash: '$argon2id$new',
        passwordChangedAt: T0 + 60.25,
      });
      assert.equal(await other.setRoles(user.id, ['b', 'c', 'a']), true);
      assert.deepEqual((await store.byId(user.id))?.roles, ['b', 'c', 'a']);
      assert.equal(await other.setRoles(user.id, []), true);
      assert.deepEqual((await store.byUsername(user.username))?.roles, []);
      assert.equal((await store.byId(user.id))?.createdAt, user.createdAt);
    });

    test('keeps odd Unicode exactly, and tells apart what only looks alike', async () => {
      const names = [
        'Ünïcödé', // precomposed
        'U\u0308nïcödé', // the same letter decomposed: another name
        '👩🏽‍💻 dev', // emoji with a skin tone and a zero-width joiner
        'שלום', // right to left
        'zero\u200bwidth', // zero-width space
        '\ufeffbom', // a byte order mark
        'İstanbul', // lower-cases to two code points
        'Straße',
        'STRASSE', // not the same as Straße: lower-casing is not full case folding
        '\u{10ffff}last plane',
      ];
      const users = names.map((username) =>
        makeUser({ username, roles: ['ü', '👍', 'role with spaces'] }),
      );
      for (const user of users) assert.equal(await store.create(user), 'created', user.username);
      for (const user of users) {
        assert.deepEqual(await other.byUsername(user.username), user);
        assert.deepEqual(await other.byId(user.id), user);
      }
      assert.equal((await store.byUsername('ünïcödé'))?.id, users[0]!.id);
      assert.equal((await store.byUsername('i̇stanbul'))?.id, users[6]!.id);
    });

    test('counts users', async () => {
      const before = await store.count();
      await store.create(makeUser());
      await other.create(makeUser());
      assert.equal(await other.count(), before + 2);
    });

    test('refuses malformed input with ERR_INVALID_ARGUMENT and writes nothing', async () => {
      const before = await store.count();
      const bad: unknown[] = [
        null,
        'user',
        { ...makeUser(), id: '' },
        { ...makeUser(), id: 42 },
        { ...makeUser(), username: '' },
        { ...makeUser(), username: 'lone\ud800surrogate' },
        { ...makeUser(), username: 'nul\u0000byte' },
        { ...makeUser(), username: 'x'.repeat(257) },
        { ...makeUser(), passwordHash: '' },
        { ...makeUser(), roles: 'admin' },
        { ...makeUser(), roles: [42] },
        { ...makeUser(), roles: [''] },
        { ...makeUser(), createdAt: Number.NaN },
        { ...makeUser(), passwordChangedAt: -1 },
      ];
      for (const user of bad) await assert.rejects(store.create(user as UserRecord), INVALID);
      await assert.rejects(store.byUsername(42 as unknown as string), INVALID);
      await assert.rejects(store.byUsername(''), INVALID);
      await assert.rejects(store.byId(undefined as unknown as string), INVALID);
      await assert.rejects(store.setPassword(newUserId(), '', T0), INVALID);
      await assert.rejects(store.setPassword(newUserId(), 'h', Number.POSITIVE_INFINITY), INVALID);
      await assert.rejects(store.setRoles(newUserId(), ['a\u0000']), INVALID);
      assert.equal(await store.count(), before);
    });

    test('refuses a second user with an id already taken', async () => {
      const user = makeUser();
      await store.create(user);
      await assert.rejects(other.create({ ...makeUser(), id: user.id }), INVALID);
      assert.deepEqual(await store.byId(user.id), user);
    });

    test('a record read is a copy the caller cannot change under the store', async () => {
      const roles = ['a'];
      const user = makeUser({ roles });
      await store.create(user);
      roles.push('admin');
      const read = await store.byId(user.id);
      assert.ok(read !== null);
      assert.deepEqual(read.roles, ['a']);
      assert.throws(() => (read.roles as string[]).push('admin'));
      assert.deepEqual((await store.byId(user.id))?.roles, ['a']);
    });
  });
}
