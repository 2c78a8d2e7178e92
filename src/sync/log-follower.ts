import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { RevocableError } from '../errors/revocable-error.js';
import { withDeadline } from '../lib/deadline.js';
import { parseDuration } from '../lib/duration.js';
import type { RevocationEvent } from '../revocation/events.js';
import type { RevocationIndex } from '../revocation/types.js';
import type { Store, StoredEvent } from '../stores/types.js';
import { loadSnapshotFile, saveSnapshotFile } from './snapshot-file.js';
import type {
  PushedMessage,
  RevocationFollower,
  SyncHealth,
  SyncState,
  SyncTransport,
} from './types.js';

/** Options for {@link createLogFollower}. */
export interface LogFollowerOptions {
  /** The store whose log is followed (only `liveEvents` and `readEvents` are used). */
  store: Pick<Store, 'liveEvents' | 'readEvents'>;
  /** The index kept in step. */
  index: RevocationIndex;
  /**
   * A push channel (`createRedisTransport`, `createPostgresTransport`) for millisecond delivery.
   * Without one the follower polls the log only.
   */
  transport?: SyncTransport;
  /**
   * How often the log is read whatever the transport says (seconds or `500ms`-style strings are
   * not accepted: seconds, fractions allowed, or `1s`). Default 1 second. With a transport this is
   * the safety net that closes a gap a lost message left; without one it is the delivery latency.
   */
  pollInterval?: number | string;
  /** How often a heartbeat goes out on the transport (default 1 second). */
  heartbeatInterval?: number | string;
  /**
   * Past this many seconds without a complete read of the log the follower reports `stale`
   * (default 5). Give verifiers the same value as their `maxStaleness`.
   */
  maxStaleness?: number | string;
  /** Events read per page of the log (default 1000). */
  pageSize?: number;
  /**
   * Events applied before the follower yields to the event loop (default 2000: a few
   * milliseconds), so a mass revocation never blocks requests for long.
   */
  applyChunk?: number;
  /**
   * A file where the index is saved with its log position (on `stop()` and every
   * `snapshotInterval`), and loaded from at start when it exists: a restart then reads only the
   * events after that position instead of every live event.
   */
  snapshotFile?: string;
  /** How often the snapshot file is written (default 60 seconds). */
  snapshotInterval?: number | string;
  /** Receives every error of a read, a transport or a snapshot (default: a process warning). */
  onError?: (error: unknown) => void;
  /**
   * Runs after every complete read of the log (at start, after each poll, poke and reconnect),
   * before the read counts as done: `catchUp()` resolves after it. For state that lives beside
   * the log, like a shared key ring's `refresh`, so that it reaches this process on the same
   * schedule as revocations. Its failure is reported (`onError`) and does not fail the read: the
   * index is fresh all the same.
   */
  afterRead?: () => Promise<unknown>;
}

// How long stop() waits for a read of the log in flight.
const STOP_WAIT_SECONDS = 1;

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function positiveSeconds(value: number | string | undefined, fallback: number, name: string) {
  const seconds = value === undefined ? fallback : parseDuration(value, name);
  if (!(seconds > 0)) throw invalid(`${name} must be longer than zero.`);
  return seconds;
}

function count(value: number | undefined, fallback: number, name: string): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < 1) {
    throw invalid(`${name} must be a positive integer.`);
  }
  return result;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Creates a follower that keeps `index` in step with the store's revocation log: at start it
 * loads every live event (or a snapshot file and the events after it), then applies what its
 * transport pushes the moment it arrives, and reads the log after every (re)connect, after a
 * `poke`, and every `pollInterval` whatever happens. The index is marked fresh only by a complete
 * read of the log, as of when that read started: a lost push message, a publisher that died
 * between its append and its publish, or a dead transport can delay a revocation by one poll
 * interval, and past the staleness bound the verifiers' stale policy takes over. Applying is
 * idempotent and order-free, so duplicated and reordered delivery changes nothing.
 *
 * @example
 * ```ts
 * const follower = createLogFollower({ store, index, transport: createRedisTransport({ client }) });
 * await follower.start();
 * const verifier = createRevocableVerifier({ keys, index, maxStaleness: 5 });
 * ```
 */
