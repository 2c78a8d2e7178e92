import type { Clock } from '../../lib/clock.js';
import type { RevocationEvent } from '../../revocation/events.js';
import type { RevocationIndex } from '../../revocation/types.js';
import type { Store, StoredEvent } from '../../stores/types.js';

/** What `GET /revocations` answers: every live event of the log, and the log position they reach. */
export interface FeedSnapshot {
  /** The log position the events reach: stream with `after` set to it to follow what comes next. */
  readonly position: number;
  /** Every event of the log whose `until` is after the index's horizon, oldest first. */
  readonly events: readonly RevocationEvent[];
}

/**
 * A promise to one subscriber: every event of the log up to `position` has been delivered to it,
 * and every event committed before `freshAt` is at or below `position`. So a client that applies
 * what it receives holds every revocation made before `freshAt`: it is fresh as of that time.
 */
export interface FeedHeartbeat {
  readonly position: number;
  /**
   * When the feed's last complete read of the log started, epoch seconds with millisecond
   * precision, by the feed's clock. It does not move while reads fail: a client sees staleness.
   */
  readonly freshAt: number;
}

/**
 * Receives one subscription's deliveries. After `reset` or `end` nothing more is called. A
 * callback that throws ends the subscription (the error goes to the feed's `onError`).
 */
export interface FeedSubscriber {
  /**
   * The next event of the log: in order of `seq`, each exactly once. `backlog` tells whether it
   * comes from this subscriber's own backlog read (paced by `drained`, a page at a time) rather
   * than the live fan-out (which waits for no one).
   */
  event(stored: StoredEvent, backlog: boolean): void;
  /** Sent every poll interval once the subscriber is caught up, and once when it catches up. */
  heartbeat(beat: FeedHeartbeat): void;
  /**
   * The position asked for is past the head of the log, even after a read that started after the
   * subscription: it comes from another deployment, or from this one before its log was reset.
   * The subscription has ended; the client reloads the snapshot.
   */
  reset(head: number): void;
  /** The feed closed, or this subscriber's callback threw: the subscription has ended. */
  end(): void;
  /**
   * Called every poll interval while the subscription waits to start: for the reader's first
   * read, or for its turn to read its backlog (see `maxBacklogReads`). Nothing is delivered
   * meanwhile, and a client that hears nothing for a few seconds takes the connection for dead
   * and reconnects, at the back of the queue; a stream sends a comment here.
   */
  waiting?(): void;
  /**
   * Resolves when the subscriber can take more. A backlog is read page by page and waits for it
   * between pages, so a slow client is served at its own pace; live delivery never waits (one
   * reader serves everyone), so a subscriber that cannot keep up must end itself.
   */
  drained?(): Promise<void>;
}

/** What the feed's reader has done, for tests, health and metrics. */
export interface FeedStatus {
  /** The log position the reader has read and delivered up to; null before its first read. */
  readonly position: number | null;
  /** When its last complete read started (see {@link FeedHeartbeat.freshAt}); null before one. */
  readonly freshAt: number | null;
  /** Open subscriptions: caught up, reading their backlog, or waiting. */
  readonly subscribers: number;
  /** Backlog reads in flight (at most `maxBacklogReads`). */
  readonly backlogReads: number;
  /** Subscriptions waiting for a turn to read their backlog (each hears `: waiting` meanwhile). */
  readonly backlogWaiting: number;
  /** Reads of the log that failed, since creation (the reader's and the backlogs'). */
  readonly readFailures: number;
}

/**
 * Runs `callback` every `milliseconds` until the returned function is called. The default is
 * `setInterval`, unref'd; tests inject one they drive themselves.
 */
export type FeedScheduler = (milliseconds: number, callback: () => void) => () => void;

/** Options for `createRevocationFeed`. */
export interface RevocationFeedOptions {
  /** The store whose log is served (only `readEvents` and `liveEvents` are used). */
  store: Pick<Store, 'readEvents' | 'liveEvents'>;
  /**
   * This process's index: its `horizon()` bounds the snapshot, and every event it applies wakes
   * the reader (so what this process revokes goes out at once, and what others revoke as soon as
   * this process's follower hears of it).
   */
  index: Pick<RevocationIndex, 'horizon' | 'onApply' | 'now'>;
  /**
   * How often the log is read whatever wakes the reader, and heartbeats go out: seconds (fractions
   * allowed) or a duration like `1s`. Default 1 second.
   */
  pollInterval?: number | string;
  /** Events per page of the reader's reads of the log (default 1000). */
  pageSize?: number;
  /**
   * Events per page of a subscriber's own backlog reads (default 100). Each page is written to the
   * client's socket whether it reads or not, so this bounds what a client that stops reading holds.
   */
  backlogPageSize?: number;
  /**
   * How many subscriptions may have a backlog read in flight at once, across the feed (default 4).
   * The others wait their turn, first come first served, and a subscription queues again after
   * each page. So when many streams resume at once (a restart, a network blip), the memory and
   * CPU their catch-up takes are bounded, and logins and health checks are still answered.
   */
  maxBacklogReads?: number;
  /** The clock of `freshAt`, in epoch seconds (default: the index's). */
  now?: Clock;
  /** Receives every failed read and every error a subscriber throws (default: a process warning). */
  onError?: (error: unknown) => void;
  /** Drives the poll interval (default: `setInterval`, unref'd). */
  schedule?: FeedScheduler;
}

/**
 * The revocation log, served to other processes: a snapshot, and subscriptions that deliver every
 * event after a position, in order, exactly once, then follow the log. One reader per feed reads
 * the log and fans out to every caught-up subscriber. Made by `createRevocationFeed`.
 */
export interface RevocationFeed {
  /** Every live event of the log and the position they reach (`store.liveEvents(horizon)`). */
  snapshot(): Promise<FeedSnapshot>;
  /**
   * Delivers every stored event with `seq > after`, in order, exactly once, then every new one,
   * with heartbeats; `after` past the log's head ends in `reset`. Nothing is called back before
   * this returns. Returns the function that ends the subscription (idempotent; no `end` call).
   * A non-negative safe integer, or `ERR_INVALID_ARGUMENT`. After `close()` the subscription
   * ends at once (`end`).
   */
  subscribe(after: number, subscriber: FeedSubscriber): () => void;
  /**
   * Reads the log now, then sends every caught-up subscriber a heartbeat, as each poll interval
   * does. Never rejects: a failed read goes to `onError`, and the heartbeats keep the old freshAt.
   */
  poll(): Promise<void>;
  /** What the reader has done. */
  status(): FeedStatus;
  /**
   * Stops the reader and ends every subscription (`end`): a server calls it on shutdown so that
   * open streams end and the server can close. Idempotent.
   */
  close(): void;
}
