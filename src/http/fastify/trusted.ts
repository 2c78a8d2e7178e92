import type { RevocationIndex } from '../../revocation/types.js';
import {
  type RevocationCheckOptions,
  type RevocationVerdict,
  revocationVerdict,
  staleIndexError,
} from '../revocation-check.js';

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null;
}

// What fast-jwt's complete result holds, and nothing else.
const COMPLETE_MEMBERS = new Set(['header', 'payload', 'signature', 'input']);

function hasOnlyCompleteMembers(value: object): boolean {
  for (const key of Object.keys(value)) if (!COMPLETE_MEMBERS.has(key)) return false;
  return true;
}

/**
 * A `trusted` option for @fastify/jwt that asks revocable's index: `trusted` returns true to
 * accept a verified token, false to refuse it (`FST_JWT_AUTHORIZATION_TOKEN_UNTRUSTED`, 401), so
 * this returns true for a token the index does not revoke. @fastify/jwt hands it the payload, or
 * `{ header, payload, signature, input }` with `verify: { complete: true }`: only then is the
 * header's `kid` known, so give that option for a retired key to count. What counts as revoked
 * (tokens the index cannot vouch for): see `createRevocationCheck`. With `maxStaleness`, while the
 * index is stale (unless `onStale: 'allow'`) it returns a promise rejected with
 * `ERR_REVOCATION_STALE`, which @fastify/jwt hands to the error handler: with `statusCode` 503 on
 * it, so the client is told to try again, not that its session is over.
 *
 * @example
 * ```ts
 * await app.register(fastifyJwt, {
 *   secret,
 *   verify: { complete: true },
 *   trusted: fastifyJwtTrusted(index, { maxStaleness: '5s' }),
 * });
 * ```
 */
export function fastifyJwtTrusted(
  index: RevocationIndex,
  options?: RevocationCheckOptions,
): (request: unknown, decodedToken: object) => boolean | Promise<boolean> {
  const verdictOf = revocationVerdict(index, options, 'fastifyJwtTrusted');
  // A rejected promise, not a throw: @fastify/jwt catches a rejection of `trusted`, not a throw.
  const answer = (verdict: RevocationVerdict): boolean | Promise<boolean> =>
    verdict === 'stale' ? Promise.reject(staleIndexError()) : verdict === 'live';
  return (_request, decodedToken) => {
    if (!isObject(decodedToken)) return false;
    const { header, payload, signature } = decodedToken;
    // verify.complete's result is told from the claims by its shape, all of it: claims that happen
    // to carry members named header, payload and signature must not have a nested object read in
    // their place, so any other member (iat, exp, sub...) makes them claims.
    if (
      isObject(header) &&
      typeof header.alg === 'string' &&
      isObject(payload) &&
      typeof signature === 'string' &&
      hasOnlyCompleteMembers(decodedToken)
    ) {
      const kid = header.kid;
      return answer(verdictOf(payload, typeof kid === 'string' ? kid : undefined));
    }
    return answer(verdictOf(decodedToken));
  };
}
