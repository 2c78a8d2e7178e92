import { randomBytes } from 'node:crypto';

/**
 * A new user id, the `sub` of the user's tokens: `u_` and 16 random bytes in base64url (22
 * characters). Random rather than sequential, so an id says nothing of how many users there are
 * nor when one registered, and is never reused after a user is gone.
 *
 * @example
 * ```ts
 * newUserId(); // 'u_Gk3o2W7h1yR0cK8vQmXb4A'
 * ```
 */
export function newUserId(): string {
  return `u_${randomBytes(16).toString('base64url')}`;
}
