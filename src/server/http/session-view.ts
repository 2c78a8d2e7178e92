import type { SessionInfo } from '../../sessions/types.js';

/** A session as the HTTP answers show it (snake_case, like every body of the server). */
export function sessionView(session: SessionInfo) {
  return {
    session_id: session.sid,
    device: session.device,
    ip: session.ip,
    user_agent: session.userAgent,
    created_at: session.createdAt,
    last_seen_at: session.lastSeenAt,
    auth_time: session.authTime,
    idle_expires_at: session.idleExpiresAt,
    absolute_expires_at: session.absoluteExpiresAt,
  };
}
