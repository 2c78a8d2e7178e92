import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Refresh tokens are `<sid>.<secret>`: the session id (so the store is read by primary key, not by
 * a hash lookup) and 256 bits. The first secret of a session is random; each successor is
 * HMAC(refreshSecret, previous token), so every process that shares the secret derives the same
 * successor for the same spent token. That is what lets concurrent refreshes inside the grace
 * window all receive one successor without the store ever holding a token in plaintext, and an
 * attacker who lacks the secret cannot compute a successor from a stolen token.
 */
const FORMAT = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

/** Whether a value has the form of a session id: 128 bits in base64url (22 characters). */
export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}

/** A new random session id. */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

/** A new random first refresh token for a session. */
export function newRefreshToken(sid: string): string {
  return `${sid}.${randomBytes(32).toString('base64url')}`;
}

/** The successor of a refresh token, derived with the manager's secret. */
export function successorOf(token: string, sid: string, secret: Buffer): string {
  return `${sid}.${createHmac('sha256', secret).update(token).digest('base64url')}`;
}

/** The session id of a well-formed refresh token, or null for anything else. */
export function sessionIdOf(token: unknown): string | null {
  if (typeof token !== 'string' || token.length !== 66) return null;
  const match = FORMAT.exec(token);
  return match === null ? null : (match[1] ?? null);
}

/** What a store keeps of a refresh token: SHA-256 of it, base64url. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** Constant-time equality of two hashes (equal length when both came from hashRefreshToken). */
export function sameHash(a: string, b: string | null): boolean {
  if (b === null || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
