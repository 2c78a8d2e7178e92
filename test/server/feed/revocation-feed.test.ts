import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { isRevocableError } from '../../../src/errors/index.js';
import { createSessionRevocation } from '../../../src/revocation/index.js';
import { createRevocationFeed } from '../../../src/server/feed/index.js';
import { createMemoryStore } from '../../../src/stores/index.js';
import {
  cleanUp,
  controlledStore,
  manualFeed,
  recorder,
  STORE_KINDS,
  T0,
  TIMING,
  tokenEvents,
  unexpectedErrors,
  waitUntil,
  world,
} from './feed-support.js';
import { range } from './sse-client.js';

function invalidArgument(error: unknown): boolean {
  return isRevocableError(error, 'ERR_INVALID_ARGUMENT');
}

/** A small deterministic generator, so that a failing interleaving can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Forgets the reads so far (the reader's): what follows are the backlogs'. */
function forgetReads(control: ReturnType<typeof controlledStore>['control']): void {
  control.reads.length = 0;
  control.limits.length = 0;
  control.mostInFlight = 0;
}

/**
 * A feed over ten events on a memory store whose backlog reads (those below the reader's
 * position, 10) wait for the test's `control.release()`; the reader's first read is done.
 */
async function feedWithHeldBacklogs(options: {
  maxBacklogReads: number;
  backlogPageSize?: number;
}): Promise<{
  store: ReturnType<typeof controlledStore>['store'];
  control: ReturnType<typeof controlledStore>['control'];
  feed: ReturnType<typeof manualFeed>;
}> {
  const { store, control } = controlledStore(createMemoryStore());
  const { index } = world();
  await store.appendEvents(tokenEvents(10, T0));
  const feed = manualFeed({ store, index, ...options });
  await feed.poll();
  forgetReads(control);
  control.holdBelow = 10;
  return { store, control, feed };
}

