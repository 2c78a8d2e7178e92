/**
 * The wait before the next attempt after `failures` failures in a row: `firstMs`, doubling each
 * time, at most `maxMs`. A heartbeat sets the count back to zero.
 */
export function reconnectDelay(failures: number, firstMs: number, maxMs: number): number {
  return Math.min(firstMs * 2 ** Math.min(Math.max(failures - 1, 0), 30), maxMs);
}

/**
 * Waits `ms`, or less if `signal` aborts first. The timer holds the process: a reconnection that
 * is pending is the source's work, and the source's `stop()` (the signal) ends it.
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
