import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoginThrottle, LoginThrottleOptions } from '../../../src/server/users/index.js';
import { expectCode } from './support.js';

/**
 * One namespace (memory, Redis prefix, PostgreSQL table prefix) and how to make throttles in it.
 * Every throttle `create` makes shares the namespace's counts when `shared` is true.
 */
export interface ThrottleHarness {
  create(options?: LoginThrottleOptions): LoginThrottle;
  /** Lets `seconds` pass: the injected clock, or real time. */
  elapse(seconds: number): Promise<void>;
  /** Whether the clock is injected, so waits are exact. */
  exact: boolean;
  /** The window the expiry test uses (short for real time). */
  shortWindow: number;
  /** Whether two throttles of one namespace share counts (a cluster). */
  shared: boolean;
  teardown(): Promise<void>;
}

/** Runs `body` with a fresh harness (or skips: setup resolved null). */
type Setup = () => Promise<ThrottleHarness | null>;

async function failTimes(throttle: LoginThrottle, n: number, account: string, address?: string) {
  for (let i = 0; i < n; i++) await throttle.failed(account, address);
}

/** The contract of every login throttle. */
export function describeThrottleContract(name: string, setup: Setup): void {
  const test = (title: string, body: (harness: ThrottleHarness) => Promise<void>) =>
    it(title, async (t) => {
      const harness = await setup();
      if (harness === null) {
        t.skip('backend missing');
        return;
      }
      try {
        await body(harness);
      } finally {
        await harness.teardown();
      }
    });

  describe(`login throttle contract: ${name}`, () => {
    test('allows a first attempt', async (h) => {
      const throttle = h.create();
      assert.equal(await throttle.blockedFor('alice', '192.0.2.1'), 0);
    });

    test('blocks an account at its limit, from any address, until the window ends', async (h) => {
      const throttle = h.create({ accountLimit: 3, window: 600 });
      await failTimes(throttle, 2, 'alice', '192.0.2.1');
      assert.equal(await throttle.blockedFor('alice', '192.0.2.1'), 0);
      await throttle.failed('alice', '192.0.2.2');
      const wait = await throttle.blockedFor('alice', '198.51.100.7');
      if (h.exact) assert.equal(wait, 600);
      else assert.ok(wait > 590 && wait <= 600, String(wait));
      assert.equal(await throttle.blockedFor('bob', '192.0.2.1'), 0);
      if (h.exact) {
        await h.elapse(100.5);
        assert.equal(await throttle.blockedFor('alice', '192.0.2.1'), 500); // 499.5, rounded up
      }
    });

    test('counts an account without regard to case', async (h) => {
      const throttle = h.create({ accountLimit: 2 });
      await throttle.failed('Alice', '192.0.2.1');
      await throttle.failed('ALICE', '192.0.2.9');
      assert.ok((await throttle.blockedFor('alice', '203.0.113.5')) > 0);
    });

    test('blocks an address at its limit, whatever the account', async (h) => {
      const throttle = h.create({ accountLimit: 100, addressLimit: 3 });
      for (const account of ['a', 'b', 'c']) await throttle.failed(account, '192.0.2.1');
      assert.ok((await throttle.blockedFor('someone-else', '192.0.2.1')) > 0);
      assert.equal(await throttle.blockedFor('someone-else', '192.0.2.2'), 0);
      assert.equal(await throttle.blockedFor('a', '192.0.2.2'), 0);
    });

    test('a success clears the account counter and not the address one', async (h) => {
      const throttle = h.create({ accountLimit: 2, addressLimit: 3 });
      await failTimes(throttle, 2, 'alice', '192.0.2.1');
      assert.ok((await throttle.blockedFor('alice', '192.0.2.50')) > 0);
      await throttle.succeeded('ALICE');
      assert.equal(await throttle.blockedFor('alice', '192.0.2.50'), 0);
      await throttle.failed('mallory', '192.0.2.1');
      assert.ok((await throttle.blockedFor('mallory2', '192.0.2.1')) > 0);
    });

    test('without an address only the account counts', async (h) => {
      const throttle = h.create({ accountLimit: 2, addressLimit: 1 });
      await throttle.failed('alice');
      assert.equal(await throttle.blockedFor('alice'), 0);
      assert.equal(await throttle.blockedFor('bob', '192.0.2.1'), 0);
      await throttle.failed('alice');
      assert.ok((await throttle.blockedFor('alice')) > 0);
      assert.ok((await throttle.blockedFor('alice', '192.0.2.1')) > 0);
    });

    test('a window that ends forgets its count; the next failure starts a new one', async (h) => {
      const window = h.shortWindow;
      const throttle = h.create({ accountLimit: 2, window });
      await failTimes(throttle, 2, 'alice', '192.0.2.1');
      assert.ok((await throttle.blockedFor('alice', '192.0.2.1')) > 0);
      await h.elapse(window + (h.exact ? 0 : 0.3));
      assert.equal(await throttle.blockedFor('alice', '192.0.2.1'), 0);
      await throttle.failed('alice', '192.0.2.1');
      assert.equal(await throttle.blockedFor('alice', '192.0.2.1'), 0);
      await throttle.failed('alice', '192.0.2.1');
      assert.ok((await throttle.blockedFor('alice', '192.0.2.1')) > 0);
    });

    test('concurrent failures all count', async (h) => {
      const throttles = [h.create({ accountLimit: 40 }), h.create({ accountLimit: 40 })];
      const counter = h.shared ? throttles : [throttles[0]!, throttles[0]!];
      await Promise.all(
        Array.from({ length: 39 }, (_, i) => counter[i % 2]!.failed('alice', `192.0.2.${i}`)),
      );
      assert.equal(await counter[1]!.blockedFor('alice', '203.0.113.1'), 0);
      await counter[0]!.failed('alice', '203.0.113.1');
      assert.ok((await counter[1]!.blockedFor('alice', '203.0.113.1')) > 0);
    });

    test('groups an IPv6 address by its /64 and an IPv4-mapped one with its IPv4', async (h) => {
      const throttle = h.create({ addressLimit: 2 });
      await throttle.failed('a', '2001:db8:1:2::1');
      await throttle.failed('b', '2001:0db8:0001:0002:ffff:ffff:ffff:ffff');
      assert.ok((await throttle.blockedFor('c', '2001:db8:1:2:abcd::9')) > 0);
      assert.equal(await throttle.blockedFor('c', '2001:db8:1:3::1'), 0);
      await throttle.failed('a', '::ffff:192.0.2.1');
      await throttle.failed('b', '192.0.2.1');
      assert.ok((await throttle.blockedFor('c', '192.0.2.1')) > 0);
      assert.ok((await throttle.blockedFor('c', '::ffff:c000:201')) > 0);
    });

    test('counts an address a proxy wrote with its port as the address', async (h) => {
      const throttle = h.create({ addressLimit: 2 });
      await throttle.failed('a', '192.0.2.1:50001');
      await throttle.failed('b', '192.0.2.1:50002');
      assert.ok((await throttle.blockedFor('c', '192.0.2.1')) > 0);
      await throttle.failed('a', '[2001:db8:1:2::1]:443');
      await throttle.failed('b', '[2001:db8:1:2::7]');
      assert.ok((await throttle.blockedFor('c', '2001:db8:1:2::9')) > 0);
      assert.equal(await throttle.blockedFor('c', '192.0.2.2:50001'), 0);
    });

    test('takes keys of any length and text, and keeps them apart', async (h) => {
      const throttle = h.create({ accountLimit: 1, addressLimit: 1 });
      const long = 'x'.repeat(10_000);
      await throttle.failed(long, 'some proxy name');
      assert.ok((await throttle.blockedFor(long, '192.0.2.1')) > 0);
      assert.ok((await throttle.blockedFor('b', 'Some Proxy Name')) > 0);
      assert.equal(await throttle.blockedFor(`${long}y`, '192.0.2.1'), 0);
      await throttle.failed('👩🏽‍💻\u0000', '192.0.2.2');
      assert.ok((await throttle.blockedFor('👩🏽‍💻\u0000', '192.0.2.3')) > 0);
      assert.equal(await throttle.blockedFor('👩🏽‍💻', '192.0.2.3'), 0);
      await throttle.failed('', '192.0.2.4');
      assert.ok((await throttle.blockedFor('', '192.0.2.5')) > 0);
    });

    if (name !== 'memory') {
      test('two throttles on one backend share their counts', async (h) => {
        const one = h.create({ accountLimit: 2, addressLimit: 3 });
        const two = h.create({ accountLimit: 2, addressLimit: 3 });
        await one.failed('alice', '192.0.2.1');
        await two.failed('alice', '192.0.2.1');
        assert.ok((await one.blockedFor('alice', '198.51.100.1')) > 0);
        await one.succeeded('alice');
        assert.equal(await two.blockedFor('alice', '198.51.100.1'), 0);
        await two.failed('bob', '192.0.2.1');
        assert.ok((await one.blockedFor('carol', '192.0.2.1')) > 0);
      });
    }

    test('refuses bad options and arguments with ERR_INVALID_ARGUMENT', async (h) => {
      const invalid = expectCode('ERR_INVALID_ARGUMENT');
      const bad: unknown[] = [
        { accountLimit: 0 },
        { accountLimit: '10' },
        { addressLimit: Number.NaN },
        { addressLimit: 1.5 },
        { window: 0 },
        { window: 1.5 },
        { window: Number.POSITIVE_INFINITY },
      ];
      for (const options of bad) {
        assert.throws(() => h.create(options as LoginThrottleOptions), invalid);
      }
      const throttle = h.create();
      await assert.rejects(throttle.failed(42 as unknown as string, '192.0.2.1'), invalid);
      await assert.rejects(throttle.blockedFor('a', null as unknown as string), invalid);
      await throttle.close();
    });
  });
}
