import { RevocableError } from '../../errors/revocable-error.js';
import type { SessionManager } from '../../sessions/session-manager.js';
import type { LoginInput, TokenPair } from '../../sessions/types.js';
import { type Accounts, loginFailed } from '../users/accounts.js';
import type { UserRecord } from '../users/types.js';

/** How often a login starts its session again when the account keeps changing under it. */
const ATTEMPTS = 3;

function sameAccount(a: UserRecord, b: UserRecord): boolean {
  if (a.username !== b.username || a.roles.length !== b.roles.length) return false;
  for (let i = 0; i < a.roles.length; i++) if (a.roles[i] !== b.roles[i]) return false;
  return true;
}

/**
 * Starts the session of a user whose password was just verified, with the login input (`input`:
 * claims, device) made of the account as it stands once the session exists.
 *
 * The password check takes about 100 ms, and the account is read before it. A password change,
 * or a role change, that ends the user's sessions in that time does not reach a session created
 * after it: that session would live on with the old password or the old roles. So the account is
 * read again once the session is stored. A role change writes the account before it ends the
 * sessions, so a session stored after that end sees the new account here, and one stored before
 * it was ended with the others. A password change ends the sessions before it stores the new
 * password (a fault between the two must not leave the new password with the old sessions alive),
 * and ends the sessions started meanwhile once it has: a session stored after the first end and
 * read back before the new password is ended by the second. A new password hash ends the new
 * session and refuses the login (`ERR_LOGIN_FAILED`: the password it proved is no longer the
 * account's); new roles or a new name end it and start another with them.
 */
export async function startLoginSession(
  accounts: Pick<Accounts, 'get'>,
  sessions: Pick<SessionManager, 'login' | 'logout'>,
  verified: UserRecord,
  input: (user: UserRecord) => LoginInput,
): Promise<TokenPair> {
  let user = verified;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const pair = await sessions.login(user.id, input(user));
    const current = await accounts.get(user.id);
    const passwordKept = current !== null && current.passwordHash === verified.passwordHash;
    if (passwordKept && sameAccount(current, user)) return pair;
    await sessions.logout(pair.sid);
    if (!passwordKept) throw loginFailed();
    user = current;
  }
  throw new RevocableError(
    'ERR_LOGIN_FAILED',
    'The account changed while the session was starting; sign in again.',
  );
}
