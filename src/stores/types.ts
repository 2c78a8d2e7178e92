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

/** A session read back with what the store knows of its subject, in the same read. */
export interface StoredSession extends SessionRecord {
  /** The subject's generation now (the `sgen` claim of new access tokens). */
  readonly gen: number;
  /** Whether the subject is banned now. */
  readonly banned: boolean;
}

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
}

/**
 * The outcome of {@link Store.rotateRefresh}: `rotated` (with the subject's generation), or why
 * nothing was written: `stale` (the expected hash is no longer current: another refresh won),
 * `revoked`, `banned`, or `missing` (no such session).
 */
export type RotateOutcome =
  | { readonly status: 'rotated'; readonly gen: number }
  | { readonly status: 'stale' | 'revoked' | 'banned' | 'missing' };

/** The outcome of {@link Store.createSession}. */
export type CreateOutcome =
  | { readonly created: true; readonly gen: number }
  | { readonly created: false; readonly reason: 'banned' | 'exists' };

/** A revocation event with its position in the store's durable log. */
export interface StoredEvent {
  /** Increasing position in the log (1, 2, ...). Positions are never reused. */
  readonly seq: number;
  readonly event: RevocationEvent;
}

/**
 * Where sessions, subjects and the revocation log live. One narrow interface; every store passes
 * the same contract tests (test/stores/contract.ts). Each method is atomic on its own: that is
 * what makes rotation and revocation safe against each other under concurrency.
 *
 * A store is made by a `create*Store({ client, ... })` factory from a driver client the application
 * created, and does not own that client: `close()` releases only what the store itself holds.
 */
export interface Store {
  /**
   * Creates a session unless its subject is banned (checked atomically with the insert, so a ban
   * and a login cannot interleave), returning the subject's generation.
   */
  createSession(session: SessionRecord): Promise<CreateOutcome>;
  /** The session with its subject's generation and ban state, in one read; null when unknown. */
  getSession(sid: string): Promise<StoredSession | null>;
  /** Every session of a subject that is not revoked, newest first (expired ones included). */
  listSessions(sub: string): Promise<SessionRecord[]>;
  /**
   * Compare-and-set of the refresh chain: writes `next` only if the session exists, is not
   * revoked, its subject is not banned, and its current `refreshHash` is `expectedHash`, all in one
   * atomic step. Fifty concurrent calls with the same `expectedHash` give exactly one `rotated`.
   */
  rotateRefresh(sid: string, expectedHash: string, next: RefreshRotation): Promise<RotateOutcome>;
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
  /** Replaces the application claims of every live session of a subject; returns how many. */
  updateClaims(sub: string, claims: Readonly<Record<string, unknown>>): Promise<number>;
  /** The subject's generation and ban state (generation 0, not banned, for an unknown subject). */
  getSubject(sub: string): Promise<SubjectState>;
  /** Increments the subject's generation atomically and returns the new value. */
  bumpGeneration(sub: string): Promise<number>;
  /** Sets or clears the subject's ban. */
  setBanned(sub: string, banned: boolean, at: number): Promise<void>;
  /** Appends events to the durable revocation log. Appending an event id twice stores it once. */
  appendEvents(events: readonly RevocationEvent[]): Promise<void>;
  /** Events after position `after`, oldest first, at most `limit`. */
  readEvents(after: number, limit: number): Promise<StoredEvent[]>;
  /**
   * Every event still in force at `now` (its `until` not passed) and the log position they reach:
   * what a starting process loads before it follows new events from `position`.
   */
  liveEvents(now: number): Promise<{ events: StoredEvent[]; position: number }>;
  /**
   * Deletes events whose `until` has passed and sessions that ended (expired or revoked) more than
   * `retention` seconds before `now`. Returns how many of each.
   */
  prune(now: number, retention: number): Promise<{ sessions: number; events: number }>;
  /** Releases what the store holds (statements, scripts); never the client it was given. */
  close(): Promise<void>;
}
