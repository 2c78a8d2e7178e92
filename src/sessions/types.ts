import type { RevocationEvent } from '../revocation/events.js';
import type { SessionRecord } from '../stores/types.js';

/** What `login` takes besides the subject. */
export interface LoginInput {
  /** A label for the device ("Pixel 8", "Firefox on Linux"), shown by `listSessions`. */
  device?: string;
  ip?: string;
  userAgent?: string;
  /** Application claims copied into every access token of the session (not registered names). */
  claims?: Record<string, unknown>;
  /** When the user authenticated, epoch seconds (default: now). */
  authTime?: number;
}

/** What `refresh` may record about the client. */
export interface RefreshInput {
  ip?: string;
  userAgent?: string;
}

/** The tokens handed to a client after a login or a refresh. */
export interface TokenPair {
  /** A short-lived JWT (`typ: at+jwt`). */
  readonly accessToken: string;
  /** An opaque refresh token: present it once to `refresh`; it is spent by that. */
  readonly refreshToken: string;
  /** Seconds until the access token expires. */
  readonly expiresIn: number;
  /** The session id (`sid`). */
  readonly sid: string;
  /** The access token's `jti`. */
  readonly jti: string;
}

/** An access token issued for a session without a refresh (see `issueAccessToken`). */
export interface AccessTokenGrant {
  readonly accessToken: string;
  readonly expiresIn: number;
  readonly sid: string;
  readonly jti: string;
}

/** A live session as `listSessions` shows it. No token or hash is included. */
export interface SessionInfo {
  readonly sid: string;
  readonly sub: string;
  readonly device: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly authTime: number;
  readonly idleExpiresAt: number;
  readonly absoluteExpiresAt: number;
}

/**
 * What the manager tells an audit log. `revoked` carries every revocation event it persisted, so a
 * consumer sees the exact cluster-wide effect of each operation.
 */
export type SessionAuditEvent =
  | {
      readonly type: 'login';
      readonly sub: string;
      readonly sid: string;
      readonly at: number;
      readonly ip: string | null;
    }
  | {
      readonly type: 'login-refused';
      readonly sub: string;
      readonly reason: 'banned';
      readonly at: number;
    }
  | {
      readonly type: 'refresh';
      readonly sub: string;
      readonly sid: string;
      readonly at: number;
      readonly replayed: boolean;
    }
  | {
      readonly type: 'reuse-detected';
      readonly sub: string;
      readonly sid: string;
      readonly at: number;
    }
  | {
      readonly type: 'logout';
      readonly sub: string;
      readonly sids: readonly string[];
      readonly reason: string;
      readonly at: number;
    }
  | { readonly type: 'banned' | 'unbanned'; readonly sub: string; readonly at: number }
  | { readonly type: 'claims-changed'; readonly sub: string; readonly at: number }
  | { readonly type: 'revoked'; readonly event: RevocationEvent };

/** Receives audit events; what it throws is reported, never propagated into the operation. */
export type SessionAuditListener = (event: SessionAuditEvent) => void;

/** The public view of a stored session. */
export function toSessionInfo(record: SessionRecord): SessionInfo {
  return {
    sid: record.sid,
    sub: record.sub,
    device: record.device,
    ip: record.ip,
    userAgent: record.userAgent,
    createdAt: record.createdAt,
    lastSeenAt: record.lastSeenAt,
    authTime: record.authTime,
    idleExpiresAt: record.idleExpiresAt,
    absoluteExpiresAt: record.absoluteExpiresAt,
  };
}
