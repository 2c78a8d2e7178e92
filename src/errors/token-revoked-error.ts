import { RevocableError } from './revocable-error.js';

/**
 * The revocation rule that refused a token: its `jti` (`token`), its `sid` (`session`), its `sub`'s
 * cut-off (`subject`), the cut-off for every token (`global`), or the key that signed it (`key`).
 */
export type RevocationRule = 'token' | 'session' | 'subject' | 'global' | 'key';

/**
 * A token that verified (signature and claims) has been revoked. `code` is always
 * `ERR_TOKEN_REVOKED`; `rule` names the revocation that matched, so a caller can tell a single
 * logout (`token`, `session`) from an account-wide one (`subject`) or an emergency (`global`, `key`).
 * The message never names the token, the session or the subject.
 *
 * @example
 * ```ts
 * import { TokenRevokedError } from 'revocable/errors';
 * try {
 *   verifier.verify(token);
 * } catch (error) {
 *   if (error instanceof TokenRevokedError && error.rule === 'subject') showSignedOutEverywhere();
 * }
 * ```
 */
export class TokenRevokedError extends RevocableError {
  readonly rule: RevocationRule;

  constructor(rule: RevocationRule) {
    super('ERR_TOKEN_REVOKED', `The token has been revoked (${rule}).`);
    this.rule = rule;
  }

  override get name(): string {
    return 'TokenRevokedError';
  }
}
