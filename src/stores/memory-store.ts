import { RevocableError } from '../errors/revocable-error.js';
import { parseRevocationEvent, type RevocationEvent } from '../revocation/events.js';
import type {
  CreateOutcome,
  RefreshRotation,
  RotateOutcome,
  SessionRecord,
  Store,
  StoredEvent,
  StoredSession,
  SubjectState,
} from './types.js';
import { checkRefreshRotation, checkSessionRecord, checkText, checkTime } from './validate.js';

/**
 * A store in this process's memory: for tests, demos and the smallest single-process apps (it
 * forgets everything on restart). Every method completes within one turn of the event loop, which
 * is what makes each of them atomic.
 *
 * @example
 * ```ts
 * const store = createMemoryStore();
 * ```
 */
export function createMemoryStore(): Store {
  const sessions = new Map<string, SessionRecord>();
  const subjects = new Map<string, { gen: number; banned: boolean; bannedAt: number | null }>();
  const log: StoredEvent[] = [];
  const eventIds = new Set<string>();
  let seq = 0;

  function subjectOf(sub: string): SubjectState {
    const subject = subjects.get(sub);
    return { gen: subject?.gen ?? 0, banned: subject?.banned ?? false };
  }

  function copy(record: SessionRecord): SessionRecord {
    return {
      ...record,
      claims: structuredClone(record.claims),
      spentHashes: [...record.spentHashes],
    };
  }

  function append(events: readonly RevocationEvent[]): void {
    for (const event of events) {
      if (eventIds.has(event.id)) continue;
      eventIds.add(event.id);
      seq += 1;
      log.push({ seq, event });
    }
  }

  function parseEvents(events: unknown): RevocationEvent[] {
    if (!Array.isArray(events))
      throw new RevocableError('ERR_INVALID_ARGUMENT', 'events must be an array.');
    return events.map((event) => parseRevocationEvent(event));
  }

  return {
    async createSession(session): Promise<CreateOutcome> {
      checkSessionRecord(session);
      if (subjectOf(session.sub).banned) return { created: false, reason: 'banned' };
      if (sessions.has(session.sid)) return { created: false, reason: 'exists' };
      sessions.set(session.sid, copy(session));
      return { created: true, gen: subjectOf(session.sub).gen };
    },
    async getSession(sid): Promise<StoredSession | null> {
      checkText(sid, 'sid');
      const session = sessions.get(sid);
      return session === undefined ? null : { ...copy(session), ...subjectOf(session.sub) };
    },
    async listSessions(sub) {
      checkText(sub, 'sub');
      return [...sessions.values()]
        .filter((session) => session.sub === sub && session.revokedAt === null)
        .sort((a, b) => b.createdAt - a.createdAt)
        .map(copy);
    },
    async rotateRefresh(sid, expectedHash, next: RefreshRotation): Promise<RotateOutcome> {
      checkText(sid, 'sid');
      checkText(expectedHash, 'expectedHash');
      checkRefreshRotation(next);
      const session = sessions.get(sid);
      if (session === undefined) return { status: 'missing' };
      if (session.revokedAt !== null) return { status: 'revoked' };
      const subject = subjectOf(session.sub);
      if (subject.banned) return { status: 'banned' };
      if (session.refreshHash !== expectedHash) return { status: 'stale' };
      sessions.set(sid, { ...session, ...next, spentHashes: [...next.spentHashes] });
      return { status: 'rotated', gen: subject.gen };
    },
    async revokeSessions(sids, at, reason, events) {
      if (!Array.isArray(sids))
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'sids must be an array.');
      for (const sid of sids) checkText(sid, 'sid');
      checkTime(at, 'at');
      checkText(reason, 'reason');
      const parsed = parseEvents(events);
      const revoked: string[] = [];
      for (const sid of sids) {
        const session = sessions.get(sid);
        if (session === undefined || session.revokedAt !== null) continue;
        sessions.set(sid, { ...session, revokedAt: at, revokedReason: reason });
        revoked.push(sid);
      }
      append(parsed);
      return revoked;
    },
    async updateClaims(sub, claims) {
      checkText(sub, 'sub');
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'claims must be an object.');
      }
      let count = 0;
      for (const [sid, session] of sessions) {
        if (session.sub !== sub || session.revokedAt !== null) continue;
        sessions.set(sid, { ...session, claims: structuredClone(claims) });
        count += 1;
      }
      return count;
    },
    async getSubject(sub) {
      checkText(sub, 'sub');
      return subjectOf(sub);
    },
    async bumpGeneration(sub) {
      checkText(sub, 'sub');
      const subject = subjects.get(sub) ?? { gen: 0, banned: false, bannedAt: null };
      subject.gen += 1;
      subjects.set(sub, subject);
      return subject.gen;
    },
    async setBanned(sub, banned, at) {
      checkText(sub, 'sub');
      checkTime(at, 'at');
      if (typeof banned !== 'boolean')
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'banned must be a boolean.');
      const subject = subjects.get(sub) ?? { gen: 0, banned: false, bannedAt: null };
      subject.banned = banned;
      subject.bannedAt = banned ? at : null;
      subjects.set(sub, subject);
    },
    async appendEvents(events) {
      append(parseEvents(events));
    },
    async readEvents(after, limit) {
      checkTime(after, 'after');
      if (!Number.isInteger(limit) || limit < 1)
        throw new RevocableError('ERR_INVALID_ARGUMENT', 'limit must be a positive integer.');
      return log.filter((stored) => stored.seq > after).slice(0, limit);
    },
    async liveEvents(now) {
      checkTime(now, 'now');
      return { events: log.filter((stored) => stored.event.until > now), position: seq };
    },
    async prune(now, retention) {
      checkTime(now, 'now');
      checkTime(retention, 'retention');
      const cutoff = now - retention;
      let sessionCount = 0;
      for (const [sid, session] of sessions) {
        const ended = Math.min(
          session.revokedAt ?? Number.POSITIVE_INFINITY,
          session.idleExpiresAt,
          session.absoluteExpiresAt,
        );
        if (ended < cutoff) {
          sessions.delete(sid);
          sessionCount += 1;
        }
      }
      const before = log.length;
      const kept = log.filter((stored) => stored.event.until > now);
      log.length = 0;
      log.push(...kept);
      return { sessions: sessionCount, events: before - kept.length };
    },
    async close() {},
  };
}
