import { RevocableError } from '../../errors/revocable-error.js';
import type { PasswordHasher } from './passwords.js';
import { checkPassword, checkRoles, checkUsername } from './policy.js';
import type { UserRecord, UserStore } from './types.js';

/** What ensureAdmin needs of the accounts. Internal. */
export interface EnsureAdminContext {
  users: UserStore;
  passwords: PasswordHasher;
  register(username: string, password: string, roles: readonly string[]): Promise<UserRecord>;
  setPassword(user: UserRecord, password: string): Promise<UserRecord>;
}

/** The role an administrator has. */
export const ADMIN_ROLE = 'admin';

/**
 * Makes the user an administrator with this password, creating it if needed. Every server of a
 * cluster may run it at start with the same environment: of two creating the user at once, the
 * one that loses the race (`ERR_USERNAME_TAKEN`) reads the winner's user and goes on as if it had
 * been there, and the later steps (add the role, set the password) write the same values whoever
 * runs them.
 *
 * @example
 * ```ts
 * const { created } = await ensureAdmin(context, 'admin', process.env.ADMIN_PASSWORD);
 * ```
 */
export async function ensureAdmin(
  context: EnsureAdminContext,
  username: unknown,
  password: unknown,
): Promise<{ user: UserRecord; created: boolean }> {
  checkUsername(username);
  checkPassword(password);
  const { users, passwords } = context;
  let user = await users.byUsername(username);
  if (user === null) {
    try {
      return { user: await context.register(username, password, [ADMIN_ROLE]), created: true };
    } catch (error) {
      if (!(error instanceof RevocableError && error.code === 'ERR_USERNAME_TAKEN')) throw error;
    }
    user = await users.byUsername(username);
    if (user === null) {
      throw new RevocableError(
        'ERR_STORE_UNAVAILABLE',
        'The user store said the administrator existed, then could not find it.',
      );
    }
  }
  if (!user.roles.includes(ADMIN_ROLE)) {
    const roles = [...user.roles, ADMIN_ROLE];
    checkRoles(roles);
    if (!(await users.setRoles(user.id, roles))) throw vanished();
    user = { ...user, roles: Object.freeze(roles) };
  }
  if (!(await passwords.verify(user.passwordHash, password))) {
    user = await context.setPassword(user, password);
  }
  return { user, created: false };
}

function vanished(): RevocableError {
  return new RevocableError('ERR_USER_UNKNOWN', 'No user has this id.');
}
