import { RevocableError } from '../errors/revocable-error.js';
import {
  createGlobalRevocation,
  createKeyRevocation,
  createSessionRevocation,
  createSubjectRevocation,
  createTokenRevocation,
  type RevocationTiming,
} from '../revocation/create-event.js';
import type { RevocationEvent } from '../revocation/events.js';
import { eventsToAppend } from '../stores/internal/session-events.js';
import type { StoredSession } from '../stores/types.js';
import { assertClaims, assertIdentifier, assertSessionId, assertSubject } from './input.js';
import type { ResolvedOptions } from './options.js';
import type { SessionAuditEvent } from './types.js';

/** The ways to end sessions and tokens. Each persists its events, then applies them locally. */
export interface Revocations {
  /** Ends one session (one device). Returns false when it had already ended. */
  logout(sid: string): Promise<boolean>;
  /** Ends every other session of the subject of `sid`; returns the sids ended. */
  logoutOthers(sid: string): Promise<string[]>;
  /** Ends every session of a subject and cuts off all its access tokens; returns the sids ended. */
  logoutAll(sub: string): Promise<string[]>;
  /** Revokes one access token by `jti` until its `exp` (default: now plus the access lifetime). */
  revokeToken(jti: string, exp?: number): Promise<void>;
  /** Bans a subject: no login, no refresh, every session and token ended. */
  ban(sub: string): Promise<string[]>;
  /** Lifts a ban; ended sessions stay ended. */
  unban(sub: string): Promise<void>;
  /**
   * Ends every session but `keep` and cuts off every access token issued before now (the kept
   * session's current access token too: its next refresh gets a fresh one).
   */
  passwordChanged(sub: string, options?: { keep?: string }): Promise<string[]>;
  /**
   * Cuts off the subject's access tokens without ending sessions; with `claims`, the sessions'
   * application claims are replaced, so the next refresh carries them.
   */
  claimsChanged(sub: string, claims?: Record<string, unknown>): Promise<void>;
  /**
   * Emergency: every access token issued before now is dead and every session that exists now is
   * ended in the store (its refresh token with it), in one store step.
   */
  revokeEverything(): Promise<void>;
  /**
   * Revokes every token a key signed, cluster-wide, and retires it in the local ring. Retiring the
   * active key first rotates to a new key of the same algorithm, so signing goes on. With a shared
   * ring (`keys: openSharedKeyRing(...)`) the retirement and that rotation are written to the
   * stored ring first, so every process also signs with the same new key.
   */
  retireKey(kid: string): Promise<void>;
}

