import type { RevocationIndex } from '../../revocation/types.js';
import {
  type RevocationCheckOptions,
  revocationVerdict,
  staleIndexError,
} from '../revocation-check.js';

/** The decoded token express-jwt hands to `isRevoked` (its `jwt.Jwt`), as far as it is read. */
export interface ExpressJwtToken {
  readonly header?: { readonly kid?: unknown } | undefined;
  readonly payload?: unknown;
}

/**
 * An `isRevoked` for express-jwt 8 that asks revocable's index, so an app keeps its verifier and
 * gains immediate revocation: `expressjwt({ secret, algorithms, isRevoked: expressJwtIsRevoked(index) })`.
 * express-jwt has checked the signature and `exp` first; this refuses what the index revokes (the
 * header's `kid` is passed, so a retired key counts), tokens it cannot vouch for (no `iat` or
 * `exp`, or a lifetime beyond the index's `maxAccessTokenLifetime`): see `createRevocationCheck`.
 * With `maxStaleness`, while the index is stale (unless `onStale: 'allow'`) it throws
 * `ERR_REVOCATION_STALE`, which express-jwt hands to `next(error)`: with `status` 503 on it, so
 * the client is told to try again, not that its session is over (answer it with `errorAnswer`).
 * Synchronous: express-jwt takes a boolean as well as a promise.
 *
 * @example
 * ```ts
 * app.use(expressjwt({ secret, algorithms: ['HS256'], isRevoked: expressJwtIsRevoked(index) }));
 * ```
 */
export function expressJwtIsRevoked(
  index: RevocationIndex,
  options?: RevocationCheckOptions,
): (req: unknown, token: ExpressJwtToken | undefined) => boolean {
  const verdictOf = revocationVerdict(index, options, 'expressJwtIsRevoked');
  return (_req, token) => {
    if (token === undefined || token === null) return true;
    const payload = token.payload;
    const kid = token.header?.kid;
    const verdict = verdictOf(
      typeof payload === 'object' && payload !== null ? payload : null,
      typeof kid === 'string' ? kid : undefined,
    );
    if (verdict === 'stale') throw staleIndexError();
    return verdict === 'revoked';
  };
}
