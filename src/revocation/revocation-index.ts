import { RevocableError } from '../errors/revocable-error.js';
import type { RevocationRule } from '../errors/token-revoked-error.js';
import type { Clock } from '../lib/clock.js';
import { MAX_EVENT_TIME, parseRevocationEvent, type RevocationEvent } from './events.js';
import { ExpiringHashSet, toStoredUntil } from './internal/expiring-hash-set.js';
import { GlobalCutoff } from './internal/global-cutoff.js';
import { hashStringInto } from './internal/hash.js';
import { resolveIndexOptions } from './internal/index-options.js';
import { decodeSnapshot, encodeSnapshot } from './internal/snapshot-codec.js';
import { type IndexTables, mergeSnapshot, snapshotContents } from './internal/snapshot-merge.js';
import { type SubjectCutoff, SubjectTable } from './internal/subject-table.js';
import { NO_GENERATION } from './internal/token-times.js';
import type {
  RevocationClaims,
  RevocationIndex,
  RevocationIndexOptions,
  RevocationIndexStats,
  RevocationListener,
  SnapshotLoadListener,
} from './types.js';

const NEGATIVE_INFINITY = Number.NEGATIVE_INFINITY;

// The hashes of one check's jti, sid and sub, two lanes each. Shared by every index: check is
// synchronous and reads them before it returns.
const PROBE = new Uint32Array(6);
const TOKEN_HASH = 0;
const SESSION_HASH = 2;
const SUBJECT_HASH = 4;

