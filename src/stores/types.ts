import type { RevocationEvent } from '../revocation/events.js';

/**
 * A session as a store keeps it. Times are epoch seconds. Only hashes of refresh tokens are kept:
 * SHA-256 of the whole token, base64url.
 */
export interface SessionRecord {
  /** The session id (128 random bits, base64url); the `sid` claim of its access tokens. */
  readonly sid: string;
  /** The subject (user id); the `sub` claim. */
  readonly sub: string;
  readonly createdAt: number;
  /** The last login or refresh. */
  readonly lastSeenAt: number;
  /** Sliding: the session dies if not refreshed before this. */
  readonly idleExpiresAt: number;
  /** Fixed at login: no refresh after this, however active the session. */
  readonly absoluteExpiresAt: number;
  /** When the user last authenticated (login or re-authentication): the `auth_time` claim. */
  readonly authTime: number;
  readonly device: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** Application claims copied into every access token of the session (a JSON object). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** Hash of the refresh token that may be presented next. */
  readonly refreshHash: string;
  /** Hash of the refresh token spent by the last rotation, or null before the first rotation. */
  readonly previousHash: string | null;
  /** When `previousHash` was spent (the start of its grace window), or null. */
  readonly rotatedAt: number | null;
  /** Hashes of older spent refresh tokens (newest first, bounded), so their reuse is caught too. */
  readonly spentHashes: readonly string[];
  /** When the session was revoked, or null while it lives. */
  readonly revokedAt: number | null;
  /** Why it was revoked (`logout`, `logout-all`, `reuse`, `ban`, ...), or null. */
  readonly revokedReason: string | null;
}

/**
 * A session read back with what the store knows of its subject, in the same read. A session that a
 * {@link Store.revokeAll} ended reads back revoked: `revokedAt` is that call's `at` and
 * `revokedReason` is `'revoke-everything'`.
 */
export interface StoredSession extends SessionRecord {
  /** The subject's generation now (the `sgen` claim of new access tokens). */
  readonly gen: number;
  /** Whether the subject is banned now. */
  readonly banned: boolean;
}

/** The reason a session ended by {@link Store.revokeAll} reads back with. */
export const REVOKE_EVERYTHING_REASON = 'revoke-everything';

/** What a subject is to the store: its generation and whether it is banned. */
export interface SubjectState {
  readonly gen: number;
  readonly banned: boolean;
}

/** The new refresh state a rotation writes, computed by the session manager. */
export interface RefreshRotation {
  readonly refreshHash: string;
  readonly previousHash: string;
  readonly rotatedAt: number;
  readonly spentHashes: readonly string[];
  readonly lastSeenAt: number;
  readonly idleExpiresAt: number;
  /** The client's address seen with this refresh; null keeps the one recorded. */
  readonly ip: string | null;
  /** The client's user agent seen with this refresh; null keeps the one recorded. */
  readonly userAgent: string | null;
}

/**
 * The outcome of {@link Store.rotateRefresh}: `rotated` (with the subject's generation, which is
 * the expected one), or why nothing was written: `stale` (the expected hash is no longer current:
 * another refresh won), `changed` (the subject's generation is no longer the expected one: its
 * claims or cut-off changed since the caller read the session), `revoked` (by a logout, a cut-off
 * or {@link Store.revokeAll}), `banned`, or `missing` (no such session).
 */
export type RotateOutcome =
  | { readonly status: 'rotated'; readonly gen: number }
  | { readonly status: 'stale' | 'changed' | 'revoked' | 'banned' | 'missing' };

/**
 * The outcome of {@link Store.createSession}: `created` (with the subject's generation, which is
 * the expected one), or why not: `banned`, `changed` (the subject's generation is no longer the
 * expected one), or `exists` (another session has this sid).
 */
export type CreateOutcome =
  | { readonly created: true; readonly gen: number }
  | { readonly created: false; readonly reason: 'banned' | 'changed' | 'exists' };

/** A revocation event with its position in the store's durable log. */
export interface StoredEvent {
  /**
   * Increasing position in the log (1, 2, ... for most stores; the Redis store starts a new log at
   * its server's clock in microseconds). Positions are never reused.
   */
  readonly seq: number;
  readonly event: RevocationEvent;
}

/**
 * Where sessions, subjects and the revocation log live. One narrow interface; every store passes
 * the same contract tests (test/stores/contract.ts). Each method is atomic on its own: that is
 * what makes rotation and revocation safe against each other under concurrency, in one process or
 * many.
 *
 * Everything that decides whether a session may still get tokens (its refresh hash, its
 * revocation, the subject's ban and generation, a {@link Store.revokeAll}) is read in the same
 * atomic step as the write it guards, so no interleaving of two processes can revive what one of
 * them ended.
 *
 * A store is made by a `create*Store({ client, ... })` factory from a driver client the application
 * created, and does not own that client: `close()` releases only what the store itself holds.
 */
