import { RevocableError } from '../../errors/revocable-error.js';

/**
 * A login refused because too many attempts failed for the account or from the client's address
 * within the throttle's window. `code` is always `ERR_LOGIN_THROTTLED`; `retryAfter` is the whole
 * number of seconds until another attempt may be made (what an HTTP `Retry-After` header says).
 * Neither the message nor the fields tell whether the account or the address is throttled: that
 * would tell an attacker which usernames exist and are under attack.
 *
 * @example
 * ```ts
 * try {
 *   await accounts.authenticate(username, password, request.ip);
 * } catch (error) {
 *   if (error instanceof LoginThrottledError) reply.header('retry-after', error.retryAfter);
 * }
 * ```
 */
export class LoginThrottledError extends RevocableError {
  readonly retryAfter: number;

  constructor(retryAfter: number) {
    super(
      'ERR_LOGIN_THROTTLED',
      `Too many failed logins: try again in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
    );
    this.retryAfter = retryAfter;
  }

  override get name(): string {
    return 'LoginThrottledError';
  }
}
