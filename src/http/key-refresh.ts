import type { Clock } from '../lib/clock.js';

/** Seconds between two reloads of the key ring for unknown `kid`s. */
const RELOAD_INTERVAL = 1;

/**
 * Seconds a reload may take before the requests waiting on it are answered as if it found
 * nothing. @internal
 */
export const RELOAD_TIMEOUT = 5;

const TIMED_OUT = Symbol('timed out');
const NOTHING_NEW = Promise.resolve(false);

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
 * reload may start beside it, still at most once a second.
 *
 * After a reload has timed out, and until one resolves, requests no longer wait: each is refused
 * at once while reloads go on behind it, at the same pace. An auth server that accepts
 * connections and never answers would otherwise hold every request with an unknown `kid` (anyone
 * can send one) for the whole timeout, over and over, for as long as it hangs. A reload that
 * fails quickly (the host refuses the connection) changes nothing here: the wait it costs is at
 * most the interval. @internal
 */
export function createKeyReloader(
  refreshKeys: () => Promise<boolean>,
  now: Clock,
): () => Promise<boolean> {
  let running: Promise<boolean> | null = null;
  let lastStart = Number.NEGATIVE_INFINITY;
  let unanswered = false;

  async function reload(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, RELOAD_TIMEOUT * 1000, TIMED_OUT);
    });
    try {
      // A refreshKeys that throws instead of rejecting is a failed reload too.
      const changed = new Promise<boolean>((resolve) => resolve(refreshKeys()));
      // Any answer, even one that comes after the timeout, shows the source answers again; a
      // rejection does not (a fetch that hung may end in its own timeout).
      changed.then(
        () => {
          unanswered = false;
        },
        () => {},
      );
      const outcome = await Promise.race([changed, timeout]);
      if (outcome === TIMED_OUT) {
        unanswered = true;
        return false;
      }
      return outcome === true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  function start(): Promise<boolean> {
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
  }

  return () => {
    if (!unanswered) return start();
    void start();
    return NOTHING_NEW;
  };
}