export interface Store {
  /**
   * Whether the store keeps its state beyond this process (on disk, or in a server that other
   * processes share). The session manager then demands a refresh secret that every process shares:
   * a secret of its own per process would turn concurrent refreshes into false theft detections.
   */
  readonly persistent: boolean;
  /**
   * Creates a session, in one atomic step with these checks, in this order: its subject is not
   * banned (`banned`); the subject's generation is still `expectedGen` (`changed`: a cut-off came
   * between the caller's read and this call, so a token it signed with that generation is dead);
   * no other session has its sid (`exists`). Idempotent: the same record created again (same sid and
   * same `refreshHash`, as when a driver replays a call after a reconnect) gives `created` again
   * while that session lives, and writes nothing.
   */
  createSession(session: SessionRecord, expectedGen: number): Promise<CreateOutcome>;
  /**
   * The session with its subject's generation and ban state, in one read; null when unknown. A
   * session ended by {@link Store.revokeAll} reads back revoked.
   */
  getSession(sid: string): Promise<StoredSession | null>;
  /**
   * Every session of a subject that is not revoked (by a logout, a cut-off or
   * {@link Store.revokeAll}), newest first (expired ones included).
   */
  listSessions(sub: string): Promise<SessionRecord[]>;
  /**
   * Compare-and-set of the refresh chain: writes `next` only if the session exists, is not revoked
   * (nor ended by {@link Store.revokeAll}), its subject is not banned, the subject's generation is
   * still `expectedGen`, and its current `refreshHash` is `expectedHash`, all in one atomic step.
   * Fifty concurrent calls with the same `expectedHash` give exactly one `rotated`.
   */
  rotateRefresh(
    sid: string,
    expectedHash: string,
    expectedGen: number,
    next: RefreshRotation,
  ): Promise<RotateOutcome>;
  /**
   * Marks the given sessions revoked (those not revoked yet) and appends `events` to the log, in
   * one atomic step. Returns the sids it revoked now.
   */
  revokeSessions(
    sids: readonly string[],
    at: number,
    reason: string,
    events: readonly RevocationEvent[],
  ): Promise<string[]>;
  /**
   * The emergency: ends every session that exists now, of every subject (each reads back revoked at
   * `at` with reason `'revoke-everything'`, and no rotation of it succeeds any more), and appends
   * `events` to the log, in one atomic step. Sessions created after it live.
   */
  revokeAll(at: number, events: readonly RevocationEvent[]): Promise<void>;
  /** The subject's generation and ban state (generation 0, not banned, for an unknown subject). */
  getSubject(sub: string): Promise<SubjectState>;
  /**
   * Increments the subject's generation and returns the new value; with `claims`, replaces the
   * application claims of every live session of the subject in the same atomic step, so no token
   * can carry the new generation with the old claims.
   */
  bumpGeneration(sub: string, claims?: Readonly<Record<string, unknown>>): Promise<number>;
  /** Sets or clears the subject's ban. */
  setBanned(sub: string, banned: boolean, at: number): Promise<void>;
  /**
   * Appends events to the durable revocation log, all or none. An event whose id is in the log
   * already is skipped when it is the same event, and refused with `ERR_STORE_EVENT_CONFLICT` when
   * its contents differ (then nothing of the batch is written). `revokeSessions` and `revokeAll`
   * append their events by the same rule.
   */
  appendEvents(events: readonly RevocationEvent[]): Promise<void>;
  /** Events after position `after`, oldest first, at most `limit`. */
  readEvents(after: number, limit: number): Promise<StoredEvent[]>;
  /**
   * Every event whose `until` is after `horizon`, and the log position they reach: what a starting
   * process loads before it follows new events from `position`. Pass the index's
   * `horizon()`, which is earlier than now: the index keeps entries a little past their `until`,
   * and a rebuilt index must hold everything a running one still enforces.
   */
  liveEvents(horizon: number): Promise<{ events: StoredEvent[]; position: number }>;
  /**
   * Deletes events whose `until` is not after `horizon` (pass the index's `horizon()`, as for
   * {@link Store.liveEvents}), and sessions that ended (expired or revoked) more than `retention`
   * seconds before `horizon`. Returns how many of each.
   */
  prune(horizon: number, retention: number): Promise<{ sessions: number; events: number }>;
  /** Releases what the store holds (statements, scripts); never the client it was given. */
  close(): Promise<void>;
}
