import { RevocableError } from '../errors/revocable-error.js';
import { decodeJsonSegment } from './header.js';
import type { JwtClaims } from './types.js';
import { DEFAULT_MAX_TOKEN_LENGTH } from './verify.js';

/** What {@link decodeUnverified} returns: nothing in it has been checked. */
export interface UnverifiedJwt {
  readonly verified: false;
  readonly header: Record<string, unknown>;
  readonly claims: JwtClaims;
}

/**
 * Reads a token's header and claims without checking the signature or any claim, for debugging
 * and display only: never base a decision on what it returns.
 *
 * @example
 * ```ts
 * const { header, claims } = decodeUnverified(token);
 * ```
 */
export function decodeUnverified(token: string): UnverifiedJwt {
  if (typeof token !== 'string')
    throw new RevocableError('ERR_JWT_MALFORMED', 'A token must be a string.');
  if (token.length > DEFAULT_MAX_TOKEN_LENGTH) {
    throw new RevocableError(
      'ERR_JWT_TOO_LARGE',
      `The token is longer than ${DEFAULT_MAX_TOKEN_LENGTH} characters.`,
    );
  }
  const segments = token.split('.');
  if (segments.length !== 3)
    throw new RevocableError('ERR_JWT_MALFORMED', 'A token has exactly three segments.');
  return {
    verified: false,
    header: decodeJsonSegment(segments[0]!, 'header'),
    claims: decodeJsonSegment(segments[1]!, 'payload') as JwtClaims,
  };
}
