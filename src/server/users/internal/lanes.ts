/**
 * Runs work one at a time per key, in order of arrival, within this process. Internal.
 *
 * Why: the throttle is checked before a password is verified and charged after, so concurrent
 * attempts on one account would all pass the check before any failure counts (a burst of 1,000
 * parallel guesses would get 1,000 tries against a limit of 10). In a lane per account, each
 * attempt checks the throttle after the one before it has been counted, so in one process the
 * account limit is exact; across processes the overshoot is at most one attempt per process.
 * Only work in flight is held, so the map stays as small as the number of pending logins.
 *
 * @example
 * ```ts
 * const inLane = createLanes();
 * await inLane('alice', () => attempt());
 * ```
 */
export function createLanes(): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<void>>();
  return async (key, work) => {
    const before = tails.get(key) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = before.then(() => mine);
    tails.set(key, tail);
    try {
      await before;
      return await work();
    } finally {
      release();
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
