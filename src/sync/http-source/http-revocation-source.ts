import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { RevocableError } from '../../errors/revocable-error.js';
import type { RevocationEvent } from '../../revocation/events.js';
import { bindKeyRing, retireRevokedKeys } from '../../revocation/key-ring-binding.js';
import type { SyncHealth, SyncState } from '../types.js';
import { pause, reconnectDelay } from './backoff.js';
import { createClockWatch } from './clock-offset.js';
import { shownUrl, streamUrl } from './endpoints.js';
import type { FeedMessage } from './feed-messages.js';
import { fetchJwks, fetchSnapshot } from './fetch-documents.js';
import { type FirstHeartbeat, waitForFirstHeartbeat } from './first-heartbeat.js';
import {
  connectionError,
  describeError,
  type HttpContext,
  retryAfterOf,
  STOPPED,
} from './http-request.js';
import { applyJwks, type JwksFollowState } from './jwks.js';
import { createKeyRefresher } from './key-refresher.js';
import { resolveOptions } from './options.js';
import { runStream, type StreamEnd } from './stream-connection.js';
import type { HttpRevocationSource, HttpRevocationSourceOptions } from './types.js';

// Events of a snapshot applied between two yields to the event loop (a few milliseconds' worth).
const APPLY_CHUNK = 2000;
// Whatever asks for the JWKS, fetches start at least this far apart.
const KEY_FETCH_INTERVAL_MS = 1000;

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

/**
 * Creates the source that keeps a resource server's revocation index and key ring in step with
 * an auth server it knows only by URL (`revocable serve`; see docs/server.md, "The revocation
 * feed"):
 *
 * - at `start()` it fetches the JWKS into `keys` and the snapshot (`GET /revocations`) into the
 *   index, then follows `GET /revocations/stream?after=<position>`, applying each revocation the
 *   moment its message is parsed;
 * - only the server marks the index fresh: each heartbeat whose `freshAt` moved on since the
 *   last, as of `min(freshAt, now)` (its `freshAt` stops moving while the server cannot read its
 *   log, so staleness here is the server's, plus the way; and a server clock ahead of this one
 *   does not hide staleness: a repeated `freshAt` marks nothing). A
 *   snapshot does not: it says nothing of how fresh the server's own view is. So `start()`
 *   resolves at the first heartbeat, which the server sends as soon as the stream has caught up;
 * - a stream that drops, goes silent past `heartbeatTimeout`, or sends a message it cannot
 *   understand whole is reopened with `Last-Event-ID` (the last revocation or heartbeat id), after
 *   `reconnectDelay`, doubling on each failure in a row up to `maxReconnectDelay`, back to the
 *   first delay once a heartbeat arrives: nothing is lost or applied twice, and meanwhile the
 *   index grows stale and the verifiers apply their stale policy;
 * - a request the server refuses with 503 or 429 and a `Retry-After` (a stream past its
 *   `--max-streams`, say) is not repeated before that wait, nor after `maxReconnectDelay` (a
 *   broken server must not park the source); a `Retry-After` that is not a delta-seconds or an
 *   HTTP-date, or asks more than a day, is ignored;
 * - a `reset` (the server's log no longer reaches the position) or a 400 (the position was
 *   refused) loads the snapshot again and streams after it; applying is idempotent, so nothing is
 *   cleared first;
 * - the key ring is bound to the index (`bindKeyRing`: a key revocation retires the key at once)
 *   and the JWKS is fetched again after every key revocation applied (its replacement), every
 *   `keyRefreshInterval`, and on `refreshKeys()` (a kid the ring lacks), at most once a second.
 *
 * A running source keeps the process alive, as its open connection would; `stop()` releases
 * everything.
 *
 * @example
 * ```ts
 * const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
 * const source = createHttpRevocationSource({ url: 'https://auth.example', index });
 * await source.start();
 * const verifier = createRevocableVerifier({
 *   keys: source.keys,
 *   index,
 *   issuer: 'https://auth.example',
 *   audience: 'api',
 *   maxStaleness: 5,
 * });
 * ```
 */
