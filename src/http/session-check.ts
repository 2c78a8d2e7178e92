import { isRevocableError, RevocableError } from '../errors/revocable-error.js';
import type { StoredSession } from '../stores/types.js';
import type { AuthContext, SessionReader } from './types.js';

function ended(message: string): RevocableError {
  return new RevocableError('ERR_SESSION_REVOKED', message);
}

/**
 * Asks the store whether the token's session still lives, as the session manager would before a
 * refresh: the store's word, whatever this process's index has heard. Refused, with
 * `ERR_SESSION_REVOKED`: a token without a session, a session the store does not know, one of
 * another subject, one revoked (a logout, a cut-off, the emergency), a banned subject, and a token
 * whose `sgen` is older than the subject's generation (a logout everywhere, a password or claims
 * change); with `ERR_SESSION_EXPIRED`, a session past its idle or absolute lifetime. A store that
 * fails is `ERR_STORE_UNAVAILABLE` (its own error when it threw one, so the cause is kept).
 * @internal
 */
export async function checkSession(
  store: SessionReader,
  auth: AuthContext,
  now: () => number,
): Promise<AuthContext> {
  const sid = auth.sid;
  if (sid === undefined) throw ended('The token names no session the store could vouch for.');
  let session: StoredSession | null;
  try {
    session = await store.getSession(sid);
  } catch (error) {
    // A sid the store refuses to look up (too long for it) names no session it holds.
    if (isRevocableError(error, 'ERR_INVALID_ARGUMENT')) throw ended('The session has ended.');
    if (isRevocableError(error)) throw error;
    throw new RevocableError('ERR_STORE_UNAVAILABLE', 'The session store failed.', {
      cause: error,
    });
  }
  if (session === null || session.sub !== auth.sub) throw ended('The session has ended.');
  if (session.revokedAt !== null || session.banned) throw ended('The session has ended.');
  const sgen = auth.claims.sgen;
  if (typeof sgen === 'number' && sgen < session.gen) {
    throw ended('The session has ended: its account was signed out everywhere or changed.');
  }
  const at = now();
  if (at >= session.absoluteExpiresAt || at >= session.idleExpiresAt) {
    throw new RevocableError('ERR_SESSION_EXPIRED', 'The session has expired.');
  }
  return auth;
}
