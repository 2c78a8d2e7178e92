import type { ErrorCode } from './codes.js';

/**
 * The one base class of every error revocable throws. `code` is stable and safe to branch on;
 * `message` is for people and never contains key material or the token. Of a token's contents it
 * quotes only the `iss` or `aud` that an `ERR_JWT_ISSUER` or `ERR_JWT_AUDIENCE` refused, escaped
 * to printable ASCII and cut short; an HTTP answer carries those two without it.
 *
 * @example
 * ```ts
 * import { RevocableError } from 'revocable/errors';
 * try {
 *   verify(token);
 * } catch (error) {
 *   if (error instanceof RevocableError && error.code === 'ERR_JWT_EXPIRED') refresh();
 * }
 * ```
 */
export class RevocableError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return 'RevocableError';
  }
}

/** Which registered claim failed, and why, for errors raised by claim checks. */
export type ClaimFailureReason = 'missing' | 'invalid' | 'check_failed';

/**
 * A claim check failed. `claim` names the claim (`exp`, `aud`, ...), `reason` says whether it was
 * absent, of the wrong type, or present but unacceptable.
 *
 * @example
 * ```ts
 * if (error instanceof JwtClaimError && error.claim === 'exp') refresh();
 * ```
 */
export class JwtClaimError extends RevocableError {
  readonly claim: string;
  readonly reason: ClaimFailureReason;

  constructor(code: ErrorCode, message: string, claim: string, reason: ClaimFailureReason) {
    super(code, message);
    this.claim = claim;
    this.reason = reason;
  }

  override get name(): string {
    return 'JwtClaimError';
  }
}

/**
 * Narrows an unknown thrown value to a revocable error, optionally of one code.
 *
 * @example
 * ```ts
 * if (isRevocableError(error, 'ERR_JWT_EXPIRED')) refresh();
 * ```
 */
export function isRevocableError(error: unknown, code?: ErrorCode): error is RevocableError {
  return error instanceof RevocableError && (code === undefined || error.code === code);
}
