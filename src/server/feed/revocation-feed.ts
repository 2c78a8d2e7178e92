import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { RevocableError } from '../../errors/revocable-error.js';
import { parseDuration } from '../../lib/duration.js';
import { positiveInteger } from '../../lib/positive-integer.js';
import type { StoredEvent } from '../../stores/types.js';
import type {
  FeedScheduler,
  FeedSnapshot,
  FeedStatus,
  FeedSubscriber,
  RevocationFeed,
  RevocationFeedOptions,
} from './types.js';

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const defaultSchedule: FeedScheduler = (milliseconds, callback) => {
  const timer = setInterval(callback, milliseconds);
  // The feed never keeps a process alive on its own.
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * One subscription. `cursor` is the position everything up to which has reached the subscriber:
 * the last event delivered, or further when a read showed that nothing else exists below it.
 */
interface Subscription {
  readonly subscriber: FeedSubscriber;
  cursor: number;
  /**
   * `pending`: waiting for the reader (its first read, or a read to tell whether a position past
   * the head is real); `backlog`: reading the store on its own, or waiting its turn to;
   * `stalled`: its backlog read failed, retried at the next poll; `live`: caught up, served by the
   * reader's fan-out.
   */
  state: 'pending' | 'backlog' | 'stalled' | 'live';
  /** The first read of the reader that started after this subscription began waiting. */
  needRead: number;
  ended: boolean;
}

/**
 * Creates the feed behind `GET /revocations` and `GET /revocations/stream`: the revocation log,
 * served to processes that hold their own index over HTTP alone.
 *
 * One reader per feed reads the log (`readEvents`, paged) when the index applies an event (wakes
 * are coalesced: one read at a time, and one more after it if woken meanwhile), and every
 * `pollInterval` whatever happens; it hands each page to every caught-up subscriber, and sends
 * them heartbeats each interval. Its first read takes the head of the log from `liveEvents`.
 *
 * A subscriber that starts behind the reader reads its backlog from the store itself, page by
 * page (`backlogPageSize` events), at its own pace, then joins the fan-out. The hand-over has no
 * gap and no duplicate: the reader hands a page out and moves its position in one synchronous
 * step, so every event up to the reader's position has reached every live subscriber; a backlog
 * joins only once its cursor has reached that position (checked synchronously after each of its
 * reads), and from then on the fan-out gives it only events past its cursor. A backlog read that
 * comes back with fewer events than it asked for proves that nothing below the reader's position
 * as of that read's start is missing (the reader had read those events, so they were committed),
 * which lets a backlog over a pruned stretch of the log join too.
 *
 * At most `maxBacklogReads` backlog reads are in flight at once, across the feed. When many
 * streams resume together (a restart, a network blip), each would otherwise read a page and write
 * it to its socket at once, and the memory and CPU that takes starve logins and health checks.
 * The others wait their turn, first come first served. A turn is one read, not a whole backlog:
 * a subscription queues again after each page, so a long backlog does not hold up short ones. It
 * gives its turn back before it waits for `drained`, so a client that stops reading holds no turn,
 * only the one small page already written to its socket. One that ends while it waits leaves the
 * queue and never reads.
 *
 * @example
 * ```ts
 * const feed = createRevocationFeed({ store, index });
 * app.get('/revocations', () => feed.snapshot());
 * app.get('/revocations/stream', (request, reply) => {
 *   writeRevocationStream(request.raw, reply.raw, feed);
 *   reply.hijack();
 * });
 * process.once('SIGTERM', () => {
 *   feed.close(); // ends every open stream, so that the server can close
 *   void app.close();
 * });
 * ```
 */
export function createRevocationFeed(options: RevocationFeedOptions): RevocationFeed {
  if (typeof options !== 'object' || options === null) {
    throw invalid('createRevocationFeed needs options.');
  }
  const { store, index } = options;
  if (typeof store?.readEvents !== 'function' || typeof store.liveEvents !== 'function') {
    throw invalid('store must be a Store.');
  }
  if (typeof index?.horizon !== 'function' || typeof index.onApply !== 'function') {
    throw invalid('index must be a RevocationIndex.');
  }
  const pollSeconds =
    options.pollInterval === undefined ? 1 : parseDuration(options.pollInterval, 'pollInterval');
  if (!(pollSeconds > 0)) throw invalid('pollInterval must be longer than zero.');
  const pageSize = positiveInteger(options.pageSize, 'pageSize', 1000);
  const backlogPageSize = positiveInteger(options.backlogPageSize, 'backlogPageSize', 100);
  const maxBacklogReads = positiveInteger(options.maxBacklogReads, 'maxBacklogReads', 4);
  const now = options.now ?? index.now;
  if (typeof now !== 'function') throw invalid('now must be a clock.');
  const schedule = options.schedule ?? defaultSchedule;
  if (typeof schedule !== 'function') throw invalid('schedule must be a function.');
  const report =
    options.onError ??
    ((error: unknown) =>
      process.emitWarning(`revocable: revocation feed: ${describe(error)}`, 'RevocableWarning'));

  let closed = false;
  // The log position read and handed out; null until the first read.
  let position: number | null = null;
  let freshAt: number | null = null;
  let readFailures = 0;
  let reading: Promise<void> | null = null;
  let readAgain = false;
  let readsStarted = 0;
  let lastCompleteRead = 0;
  let wakeScheduled = false;
  const subscriptions = new Set<Subscription>();
  const live = new Set<Subscription>();
  // Backlog reads in flight, or handed a turn they have not started yet.
  let backlogReads = 0;
  // Subscriptions waiting for a turn to read their backlog, in order of arrival (a Map keeps it).
  const backlogQueue = new Map<Subscription, (granted: boolean) => void>();

  function fail(error: unknown): void {
    try {
      report(error);
    } catch {
      // A reporter that throws must not stop the feed.
    }
  }

  function finish(sub: Subscription): void {
    sub.ended = true;
    subscriptions.delete(sub);
    live.delete(sub);
    // Waiting for its turn: it leaves the queue and never reads.
    const waiting = backlogQueue.get(sub);
    if (waiting !== undefined) {
      backlogQueue.delete(sub);
      waiting(false);
    }
  }

  // Resolves true when `sub` may start a backlog read (it then owes `releaseBacklogRead`), false
  // when it ended while it waited.
  function takeBacklogRead(sub: Subscription): Promise<boolean> {
    if (backlogReads < maxBacklogReads && backlogQueue.size === 0) {
      backlogReads++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => backlogQueue.set(sub, resolve));
  }

  function releaseBacklogRead(): void {
    const next = backlogQueue.entries().next();
    if (next.done) {
      backlogReads--;
      return;
    }
    // The turn passes on: `backlogReads` already counts it.
    const [sub, grant] = next.value;
    backlogQueue.delete(sub);
    grant(true);
  }

  function drop(sub: Subscription, error: unknown): void {
    if (sub.ended) return;
    finish(sub);
    fail(error);
    try {
      sub.subscriber.end();
    } catch (second) {
      fail(second);
    }
  }

  function deliver(sub: Subscription, stored: StoredEvent, backlog: boolean): void {
    if (sub.ended || stored.seq <= sub.cursor) return;
    sub.cursor = stored.seq;
    try {
      sub.subscriber.event(stored, backlog);
    } catch (error) {
      drop(sub, error);
    }
  }

  function heartbeat(sub: Subscription): void {
    if (sub.ended || position === null || freshAt === null) return;
    try {
      sub.subscriber.heartbeat({ position: Math.max(sub.cursor, position), freshAt });
    } catch (error) {
      drop(sub, error);
    }
  }

  function keepWaiting(sub: Subscription): void {
    if (sub.ended) return;
    try {
      sub.subscriber.waiting?.();
    } catch (error) {
      drop(sub, error);
    }
  }

  function goLive(sub: Subscription): void {
    sub.state = 'live';
    live.add(sub);
    heartbeat(sub);
  }

  async function runBacklog(sub: Subscription): Promise<void> {
    sub.state = 'backlog';
    for (;;) {
      if (sub.ended || closed || position === null) return;
      // Synchronous with the reader's hand-outs: every event up to `position` has reached every
      // live subscriber, and this one has everything up to its cursor.
      if (sub.cursor >= position) {
        goLive(sub);
        return;
      }
      // Waiting for a turn moves neither the cursor nor the position back: it is still behind.
      if (!(await takeBacklogRead(sub))) return;
      let covered: number;
      let page: StoredEvent[];
      try {
        // Its turn may have come after it ended (or the feed closed): the turn passes on unused.
        if (sub.ended || closed) return;
        covered = position;
        page = await store.readEvents(sub.cursor, backlogPageSize);
      } catch (error) {
        if (sub.ended) return;
        readFailures++;
        fail(error);
        // The next poll starts it again from its cursor.
        sub.state = 'stalled';
        return;
      } finally {
        // One read per turn, given back before the deliveries and `drained` below.
        releaseBacklogRead();
      }
      for (const stored of page) deliver(sub, stored, true);
      if (sub.ended) return;
      // A short page: the log holds nothing more past the cursor, and whatever the reader had
      // read before this read started (up to `covered`) was committed, so it is all in hand.
      if (page.length < backlogPageSize && covered > sub.cursor) sub.cursor = covered;
      await sub.subscriber.drained?.();
      await yieldToEventLoop();
    }
  }

  function startBacklog(sub: Subscription): void {
    // What is left to fail here is the subscriber's own `drained`.
    runBacklog(sub).catch((error: unknown) => drop(sub, error));
  }

  // After every complete read: a waiting subscription behind the head starts its backlog; one
  // past the head, when a read that started after it began waiting still shows it past, resets.
  function settlePending(): void {
    if (position === null) return;
    for (const sub of [...subscriptions]) {
      if (sub.state !== 'pending') continue;
      if (sub.cursor <= position) {
        startBacklog(sub);
      } else if (lastCompleteRead >= sub.needRead) {
        finish(sub);
        try {
          sub.subscriber.reset(position);
        } catch (error) {
          fail(error);
        }
      }
    }
  }

  async function readLog(): Promise<void> {
    readsStarted++;
    const serial = readsStarted;
    // Everything committed before this moment is visible to the reads below.
    const startedAt = now();
    if (position === null) {
      const head = await store.liveEvents(index.horizon());
      position = head.position;
    } else {
      for (;;) {
        const page = await store.readEvents(position, pageSize);
        if (closed) return;
        if (page.length > 0) {
          // Handing the page out and moving the position are one synchronous step.
          for (const sub of [...live]) {
            for (const stored of page) deliver(sub, stored, false);
          }
          position = Math.max(position, page[page.length - 1]!.seq);
        }
        if (page.length < pageSize) break;
        // Lets the sockets write what was handed out before the next page adds to it.
        await yieldToEventLoop();
      }
    }
    const fresh = Math.floor(startedAt * 1000) / 1000;
    if (freshAt === null || fresh > freshAt) freshAt = fresh;
    lastCompleteRead = serial;
    settlePending();
  }

  // One read at a time; a request while one runs makes one more run after it, so a request is
  // answered by a read that started after it.
  function read(): Promise<void> {
    if (reading !== null) {
      readAgain = true;
      return reading;
    }
    reading = (async () => {
      try {
        do {
          readAgain = false;
          await readLog();
        } while (readAgain && !closed);
      } catch (error) {
        readFailures++;
        fail(error);
        throw error;
      } finally {
        reading = null;
      }
    })();
    return reading;
  }

  function readQuietly(): void {
    if (closed) return;
    read().catch(() => {
      // Counted and reported by read; the next poll tries again.
    });
  }

  async function poll(): Promise<void> {
    if (closed) return;
    try {
      await read();
    } catch {
      // Reported by read; the heartbeats below keep the old freshAt.
    }
    if (closed) return;
    for (const sub of [...subscriptions]) {
      if (sub.state === 'stalled') startBacklog(sub);
    }
    for (const sub of [...live]) heartbeat(sub);
    for (const sub of [...subscriptions]) {
      if (sub.state === 'pending' || backlogQueue.has(sub)) keepWaiting(sub);
    }
  }

  const stopPolling = schedule(pollSeconds * 1000, () => void poll());
  // Every apply of the index wakes the reader; a burst of them makes one read (or two).
  const stopWaking = index.onApply(() => {
    if (wakeScheduled || closed) return;
    wakeScheduled = true;
    setImmediate(() => {
      wakeScheduled = false;
      readQuietly();
    });
  });
  readQuietly();

  return {
    async snapshot(): Promise<FeedSnapshot> {
      const { position: reached, events } = await store.liveEvents(index.horizon());
      return { position: reached, events: events.map((stored) => stored.event) };
    },

    subscribe(after, subscriber) {
      if (!Number.isSafeInteger(after) || after < 0) {
        throw invalid('after must be a log position: a non-negative safe integer.');
      }
      if (
        typeof subscriber?.event !== 'function' ||
        typeof subscriber.heartbeat !== 'function' ||
        typeof subscriber.reset !== 'function' ||
        typeof subscriber.end !== 'function'
      ) {
        throw invalid('subscriber must have event, heartbeat, reset and end.');
      }
      const sub: Subscription = {
        subscriber,
        cursor: after,
        state: 'pending',
        needRead: readsStarted + 1,
        ended: false,
      };
      if (closed) {
        sub.ended = true;
        queueMicrotask(() => {
          try {
            subscriber.end();
          } catch (error) {
            fail(error);
          }
        });
        return () => {};
      }
      subscriptions.add(sub);
      // Never called back before this returns: the caller holds the unsubscribe function first.
      queueMicrotask(() => {
        // A read that completed meanwhile may have started it already.
        if (sub.ended || sub.state !== 'pending') return;
        if (position !== null && after <= position) startBacklog(sub);
        else readQuietly();
      });
      return () => finish(sub);
    },

    poll,

    status(): FeedStatus {
      return {
        position,
        freshAt,
        subscribers: subscriptions.size,
        backlogReads,
        backlogWaiting: backlogQueue.size,
        readFailures,
      };
    },

    close() {
      if (closed) return;
      closed = true;
      stopPolling();
      stopWaking();
      for (const sub of [...subscriptions]) {
        finish(sub);
        try {
          sub.subscriber.end();
        } catch (error) {
          fail(error);
        }
      }
    },
  };
}
