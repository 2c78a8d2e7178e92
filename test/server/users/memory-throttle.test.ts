import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryLoginThrottle } from '../../../src/server/users/index.js';
import { expectCode, testClock } from './support.js';
import { describeThrottleContract } from './throttle-contract.js';

describeThrottleContract('memory', async () => {
  const clock = testClock();
  return {
    create: (options = {}) => createMemoryLoginThrottle({ ...options, now: clock.now }),
    elapse: async (seconds) => {
      clock.t += seconds;
    },
    exact: true,
    shortWindow: 60,
    shared: false,
    teardown: async () => {},
  };
});

describe('memory login throttle', () => {
  it('keeps at most maxKeys counters, dropping the oldest window first', async () => {
    const clock = testClock();
    const throttle = createMemoryLoginThrottle({ accountLimit: 1, maxKeys: 3, now: clock.now });
    await throttle.failed('first');
    clock.t += 1;
    await throttle.failed('second');
    await throttle.failed('second'); // counted again: keeps its place
    clock.t += 1;
    for (const name of ['third', 'fourth', 'fifth']) await throttle.failed(name);
    assert.equal(await throttle.blockedFor('first'), 0, 'dropped');
    assert.equal(await throttle.blockedFor('second'), 0, 'dropped');
    for (const name of ['third', 'fourth', 'fifth']) {
      assert.ok((await throttle.blockedFor(name)) > 0, name);
    }
  });

  it('refuses a bad clock or bound', () => {
    const invalid = expectCode('ERR_INVALID_ARGUMENT');
    assert.throws(() => createMemoryLoginThrottle({ maxKeys: 1 }), invalid);
    assert.throws(() => createMemoryLoginThrottle({ now: 5 as never }), invalid);
  });
});
