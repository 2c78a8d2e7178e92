import type { RevocationRule } from '../errors/token-revoked-error.js';
import type { Clock } from '../lib/clock.js';
import type { RevocationEvent } from './events.js';

/**
 * Options for {@link createRevocationIndex}.
 *
 * @example
 * ```ts
 * const options: RevocationIndexOptions = {
 *   maxAccessTokenLifetime: '10m',
 *   clockSkew: 5,
 *   maxSubjectEntries: 100_000,
 *   sweepInterval: '1m',
 * };
 * ```
 */
export interface RevocationIndexOptions {
  /**
   * The longest lifetime of any access token: seconds, or a string like `10m`. A cut-off (session,
   * subject, global, key) is kept at least this long after its `at`, plus the clock skew, whatever
   * the event's own `until` says.
   */
  maxAccessTokenLifetime: number | string;
  /**
   * The largest clock difference between an issuer and this process, in seconds (default 5). Every
   * entry is kept this long past its `until`, and time cut-offs reach this far past their `at`. A
   * verifier's `clockTolerance` must not exceed it.
   */
  clockSkew?: number | string;
  /** The clock, in epoch seconds (default: the system clock). Tests inject one. */
  now?: Clock;
  /**
   * Subjects held exactly (default 100,000; `Infinity` for no bound). Past it, further subjects fold
   * into {@link RevocationIndexOptions.subjectBuckets} buckets: bounded memory, at the price of
   * refusing some live tokens of subjects that share a bucket (never accepting a revoked one).
   */
  maxSubjectEntries?: number;
  /** The number of buckets for folded subjects, a power of two (default 4096). */
  subjectBuckets?: number;
  /** Sweep expired entries after this many applied events (default 1024). */
  sweepEvery?: number;
  /** Sweep expired entries on an apply at least this many seconds after the last sweep (default 60). */
  sweepAfter?: number | string;
  /**
   * Also sweep on a timer, every this many seconds (default: no timer). The timer is `unref`ed, so
   * it never keeps the process alive; {@link RevocationIndex.close} stops it.
   */
  sweepInterval?: number | string;
  /**
   * Receives what a listener throws; the other listeners still run and the event stays applied.
   * Default: a process warning.
   */
  onListenerError?: (error: unknown, event: RevocationEvent | null) => void;
}

/**
 * The claims the index looks at: `jti`, `sid`, `sub`, `iat`, and `sgen` (the subject generation the
 * token was issued under). Any verified claims set fits.
 *
 * @example
 * ```ts
 * const { header, claims } = verifier.verifyJwt(token);
 * index.check(claims, header.kid); // null, or 'token' | 'session' | 'subject' | 'global' | 'key'
 * ```
 */
export interface RevocationClaims {
  readonly jti?: unknown;
  readonly sid?: unknown;
  readonly sub?: unknown;
  readonly iat?: unknown;
  readonly sgen?: unknown;
}

/** Called with every event the index applied that changed something, whatever its origin. */
export type RevocationListener = (event: RevocationEvent) => void;

/**
 * Called after a snapshot was merged into the index and changed it, with the number of entries
 * added or tightened. A snapshot holds no event (sets keep hashes only), so a listener that cuts
 * connections re-checks each of them with {@link RevocationIndex.check}.
 */
export type SnapshotLoadListener = (changed: number) => void;

/** Counters and sizes, for metrics and the benchmark. */
export interface RevocationIndexStats {
  /** Entries per kind (expired entries not yet swept included); `subjects` counts exact ones. */
  readonly tokens: number;
  readonly sessions: number;
  readonly keys: number;
  readonly subjects: number;
  /** Buckets holding folded subjects. */
  readonly subjectBuckets: number;
  /** Whether a global cut-off is held. */
  readonly global: boolean;
  /** Bytes held by the typed arrays of the sets and buckets. */
  readonly tableBytes: number;
  /** Events applied that changed something, since creation. */
  readonly applied: number;
  /** Sweeps run, and entries they removed. */
  readonly sweeps: number;
  readonly swept: number;
  /** When the index last heard from its source (see {@link RevocationIndex.markFresh}), or null. */
  readonly freshAt: number | null;
}

