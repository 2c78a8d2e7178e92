import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { createClockWatch } from '../../../src/sync/http-source/clock-offset.js';

// Replaced, not listened to: a listener would not stop Node printing the warnings.
let emitted: ReturnType<typeof mock.method<typeof process, 'emitWarning'>>;
beforeEach(() => {
  emitted = mock.method(process, 'emitWarning', () => {});
});
afterEach(() => {
  emitted.mock.restore();
});

const LOCAL = 1_900_000_000.4;
const dateAt = (seconds: number): string => new Date(seconds * 1000).toUTCString();

function warnings(): { code: unknown; message: string }[] {
  return emitted.mock.calls.map((call) => {
    const [message, options] = call.arguments as unknown as [string, { code: string }];
    return { code: options.code, message };
  });
}

describe('the HTTP source watching its clock against the auth server (Date header)', () => {
  const watch = () => createClockWatch({ now: () => LOCAL, maxStaleness: 5, clockSkew: 5 });

  it('is silent while the clocks agree within the Date header resolution, or without a Date', () => {
    const check = watch();
    for (const date of [dateAt(LOCAL), dateAt(LOCAL - 1), dateAt(LOCAL + 3), null, 'garbage']) {
      check(date);
    }
    assert.deepEqual(warnings(), []);
  });

  it('warns once that this clock is ahead, the index then looking staler than it is', () => {
    const check = watch();
    check(dateAt(LOCAL - 10));
    check(dateAt(LOCAL - 10));
    const seen = warnings();
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.code, 'REVOCABLE_CLOCK_OFFSET');
    assert.match(seen[0]?.message ?? '', /at least 9\.\d s ahead.*ERR_REVOCATION_STALE.*NTP/);
  });

  it('warns that this clock is behind past clockSkew, and again after the clocks agreed between', () => {
    const check = watch();
    check(dateAt(LOCAL + 8));
    check(dateAt(LOCAL));
    check(dateAt(LOCAL + 8));
    const seen = warnings();
    assert.equal(seen.length, 2);
    assert.match(seen[0]?.message ?? '', /behind.*ERR_JWT_IAT_FUTURE/);
  });
});
