import { RevocableError } from '../errors/revocable-error.js';

/**
 * ERR_FORBIDDEN from a route's `scopes`: the token is valid but lacks a scope the route requires.
 * `scope` lists the route's scopes; the answer's challenge names them (RFC 6750 section 3), so a
 * client knows which to ask the authorization server for.
 *
 * @example
 * ```ts
 * if (error instanceof InsufficientScopeError) requestToken({ scope: error.scope.join(' ') });
 * ```
 */
export class InsufficientScopeError extends RevocableError {
  readonly scope: readonly string[];

  constructor(scope: readonly string[]) {
    super('ERR_FORBIDDEN', 'This route needs a scope the token does not have.');
    this.scope = scope;
  }

  override get name(): string {
    return 'InsufficientScopeError';
  }
}