export function createLogFollower(options: LogFollowerOptions): RevocationFollower {
  if (typeof options !== 'object' || options === null) {
    throw invalid('createLogFollower needs options.');
  }
  const { store, index, transport } = options;
  if (typeof store?.readEvents !== 'function' || typeof store.liveEvents !== 'function') {
    throw invalid('store must be a Store.');
  }
  if (typeof index?.apply !== 'function' || typeof index.markFresh !== 'function') {
    throw invalid('index must be a RevocationIndex.');
  }
  if (transport !== undefined && typeof transport?.open !== 'function') {
    throw invalid('transport must be a SyncTransport.');
  }
  const pollInterval = positiveSeconds(options.pollInterval, 1, 'pollInterval');
  const heartbeatInterval = positiveSeconds(options.heartbeatInterval, 1, 'heartbeatInterval');
  const maxStaleness = positiveSeconds(options.maxStaleness, 5, 'maxStaleness');
  const snapshotInterval = positiveSeconds(options.snapshotInterval, 60, 'snapshotInterval');
  const pageSize = count(options.pageSize, 1000, 'pageSize');
  const applyChunk = count(options.applyChunk, 2000, 'applyChunk');
  const snapshotFile = options.snapshotFile;
  if (snapshotFile !== undefined && (typeof snapshotFile !== 'string' || snapshotFile === '')) {
    throw invalid('snapshotFile must be a path.');
  }
  const afterRead = options.afterRead;
  if (afterRead !== undefined && typeof afterRead !== 'function') {
    throw invalid('afterRead must be a function.');
  }
  const report =
    options.onError ??
    ((error: unknown) =>
      process.emitWarning(
        `revocable: revocation follower: ${describe(error)}`,
        'RevocableWarning',
      ));

  let started = false;
  let stopped = false;
  let position = 0;
  let head = 0;
  // Every event up to this log position is applied (read, or pushed with its position): a pushed
  // message that starts past it is a gap, closed by reading the log at once.
  let contiguous = 0;
  let lagMs: number | null = null;
  let lastHeartbeatAt: number | null = null;
  let connected = false;
  let eventsApplied = 0;
  let eventsReceived = 0;
  let reconnects = 0;
  let everConnected = false;
  let readFailures = 0;
  let failing = false;
  // A gap in the pushed positions or a reconnection asked for a read that has not finished yet:
  // what `recovering` reports. A routine poll is no recovery, however long its read takes.
  let behind = false;
  let lastError: string | null = null;
  let reading: Promise<void> | null = null;
  let readAgain = false;
  const timers: Array<ReturnType<typeof setInterval>> = [];

  function fail(error: unknown): void {
    lastError = describe(error);
    try {
      report(error);
    } catch {
      // A reporter that throws must not stop the follower.
    }
  }

  function applyOne(event: RevocationEvent): void {
    eventsReceived++;
    if (index.apply(event)) eventsApplied++;
  }

  // Applied in slices, yielding between them, so a ban wave of 100,000 events never holds the
  // event loop for more than a few milliseconds at a time.
  async function applyStored(events: readonly StoredEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i++) {
      applyOne(events[i]!.event);
      if ((i + 1) % applyChunk === 0) await yieldToEventLoop();
    }
  }

  async function readLog(): Promise<void> {
    // Everything committed before this moment is visible to the reads below: once they finish,
    // the index is fresh as of it.
    const startedAt = index.now();
    for (;;) {
      const page = await store.readEvents(position, pageSize);
      await applyStored(page);
      if (page.length > 0) {
        position = page[page.length - 1]!.seq;
        if (position > head) head = position;
        if (position > contiguous) contiguous = position;
      }
      if (page.length < pageSize) break;
    }
    index.markFresh(startedAt);
    failing = false;
    if (afterRead !== undefined && !stopped) {
      try {
        await afterRead();
      } catch (error) {
        fail(error);
      }
    }
  }

  // One read at a time; a request while one runs makes one more run after it, so nothing that
  // asked for a read is answered by a read that started before it asked.
  function catchUp(): Promise<void> {
    if (reading !== null) {
      readAgain = true;
      return reading;
    }
    reading = (async () => {
      try {
        do {
          readAgain = false;
          await readLog();
        } while (readAgain && !stopped);
        // Every read asked for meanwhile has run: whatever was behind is caught up.
        behind = false;
      } catch (error) {
        readFailures++;
        failing = true;
        fail(error);
        throw error;
      } finally {
        reading = null;
      }
    })();
    return reading;
  }

  function catchUpQuietly(): void {
    if (stopped) return;
    catchUp().catch(() => {
      // Counted and reported by catchUp; the next poll tries again.
    });
  }

  function onMessage(message: PushedMessage): void {
    if (stopped) return;
    lastHeartbeatAt = index.now();
    if (message.type === 'heartbeat') return;
    if (message.type === 'poke') {
      catchUpQuietly();
      return;
    }
    const now = index.now();
    if (message.position !== undefined && message.events.length > 0) {
      const last = message.position + message.events.length - 1;
      if (last > head) head = last;
      if (message.position > contiguous + 1) {
        behind = true;
        catchUpQuietly();
      } else if (last > contiguous) contiguous = last;
    }
    // Applied at once, synchronously: the next verify of this process already sees them.
    for (const event of message.events) {
      try {
        applyOne(event);
        lagMs = Math.max(0, (now - event.at) * 1000);
      } catch (error) {
        fail(error);
      }
    }
  }

  async function loadStart(): Promise<void> {
    if (snapshotFile !== undefined) {
      const saved = await loadSnapshotFile(snapshotFile).catch((error: unknown) => {
        fail(error);
        return null;
      });
      if (saved !== null) {
        index.load(saved.bytes);
        position = saved.position;
        head = position;
        contiguous = position;
        await readLog();
        return;
      }
    }
    const startedAt = index.now();
    const live = await store.liveEvents(index.horizon());
    await applyStored(live.events);
    position = live.position;
    head = Math.max(head, position);
    contiguous = Math.max(contiguous, position);
    // Anything appended after liveEvents read its position is read by the next catch-up.
    index.markFresh(startedAt);
    await readLog();
  }

  async function saveSnapshot(): Promise<void> {
    if (snapshotFile === undefined) return;
    try {
      await saveSnapshotFile(snapshotFile, { position, bytes: index.snapshot() });
    } catch (error) {
      fail(error);
    }
  }

  function every(seconds: number, work: () => void): void {
    const timer = setInterval(work, seconds * 1000);
    // The follower never keeps a process alive on its own.
    timer.unref();
    timers.push(timer);
  }

  function state(): SyncState {
    if (stopped) return 'stopped';
    if (!started) return 'starting';
    if (failing || behind) {
      return index.staleness() > maxStaleness ? 'stale' : 'recovering';
    }
    return index.staleness() > maxStaleness ? 'stale' : 'fresh';
  }

  return {
    async start() {
      if (started || stopped) throw invalid('A follower starts once.');
      try {
        await loadStart();
      } catch (error) {
        stopped = true;
        fail(error);
        throw error;
      }
      started = true;
      if (transport !== undefined) {
        try {
          await transport.open({
            message: onMessage,
            connected() {
              connected = true;
              if (everConnected) reconnects++;
              everConnected = true;
              lastHeartbeatAt = index.now();
              // Whatever was published while the channel was down is in the log.
              behind = true;
              catchUpQuietly();
            },
            disconnected(error) {
              connected = false;
              fail(error);
            },
            error: fail,
          });
        } catch (error) {
          // Polling goes on; the transport keeps trying to connect on its own.
          fail(error);
        }
        every(heartbeatInterval, () => {
          transport.heartbeat().catch(fail);
        });
      }
      every(pollInterval, catchUpQuietly);
      if (snapshotFile !== undefined) every(snapshotInterval, () => void saveSnapshot());
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      for (const timer of timers) clearInterval(timer);
      // A read in flight is waited for, so that the snapshot saved below holds what it read, but
      // not for long: a store that stopped answering (a database behind a stalled connection)
      // would otherwise hold the shutdown for ever. A snapshot saved without that read is still
      // a correct one: its index holds at least every event up to its position.
      if (reading !== null) {
        await withDeadline(reading, STOP_WAIT_SECONDS, () => new Error('read in flight')).catch(
          () => {},
        );
      }
      await transport?.close().catch(fail);
      if (started) await saveSnapshot();
    },

    catchUp,

    health(): SyncHealth {
      const staleness = index.staleness();
      return {
        transport: transport?.kind ?? 'polling',
        state: state(),
        position,
        head,
        lagEvents: Math.max(0, head - contiguous),
        lagMs,
        freshAt: index.freshAt,
        staleness,
        maxStaleness,
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
