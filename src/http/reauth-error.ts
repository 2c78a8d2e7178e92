import { RevocableError } from '../errors/revocable-error.js';

/**
 * ERR_REAUTH_REQUIRED from a route's `maxAge`: the token is valid, but the user authenticated
 * (`auth_time`) longer ago than the route allows. `maxAge` is that limit in seconds; the answer's
 * challenge carries it (RFC 9470), so a client can ask the auth server for a fresh login.
 *
 * @example
 * ```ts
 * if (error instanceof ReauthRequiredError) redirectToLogin({ maxAge: error.maxAge });
 * ```
 */
export class ReauthRequiredError extends RevocableError {
  readonly maxAge: number;

  constructor(maxAge: number) {
    super('ERR_REAUTH_REQUIRED', 'This route needs a more recent authentication: log in again.');
    this.maxAge = maxAge;
  }

  override get name(): string {
    return 'ReauthRequiredError';
  }
}
