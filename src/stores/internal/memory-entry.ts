import type { SessionRecord } from '../types.js';

/**
 * A session as the memory store keeps it: claims as their JSON text, as the driver-backed stores
 * keep them, so it reads back exactly what they do and every read is a fresh copy.
 */
export type SessionEntry = Omit<SessionRecord, 'claims'> & { readonly claims: string };

/**
 * The entry of a (checked) record. Only the members of a SessionRecord are kept: a caller passing a
 * StoredSession (with gen and banned) must not get extra members stored and read back.
 */
export function toEntry(session: SessionRecord, claims: string): SessionEntry {
  return {
    sid: session.sid,
    sub: session.sub,
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    idleExpiresAt: session.idleExpiresAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    authTime: session.authTime,
    device: session.device,
    ip: session.ip,
    userAgent: session.userAgent,
    claims,
    refreshHash: session.refreshHash,
    previousHash: session.previousHash,
    rotatedAt: session.rotatedAt,
    spentHashes: [...session.spentHashes],
    revokedAt: session.revokedAt,
    revokedReason: session.revokedReason,
  };
}

/** A new record read from an entry, sharing nothing with it. */
export function fromEntry(entry: SessionEntry): SessionRecord {
  return {
    ...entry,
    claims: JSON.parse(entry.claims) as Record<string, unknown>,
    spentHashes: [...entry.spentHashes],
  };
}

/** When a session ended: the earliest of its revocation, idle expiry and absolute expiry. */
export function endedAt(entry: SessionEntry): number {
  return Math.min(
    entry.revokedAt ?? entry.idleExpiresAt,
    entry.idleExpiresAt,
    entry.absoluteExpiresAt,
  );
}

/** Sorts sessions newest first; sessions created at the same instant by sid. */
export function newestFirst(a: SessionEntry, b: SessionEntry): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.sid < b.sid ? -1 : a.sid > b.sid ? 1 : 0;
}
