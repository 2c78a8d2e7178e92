/**
 * The errors of revocable: one base class with a stable `code`, and the table of every code.
 *
 * @example
 * ```ts
 * import { isRevocableError } from 'revocable/errors';
 * ```
 * @module
 */
export { ERROR_CODES, type ErrorCode } from './codes.js';
export {
  type ClaimFailureReason,
  isRevocableError,
  JwtClaimError,
  RevocableError,
} from './revocable-error.js';
export { type RevocationRule, TokenRevokedError } from './token-revoked-error.js';
