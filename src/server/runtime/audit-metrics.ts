import type { SessionManager } from '../../sessions/session-manager.js';
import type { ServerMetrics } from '../metrics/index.js';

/**
 * Counts what the session manager reports: its audit events are the one place every refresh,
 * theft and revocation of this process passes, whichever route caused it. Logins are counted by
 * the login route instead, once a request: a login may start its session twice (see
 * `startLoginSession`).
 */
export function watchAudit(sessions: SessionManager, metrics: ServerMetrics): () => void {
  return sessions.onAudit((event) => {
    switch (event.type) {
      case 'refresh':
        metrics.refresh('success');
        break;
      case 'reuse-detected':
        metrics.reuseDetected();
        break;
      case 'revoked':
        metrics.revocation(event.event.kind);
        break;
      default:
        break;
    }
  });
}
