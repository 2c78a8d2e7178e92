/**
 * Lets at most `limit` pieces of work run at once per key, in order of arrival, within this
 * process. Internal. Only work in flight or waiting is held, so the map stays as small as the
 * number of pending logins.
 *
 * Why: the throttle is checked before a password is verified and charged after, so concurrent
 * attempts would all pass the check before any failure counts (a burst of 1,000 parallel guesses
 * would get 1,000 tries against a limit of 10). With a gate of 1 per account, each attempt checks
 * the throttle after the one before it has been counted: in one process the account limit is
 * exact, and across processes the overshoot is at most one attempt per process. Per address the
 * gate is wider, so that an office behind one NAT still logs in several people at a time, and the
 * overshoot is at most `limit - 1` per process.
 *
 * @example
 * ```ts
 * const oneAtATime = createKeyedGate(1);
 * await oneAtATime('alice', () => attempt());
 * ```
 */
export function createKeyedGate(
  limit: number,
): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const gates = new Map<string, { running: number; waiting: (() => void)[] }>();
  return async (key, work) => {
    let gate = gates.get(key);
    if (gate === undefined) {
      gate = { running: 0, waiting: [] };
      gates.set(key, gate);
    }
    const mine = gate;
    if (mine.running < limit) mine.running++;
    // Handed its place by one that finished: `running` already counts it.
    else await new Promise<void>((resolve) => mine.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = mine.waiting.shift();
      if (next !== undefined) next();
      else if (--mine.running === 0) gates.delete(key);
    }
  };
}
