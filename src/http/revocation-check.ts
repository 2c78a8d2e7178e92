import { RevocableError } from '../errors/revocable-error.js';
import { parseDuration } from '../lib/duration.js';
import { assertKnownOptions, type OptionNames } from '../lib/known-options.js';
import type { RevocationIndex } from '../revocation/types.js';
import { warnIfUnboundedStaleness } from './staleness-warning.js';

/** The claims a revocation check reads, as any JWT library hands over a verified payload. */
export interface CheckedClaims {
  readonly jti?: unknown;
  readonly sid?: unknown;
  readonly sub?: unknown;
  readonly iat?: unknown;
  readonly exp?: unknown;
  readonly sgen?: unknown;
}

/** Options of {@link createRevocationCheck}. */
export interface RevocationCheckOptions {
  /**
   * How long the index may go without hearing from its source (seconds, or a string like `5s`)
   * before the stale policy applies. Default: no bound (a single process with no bus).
   */
  maxStaleness?: number | string;
  /**
   * Past `maxStaleness`: `'fail-closed'` (the default) counts every token as revoked, since the
   * index can no longer promise it has heard of every revocation; `'allow'` lets tokens the index
   * does not know to be revoked through (availability over revocation, for the length of the
   * outage: say so to whoever owns the risk).
   */
  onStale?: 'fail-closed' | 'allow';
}

const OPTION_NAMES: OptionNames<RevocationCheckOptions> = { maxStaleness: true, onStale: true };

/**
 * Says whether a token another JWT library has verified is revoked: `true` means refuse it. For
 * existing `express-jwt` or `@fastify/jwt` set-ups that want revocable's index without changing
 * verifiers (see `expressJwtIsRevoked` and `fastifyJwtTrusted`); the signature, `exp`, `iss` and
 * `aud` remain that library's job.
 */
export type RevocationCheck = (
  claims: CheckedClaims | string | null | undefined,
  kid?: string,
) => boolean;

/**
 * Makes a {@link RevocationCheck} on an index. Counted as revoked, besides what `index.check`
 * matches (a `kid` given, the key rule included): claims that are not an object; a token without a
 * numeric `iat` and `exp`, or living longer (`exp - iat`) than the index's
 * `maxAccessTokenLifetime`, because the index forgets a revocation once every token it could
 * affect has expired, so such a token would come back to life (revocable's verifier refuses it as
 * `ERR_JWT_LIFETIME`; other libraries do not know the rule); a token issued in the future (`iat`
 * past the index's clock plus its `clockSkew`), which a subject or global cut-off, comparing `iat`,
 * would not reach (revocable's verifier refuses it as `ERR_JWT_IAT_FUTURE`; jsonwebtoken and
 * fast-jwt do not check it); a `sub`, `sid` or `jti` that is there but not a string (a numeric
 * user id), which no revocation, kept by string, would ever match; and, under `'fail-closed'`,
 * every token while the index is staler than `maxStaleness`.
 *
 * @example
 * ```ts
 * const isRevoked = createRevocationCheck(index, { maxStaleness: '5s' });
 * if (isRevoked(payload, header.kid)) throw new Error('revoked');
 * ```
 */
export function createRevocationCheck(
  index: RevocationIndex,
  options: RevocationCheckOptions = {},
): RevocationCheck {
  const verdict = revocationVerdict(index, options);
  return (claims, kid) => verdict(claims, kid) !== 'live';
}

function isAbsentOrText(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

/**
 * What a check of a token other JWT library verified finds: `live`, `revoked` (by the index, or a
 * token it cannot vouch for), or `stale` (under `'fail-closed'`, the index is staler than
 * `maxStaleness` and would have let the token through). @internal
 */
export type RevocationVerdict = 'live' | 'revoked' | 'stale';

/**
 * The verdicts behind {@link createRevocationCheck}, for the adapters, which answer a stale index
 * as the guard does (503 `ERR_REVOCATION_STALE`, try again) rather than as a revoked token (401,
 * which tells a client its session is over). @internal
 */
export function revocationVerdict(
  index: RevocationIndex,
  options: RevocationCheckOptions = {},
  caller = 'createRevocationCheck',
): (claims: CheckedClaims | string | null | undefined, kid?: string) => RevocationVerdict {
  if (typeof index?.check !== 'function' || typeof index.staleness !== 'function') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'index must be a RevocationIndex.');
  }
  if (typeof options !== 'object' || options === null) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'The options must be an object.');
  }
  assertKnownOptions(options, OPTION_NAMES, caller);
  const policy = options.onStale ?? 'fail-closed';
  if (policy !== 'fail-closed' && policy !== 'allow') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', "onStale must be 'fail-closed' or 'allow'.");
  }
  const bound =
    options.maxStaleness === undefined ? null : parseDuration(options.maxStaleness, 'maxStaleness');
  const failClosed = bound !== null && policy === 'fail-closed';
  warnIfUnboundedStaleness(index, options.maxStaleness, caller);
  const lifetime = index.maxAccessTokenLifetime;
  return (claims, kid) => {
    if (typeof claims !== 'object' || claims === null) return 'revoked';
    const { iat, exp } = claims;
    if (typeof iat !== 'number' || typeof exp !== 'number' || !(exp - iat <= lifetime)) {
      return 'revoked';
    }
    if (!(iat <= index.now() + index.clockSkew)) return 'revoked';
    // The index keys its revocations by string: a numeric sub (`jwt.sign({ sub: user.id })`), sid
    // or jti would miss every one of them, and a ban or a logout would never reach the token.
    if (!isAbsentOrText(claims.sub) || !isAbsentOrText(claims.sid) || !isAbsentOrText(claims.jti)) {
      return 'revoked';
    }
    if (index.check(claims, typeof kid === 'string' ? kid : undefined) !== null) return 'revoked';
    return failClosed && index.staleness() > (bound as number) ? 'stale' : 'live';
  };
}

/**
 * ERR_REVOCATION_STALE for the adapters of other JWT libraries, with the HTTP status on it as
 * `status` and `statusCode`: express-jwt hands it to `next(error)` and @fastify/jwt to the error
 * handler, and Express's and Fastify's default handlers answer with that status (503) rather than
 * 500. @internal
 */
export function staleIndexError(): RevocableError & { status: number; statusCode: number } {
  const error = new RevocableError(
    'ERR_REVOCATION_STALE',
    'The revocation index has not heard from its source within its staleness bound; try again.',
  );
  return Object.assign(error, { status: 503, statusCode: 503 });
}
