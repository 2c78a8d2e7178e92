import { emitRevocableWarning } from '../../lib/warning.js';

/**
 * Watches the clock of this process against the auth server's, from the `Date` header of each
 * answer that opens the stream, and warns (once, until the clocks agree again) when they differ
 * by enough to break something. The source judges freshness by the server's `freshAt` against
 * this clock, so a clock ahead makes the index look staler than it is, and past `maxStaleness`
 * every request fails with `ERR_REVOCATION_STALE` though the feed is fine; a clock behind by
 * more than the index's `clockSkew` refuses fresh tokens as issued in the future. Neither is
 * corrected here: a `Date` a proxy rewrote, or an answer held back, would then move freshness
 * itself. Only reported, so that a set-up that fails tells why. @internal
 */
export function createClockWatch(options: {
  readonly now: () => number;
  readonly maxStaleness: number;
  readonly clockSkew: number;
}): (serverDate: string | null) => void {
  let warned = false;
  return (serverDate) => {
    const parsed = serverDate === null ? Number.NaN : Date.parse(serverDate);
    if (!Number.isFinite(parsed)) return;
    const local = options.now();
    // Date has a one-second resolution: the server's clock read from D to D + 1 when it wrote it,
    // so each difference below is the least the clocks differ by (the answer's transit aside).
    const server = parsed / 1000;
    const ahead = local - (server + 1);
    const behind = server - local;
    const limitAhead = Math.max(1, options.maxStaleness / 2);
    if (ahead <= limitAhead && behind <= options.clockSkew) {
      warned = false;
      return;
    }
    if (warned) return;
    warned = true;
    const message =
      ahead > limitAhead
        ? `this process's clock is at least ${ahead.toFixed(1)} s ahead of the auth server's (its Date header): revocations look that much staler than they are, and past maxStaleness (${options.maxStaleness} s) every request fails with ERR_REVOCATION_STALE.`
        : `this process's clock is at least ${behind.toFixed(1)} s behind the auth server's (its Date header), more than the index's clockSkew (${options.clockSkew} s): tokens just issued are refused as issued in the future (ERR_JWT_IAT_FUTURE).`;
    emitRevocableWarning(
      'REVOCABLE_CLOCK_OFFSET',
      `revocable: HTTP revocation source: ${message} Synchronise the clocks (NTP).`,
    );
  };
}
