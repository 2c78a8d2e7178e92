/**
 * Lets at most `limit` pieces of work run at once per key (a client address), in order of
 * arrival, within this process. Internal.
 *
 * Why: the throttle is checked before a password is verified and charged after. Attempts on one
 * account already run one at a time (see `createLanes`), but attempts from one address on many
 * accounts would otherwise all pass the address check before any failure counts: 400 parallel
 * guesses got 238 verifies against an address limit of 100. With at most `limit` in flight, the
 * overshoot is at most `limit - 1` per process, and one address (an office behind one NAT) still
 * logs in several people at a time. Only work in flight or waiting is held.
 *
 * @example
 * ```ts
 * const withinGate = createAddressGate(4);
 * await withinGate('192.0.2.1', () => attempt());
 * ```
 */
export function createAddressGate(
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
