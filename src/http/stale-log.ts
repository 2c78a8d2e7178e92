import { isRevocableError, RevocableError } from '../errors/revocable-error.js';
import { withDeadline } from '../lib/deadline.js';
import type { RevocationIndex } from '../revocation/types.js';
import type { Store, StoredEvent } from '../stores/types.js';
import type { RevocationFollower } from '../sync/types.js';

// A read in flight this many timeouts old is given up for a new one.
const ABANDON_AFTER_TIMEOUTS = 3;

// Events per read of the log; a stale spell rarely holds more than one page of them.
const PAGE_SIZE = 1000;

// A reader that has not read for this long loads the live events again rather than page through
// everything logged since: the live events are bounded by the tokens' lifetime, the log is not.
const RELOAD_AFTER_SECONDS = 60;

/**
 * What the `'check-store'` policy reads besides the session while the index is stale: the
 * revocation log, applied to the index. The store knows sessions and subjects, but a token revoked
 * alone by its `jti` (RFC 7009) or by a retired key is recorded only in the log; an index whose
 * source is cut off (its connection, its bus) would let such a token through for as long as it
 * stays stale.
 *
 * With the follower that keeps the index, the read starts at the follower's position. Without one
 * there is no position to start from: the first read loads the live events (`liveEvents`, what a
 * starting process loads), and later reads go on from the position that reached, or load the live
 * events again when the last read is more than a minute old.
 *
 * Applying is idempotent and order-free, so the follower reading the same events again later
 * changes nothing. Reads are shared: a request that comes while one is in flight waits for it,
 * which started at most one read before the request. A failed read is `ERR_STORE_UNAVAILABLE`
 * (the store's own error when it threw one), so the request is refused, not let through; so is a
 * request whose wait on the read passes `timeout` seconds (each its own deadline). A read that
 * has not settled after three timeouts is given up, and the next request starts another, rather
 * than wait on a store that may never answer (the old one, left to finish, applies what it reads
 * like any other).
 * @internal
 */
export function createStaleLogReader(
  store: Pick<Store, 'readEvents'> & Partial<Pick<Store, 'liveEvents'>>,
  follower: Pick<RevocationFollower, 'health'> | null,
  index: RevocationIndex,
  timeout: number,
): () => Promise<void> {
  // The highest position this reader has applied, ahead of the follower's while it is cut off.
  let position = 0;
  // When this reader last finished a read, in the index's seconds (never: load the live events).
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | null = null;
  let readingSince = 0;

  async function fromStore<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (isRevocableError(error)) throw error;
      throw new RevocableError('ERR_STORE_UNAVAILABLE', 'The revocation log could not be read.', {
        cause: error,
      });
    }
  }

  function page(after: number): Promise<StoredEvent[]> {
    return fromStore(() => store.readEvents(after, PAGE_SIZE));
  }

  // Without a follower: what is live now, and the position it reaches (without `liveEvents`, the
  // log from where this reader stands).
  async function loadLive(): Promise<number> {
    const liveEvents = store.liveEvents;
    if (liveEvents === undefined) return position;
    const live = await fromStore(() => liveEvents.call(store, index.horizon()));
    for (const stored of live.events) index.apply(stored.event);
    return live.position;
  }

  // Where this read starts: the follower's position (or this reader's, if ahead); without a
  // follower, this reader's, or the live events' after a minute without a read.
  async function startPosition(now: number): Promise<number> {
    if (follower !== null) return Math.max(position, follower.health().position);
    return now - readAt > RELOAD_AFTER_SECONDS ? loadLive() : position;
  }

  async function read(): Promise<void> {
    const startedAt = index.now();
    await readFrom(await startPosition(startedAt));
    readAt = startedAt;
  }

  async function readFrom(start: number): Promise<void> {
    let after = start;
    position = Math.max(position, start);
    for (;;) {
      const events = await page(after);
      for (const stored of events) index.apply(stored.event);
      if (events.length === 0) return;
      // A read that overran its deadline may still be going beside a newer one: max, so that
      // the position only moves on.
      after = events[events.length - 1]!.seq;
      position = Math.max(position, after);
      if (events.length < PAGE_SIZE) return;
    }
  }

  const timedOut = (): RevocableError =>
    new RevocableError(
      'ERR_STORE_UNAVAILABLE',
      `The revocation log could not be read within ${timeout} s.`,
    );

  return () => {
    const at = performance.now();
    // A read in flight is shared, even one slower than the timeout (a slow store is not given
    // more reads to do), until it is so old that it may never settle (a half-open connection).
    if (reading === null || at - readingSince > ABANDON_AFTER_TIMEOUTS * timeout * 1000) {
      const current: Promise<void> = read().finally(() => {
        if (reading === current) reading = null;
      });
      // Each caller has its own deadline on it; a read nobody waits on any more must not end
      // the process with an unhandled rejection.
      current.catch(() => undefined);
      reading = current;
      readingSince = at;
    }
    return withDeadline(reading, timeout, timedOut);
  };
}
