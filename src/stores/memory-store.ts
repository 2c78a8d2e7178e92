import type { RevocationEvent } from '../revocation/events.js';
import { serializeRevocationEvent } from '../revocation/events.js';
import {
  endedAt,
  fromEntry,
  newestFirst,
  type SessionEntry,
  toEntry,
} from './internal/memory-entry.js';
import { eventsToAppend } from './internal/session-events.js';
import {
  assertBoolean,
  assertDurationSeconds,
  assertEpochSeconds,
  assertGeneration,
  assertHash,
  assertLimit,
  assertPosition,
  assertReason,
  assertRefreshRotation,
  assertSessionRecord,
  assertSid,
  assertSidList,
  assertSub,
  claimsJson,
  eventConflict,
  parseEvents,
} from './internal/validate.js';
import {
  type CreateOutcome,
  REVOKE_EVERYTHING_REASON,
  type RotateOutcome,
  type Store,
  type StoredEvent,
  type StoredSession,
  type SubjectState,
} from './types.js';

interface SubjectEntry {
  gen: number;
  banned: boolean;
  bannedAt: number | null;
}

/**
 * A store in this process's memory: for tests, demos and the smallest single-process apps (it
 * forgets everything on restart, and nothing is shared with other processes). Every method runs
 * to completion synchronously when called, before its promise is returned: no other call can
 * interleave, which is what makes each of them atomic. Every record it returns is a copy.
 *
 * @example
 * ```ts
 * import { createSessionManager } from 'revocable/sessions';
 * import { createMemoryStore } from 'revocable/stores';
 * const store = createMemoryStore();
 * const sessions = createSessionManager({ store, keys: ring, index, issuer, audience });
 * ```
 */