function invalidOption(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function notClaims(): RevocableError {
  return invalidOption('check takes the claims object of a verified token.');
}

class MemoryRevocationIndex implements RevocationIndex {
  readonly maxAccessTokenLifetime: number;
  readonly clockSkew: number;
  readonly now: Clock;
  readonly #tokens = new ExpiringHashSet();
  readonly #sessions = new ExpiringHashSet();
  // Revoked kids, kept for good: a key verifies in every process whose ring still holds it, for as
  // long as that ring does, so no lifetime bounds what its revocation must cover. They are few. A
  // Set rather than a hashed table: a verifier hands over the same kid string object on every call
  // (its parsed headers are cached), whose hash V8 keeps, so the lookup costs a few nanoseconds.
  readonly #keys = new Set<string>();
  readonly #subjects: SubjectTable;
  readonly #global = new GlobalCutoff();
  readonly #listeners = new Set<RevocationListener>();
  readonly #loadListeners = new Set<SnapshotLoadListener>();
  readonly #onListenerError: (error: unknown, event: RevocationEvent | null) => void;
  readonly #sweepEvery: number;
  readonly #sweepAfter: number;
  #sinceSweep = 0;
  #lastSweepAt: number;
  #timer: ReturnType<typeof setInterval> | null = null;
  #freshAt: number | null = null;
  #applied = 0;
  #sweeps = 0;
  #swept = 0;
  // Made once, so the verify path can read the deadline only when an entry matches.
  readonly #deadline = (): number => this.now() - this.clockSkew;

  constructor(options: RevocationIndexOptions) {
    const resolved = resolveIndexOptions(options);
    this.maxAccessTokenLifetime = resolved.maxAccessTokenLifetime;
    this.clockSkew = resolved.clockSkew;
    this.now = resolved.now;
    this.#subjects = new SubjectTable(
      resolved.maxSubjectEntries,
      resolved.subjectBuckets,
      resolved.clockSkew,
    );
    this.#sweepEvery = resolved.sweepEvery;
    this.#sweepAfter = resolved.sweepAfter;
    this.#onListenerError = resolved.onListenerError;
    this.#lastSweepAt = this.now();
    if (resolved.sweepInterval !== null) {
      this.#timer = setInterval(() => this.prune(), resolved.sweepInterval * 1000);
      this.#timer.unref();
    }
  }

  apply(event: RevocationEvent): boolean {
    const parsed = parseRevocationEvent(event);
    const now = this.now();
    const deadline = now - this.clockSkew;
    // A cut-off must outlive every token issued before it, whatever its producer computed.
    const wanted =
      parsed.kind === 'token'
        ? parsed.until
        : Math.max(parsed.until, parsed.at + this.maxAccessTokenLifetime + this.clockSkew);
    // Token and session entries keep whole seconds, rounded up; the event is judged by what would
    // be kept, or an index rebuilt from the log would drop an event that a running index, which
    // applied it earlier, still enforces.
    const until =
      parsed.kind === 'token' || parsed.kind === 'session' ? toStoredUntil(wanted) : wanted;
    let changed = false;
    if (parsed.kind === 'key') {
      // Whatever its until says: an event from an older producer may carry a short one.
      changed = !this.#keys.has(parsed.target);
      if (changed) this.#keys.add(parsed.target);
    } else if (until > deadline) {
      switch (parsed.kind) {
        case 'token':
          changed = this.#tokens.add(parsed.target, until, deadline);
          break;
        case 'session':
          changed = this.#sessions.add(parsed.target, until, deadline);
          break;
        case 'subject':
          changed = this.#subjects.merge(parsed.target, cutoffOf(parsed, until), deadline);
          break;
        case 'global':
          changed = this.#global.merge(parsed.at, until, deadline);
          break;
      }
    }
    if (++this.#sinceSweep >= this.#sweepEvery || now - this.#lastSweepAt >= this.#sweepAfter) {
      this.#sweep(now);
    }
    if (changed) {
      this.#applied++;
      this.#notify(this.#listeners, parsed, parsed);
    }
    return changed;
  }

  check(claims: RevocationClaims, kid?: string): RevocationRule | null {
    // One typeof on the verify path; without it a null would surface as a raw TypeError from
    // whichever rule reads a claim first.
    if (typeof claims !== 'object' || claims === null) throw notClaims();
    const global = this.#global;
    // The rule of issuedAt (a missing or NaN iat is dead under any cut-off), written out here: a
    // helper's double result is boxed whenever the compiler declines to inline it, which it does
    // by budget once the subject lookup is inlined, and then every check allocated.
    const iat = claims.iat;
    if (
      global.until !== 0 &&
      !(typeof iat === 'number' && iat >= global.at + this.clockSkew) &&
      global.until > this.#deadline()
    ) {
      return 'global';
    }
    if (typeof kid === 'string' && this.#keys.size !== 0 && this.#keys.has(kid)) return 'key';
    // Every key is hashed before any table is read: the reads then go out back to back, and on a
    // large index, where each one misses the CPU caches, their waits overlap instead of adding up.
    const tokens = this.#tokens;
    const sessions = this.#sessions;
    const subjects = this.#subjects;
    const jti = claims.jti;
    const sid = claims.sid;
    const sub = claims.sub;
    const tokenKnown = typeof jti === 'string' && tokens.size !== 0;
    const sessionKnown = typeof sid === 'string' && sessions.size !== 0;
    const subjectKnown = typeof sub === 'string' && subjects.hasEntries;
    if (tokenKnown) hashStringInto(jti, PROBE, TOKEN_HASH);
    if (sessionKnown) hashStringInto(sid, PROBE, SESSION_HASH);
    if (subjectKnown) hashStringInto(sub, PROBE, SUBJECT_HASH);
    const tokenSlot = tokenKnown ? tokens.indexOfHash(PROBE, TOKEN_HASH) : -1;
    const sessionSlot = sessionKnown ? sessions.indexOfHash(PROBE, SESSION_HASH) : -1;
    if (tokenSlot >= 0 && tokens.untilAt(tokenSlot) > this.#deadline()) return 'token';
    if (sessionSlot >= 0 && sessions.untilAt(sessionSlot) > this.#deadline()) return 'session';
    if (subjectKnown && subjects.isRevoked(sub, PROBE, SUBJECT_HASH, claims, this.#deadline)) {
      return 'subject';
    }
    return null;
  }

  onApply(listener: RevocationListener): () => void {
    return subscribe(this.#listeners, listener);
  }

  onLoad(listener: SnapshotLoadListener): () => void {
    return subscribe(this.#loadListeners, listener);
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(snapshotContents(this.#tables(), this.now(), this.clockSkew));
  }

  load(bytes: Uint8Array): number {
    // Decoded and checked in full before anything is merged: a corrupt snapshot changes nothing.
    const contents = decodeSnapshot(bytes);
    const changed = mergeSnapshot(this.#tables(), contents, this.now() - this.clockSkew);
    if (changed > 0) this.#notify(this.#loadListeners, changed, null);
    return changed;
  }

  prune(): number {
    return this.#sweep(this.now());
  }

  markFresh(at?: number): void {
    const now = this.now();
    const time = at ?? now;
    if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) {
      throw invalidOption('markFresh takes epoch seconds, a finite non-negative number.');
    }
    // freshAt never moves back, so one time in the future would hold staleness at 0 for good and
    // switch maxStaleness off without a word. Milliseconds are the likely mistake (Date.now()):
    // any epoch-seconds value past the year 3000 is one.
    if (time > MAX_EVENT_TIME) {
      throw invalidOption(
        'markFresh takes epoch seconds; this value is past the year 3000 in seconds, so it looks like milliseconds (divide Date.now() by 1000).',
      );
    }
    if (time > now + this.clockSkew) {
      throw invalidOption(
        'markFresh was given a time later than now plus the clock skew: it would hide staleness.',
      );
    }
    if (this.#freshAt === null || time > this.#freshAt) this.#freshAt = time;
  }

  horizon(): number {
    // S is the clock skew, L the longest access lifetime, t now. An entry is enforced while what
    // it keeps, K, is later than t - S. A token entry keeps its until; a cut-off keeps
    // U = max(until, at + L + S), so it may be enforced on account of its `at` alone, with an until
    // as early as `at` (a producer configured with a shorter lifetime, or none). Token and session
    // entries keep U rounded up to a whole second, and ceil(U) > t - S holds exactly when
    // U > floor(t - S); subject and global cut-offs keep U itself, and U > t - S implies that too.
    // So every enforced entry has U > floor(t - S): for a token, until > floor(t - S); for a
    // cut-off, until > floor(t - S) or at > floor(t - S) - L - S, and until >= at (the parser
    // refuses anything else) gives until > floor(t - S) - L - S in both cases. Nothing later will
    // do: a session event with until = at just above floor(t - S) - L - S is still enforced. Key
    // entries are kept for good and their events carry until = MAX_EVENT_TIME, which no horizon
    // reaches. The horizon only moves forward, so an event dropped at an earlier one is never
    // needed again.
    return Math.floor(this.now() - this.clockSkew) - this.clockSkew - this.maxAccessTokenLifetime;
  }

  revokedKeys(): string[] {
    return [...this.#keys];
  }

  get freshAt(): number | null {
    return this.#freshAt;
  }

  staleness(): number {
    return this.#freshAt === null
      ? Number.POSITIVE_INFINITY
      : Math.max(0, this.now() - this.#freshAt);
  }

  get size(): number {
    return (
      this.#tokens.size +
      this.#sessions.size +
      this.#keys.size +
      this.#subjects.exactSize +
      this.#subjects.usedBuckets +
      (this.#global.until !== 0 ? 1 : 0)
    );
  }

  stats(): RevocationIndexStats {
    return {
      tokens: this.#tokens.size,
      sessions: this.#sessions.size,
      keys: this.#keys.size,
      subjects: this.#subjects.exactSize,
      subjectBuckets: this.#subjects.usedBuckets,
      global: this.#global.until !== 0,
      tableBytes: this.#tokens.byteLength + this.#sessions.byteLength + this.#subjects.byteLength,
      applied: this.#applied,
      sweeps: this.#sweeps,
      swept: this.#swept,
      freshAt: this.#freshAt,
    };
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#listeners.clear();
    this.#loadListeners.clear();
  }

  // A throwing listener neither stops the others nor undoes what they are told of.
  #notify<T>(
    listeners: ReadonlySet<(value: T) => void>,
    value: T,
    event: RevocationEvent | null,
  ): void {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }

  #tables(): IndexTables {
    return {
      tokens: this.#tokens,
      sessions: this.#sessions,
      keys: this.#keys,
      subjects: this.#subjects,
      global: this.#global,
    };
  }

  #sweep(now: number): number {
    const deadline = now - this.clockSkew;
    let removed = 0;
    for (const set of [this.#tokens, this.#sessions]) {
      if (set.sweepDue(deadline)) removed += set.sweep(deadline);
    }
    if (this.#subjects.sweepDue(deadline)) removed += this.#subjects.sweep(deadline);
    if (this.#global.sweep(deadline)) removed++;
    this.#sinceSweep = 0;
    this.#lastSweepAt = now;
    this.#sweeps++;
    this.#swept += removed;
    return removed;
  }
}

function cutoffOf(event: RevocationEvent & { kind: 'subject' }, until: number): SubjectCutoff {
  const gen = event.gen;
  return {
    at: event.at,
    plainAt: gen === undefined ? event.at : NEGATIVE_INFINITY,
    gen: gen ?? NO_GENERATION,
    until,
  };
}

function subscribe<T>(listeners: Set<T>, listener: T): () => void {
  if (typeof listener !== 'function') throw invalidOption('A listener must be a function.');
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

/**
 * Creates an in-memory revocation index. Feed it revocation events (from the log at start-up, then
 * from the bus) with `apply`, and ask it with `check` on every verify; most callers let
 * `createRevocableVerifier` do the asking.
 *
 * @example
 * ```ts
 * const index = createRevocationIndex({ maxAccessTokenLifetime: '10m', clockSkew: 5 });
 * index.apply(createSessionRevocation({ sid }, { maxAccessTokenLifetime: '10m' }));
 * index.check({ sid, sub: 'u1', iat: 1900000000 }); // 'session'
 * ```
 */
export function createRevocationIndex(options: RevocationIndexOptions): RevocationIndex {
  return new MemoryRevocationIndex(options);
}

/**
 * Creates an index and loads a snapshot into it: how a process starts before it follows the bus.
 * A corrupt snapshot throws `ERR_REVOCATION_SNAPSHOT_INVALID`.
 *
 * @example
 * ```ts
 * const index = restoreRevocationIndex(await store.loadSnapshot(), { maxAccessTokenLifetime: '10m' });
 * ```
 */
export function restoreRevocationIndex(
  bytes: Uint8Array,
  options: RevocationIndexOptions,
): RevocationIndex {
  const index = new MemoryRevocationIndex(options);
  try {
    index.load(bytes);
  } catch (error) {
    index.close();
    throw error;
  }
  return index;
}
