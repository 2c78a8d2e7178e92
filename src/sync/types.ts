import type { RevocationEvent } from '../revocation/events.js';

/**
 * Where a follower stands:
 * - `starting`: loading the live events of the log for the first time;
 * - `recovering`: catching up with the log after a gap, a reconnect or a failed read;
 * - `fresh`: its last complete read of the log is within the staleness bound;
 * - `stale`: it is not: the index may miss revocations, and verifiers apply their stale policy;
 * - `stopped`: `stop()` was called.
 */
export type SyncState = 'starting' | 'recovering' | 'fresh' | 'stale' | 'stopped';

/**
 * How a follower hears of new events besides reading the log: `polling` reads the log only;
 * `http` is a source that follows an auth server's revocation feed over HTTP
 * (`createHttpRevocationSource`).
 */
export type SyncTransportKind = 'redis' | 'postgres' | 'polling' | 'http';

/**
 * A follower's health, as plain data for a health endpoint or metrics. Times are epoch seconds
 * (the index's clock); durations are milliseconds where they say so.
 */
export interface SyncHealth {
  readonly transport: SyncTransportKind;
  readonly state: SyncState;
  /** The last log position read and applied. */
  readonly position: number;
  /** The highest log position known to exist (from the log and from pushed messages). */
  readonly head: number;
  /**
   * Events known to exist (by a read, or by the position a pushed message carried) that are not
   * applied yet: past a gap in the pushed messages, until the log read it triggers.
   */
  readonly lagEvents: number;
  /**
   * Milliseconds between the commit of the last event pushed to this process and its arrival,
   * as far as the clocks tell (the event's `at` against this process's clock); null before one.
   */
  readonly lagMs: number | null;
  /** When the last complete read of the log started: everything committed before it is applied. */
  readonly freshAt: number | null;
  /** Seconds since `freshAt` (Infinity before the first read). */
  readonly staleness: number;
  /** The staleness bound this follower reports `stale` past, in seconds. */
  readonly maxStaleness: number;
  /** When this process last heard its push channel (a message or its own heartbeat); null if none. */
  readonly lastHeartbeatAt: number | null;
  /** Whether the push channel is connected (always false for polling). */
  readonly connected: boolean;
  /** Events applied that changed the index, since start. */
  readonly eventsApplied: number;
  /** Events received (pushed or read), duplicates included, since start. */
  readonly eventsReceived: number;
  /** Times the push channel connected again after losing its connection. */
  readonly reconnects: number;
  /** Reads of the log that failed, since start. */
  readonly readFailures: number;
  /** The last error (its message, never a secret), or null. */
  readonly lastError: string | null;
}

/**
 * Keeps one process's revocation index in step with the store's log. Made by
 * `createLogFollower` with a transport (`createRedisTransport`, `createPostgresTransport`) or none
 * (polling).
 */
export interface RevocationFollower {
  /**
   * Loads every live event of the log into the index (or a snapshot file, when one is given and
   * newer), then follows. Resolves once the index is fresh. Rejects, and stops, if the first read
   * of the log fails.
   */
  start(): Promise<void>;
  /** Stops reading and closes the push channel; the index keeps what it has. Idempotent. */
  stop(): Promise<void>;
  /** Reads the log now (at once after a gap); resolves when caught up. */
  catchUp(): Promise<void>;
  /** The current health. */
  health(): SyncHealth;
}

/** A message a transport hands its follower. */
export type PushedMessage =
  | {
      readonly type: 'events';
      readonly events: readonly RevocationEvent[];
      /**
       * The log position of the first event, when the store published them itself (the events
       * follow one another in the log): a follower that sees a position past what it holds knows
       * at once that it missed something.
       */
      readonly position?: number;
    }
  /** Something was appended that the message does not carry: read the log. */
  | { readonly type: 'poke' }
  /** The push channel is alive (a heartbeat, this process's own or another's). */
  | { readonly type: 'heartbeat' };

/** What a follower gives its transport when it starts it. */
export interface TransportHandlers {
  /** A message arrived. */
  message(message: PushedMessage): void;
  /** The channel is (again) connected and subscribed: anything may have been missed before. */
  connected(): void;
  /** The channel lost its connection; the transport reconnects on its own. */
  disconnected(error: unknown): void;
  /**
   * Something the transport met and went on after (a malformed message, a failed subscribe), for
   * the follower's `onError`. Optional: a transport given none reports as a process warning.
   */
  error?(error: unknown): void;
}

/**
 * The push side of a follower: a bus that delivers what other processes publish, fast. It is never
 * trusted for completeness: the follower reads the log after every (re)connect and periodically.
 */
export interface SyncTransport {
  readonly kind: Exclude<SyncTransportKind, 'polling' | 'http'>;
  /** Subscribes; resolves once subscribed. Reconnects by itself until `close`. */
  open(handlers: TransportHandlers): Promise<void>;
  /** Sends a heartbeat that every subscriber (this process too) receives. */
  heartbeat(): Promise<void>;
  /** Unsubscribes and releases what the transport holds (never a client it was given). */
  close(): Promise<void>;
}

/**
 * Sends the events a process appended to the log to every other process, fast. The session
 * manager calls it after each append (see its `publisher` option); a failure is reported, never
 * thrown into the operation, since the log already holds the events and followers read it.
 */
export interface RevocationPublisher {
  publish(events: readonly RevocationEvent[]): Promise<void>;
}
