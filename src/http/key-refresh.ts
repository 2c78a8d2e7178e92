import type { Clock } from '../lib/clock.js';

/** Seconds between two reloads of the key ring for unknown `kid`s. */
const RELOAD_INTERVAL = 1;

/**
 * Seconds a reload may take before the requests waiting on it are answered as if it found
 * nothing. @internal
 */
export const RELOAD_TIMEOUT = 5;

/**
 * Wraps `refreshKeys` for the guard: concurrent requests share one reload, a reload starts at most
 * once a second (a stream of tokens with forged `kid`s must not become a stream of fetches from
 * the auth server; a request within that second waits for the next reload rather than being
 * refused, since a key rotated just after a reload must still be learnt at once), and a reload
 * that fails counts as "nothing changed", so the token is refused
 * as it was: a forged `kid` while the auth server is unreachable stays a 401, not a 503 that tells
 * clients to retry. So does one that has not settled after {@link RELOAD_TIMEOUT} seconds: a
 * `refreshKeys` of the application's own that never settles (a fetch without a timeout to a host
 * that does not answer) must not hold requests open for ever. It is not cancelled, and the next
 * reload may start beside it, still at most once a second. @internal
 */
export function createKeyReloader(
  refreshKeys: () => Promise<boolean>,
  now: Clock,
): () => Promise<boolean> {
  let running: Promise<boolean> | null = null;
  let lastStart = Number.NEGATIVE_INFINITY;

  async function reload(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(resolve, RELOAD_TIMEOUT * 1000, false);
    });
    try {
      // A refreshKeys that throws instead of rejecting is a failed reload too.
      const changed = new Promise<boolean>((resolve) => resolve(refreshKeys()));
      return (await Promise.race([changed, timeout])) === true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  return () => {
    if (running !== null) return running;
    const at = now();
    const wait = lastStart + RELOAD_INTERVAL - at;
    lastStart = wait > 0 ? lastStart + RELOAD_INTERVAL : at;
    const attempt =
      wait > 0
        ? new Promise<void>((resolve) => setTimeout(resolve, Math.ceil(wait * 1000))).then(reload)
        : reload();
    running = attempt;
    // reload never rejects, so neither does this.
    void attempt.then(() => {
      if (running === attempt) running = null;
    });
    return attempt;
  };
}
