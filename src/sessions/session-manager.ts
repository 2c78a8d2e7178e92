import { randomBytes } from 'node:crypto';
import { RevocableError } from '../errors/revocable-error.js';
import { createSigner } from '../jwt/sign.js';
import type { JwtClaims } from '../jwt/types.js';
import { parseDuration } from '../lib/duration.js';
import { bindKeyRing } from '../revocation/key-ring-binding.js';
import type { StoredSession } from '../stores/types.js';
import { assertClaims, assertOptionalText, assertSubject } from './input.js';
import { resolveOptions, type SessionManagerOptions } from './options.js';
import {
  hashRefreshToken,
  isSessionId,
  newRefreshToken,
  newSessionId,
  sameHash,
  sessionIdOf,
  successorOf,
} from './refresh-token.js';
import { createRevocations, type Revocations } from './revocations.js';
import {
  type AccessTokenGrant,
  type LoginInput,
  type RefreshInput,
  type SessionAuditEvent,
  type SessionAuditListener,
  type SessionInfo,
  type TokenPair,
  toSessionInfo,
} from './types.js';

/** The session lifecycle an application calls. See {@link createSessionManager}. */
export interface SessionManager extends Revocations {
  /** Creates a session and returns its first token pair. `ERR_SUBJECT_BANNED` for a banned subject. */
  login(sub: string, input?: LoginInput): Promise<TokenPair>;
  /**
   * Spends a refresh token and returns the next pair. A spent token presented again within the
   * grace window gets the same successor; after it, the session is revoked (`ERR_REFRESH_REUSED`).
   */
  refresh(refreshToken: string, input?: RefreshInput): Promise<TokenPair>;
  /** Every live session of a subject, newest first. */
  listSessions(sub: string): Promise<SessionInfo[]>;
  /**
   * A new access token for a live session, its refresh token untouched: for a session whose
   * current access token a cut-off just ended while the session itself lives on (the session kept
   * by `passwordChanged(sub, { keep })`). Errors as `refresh` for a dead session.
   */
  issueAccessToken(sid: string): Promise<AccessTokenGrant>;
  /**
   * Throws `ERR_REAUTH_REQUIRED` unless the verified claims show an authentication within
   * `maxAge` (seconds or `5m`): the `max_age` check of a sensitive route.
   */
  requireRecentAuth(claims: JwtClaims, maxAge: number | string): void;
  /** Subscribes an audit listener; returns the unsubscribe function. */
  onAudit(listener: SessionAuditListener): () => void;
}

/**
 * Creates the session manager: login, refresh rotation with reuse detection, and every way of
 * ending sessions, persisted in a store and applied at once to the local revocation index.
 *
 * @example
 * ```ts
 * const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
 * const sessions = createSessionManager({
 *   store: createMemoryStore(), keys: ring, index, issuer: 'https://auth.example', audience: 'api',
 * });
 * const { accessToken, refreshToken } = await sessions.login('user-1', { device: 'Firefox' });
 * const next = await sessions.refresh(refreshToken);
 * await sessions.logoutAll('user-1');
 * ```
 */
