/** What `start()` waits for: the first heartbeat, within a time limit. */
export interface FirstHeartbeat {
  /** Settles with the first of `heard`, `fail`, or the time limit. */
  readonly promise: Promise<void>;
  heard(): void;
  fail(error: unknown): void;
}

/**
 * The wait of `start()` for the first heartbeat: the index is fresh only once the server has said
 * so. Past `timeoutMs` it rejects with `timeoutError()` (made then, so that it can tell the last
 * error met meanwhile). Settles once; its timer is cleared when it does.
 */
export function waitForFirstHeartbeat(
  timeoutMs: number,
  timeoutError: () => unknown,
): FirstHeartbeat {
  let settled = false;
  let resolveIt = (): void => {};
  let rejectIt = (_error: unknown): void => {};
  const promise = new Promise<void>((resolve, reject) => {
    resolveIt = resolve;
    rejectIt = reject;
  });
  const settle = (then: () => void): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    then();
  };
  const timer = setTimeout(() => settle(() => rejectIt(timeoutError())), timeoutMs);
  return {
    promise,
    heard: () => settle(resolveIt),
    fail: (error) => settle(() => rejectIt(error)),
  };
}