/** The revocation operations of a manager, and the reuse response its refresh needs. */
export function createRevocations(
  config: ResolvedOptions,
  audit: (event: SessionAuditEvent) => void,
): { operations: Revocations; revokeForReuse(session: StoredSession, at: number): Promise<void> } {
  const { store, index, now } = config;
  const timing: RevocationTiming = {
    maxAccessTokenLifetime: index.maxAccessTokenLifetime,
    clockSkew: index.clockSkew,
    now,
  };

  // Persist first, then apply: a process that dies in between has lost nothing, since every other
  // process (and this one on restart) rebuilds from the log.
  //
  // Then the publisher (if any) tells every other process at once; its failure is only reported:
  // the events are in the log, which every follower reads within its poll interval.
  // `logged` is what the store wrote of `events` (all of them but for endSessions): only that goes
  // to other processes, while this one applies all, so its own index refuses at once whatever
  // another call logged first.
  async function publish(
    events: readonly RevocationEvent[],
    logged: readonly RevocationEvent[] = events,
  ): Promise<void> {
    const made = logged === events ? null : new Set(logged);
    for (const event of events) {
      index.apply(event);
      if (made === null || made.has(event)) audit({ type: 'revoked', event });
    }
    if (config.publisher === null || logged.length === 0) return;
    try {
      await config.publisher.publish(logged);
    } catch (error) {
      process.emitWarning(
        `revocable: publishing revocations failed (followers will read them from the log): ${
          error instanceof Error ? error.message : String(error)
        }`,
        'RevocableWarning',
      );
    }
  }

  async function endSessions(
    sids: readonly string[],
    sub: string,
    reason: string,
    extra: RevocationEvent[],
    at: number,
  ): Promise<string[]> {
    const events = [...extra, ...sids.map((sid) => createSessionRevocation({ sid, at }, timing))];
    if (events.length === 0) return [];
    const ended = await store.revokeSessions(sids, at, reason, events);
    // The store did not log the event of a session another call ended first.
    await publish(events, eventsToAppend(events, sids, ended));
    audit({ type: 'logout', sub, sids: ended, reason, at });
    return ended;
  }

  async function liveSids(sub: string, except?: string): Promise<string[]> {
    const sessions = await store.listSessions(sub);
    return sessions.filter((session) => session.sid !== except).map((session) => session.sid);
  }

  async function cutOff(sub: string, reason: string, except?: string): Promise<string[]> {
    const at = now();
    // The generation moves first: a login that reads it afterwards is after the cut-off and lives.
    const gen = await store.bumpGeneration(sub);
    const subjectEvent = createSubjectRevocation({ sub, gen, at }, timing);
    return endSessions(await liveSids(sub, except), sub, reason, [subjectEvent], at);
  }

  const operations: Revocations = {
    async logout(sid) {
      assertSessionId(sid);
      const session = await store.getSession(sid);
      if (session === null)
        throw new RevocableError('ERR_SESSION_UNKNOWN', 'No session has this id.');
      // An ended session's event is already in the log: another would only grow it.
      if (session.revokedAt !== null) return false;
      const ended = await endSessions([sid], session.sub, 'logout', [], now());
      return ended.length > 0;
    },
    async logoutOthers(sid) {
      assertSessionId(sid);
      const session = await store.getSession(sid);
      if (session === null)
        throw new RevocableError('ERR_SESSION_UNKNOWN', 'No session has this id.');
      return endSessions(await liveSids(session.sub, sid), session.sub, 'logout-others', [], now());
    },
    async logoutAll(sub) {
      assertSubject(sub);
      return cutOff(sub, 'logout-all');
    },
    async revokeToken(jti, exp) {
      assertIdentifier(jti, 'jti');
      const at = now();
      const until = exp ?? at + config.accessTokenTtl + index.clockSkew;
      const event = createTokenRevocation({ jti, exp: until, at }, { now });
      await store.appendEvents([event]);
      await publish([event]);
    },
    async ban(sub) {
      assertSubject(sub);
      // The flag is set before anything else, so no refresh or login can slip in while the rest runs.
      await store.setBanned(sub, true, now());
      audit({ type: 'banned', sub, at: now() });
      return cutOff(sub, 'ban');
    },
    async unban(sub) {
      assertSubject(sub);
      await store.setBanned(sub, false, now());
      audit({ type: 'unbanned', sub, at: now() });
    },
    async passwordChanged(sub, options = {}) {
      assertSubject(sub);
      if (typeof options !== 'object' || options === null) {
        throw new RevocableError(
          'ERR_INVALID_ARGUMENT',
          'passwordChanged options must be an object.',
        );
      }
      if (options.keep !== undefined) assertSessionId(options.keep);
      return cutOff(sub, 'password-changed', options.keep);
    },
    async claimsChanged(sub, claims) {
      assertSubject(sub);
      if (claims !== undefined) assertClaims(claims);
      const at = now();
      // The claims and the generation change in one store step: a refresh that read the old claims
      // can no longer rotate (its generation moved), and one that reads the new ones gets the new
      // generation with them.
      const gen = await store.bumpGeneration(sub, claims);
      const event = createSubjectRevocation({ sub, gen, at }, timing);
      await store.appendEvents([event]);
      await publish([event]);
      audit({ type: 'claims-changed', sub, at });
    },
    async revokeEverything() {
      const at = now();
      // The access tokens die by the index's global rule; the sessions (and so their refresh tokens)
      // die in the store, in the same step that logs the event: no process can refresh a session
      // older than it, whether or not its index has heard of it yet.
      const event = createGlobalRevocation({ at }, timing);
      await store.revokeAll(at, [event]);
      await publish([event]);
    },
    async retireKey(kid) {
      const keys = config.keys;
      let key = typeof kid === 'string' ? keys.get(kid) : undefined;
      // A key another process added to the shared ring since this one last reloaded.
      if (key === undefined && config.sharedKeys !== null && typeof kid === 'string') {
        await config.sharedKeys.refresh();
        key = keys.get(kid);
      }
      if (key === undefined) {
        throw new RevocableError(
          'ERR_KEYRING_KID_UNKNOWN',
          'The key ring has no key with that kid.',
        );
      }
      const event = createKeyRevocation({ kid, at: now() }, timing);
      if (config.sharedKeys !== null) {
        // The stored ring first, with the replacement signer in the same write: if this process
        // dies before the event is logged, every process still retires the key at its next
        // reload, and none is left without a key to sign with. The event then makes every index
        // refuse the key's tokens within the staleness bound, whatever their rings say.
        await config.sharedKeys.retire(kid);
        await store.appendEvents([event]);
        await publish([event]);
        return;
      }
      await store.appendEvents([event]);
      // Retiring the signing key must not stop logins and refreshes: a fresh key of the same
      // algorithm takes over first, so the ring is never left without an active key.
      if (key.state === 'active') keys.rotate(key.alg);
      keys.retire(kid);
      await publish([event]);
    },
  };

  return {
    operations,
    async revokeForReuse(session, at) {
      await endSessions([session.sid], session.sub, 'reuse', [], at);
    },
  };
}
