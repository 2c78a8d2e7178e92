import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyRefresher } from '../../../src/sync/http-source/key-refresher.js';

/** A load the test answers by hand, and a clock the test moves. */
function manual() {
  const clock = { ms: 10_000 };
  const pending: Array<(changed: boolean) => void> = [];
  let loads = 0;
  const refresher = createKeyRefresher({
    load: () => {
      loads++;
      return new Promise((resolve) => pending.push(resolve));
    },
    minIntervalMs: 1000,
    now: () => clock.ms,
  });
  return { clock, pending, loads: () => loads, refresher };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('the JWKS fetch limiter', () => {
  it('shares the fetch in flight among every caller', async () => {
    const { pending, loads, refresher } = manual();
    const calls = [refresher.refresh(), refresher.refresh(), refresher.refresh()];
    assert.equal(loads(), 1);
    pending.shift()!(true);
    assert.deepEqual(await Promise.all(calls), [true, true, true]);
  });

  it('starts fetches at least the interval apart, one for every caller meanwhile', async () => {
    const { clock, pending, loads, refresher } = manual();
    const first = refresher.refresh();
    pending.shift()!(false);
    await first;
    // 300 ms later: the next fetch waits its turn (700 ms of the real timer), shared.
    clock.ms += 300;
    const waiting = [refresher.refresh(), refresher.refresh(), refresher.refreshAfterNow()];
    await turn();
    assert.equal(loads(), 1);
    clock.ms += 700;
    while (loads() < 2) await turn();
    pending.shift()!(true);
    assert.deepEqual(await Promise.all(waiting), [true, true, true]);
    // Past the interval: at once.
    clock.ms += 1000;
    const next = refresher.refresh();
    assert.equal(loads(), 3);
    pending.shift()!(false);
    assert.equal(await next, false);
  });

  it('gives a caller that knows of a change a fetch that starts after it', async () => {
    const { clock, pending, loads, refresher } = manual();
    const inFlight = refresher.refresh();
    const after = refresher.refreshAfterNow();
    const shared = refresher.refresh();
    assert.equal(loads(), 1);
    clock.ms += 1000;
    pending.shift()!(false);
    assert.equal(await inFlight, false);
    while (loads() < 2) await turn();
    pending.shift()!(true);
    assert.equal(await after, true);
    // Asked while a fetch was queued: it shares the queued one.
    assert.equal(await shared, true);
  });

  it('passes a failure to the callers of that fetch only', async () => {
    const { pending, loads, refresher } = manual();
    const failing = createKeyRefresher({
      load: () => Promise.reject(new Error('down')),
      minIntervalMs: 1000,
    });
    await assert.rejects(failing.refresh(), /down/);
    failing.close();
    const ok = refresher.refresh();
    pending.shift()!(true);
    assert.equal(await ok, true);
    assert.equal(loads(), 1);
  });

  it('starts no fetch within a hold-off, then one for every caller meanwhile', async () => {
    const { clock, pending, loads, refresher } = manual();
    const first = refresher.refresh();
    pending.shift()!(false);
    await first;
    // The interval is over, but the server asked for 300 ms more; a shorter hold changes nothing.
    clock.ms += 1000;
    refresher.holdOff(300);
    refresher.holdOff(10);
    const waiting = [refresher.refresh(), refresher.refreshAfterNow()];
    await turn();
    assert.equal(loads(), 1);
    clock.ms += 300;
    while (loads() < 2) await turn();
    pending.shift()!(true);
    assert.deepEqual(await Promise.all(waiting), [true, true]);
  });

  it('drops a waiting fetch when closed: its callers get false', async () => {
    const { pending, loads, refresher } = manual();
    const first = refresher.refresh();
    pending.shift()!(false);
    await first;
    const waiting = refresher.refresh();
    refresher.close();
    assert.equal(await waiting, false);
    assert.equal(await refresher.refresh(), false);
    assert.equal(loads(), 1);
  });
});
