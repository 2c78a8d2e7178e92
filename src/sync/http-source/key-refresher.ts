/** Options of {@link createKeyRefresher}. */
export interface KeyRefresherOptions {
  /** Fetches the JWKS and applies it; resolves with whether the ring changed. */
  readonly load: () => Promise<boolean>;
  /** The shortest time between the starts of two fetches, in milliseconds. */
  readonly minIntervalMs: number;
  /** A monotonic clock in milliseconds (default `performance.now`). */
  readonly now?: () => number;
}

/** Fetches of the JWKS, rate-limited and shared. */
export interface KeyRefresher {
  /**
   * A fetch: the one in flight if there is one, else a new one, at least `minIntervalMs` after the
   * start of the previous one (a call inside that window waits for the next allowed fetch, which
   * every caller meanwhile shares). Resolves with whether the ring changed.
   */
  refresh(): Promise<boolean>;
  /**
   * A fetch that starts after this call (one in flight is not enough: it may have been answered
   * before a change this call knows of), rate-limited and shared all the same.
   */
  refreshAfterNow(): Promise<boolean>;
  /**
   * No fetch starts within `ms` from now (the server refused one with a `Retry-After`): a call
   * meanwhile waits for the fetch after it, as it waits for the interval. Never shortens a wait.
   */
  holdOff(ms: number): void;
  /** Drops a waiting fetch (its callers get false); a fetch in flight is the caller's to abort. */
  close(): void;
}

/**
 * The rate limit of JWKS fetches. A resource server fetches the JWKS when a token names a kid its
 * ring lacks (a key minutes old), so anyone can make it fetch by sending made-up kids: at most one
 * fetch starts per interval whatever they send, and the requests that wait share it.
 */
export function createKeyRefresher(options: KeyRefresherOptions): KeyRefresher {
  const { load, minIntervalMs } = options;
  const now = options.now ?? (() => performance.now());
  let inFlight: Promise<boolean> | null = null;
  let queued: Promise<boolean> | null = null;
  let lastStart = Number.NEGATIVE_INFINITY;
  // No fetch starts before this (holdOff), whatever the interval says.
  let heldUntil = Number.NEGATIVE_INFINITY;
  // The longest a turn can be waited for: the timer is never set longer, whatever the clock says.
  let longestWait = minIntervalMs;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let wake: (() => void) | null = null;

  function begin(): Promise<boolean> {
    lastStart = now();
    const run = load().finally(() => {
      if (inFlight === run) inFlight = null;
    });
    inFlight = run;
    return run;
  }

  function nextTurn(): number {
    return Math.max(lastStart + minIntervalMs, heldUntil);
  }

  function waitTurn(): Promise<void> {
    const ms = nextTurn() - now();
    return new Promise((resolve) => {
      if (closed || !(ms > 0)) {
        resolve();
        return;
      }
      wake = resolve;
      timer = setTimeout(
        () => {
          timer = null;
          wake = null;
          resolve();
        },
        Math.min(ms, longestWait),
      );
      // A waiting fetch must not hold a process that has nothing else to do.
      timer.unref();
    });
  }

  function request(afterNow: boolean): Promise<boolean> {
    if (closed) return Promise.resolve(false);
    if (queued !== null) return queued;
    if (inFlight !== null && !afterNow) return inFlight;
    const previous = inFlight;
    if (previous === null && now() >= nextTurn()) return begin();
    const next = (async () => {
      // Always at least one await before `queued` is cleared: the assignment below comes first.
      await previous?.catch(() => false);
      await waitTurn();
      queued = null;
      return closed ? false : begin();
    })();
    queued = next;
    return next;
  }

  return {
    refresh: () => request(false),
    refreshAfterNow: () => request(true),
    holdOff(ms) {
      heldUntil = Math.max(heldUntil, now() + ms);
      longestWait = Math.max(longestWait, ms);
    },
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      wake?.();
      wake = null;
    },
  };
}