export function createMemoryStore(): Store {
  const sessions = new Map<string, SessionEntry>();
  const sidsBySubject = new Map<string, Set<string>>();
  const subjects = new Map<string, SubjectEntry>();
  // Ascending by seq; seq is the highest position ever handed out, which a prune never lowers.
  let log: StoredEvent[] = [];
  // The JSON text of every event in the log, by id: an id appended again must be the same event.
  const eventTexts = new Map<string, string>();
  let seq = 0;

  function subjectState(sub: string): SubjectState {
    const subject = subjects.get(sub);
    return { gen: subject?.gen ?? 0, banned: subject?.banned ?? false };
  }

  function subjectEntry(sub: string): SubjectEntry {
    let subject = subjects.get(sub);
    if (subject === undefined) {
      subject = { gen: 0, banned: false, bannedAt: null };
      subjects.set(sub, subject);
    }
    return subject;
  }

  function deleteSession(entry: SessionEntry): void {
    sessions.delete(entry.sid);
    const sids = sidsBySubject.get(entry.sub);
    sids?.delete(entry.sid);
    if (sids?.size === 0) sidsBySubject.delete(entry.sub);
  }

  function liveEntriesOf(sub: string): SessionEntry[] {
    const entries: SessionEntry[] = [];
    for (const sid of sidsBySubject.get(sub) ?? []) {
      const entry = sessions.get(sid);
      if (entry !== undefined && entry.revokedAt === null) entries.push(entry);
    }
    return entries;
  }

  // Every event is checked against the log before any is appended: all or none.
  function append(events: readonly RevocationEvent[]): void {
    const texts = events.map(serializeRevocationEvent);
    events.forEach((event, i) => {
      const stored = eventTexts.get(event.id);
      if (stored !== undefined && stored !== texts[i]) throw eventConflict();
    });
    events.forEach((event, i) => {
      if (eventTexts.has(event.id)) return;
      eventTexts.set(event.id, texts[i]!);
      seq += 1;
      log.push({ seq, event });
    });
  }

  function revoke(entry: SessionEntry, at: number, reason: string): void {
    sessions.set(entry.sid, { ...entry, revokedAt: at, revokedReason: reason });
  }

  // The index of the first event past `after`, by binary search: the log is ascending by seq.
  function firstAfter(after: number): number {
    let low = 0;
    let high = log.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (log[middle]!.seq <= after) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  // Events are frozen by parseEvents, so sharing them is safe; the wrapper is not.
  const copyStored = (stored: StoredEvent): StoredEvent => ({
    seq: stored.seq,
    event: stored.event,
  });

  return {
    persistent: false,

    async createSession(session, expectedGen): Promise<CreateOutcome> {
      assertSessionRecord(session);
      assertGeneration(expectedGen, 'expectedGen');
      const claims = claimsJson(session.claims);
      const subject = subjectState(session.sub);
      if (subject.banned) return { created: false, reason: 'banned' };
      if (subject.gen !== expectedGen) return { created: false, reason: 'changed' };
      const existing = sessions.get(session.sid);
      if (existing !== undefined) {
        const replay =
          existing.sub === session.sub &&
          existing.refreshHash === session.refreshHash &&
          existing.revokedAt === null;
        return replay ? { created: true, gen: subject.gen } : { created: false, reason: 'exists' };
      }
      sessions.set(session.sid, toEntry(session, claims));
      let sids = sidsBySubject.get(session.sub);
      if (sids === undefined) {
        sids = new Set();
        sidsBySubject.set(session.sub, sids);
      }
      sids.add(session.sid);
      return { created: true, gen: subject.gen };
    },

    async getSession(sid): Promise<StoredSession | null> {
      assertSid(sid);
      const entry = sessions.get(sid);
      if (entry === undefined) return null;
      return { ...fromEntry(entry), ...subjectState(entry.sub) };
    },

    async listSessions(sub) {
      assertSub(sub);
      return liveEntriesOf(sub).sort(newestFirst).map(fromEntry);
    },

    async rotateRefresh(sid, expectedHash, expectedGen, next): Promise<RotateOutcome> {
      assertSid(sid);
      assertHash(expectedHash, 'expectedHash');
      assertGeneration(expectedGen, 'expectedGen');
      assertRefreshRotation(next);
      const entry = sessions.get(sid);
      if (entry === undefined) return { status: 'missing' };
      if (entry.revokedAt !== null) return { status: 'revoked' };
      const subject = subjectState(entry.sub);
      if (subject.banned) return { status: 'banned' };
      if (entry.refreshHash !== expectedHash) return { status: 'stale' };
      if (subject.gen !== expectedGen) return { status: 'changed' };
      sessions.set(sid, {
        ...entry,
        refreshHash: next.refreshHash,
        previousHash: next.previousHash,
        rotatedAt: next.rotatedAt,
        spentHashes: [...next.spentHashes],
        lastSeenAt: next.lastSeenAt,
        idleExpiresAt: next.idleExpiresAt,
        ip: next.ip ?? entry.ip,
        userAgent: next.userAgent ?? entry.userAgent,
      });
      return { status: 'rotated', gen: subject.gen };
    },

    async revokeSessions(sids, at, reason, events) {
      assertSidList(sids);
      assertEpochSeconds(at, 'at');
      assertReason(reason);
      const checked = parseEvents(events);
      // Which sessions this call ends, decided before anything changes (a sid may be listed twice).
      const revoked: string[] = [];
      for (const sid of new Set(sids)) {
        const entry = sessions.get(sid);
        if (entry !== undefined && entry.revokedAt === null) revoked.push(sid);
      }
      append(eventsToAppend(checked, sids, revoked));
      for (const sid of revoked) revoke(sessions.get(sid)!, at, reason);
      return revoked;
    },

    // In memory, ending every session one by one is as atomic as anything else here.
    async revokeAll(at, events) {
      assertEpochSeconds(at, 'at');
      append(parseEvents(events));
      for (const entry of [...sessions.values()]) {
        if (entry.revokedAt === null) revoke(entry, at, REVOKE_EVERYTHING_REASON);
      }
    },

    async getSubject(sub) {
      assertSub(sub);
      return subjectState(sub);
    },

    async bumpGeneration(sub, claims) {
      assertSub(sub);
      const text = claims === undefined ? null : claimsJson(claims);
      const subject = subjectEntry(sub);
      subject.gen += 1;
      if (text !== null) {
        for (const entry of liveEntriesOf(sub)) sessions.set(entry.sid, { ...entry, claims: text });
      }
      return subject.gen;
    },

    async setBanned(sub, banned, at) {
      assertSub(sub);
      assertBoolean(banned, 'banned');
      assertEpochSeconds(at, 'at');
      const subject = subjectEntry(sub);
      subject.banned = banned;
      subject.bannedAt = banned ? at : null;
    },

    async appendEvents(events) {
      append(parseEvents(events));
    },

    async readEvents(after, limit) {
      assertPosition(after, 'after');
      assertLimit(limit);
      const start = firstAfter(after);
      return log.slice(start, start + limit).map(copyStored);
    },

    async liveEvents(horizon) {
      assertEpochSeconds(horizon, 'horizon');
      const events = log.filter((stored) => stored.event.until > horizon).map(copyStored);
      return { events, position: seq };
    },

    async prune(horizon, retention) {
      assertEpochSeconds(horizon, 'horizon');
      assertDurationSeconds(retention, 'retention');
      const cutoff = horizon - retention;
      let prunedSessions = 0;
      for (const entry of [...sessions.values()]) {
        if (endedAt(entry) < cutoff) {
          deleteSession(entry);
          prunedSessions += 1;
        }
      }
      const kept: StoredEvent[] = [];
      for (const stored of log) {
        if (stored.event.until > horizon) kept.push(stored);
        // Forgetting the id too keeps the map as small as the log; an event appended again after
        // its until has passed is dead whatever position it gets.
        else eventTexts.delete(stored.event.id);
      }
      const prunedEvents = log.length - kept.length;
      log = kept;
      return { sessions: prunedSessions, events: prunedEvents };
    },

    // Nothing is held outside the maps, which the garbage collector reclaims with the store.
    async close() {},
  };
}