export function createHttpRevocationSource(
  options: HttpRevocationSourceOptions,
): HttpRevocationSource {
  const config = resolveOptions(options);
  const { endpoints, index, keys } = config;
  const stopController = new AbortController();
  const http: HttpContext = {
    fetch: config.fetch,
    headers: config.headers,
    signal: stopController.signal,
  };
  const shownStream = shownUrl(endpoints.stream);

  let started = false;
  let stopped = false;
  let ready = false;
  let stopping: Promise<void> | null = null;
  let loop: Promise<void> | null = null;
  let position = 0;
  let head = 0;
  // What the next connection sends as Last-Event-ID; null right after a snapshot (`after` only).
  let lastEventId: string | null = null;
  let connected = false;
  let everConnected = false;
  let reloading = false;
  let failuresInRow = 0;
  let eventsApplied = 0;
  let eventsReceived = 0;
  let reconnects = 0;
  let readFailures = 0;
  let lagMs: number | null = null;
  let lastHeartbeatAt: number | null = null;
  const jwksState: JwksFollowState = {
    forgotten: new Set(),
    missingSince: new Map(),
    grace: config.droppedKeyGrace,
  };
  // The server's freshAt of the last heartbeat that marked the index fresh, on the server's clock.
  let serverFreshAt = Number.NaN;
  let lastError: string | null = null;
  let lastErrorCause: unknown = null;
  let keyTimer: ReturnType<typeof setInterval> | null = null;
  // A JWKS read once a key dropped from the JWKS is past its grace, to retire it then.
  let graceTimer: ReturnType<typeof setTimeout> | null = null;
  const cleanups: Array<() => void> = [];
  let firstHeartbeat: FirstHeartbeat | null = null;

  function note(error: unknown): void {
    lastError = describeError(error);
    lastErrorCause = error;
  }

  function report(error: unknown): void {
    note(error);
    try {
      config.onError(error);
    } catch {
      // A reporter that throws must not stop the source.
    }
  }

  async function loadKeys(): Promise<boolean> {
    try {
      const loaded = await fetchJwks(http, endpoints.jwks, config.requestTimeoutMs);
      const before = keys.revision;
      applyJwks(keys, loaded, shownUrl(endpoints.jwks), jwksState, index.now());
      // A key the index already holds revoked (a snapshot that came before this JWKS, which
      // still lists the key) is retired as it arrives: bindKeyRing retires only the keys the
      // ring holds when the revocation or the snapshot comes.
      retireRevokedKeys(index, keys);
      if (jwksState.missingSince.size > 0) readAfterGrace();
      return keys.revision !== before;
    } catch (error) {
      if (error === STOPPED) return false;
      readFailures++;
      note(error);
      // A JWKS refused with a Retry-After is not asked again sooner, nor later than the stream
      // would be: the requests for it meanwhile wait, as they wait for the once-a-second turn.
      const asked = retryAfterOf(error);
      if (asked !== null) refresher.holdOff(Math.min(asked, config.maxReconnectDelayMs));
      throw error;
    }
  }

  const refresher = createKeyRefresher({ load: loadKeys, minIntervalMs: KEY_FETCH_INTERVAL_MS });

  // A key held in its grace is retired by the first read past it, which the periodic read would
  // bring only minutes later.
  function readAfterGrace(): void {
    if (graceTimer !== null || stopped) return;
    graceTimer = setTimeout(() => {
      graceTimer = null;
      refreshQuietly(true);
    }, config.droppedKeyGrace * 1000);
    graceTimer.unref();
  }

  function refreshQuietly(afterNow: boolean): void {
    if (stopped) return;
    (afterNow ? refresher.refreshAfterNow() : refresher.refresh()).catch((error: unknown) => {
      if (!stopped) report(error);
    });
  }

  function applyEvent(event: RevocationEvent): void {
    eventsReceived++;
    if (index.apply(event)) eventsApplied++;
  }

  async function loadSnapshot(): Promise<void> {
    reloading = true;
    try {
      const snapshot = await fetchSnapshot(http, endpoints.snapshot, config.requestTimeoutMs);
      // Every event was checked above: the snapshot is applied whole, in slices so that a large
      // one never holds the event loop for long.
      const { events } = snapshot;
      for (let i = 0; i < events.length; i++) {
        applyEvent(events[i]!);
        if ((i + 1) % APPLY_CHUNK === 0) await yieldToEventLoop();
      }
      position = snapshot.position;
      head = snapshot.position;
      lastEventId = null;
    } catch (error) {
      if (error !== STOPPED) readFailures++;
      throw error;
    } finally {
      reloading = false;
    }
  }

  function onMessage(message: FeedMessage): void {
    if (stopped) return;
    const now = index.now();
    if (message.type === 'revocation') {
      applyEvent(message.event);
      lagMs = Math.max(0, (now - message.event.at) * 1000);
    } else if (message.type === 'heartbeat') {
      // Fresh only when the server read its log again: a heartbeat repeating the last freshAt
      // says it has not, whatever the clocks. The server's clock may run ahead of this one, so
      // never fresher than now; a freshAt merely ahead, and frozen, must not be taken as "now"
      // at every heartbeat, which would hide the stall for as long. Any other value is a new
      // read, even a smaller one: a clock set back, or another server process behind the same
      // URL after a reconnect (markFresh never moves the index's freshness back).
      if (message.freshAt !== serverFreshAt) {
        serverFreshAt = message.freshAt;
        index.markFresh(Math.min(message.freshAt, now));
      }
      lastHeartbeatAt = now;
      failuresInRow = 0;
      firstHeartbeat?.heard();
    }
    position = message.position;
    if (position > head) head = position;
    lastEventId = String(position);
  }

  /**
   * The wait after a failure: the back-off, or longer when the server refused with a
   * `Retry-After` (a 503 `ERR_STREAM_LIMIT` when it serves all the streams it may). Reconnecting
   * sooner would only be refused again, and with many resource servers refused together it would
   * multiply the load on a server already full. Never more than `maxReconnectDelay`, though: a
   * broken or hostile server must not park the source for as long as it likes (the staleness
   * bound and `health()` tell meanwhile).
   */
  function waitAfterFailure(error: unknown): Promise<void> {
    failuresInRow++;
    const own = reconnectDelay(failuresInRow, config.reconnectDelayMs, config.maxReconnectDelayMs);
    return pause(
      Math.max(own, Math.min(retryAfterOf(error) ?? 0, config.maxReconnectDelayMs)),
      stopController.signal,
    );
  }

  const checkClock = createClockWatch({
    now: index.now,
    maxStaleness: config.maxStaleness,
    clockSkew: index.clockSkew,
  });

  function connect(): Promise<StreamEnd> {
    return runStream({
      http,
      url: streamUrl(endpoints.stream, position),
      lastEventId,
      heartbeatTimeoutMs: config.heartbeatTimeoutMs,
      maxMessageLength: config.maxMessageLength,
      opened(serverDate) {
        checkClock(serverDate);
        connected = true;
        if (everConnected) reconnects++;
        everConnected = true;
      },
      message: onMessage,
    });
  }

  async function follow(): Promise<void> {
    let needSnapshot = false;
    // Resets that came less than maxReconnectDelay after the one before: a server that answers
    // every stream with a heartbeat and a reset would otherwise have the snapshot fetched in a
    // tight loop, the heartbeats clearing failuresInRow each time.
    let quickResets = 0;
    let lastResetAt = Number.NEGATIVE_INFINITY;
    while (!stopped) {
      if (needSnapshot) {
        try {
          await loadSnapshot();
          needSnapshot = false;
        } catch (error) {
          if (stopped) return;
          report(error);
          await waitAfterFailure(error);
          continue;
        }
      }
      const end = await connect();
      connected = false;
      if (end.kind === 'stopped' || stopped) return;
      if (end.kind === 'failed' && !end.heard) readFailures++;
      if (end.error !== null) report(end.error);
      if (end.kind === 'reset') {
        needSnapshot = true;
        // Measured from the end of the last wait, so that a server that keeps resetting is
        // kept at the longest delay rather than let back to "at once" by the wait itself.
        quickResets =
          performance.now() - lastResetAt < config.maxReconnectDelayMs ? quickResets + 1 : 0;
        // The server said what to do: at once, unless it keeps saying it.
        if (quickResets > 0) {
          await pause(
            reconnectDelay(quickResets, config.reconnectDelayMs, config.maxReconnectDelayMs),
            stopController.signal,
          );
          lastResetAt = performance.now();
          continue;
        }
        lastResetAt = performance.now();
        if (failuresInRow === 0) {
          failuresInRow++;
          continue;
        }
      }
      await waitAfterFailure(end.error);
    }
  }

  async function halt(): Promise<void> {
    stopped = true;
    stopController.abort(STOPPED);
    refresher.close();
    if (keyTimer !== null) clearInterval(keyTimer);
    keyTimer = null;
    if (graceTimer !== null) clearTimeout(graceTimer);
    graceTimer = null;
    for (const cleanup of cleanups.splice(0)) cleanup();
    firstHeartbeat?.fail(stoppedEarly());
    await loop?.catch(() => undefined);
    connected = false;
  }

  function stopOnce(): Promise<void> {
    stopping ??= halt();
    return stopping;
  }

  function state(): SyncState {
    if (stopped) return 'stopped';
    if (!ready) return 'starting';
    const stale = index.staleness() > config.maxStaleness;
    if (stale) return 'stale';
    return connected && !reloading ? 'fresh' : 'recovering';
  }

  function stoppedEarly(): RevocableError {
    return connectionError(
      `The HTTP revocation source of ${shownStream} stopped before it started.`,
    );
  }

  function noHeartbeat(): RevocableError {
    const last = lastError === null ? '' : ` (last error: ${lastError})`;
    return connectionError(
      `No heartbeat from ${shownStream} within ${config.startTimeoutMs / 1000} s${last}.`,
      lastErrorCause,
    );
  }

  return {
    keys,

    get position() {
      return position;
    },

    async start() {
      if (started || stopped) throw invalid('An HTTP revocation source starts once.');
      started = true;
      cleanups.push(bindKeyRing(index, keys));
      // The key of a revocation is retired at once by the binding; its replacement comes with
      // the JWKS read after it.
      cleanups.push(
        index.onApply((event) => {
          if (event.kind === 'key') refreshQuietly(true);
        }),
      );
      try {
        await Promise.all([refresher.refresh(), loadSnapshot()]);
        if (stopped) throw STOPPED;
        firstHeartbeat = waitForFirstHeartbeat(config.startTimeoutMs, noHeartbeat);
        loop = follow();
        await firstHeartbeat.promise;
        firstHeartbeat = null;
      } catch (error) {
        firstHeartbeat = null;
        const reason = error === STOPPED ? stoppedEarly() : error;
        if (!stopped) note(reason);
        await stopOnce();
        throw reason;
      }
      ready = true;
      keyTimer = setInterval(() => refreshQuietly(false), config.keyRefreshIntervalMs);
      // The stream holds the process; the periodic fetch need not.
      keyTimer.unref();
    },

    stop: stopOnce,

    refreshKeys() {
      if (stopped) return Promise.resolve(false);
      return refresher.refresh().catch((error: unknown) => {
        if (stopped) return false;
        throw error;
      });
    },

    health(): SyncHealth {
      return {
        transport: 'http',
        state: state(),
        position,
        head,
        lagEvents: Math.max(0, head - position),
        lagMs,
        freshAt: index.freshAt,
        staleness: index.staleness(),
        maxStaleness: config.maxStaleness,
        lastHeartbeatAt,
        connected,
        eventsApplied,
        eventsReceived,
        reconnects,
        readFailures,
        lastError,
      };
    },
  };
}