/** Lets whatever the last step set going run: promise callbacks and a few turns of the loop. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await tick();
}

afterEach(cleanUp);
after(() => assert.deepEqual(unexpectedErrors, []));

for (const kind of STORE_KINDS) {
  describe(`revocation feed on the ${kind.name}`, () => {
    it('delivers every event after the position, in order, once, then the new ones', async () => {
      const { store, close } = kind.open();
      const { index } = world();
      await store.appendEvents(tokenEvents(5, T0));
      const feed = manualFeed({ store, index });
      await feed.poll();
      const from0 = recorder();
      const from3 = recorder();
      feed.subscribe(0, from0.subscriber);
      feed.subscribe(3, from3.subscriber);
      // Caught up means the catch-up heartbeat: from then on the fan-out feeds them.
      await waitUntil(
        'both caught up',
        () => from0.heartbeats.length === 1 && from3.heartbeats.length === 1,
      );
      await store.appendEvents(tokenEvents(3, T0));
      await feed.poll();
      assert.deepEqual(from0.seqs(), range(1, 8));
      assert.deepEqual(from3.seqs(), range(4, 8));
      const appended = (await store.readEvents(0, 100)).map((stored) => stored.event);
      assert.deepEqual(
        from0.events.map((stored) => stored.event),
        appended,
      );
      feed.close();
      close();
    });

    it('serves a backlog in pages, then joins the fan-out', async () => {
      const { store, close } = kind.open();
      const { index } = world();
      const controlled = controlledStore(store);
      await store.appendEvents(tokenEvents(50, T0));
      const feed = manualFeed({ store: controlled.store, index, pageSize: 7, backlogPageSize: 7 });
      await feed.poll();
      const record = recorder();
      feed.subscribe(0, record.subscriber);
      await waitUntil('caught up', () => record.heartbeats.length === 1);
      assert.deepEqual(record.seqs(), range(1, 50));
      // Eight pages of seven (the last one short), each from where the last ended.
      assert.deepEqual(
        controlled.control.reads.filter((position) => position < 50),
        [0, 7, 14, 21, 28, 35, 42, 49],
      );
      await store.appendEvents(tokenEvents(20, T0));
      await feed.poll();
      assert.deepEqual(record.seqs(), range(1, 70));
      feed.close();
      close();
    });

    for (const mode of ['before', 'after'] as const) {
      it(`hands a backlog over with no gap and no duplicate (events appended while a backlog read is held ${mode} it reads)`, async () => {
        const { store, close } = kind.open();
        const { index } = world();
        const controlled = controlledStore(store);
        await store.appendEvents(tokenEvents(10, T0));
        const feed = manualFeed({ store: controlled.store, index });
        await feed.poll();
        const live = recorder();
        feed.subscribe(10, live.subscriber);
        await waitUntil('the first is live', () => live.heartbeats.length === 1);
        controlled.control.hold = { after: 3, mode };
        const record = recorder();
        feed.subscribe(3, record.subscriber);
        await waitUntil('the backlog read is held', () => controlled.control.held() === 1);
        await store.appendEvents(tokenEvents(5, T0));
        // 'before': the reader hands 11-15 out while the held page stops at 10. 'after': the
        // held read sees 11-15 before the reader does.
        if (mode === 'before') await feed.poll();
        controlled.control.release();
        await waitUntil('caught up', () => record.seqs().at(-1) === 15);
        // Its catch-up heartbeat: from here it is fed by the fan-out, not by its own reads.
        await waitUntil('live', () => record.heartbeats.length >= 1);
        await feed.poll();
        await store.appendEvents(tokenEvents(2, T0));
        await feed.poll();
        assert.deepEqual(record.seqs(), range(4, 17));
        // 4 to 15 from its own reads, then the fan-out's.
        assert.deepEqual(record.backlog, [...range(4, 15).map(() => true), false, false]);
        assert.deepEqual(live.seqs(), range(11, 17));
        feed.close();
        close();
      });
    }

    for (const seed of [1, 2, 3, 4, 5]) {
      it(`stays exact whatever the interleaving of appends, reads and subscriptions (seed ${seed})`, async () => {
        const { store, close } = kind.open();
        const { index } = world();
        const next = random(seed * 7919 + kind.name.length);
        const feed = manualFeed({
          store,
          index,
          pageSize: 1 + Math.floor(next() * 20),
          backlogPageSize: 1 + Math.floor(next() * 20),
          maxBacklogReads: 1 + Math.floor(next() * 4),
        });
        const subscribers: Array<{ after: number; record: ReturnType<typeof recorder> }> = [];
        let appended = 0;
        for (let step = 0; step < 300; step++) {
          const roll = next();
          if (roll < 0.35) {
            const count = 1 + Math.floor(next() * 30);
            await store.appendEvents(tokenEvents(count, T0));
            appended += count;
          } else if (roll < 0.5) {
            void feed.poll();
          } else if (roll < 0.55) {
            await feed.poll();
          } else if (roll < 0.67) {
            // Now and then a position a little past what is in the log yet.
            const position = Math.floor(next() * (appended + 4));
            const record = recorder();
            feed.subscribe(position, record.subscriber);
            subscribers.push({ after: position, record });
          }
          await tick();
        }
        await waitUntil('every subscriber has every event or was reset', async () => {
          await feed.poll();
          return subscribers.every(
            ({ record }) => record.resets.length > 0 || record.seqs().at(-1) === appended,
          );
        });
        let served = 0;
        for (const { after: position, record } of subscribers) {
          if (record.resets.length > 0) {
            // Reset only when the log really had not reached the position.
            assert.equal(record.resets.length, 1);
            assert.ok(record.resets[0]! < position);
            assert.deepEqual(record.events, []);
            continue;
          }
          served++;
          assert.deepEqual(record.seqs(), range(position + 1, appended));
        }
        assert.ok(served > 10);
        feed.close();
        close();
      });
    }

    it('lets a backlog over a pruned stretch of the log join', async () => {
      const { store, close } = kind.open();
      const { index, clock } = world();
      await store.appendEvents(tokenEvents(5, T0 + 10_000));
      await store.appendEvents(tokenEvents(5, T0));
      const feed = manualFeed({ store, index, pageSize: 3 });
      await feed.poll();
      // Events 6 to 10 expire and are pruned: the reader had read up to 10.
      clock.t = T0 + 2000;
      await store.prune(index.horizon(), 0);
      assert.deepEqual(
        (await store.readEvents(0, 100)).map((stored) => stored.seq),
        range(1, 5),
      );
      const record = recorder();
      feed.subscribe(3, record.subscriber);
      await waitUntil('caught up', () => record.heartbeats.length === 1);
      assert.deepEqual(record.seqs(), [4, 5]);
      assert.equal(record.heartbeats[0]!.position, 10);
      await store.appendEvents(tokenEvents(1, T0 + 10_000));
      await feed.poll();
      assert.deepEqual(record.seqs(), [4, 5, 11]);
      feed.close();
      close();
    });

    it('reads a backlog in pages of backlogPageSize, not pageSize', async () => {
      const { store, close } = kind.open();
      const { index } = world();
      const controlled = controlledStore(store);
      await store.appendEvents(tokenEvents(10, T0));
      const feed = manualFeed({ store: controlled.store, index, backlogPageSize: 3 });
      await feed.poll();
      forgetReads(controlled.control);
      const record = recorder();
      feed.subscribe(0, record.subscriber);
      await waitUntil('caught up', () => record.heartbeats.length === 1);
      assert.deepEqual(record.seqs(), range(1, 10));
      assert.deepEqual(controlled.control.reads, [0, 3, 6, 9]);
      assert.deepEqual(controlled.control.limits, [3, 3, 3, 3]);
      await store.appendEvents(tokenEvents(2, T0));
      await feed.poll();
      assert.deepEqual(record.seqs(), range(1, 12));
      // The reader's read keeps its own page size.
      assert.deepEqual(controlled.control.limits.slice(4), [1000]);
      feed.close();
      close();
    });

    it('lets a backlog read in pages of backlogPageSize over a pruned stretch join', async () => {
      const { store, close } = kind.open();
      const { index, clock } = world();
      const controlled = controlledStore(store);
      await store.appendEvents(tokenEvents(5, T0 + 10_000));
      await store.appendEvents(tokenEvents(5, T0));
      const feed = manualFeed({ store: controlled.store, index, backlogPageSize: 3 });
      await feed.poll();
      forgetReads(controlled.control);
      // Events 6 to 10 expire and are pruned: the reader had read up to 10.
      clock.t = T0 + 2000;
      await store.prune(index.horizon(), 0);
      const record = recorder();
      feed.subscribe(0, record.subscriber);
      await waitUntil('caught up', () => record.heartbeats.length === 1);
      // A full page of three proves nothing; the short one after it covers up to 10.
      assert.deepEqual(record.seqs(), range(1, 5));
      assert.deepEqual(controlled.control.reads, [0, 3]);
      assert.deepEqual(controlled.control.limits, [3, 3]);
      assert.equal(record.heartbeats[0]!.position, 10);
      await store.appendEvents(tokenEvents(1, T0 + 10_000));
      await feed.poll();
      assert.deepEqual(record.seqs(), [...range(1, 5), 11]);
      feed.close();
      close();
    });

    it('sends heartbeats with the position and when the last complete read started', async () => {
      const { store, close } = kind.open();
      const { index, clock } = world();
      await store.appendEvents(tokenEvents(3, T0));
      const feed = manualFeed({ store, index });
      await feed.poll();
      const record = recorder();
      const order: string[] = [];
      feed.subscribe(0, {
        event: (stored, backlog) => {
          record.subscriber.event(stored, backlog);
          order.push(`event ${stored.seq}`);
        },
        heartbeat: (beat) => {
          record.subscriber.heartbeat(beat);
          order.push(`heartbeat ${beat.position}`);
        },
        reset: record.subscriber.reset,
        end: record.subscriber.end,
      });
      await waitUntil('caught up', () => record.heartbeats.length === 1);
      // One heartbeat at once when it catches up.
      assert.deepEqual(record.heartbeats, [{ position: 3, freshAt: T0 }]);
      clock.t = T0 + 1.2345;
      await feed.poll();
      assert.deepEqual(record.heartbeats.at(-1), { position: 3, freshAt: T0 + 1.234 });
      await store.appendEvents(tokenEvents(2, T0));
      clock.t = T0 + 3;
      await feed.poll();
      assert.deepEqual(record.heartbeats.at(-1), { position: 5, freshAt: T0 + 3 });
      assert.deepEqual(order, [
        'event 1',
        'event 2',
        'event 3',
        'heartbeat 3',
        'heartbeat 3',
        'event 4',
        'event 5',
        'heartbeat 5',
      ]);
      assert.deepEqual(feed.status(), {
        position: 5,
        freshAt: T0 + 3,
        subscribers: 1,
        backlogReads: 0,
        backlogWaiting: 0,
        readFailures: 0,
      });
      feed.close();
      close();
    });

    it('keeps freshAt while the store cannot be read, and catches up when it can', async () => {
      const { store, close } = kind.open();
      const { index, clock } = world();
      const controlled = controlledStore(store);
      const errors: unknown[] = [];
      await store.appendEvents(tokenEvents(2, T0));
      const feed = manualFeed({ store: controlled.store, index, errors });
      await feed.poll();
      const record = recorder();
      feed.subscribe(0, record.subscriber);
      await waitUntil('caught up', () => record.heartbeats.length === 1);

      controlled.control.failing = true;
      await store.appendEvents(tokenEvents(3, T0));
      clock.t = T0 + 10;
      await feed.poll();
      clock.t = T0 + 20;
      await feed.poll();
      assert.equal(errors.length, 2);
      assert.equal(feed.status().readFailures, 2);
      assert.deepEqual(record.heartbeats.slice(1), [
        { position: 2, freshAt: T0 },
        { position: 2, freshAt: T0 },
      ]);
      // A subscriber that comes meanwhile waits for the store too.
      const late = recorder();
      feed.subscribe(1, late.subscriber);
      await waitUntil('its backlog read failed', () => errors.length === 3);
      assert.deepEqual(late.events, []);

      controlled.control.failing = false;
      clock.t = T0 + 30;
      await feed.poll();
      assert.deepEqual(record.seqs(), range(1, 5));
      assert.deepEqual(record.heartbeats.at(-1), { position: 5, freshAt: T0 + 30 });
      await waitUntil('the late one caught up', () => late.heartbeats.length === 1);
      assert.deepEqual(late.seqs(), range(2, 5));
      assert.equal(errors.length, 3);
      feed.close();
      close();
    });

    it('resets a position past the head, after a read that started after it asked', async () => {
      const { store, close } = kind.open();
      const { index } = world();
      await store.appendEvents(tokenEvents(5, T0));
      const feed = manualFeed({ store, index });
      await feed.poll();
      const ahead = recorder();
      feed.subscribe(9, ahead.subscriber);
      await waitUntil('reset', () => ahead.resets.length === 1);
      assert.deepEqual(ahead.resets, [5]);
      assert.equal(ahead.ended, 0);
      assert.equal(feed.status().subscribers, 0);
      // Past what the reader has read, but not past the log: it is served, not reset.
      await store.appendEvents(tokenEvents(3, T0));
      const justAhead = recorder();
      feed.subscribe(7, justAhead.subscriber);
      await waitUntil('caught up', () => justAhead.heartbeats.length === 1);
      assert.deepEqual(justAhead.resets, []);
      assert.deepEqual(justAhead.seqs(), [8]);
      feed.close();
      close();
    });

    it('gives the live events and their position as the snapshot', async () => {
      const { store, close } = kind.open();
      const { index, clock } = world();
      const dead = createSessionRevocation({ sid: 'old', at: T0 - 10_000 }, TIMING);
      const live = tokenEvents(2, T0);
      await store.appendEvents([dead, ...live]);
      const feed = manualFeed({ store, index });
      clock.t = T0 + 1;
      assert.deepEqual(await feed.snapshot(), { position: 3, events: live });
      feed.close();
      close();
    });
  });
}

describe('revocation feed', () => {
  it('serves subscribers that came before its first read', async () => {
    const store = createMemoryStore();
    const { index } = world();
    await store.appendEvents(tokenEvents(4, T0));
    const feed = manualFeed({ store, index });
    const record = recorder();
    feed.subscribe(1, record.subscriber);
    await waitUntil('caught up', () => record.heartbeats.length === 1);
    assert.deepEqual(record.seqs(), [2, 3, 4]);
    feed.close();
  });

  it('reads the log as soon as the index applies an event, without waiting for the interval', async () => {
    const memory = createMemoryStore();
    const { store, control } = controlledStore(memory);
    const { index } = world();
    const feed = manualFeed({ store, index });
    await feed.poll();
    const record = recorder();
    feed.subscribe(0, record.subscriber);
    await waitUntil('caught up', () => record.heartbeats.length === 1);
    const events = tokenEvents(100, T0);
    await store.appendEvents(events);
    control.reads.length = 0;
    // A burst of applies wakes the reader once.
    for (const event of events) index.apply(event);
    await waitUntil('delivered', () => record.events.length === 100);
    assert.deepEqual(record.seqs(), range(1, 100));
    assert.deepEqual(control.reads, [0]);
    feed.close();
  });

  it('polls on its interval', async () => {
    const store = createMemoryStore();
    const { index } = world();
    let callback: (() => void) | null = null;
    let interval = 0;
    let stopped = false;
    const feed = createRevocationFeed({
      store,
      index,
      pollInterval: '2s',
      schedule(milliseconds, run) {
        interval = milliseconds;
        callback = run;
        return () => {
          stopped = true;
        };
      },
    });
    assert.equal(interval, 2000);
    const record = recorder();
    feed.subscribe(0, record.subscriber);
    await waitUntil('caught up', () => record.heartbeats.length === 1);
    await store.appendEvents(tokenEvents(1, T0));
    callback!();
    await waitUntil('delivered with a heartbeat', () => record.heartbeats.length === 2);
    assert.deepEqual(record.seqs(), [1]);
    feed.close();
    assert.ok(stopped);
  });

  it('ends every subscription on close, and any that comes after', async () => {
    const store = createMemoryStore();
    const { index } = world();
    await store.appendEvents(tokenEvents(3, T0));
    const controlled = controlledStore(store);
    const errors: unknown[] = [];
    const feed = manualFeed({ store: controlled.store, index, errors });
    await feed.poll();
    const live = recorder();
    feed.subscribe(3, live.subscriber);
    await waitUntil('live', () => live.heartbeats.length === 1);
    controlled.control.hold = { after: 0, mode: 'after' };
    const reading = recorder();
    feed.subscribe(0, reading.subscriber);
    await waitUntil('held', () => controlled.control.held() === 1);
    const ahead = recorder();
    controlled.control.failing = true;
    feed.subscribe(10, ahead.subscriber);
    await tick();
    feed.close();
    feed.close();
    controlled.control.failing = false;
    controlled.control.release();
    await tick();
    await tick();
    assert.deepEqual([live.ended, reading.ended, ahead.ended], [1, 1, 1]);
    assert.deepEqual(reading.events, []);
    assert.equal(feed.status().subscribers, 0);
    const late = recorder();
    feed.subscribe(0, late.subscriber);
    await waitUntil('ended', () => late.ended === 1);
    assert.deepEqual(late.events, []);
  });

  it('drops a subscriber that throws, and serves the others', async () => {
    const store = createMemoryStore();
    const { index } = world();
    const errors: unknown[] = [];
    const feed = manualFeed({ store, index, errors });
    await feed.poll();
    const good = recorder();
    const bad = recorder();
    feed.subscribe(0, good.subscriber);
    feed.subscribe(0, {
      ...bad.subscriber,
      event() {
        throw new Error('cannot take it');
      },
    });
    await waitUntil('both live', () => good.heartbeats.length === 1 && bad.heartbeats.length === 1);
    await store.appendEvents(tokenEvents(2, T0));
    await feed.poll();
    assert.deepEqual(good.seqs(), [1, 2]);
    assert.equal(bad.ended, 1);
    assert.equal(errors.length, 1);
    assert.equal(feed.status().subscribers, 1);
    feed.close();
  });

  it('frees a subscription when it is ended, and ending it again does nothing', async () => {
    const store = createMemoryStore();
    const { index } = world();
    const feed = manualFeed({ store, index });
    await feed.poll();
    const record = recorder();
    const stop = feed.subscribe(0, record.subscriber);
    assert.equal(feed.status().subscribers, 1);
    stop();
    stop();
    assert.equal(feed.status().subscribers, 0);
    await store.appendEvents(tokenEvents(1, T0));
    await feed.poll();
    assert.deepEqual(record.events, []);
    assert.deepEqual(record.heartbeats, []);
    assert.equal(record.ended, 0);
    feed.close();
  });

  it('has at most maxBacklogReads backlog reads in flight, in turn, and serves every subscriber', async () => {
    // Every backlog read waits for the test; the reader, at 10, does not.
    const { store, control, feed } = await feedWithHeldBacklogs({
      maxBacklogReads: 2,
      backlogPageSize: 3,
    });
    const subscribers = range(0, 9).map((after) => ({ after, record: recorder() }));
    for (const { after, record } of subscribers) feed.subscribe(after, record.subscriber);
    const caughtUp = () => subscribers.every(({ record }) => record.heartbeats.length === 1);
    let mostWaiting = 0;
    while (!caughtUp()) {
      await waitUntil('a backlog read is held', () => control.held() > 0 || caughtUp());
      await settle();
      assert.ok(control.held() <= 2, `${control.held()} backlog reads at once`);
      const { backlogReads, backlogWaiting } = feed.status();
      assert.ok(backlogReads <= 2, `status: ${backlogReads} backlog reads`);
      if (control.held() === 2) assert.equal(backlogReads, 2);
      mostWaiting = Math.max(mostWaiting, backlogWaiting);
      control.release();
    }
    // Ten subscribers, two turns: eight waited at first; none waits or reads once all caught up.
    assert.equal(mostWaiting, 8);
    assert.deepEqual([feed.status().backlogReads, feed.status().backlogWaiting], [0, 0]);
    assert.equal(control.mostInFlight, 2);
    // First come first served; then each queues again behind the others, a page at a time.
    assert.deepEqual(control.reads.slice(0, 10), range(0, 9));
    assert.deepEqual(control.reads.slice(10, 12), [3, 4]);
    for (const { after, record } of subscribers) {
      assert.deepEqual(record.seqs(), range(after + 1, 10));
      assert.ok(record.backlog.every((backlog) => backlog));
    }
    control.holdBelow = null;
    await store.appendEvents(tokenEvents(3, T0));
    await feed.poll();
    for (const { after, record } of subscribers) {
      assert.deepEqual(record.seqs(), range(after + 1, 13));
      assert.deepEqual(record.backlog.slice(-3), [false, false, false]);
    }
    assert.equal(feed.status().subscribers, 10);
    feed.close();
  });

  it('never reads for a subscription that ends while it waits its turn, and frees the turn of one that ends in its read', async () => {
    const { control, feed } = await feedWithHeldBacklogs({
      maxBacklogReads: 1,
      backlogPageSize: 3,
    });
    const reading = recorder();
    const queued = recorder();
    const last = recorder();
    const stopReading = feed.subscribe(0, reading.subscriber);
    const stopQueued = feed.subscribe(1, queued.subscriber);
    feed.subscribe(2, last.subscriber);
    await waitUntil('a backlog read is held', () => control.held() === 1);
    await settle();
    assert.deepEqual(control.reads, [0]);
    stopQueued();
    stopReading();
    assert.equal(feed.status().subscribers, 1);
    control.holdBelow = null;
    control.release();
    await waitUntil('the last caught up', () => last.heartbeats.length === 1);
    assert.deepEqual(last.seqs(), range(3, 10));
    // 1 is never read; 0 was read once, and its page went nowhere.
    assert.deepEqual(control.reads, [0, 2, 5, 8]);
    assert.deepEqual([reading.events, queued.events], [[], []]);
    assert.deepEqual([reading.ended, queued.ended], [0, 0]);
    feed.close();
  });

  it('tells a subscription that waits its turn, at every poll, that it waits; not one that reads, nor a live one', async () => {
    const { control, feed } = await feedWithHeldBacklogs({ maxBacklogReads: 1 });
    const told = new Map<string, number>();
    const subscriber = (name: string, record: ReturnType<typeof recorder>) => ({
      ...record.subscriber,
      waiting: () => void told.set(name, (told.get(name) ?? 0) + 1),
    });
    const live = recorder();
    const reading = recorder();
    const queued = recorder();
    feed.subscribe(10, subscriber('live', live));
    await waitUntil('live', () => live.heartbeats.length === 1);
    feed.subscribe(0, subscriber('reading', reading));
    feed.subscribe(0, subscriber('queued', queued));
    await waitUntil('a backlog read is held', () => control.held() === 1);
    await settle();
    await feed.poll();
    await feed.poll();
    assert.deepEqual([...told], [['queued', 2]]);
    control.holdBelow = null;
    control.release();
    await waitUntil('both caught up', () =>
      [reading, queued].every((record) => record.heartbeats.length === 1),
    );
    await feed.poll();
    assert.deepEqual([...told], [['queued', 2]]);
    assert.deepEqual(queued.seqs(), range(1, 10));
    feed.close();
  });

  it('ends a subscription that waits its turn on close, without a read', async () => {
    const { control, feed } = await feedWithHeldBacklogs({ maxBacklogReads: 1 });
    const reading = recorder();
    const queued = recorder();
    feed.subscribe(0, reading.subscriber);
    feed.subscribe(1, queued.subscriber);
    await waitUntil('a backlog read is held', () => control.held() === 1);
    await settle();
    feed.close();
    control.release();
    await settle();
    assert.deepEqual(control.reads, [0]);
    assert.deepEqual([reading.ended, queued.ended], [1, 1]);
    assert.deepEqual([reading.events, queued.events], [[], []]);
  });

  it('gives the turn back before waiting for drained: a client that never reads holds none', async () => {
    const { control, feed } = await feedWithHeldBacklogs({
      maxBacklogReads: 1,
      backlogPageSize: 3,
    });
    const stuck = recorder();
    feed.subscribe(0, { ...stuck.subscriber, drained: () => new Promise<void>(() => {}) });
    const others = [recorder(), recorder()];
    for (const record of others) feed.subscribe(0, record.subscriber);
    const othersCaughtUp = () => others.every((record) => record.heartbeats.length === 1);
    while (!othersCaughtUp()) {
      await waitUntil('a backlog read is held', () => control.held() > 0 || othersCaughtUp());
      await settle();
      assert.ok(control.held() <= 1, `${control.held()} backlog reads at once`);
      control.release();
    }
    assert.equal(control.mostInFlight, 1);
    for (const record of others) assert.deepEqual(record.seqs(), range(1, 10));
    // One page written, then it waits for a drain that never comes.
    assert.deepEqual(stuck.seqs(), [1, 2, 3]);
    assert.deepEqual(stuck.heartbeats, []);
    feed.close();
    assert.equal(stuck.ended, 1);
  });

  it('refuses a bad maxBacklogReads or backlogPageSize', () => {
    const store = createMemoryStore();
    const { index } = world();
    for (const name of ['maxBacklogReads', 'backlogPageSize']) {
      for (const value of [0, -1, 1.5, '4', Number.NaN]) {
        assert.throws(
          () => createRevocationFeed({ store, index, [name]: value }),
          invalidArgument,
          `${name}: ${String(value)}`,
        );
      }
    }
  });

  it('refuses a bad position, subscriber or option', () => {
    const store = createMemoryStore();
    const { index } = world();
    const feed = manualFeed({ store, index });
    const { subscriber } = recorder();
    for (const position of [-1, 1.5, Number.NaN, 2 ** 53, '3' as unknown as number]) {
      assert.throws(() => feed.subscribe(position, subscriber), invalidArgument);
    }
    assert.throws(
      () => feed.subscribe(0, { event() {} } as unknown as typeof subscriber),
      invalidArgument,
    );
    feed.close();
    for (const options of [
      { pageSize: 0 },
      { pageSize: 1.5 },
      { pollInterval: 0 },
      { pollInterval: 'soon' },
    ]) {
      assert.throws(() => createRevocationFeed({ store, index, ...options }), invalidArgument);
    }
    assert.throws(
      () => createRevocationFeed({ store: {} as typeof store, index }),
      invalidArgument,
    );
  });
});
