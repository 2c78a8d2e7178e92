import { isRevocableError, RevocableError } from '../errors/revocable-error.js';
import type { RevocationIndex } from '../revocation/types.js';
import type { Store, StoredEvent } from '../stores/types.js';
import type { RevocationFollower } from '../sync/types.js';

// Events per read of the log; a stale spell rarely holds more than one page of them.
const PAGE_SIZE = 1000;

/**
 * What the `'check-store'` policy reads besides the session while the index is stale: the
 * revocation log past the follower's position, applied to the index. The store knows sessions and
 * subjects, but a token revoked alone by its `jti` (RFC 7009) or by a retired key is recorded only
 * in the log; a follower that cannot reach the log (its connection cut, its bus down) would let
 * such a token through for as long as it stays stale.
 *
 * Applying is idempotent and order-free, so the follower reading the same events again later
 * changes nothing. Reads are shared: a request that comes while one is in flight waits for it,
 * which started at most one read before the request. A failed read is `ERR_STORE_UNAVAILABLE`
 * (the store's own error when it threw one), so the request is refused, not let through.
 * @internal
 */
export function createStaleLogReader(
  store: Pick<Store, 'readEvents'>,
  follower: Pick<RevocationFollower, 'health'>,
  index: RevocationIndex,
): () => Promise<void> {
  // The highest position this reader has applied, ahead of the follower's while it is cut off.
  let position = 0;
  let reading: Promise<void> | null = null;

  async function page(after: number): Promise<StoredEvent[]> {
    try {
      return await store.readEvents(after, PAGE_SIZE);
    } catch (error) {
      if (isRevocableError(error)) throw error;
      throw new RevocableError('ERR_STORE_UNAVAILABLE', 'The revocation log could not be read.', {
        cause: error,
      });
    }
  }

  async function read(): Promise<void> {
    let after = Math.max(position, follower.health().position);
    for (;;) {
      const events = await page(after);
      for (const stored of events) index.apply(stored.event);
      if (events.length === 0) return;
      // Reads are one at a time and start at or past position, so a page only moves it on.
      after = events[events.length - 1]!.seq;
      position = after;
      if (events.length < PAGE_SIZE) return;
    }
  }

  return () => {
    reading ??= read().finally(() => {
      reading = null;
    });
    return reading;
  };
}