export function createSessionManager(options: SessionManagerOptions): SessionManager {
  const config = resolveOptions(options);
  const { store, index, now } = config;
  const listeners = new Set<SessionAuditListener>();
  const signer = createSigner({
    keys: config.keys,
    issuer: config.issuer,
    audience: config.audience,
    ttl: config.accessTokenTtl,
    now,
    jti: false,
  });

  function audit(event: SessionAuditEvent): void {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`revocable: an audit listener threw: ${String(error)}`);
      }
    }
  }

  function issue(
    session: StoredSession | ConfigSession,
    gen: number,
    refreshToken: string,
  ): TokenPair {
    const jti = randomBytes(16).toString('base64url');
    const accessToken = signer.sign({
      ...session.claims,
      sub: session.sub,
      sid: session.sid,
      jti,
      auth_time: session.authTime,
      sgen: gen,
    });
    return { accessToken, refreshToken, expiresIn: config.accessTokenTtl, sid: session.sid, jti };
  }

  // The global cut-off refuses every token issued before its time plus the clock skew, so a token
  // signed in the seconds after an emergency cut-off would be born dead. Login and refresh wait
  // those seconds out instead (at most the skew, and only right after a cut-off).
  let globalCutoffAt = 0;
  index.onApply((event) => {
    if (event.kind === 'global' && event.at > globalCutoffAt) globalCutoffAt = event.at;
  });
  async function pastGlobalCutoff(): Promise<boolean> {
    if (globalCutoffAt === 0) return false;
    const wait = Math.ceil(globalCutoffAt + index.clockSkew) - now();
    if (wait <= 0 || wait > index.clockSkew + 1) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait * 1000)));
    return true;
  }

  const revocations = createRevocations(config, audit);
  // A key retired anywhere (an event from another process, a loaded snapshot) is retired in this
  // manager's ring too, so it stops signing with it and its verifiers refuse it by the ring as well.
  bindKeyRing(index, config.keys);

  async function login(sub: string, input: LoginInput = {}): Promise<TokenPair> {
    assertSubject(sub);
    if (typeof input !== 'object' || input === null) {
      throw new RevocableError('ERR_INVALID_ARGUMENT', 'login input must be an object.');
    }
    const claims = input.claims ?? {};
    assertClaims(claims);
    const device = assertOptionalText(input.device, 'device');
    const ip = assertOptionalText(input.ip, 'ip');
    const userAgent = assertOptionalText(input.userAgent, 'userAgent');
    await pastGlobalCutoff();
    const at = now();
    const authTime = input.authTime ?? Math.floor(at);
    if (
      typeof authTime !== 'number' ||
      !Number.isFinite(authTime) ||
      authTime > at + index.clockSkew
    ) {
      throw new RevocableError(
        'ERR_INVALID_ARGUMENT',
        'authTime must be epoch seconds, not in the future.',
      );
    }
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const { gen, banned } = await store.getSubject(sub);
      if (banned) throw refuseBanned(sub, at);
      // A new sid on every attempt: a replayed create of an earlier attempt can never be mistaken
      // for this one.
      const sid = newSessionId();
      const refreshToken = newRefreshToken(sid);
      const absoluteExpiresAt = at + config.absoluteLifetime;
      const session: ConfigSession = {
        sid,
        sub,
        createdAt: at,
        lastSeenAt: at,
        idleExpiresAt: Math.min(at + config.idleTimeout, absoluteExpiresAt),
        absoluteExpiresAt,
        authTime,
        device,
        ip,
        userAgent,
        claims,
        refreshHash: hashRefreshToken(refreshToken),
        previousHash: null,
        rotatedAt: null,
        spentHashes: [],
        revokedAt: null,
        revokedReason: null,
      };
      // Signed before anything is written: a ring that cannot sign leaves no session behind.
      const pair = issue(session, gen, refreshToken);
      const outcome = await store.createSession(session, gen);
      if (outcome.created) {
        audit({ type: 'login', sub, sid, at, ip });
        return pair;
      }
      if (outcome.reason === 'banned') throw refuseBanned(sub, at);
      if (outcome.reason === 'exists') {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'A session with this id exists already.');
      }
      // 'changed': a cut-off of this subject came between the read and the create, so the token
      // signed with the old generation would be born dead. Read again and sign again.
    }
    throw new RevocableError(
      'ERR_SESSION_REVOKED',
      "The account's sessions are being ended as it logs in; try again.",
    );
  }

  function refuseBanned(sub: string, at: number): RevocableError {
    audit({ type: 'login-refused', sub, reason: 'banned', at });
    return new RevocableError('ERR_SUBJECT_BANNED', 'This account is banned.');
  }

  // The store's answer is checked in the order that reveals least: a token that matches nothing
  // learns nothing about the session's state.
  async function refresh(refreshToken: string, input: RefreshInput = {}): Promise<TokenPair> {
    const sid = sessionIdOf(refreshToken);
    if (sid === null)
      throw new RevocableError('ERR_REFRESH_INVALID', 'The refresh token is not valid.');
    if (typeof input !== 'object' || input === null) {
      throw new RevocableError('ERR_INVALID_ARGUMENT', 'refresh input must be an object.');
    }
    const ip = assertOptionalText(input.ip, 'ip');
    const userAgent = assertOptionalText(input.userAgent, 'userAgent');
    const presented = hashRefreshToken(refreshToken);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const session = await store.getSession(sid);
      if (session === null)
        throw new RevocableError('ERR_REFRESH_INVALID', 'The refresh token is not valid.');
      const current = sameHash(presented, session.refreshHash);
      const previous = !current && sameHash(presented, session.previousHash);
      const older =
        !current && !previous && session.spentHashes.some((hash) => sameHash(presented, hash));
      if (!current && !previous && !older) {
        throw new RevocableError('ERR_REFRESH_INVALID', 'The refresh token is not valid.');
      }
      const at = now();
      checkAlive(session, at);
      // Only a refresh that will sign waits, and it reads the session again after the wait.
      if (await pastGlobalCutoff()) continue;
      const successor = successorOf(refreshToken, sid, config.refreshSecret);
      if (previous && session.rotatedAt !== null && at - session.rotatedAt <= config.refreshGrace) {
        // A concurrent request of the same client already rotated this token: hand out the same
        // successor, provided the chain has not moved past it.
        if (sameHash(hashRefreshToken(successor), session.refreshHash)) {
          audit({ type: 'refresh', sub: session.sub, sid, at, replayed: true });
          return issue(session, session.gen, successor);
        }
      }
      if (!current) {
        await revocations.revokeForReuse(session, at);
        audit({ type: 'reuse-detected', sub: session.sub, sid, at });
        throw new RevocableError(
          'ERR_REFRESH_REUSED',
          'The refresh token was already used; the session is revoked.',
        );
      }
      // The claims and the generation come from the one read above, and the rotation below
      // commits only if the generation is still that one: a token never pairs claims with a
      // generation they did not have together. Signing first means a refresh that cannot sign
      // (no active key) has spent nothing.
      const pair = issue(session, session.gen, successor);
      const spent =
        session.previousHash === null
          ? session.spentHashes
          : [session.previousHash, ...session.spentHashes];
      const outcome = await store.rotateRefresh(sid, presented, session.gen, {
        refreshHash: hashRefreshToken(successor),
        previousHash: presented,
        rotatedAt: at,
        spentHashes: spent.slice(0, config.spentHistory),
        lastSeenAt: at,
        idleExpiresAt: Math.min(at + config.idleTimeout, session.absoluteExpiresAt),
        ip,
        userAgent,
      });
      if (outcome.status === 'rotated') {
        audit({ type: 'refresh', sub: session.sub, sid, at, replayed: false });
        return pair;
      }
      if (outcome.status === 'revoked' || outcome.status === 'missing') {
        throw new RevocableError('ERR_SESSION_REVOKED', 'The session has ended.');
      }
      if (outcome.status === 'banned')
        throw new RevocableError('ERR_SUBJECT_BANNED', 'This account is banned.');
      // 'stale': another request rotated the same token first; read again and take the grace
      // path. 'changed': the subject's claims or cut-off moved since the read; read again.
    }
    throw new RevocableError('ERR_REFRESH_INVALID', 'The refresh token is not valid.');
  }

  // Every condition here is also checked by the store's rotation, atomically; checking it first
  // answers a dead session without a write, and with the precise error.
  function checkAlive(session: StoredSession, at: number): void {
    if (session.revokedAt !== null)
      throw new RevocableError('ERR_SESSION_REVOKED', 'The session has ended.');
    if (session.banned) throw new RevocableError('ERR_SUBJECT_BANNED', 'This account is banned.');
    if (at >= session.absoluteExpiresAt || at >= session.idleExpiresAt) {
      throw new RevocableError('ERR_SESSION_EXPIRED', 'The session has expired.');
    }
  }

  async function listSessions(sub: string): Promise<SessionInfo[]> {
    assertSubject(sub);
    const at = now();
    const records = await store.listSessions(sub);
    return records
      .filter(
        (record) =>
          record.revokedAt === null && at < record.idleExpiresAt && at < record.absoluteExpiresAt,
      )
      .map(toSessionInfo);
  }

  async function issueAccessToken(sid: string): Promise<AccessTokenGrant> {
    if (!isSessionId(sid))
      throw new RevocableError('ERR_SESSION_UNKNOWN', 'No session has this id.');
    const session = await store.getSession(sid);
    if (session === null)
      throw new RevocableError('ERR_SESSION_UNKNOWN', 'No session has this id.');
    checkAlive(session, now());
    await pastGlobalCutoff();
    // No write: the token carries the generation read with the session, so a cut-off that lands
    // after this read still ends it, like any other token of the session.
    const { accessToken, expiresIn, jti } = issue(session, session.gen, '');
    return { accessToken, expiresIn, sid, jti };
  }

  function requireRecentAuth(claims: JwtClaims, maxAge: number | string): void {
    const limit = parseDuration(maxAge, 'maxAge');
    const authTime = claims?.auth_time;
    const iat = claims?.iat;
    // A login after its token was issued would pass for recent for good; within the clock skew
    // it may be (login takes an auth_time that much ahead, and a fraction; iat is whole seconds).
    if (
      typeof authTime !== 'number' ||
      !Number.isFinite(authTime) ||
      (typeof iat === 'number' && authTime > iat + index.clockSkew) ||
      now() - authTime > limit
    ) {
      throw new RevocableError('ERR_REAUTH_REQUIRED', 'This action needs a recent authentication.');
    }
  }

  return {
    login,
    refresh,
    listSessions,
    issueAccessToken,
    requireRecentAuth,
    onAudit(listener) {
      if (typeof listener !== 'function') {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'An audit listener must be a function.');
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    ...revocations.operations,
  };
}

type ConfigSession = Omit<StoredSession, 'gen' | 'banned'>;

// How often login and refresh read again when a concurrent change (a cut-off, another refresh)
// moved what they read. Each retry needs a new concurrent change, so a few are plenty.
const MAX_ATTEMPTS = 5;