/**
 * The in-memory revocation index: every verify asks it, synchronously and without I/O, whether a
 * token has been revoked. Made by {@link createRevocationIndex}.
 *
 * @example
 * ```ts
 * const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
 * const stop = index.onApply((event) => sockets.cut(event));
 * bus.on('event', (text) => index.apply(parseRevocationEventJson(text)));
 * bus.on('heartbeat', () => index.markFresh());
 * ```
 */
export interface RevocationIndex {
  /** The longest access-token lifetime, in seconds. */
  readonly maxAccessTokenLifetime: number;
  /** The clock skew, in seconds. */
  readonly clockSkew: number;
  /** The index's clock, in epoch seconds. */
  readonly now: Clock;
  /**
   * Validates an event (see `parseRevocationEvent`) and merges it: union for token, session and
   * key; maximum for cut-offs. Idempotent and commutative. Returns whether anything changed; an
   * event that is already expired changes nothing, except a key event: key entries are kept for
   * good, whatever their `until`. Invalid input throws `ERR_REVOCATION_EVENT_INVALID` and leaves
   * the index as it was.
   */
  apply(event: RevocationEvent): boolean;
  /**
   * The rule that revokes a token, or null when it is live. Rules are checked in the order global,
   * key, token, session, subject. Synchronous, no I/O, no allocation when nothing matches.
   * `claims` that are not an object throw `ERR_INVALID_ARGUMENT`.
   */
  check(claims: RevocationClaims, kid?: string): RevocationRule | null;
  /** Subscribes to applied events; returns the unsubscribe function. */
  onApply(listener: RevocationListener): () => void;
  /** Subscribes to snapshot loads that changed the index; returns the unsubscribe function. */
  onLoad(listener: SnapshotLoadListener): () => void;
  /** A compact binary copy of the live entries (see `restoreRevocationIndex`). */
  snapshot(): Uint8Array;
  /**
   * Merges a snapshot (union and maximum, like events). Returns the number of entries it added or
   * tightened. A corrupt snapshot throws `ERR_REVOCATION_SNAPSHOT_INVALID` and changes nothing.
   */
  load(bytes: Uint8Array): number;
  /** Removes expired entries now; returns how many. Key entries never expire. */
  prune(): number;
  /**
   * The time x, epoch seconds, such that every event this index could still enforce, now or
   * later, has `until > x`: `floor(now - clockSkew) - clockSkew - maxAccessTokenLifetime` (token
   * and session entries keep whole seconds, rounded up). A
   * store that keeps (and a rebuild that loads) the events with `until > index.horizon()` loses no
   * revocation the running index would still enforce; see docs/revocation.md.
   */
  horizon(): number;
  /** The revoked `kid`s, in the order first revoked (see `bindKeyRing`). */
  revokedKeys(): string[];
  /**
   * Records that the index heard from its source (a heartbeat, a caught-up log) at `at` (epoch
   * seconds) or now. Never moves back. Throws `ERR_INVALID_ARGUMENT` for a value that is not a
   * finite non-negative number, one past the year 3000 (milliseconds, most likely), or one later
   * than now plus the clock skew: a time in the future would hide staleness for good.
   */
  markFresh(at?: number): void;
  /** When the index last heard from its source, or null if never. */
  readonly freshAt: number | null;
  /** Seconds since the index last heard from its source (Infinity if never). */
  staleness(): number;
  /** Entries held, all kinds together. */
  readonly size: number;
  /** Counters and sizes. */
  stats(): RevocationIndexStats;
  /** Stops the sweep timer and drops every listener. */
  close(): void;
}
