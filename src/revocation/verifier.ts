import { RevocableError } from '../errors/revocable-error.js';
import { TokenRevokedError } from '../errors/token-revoked-error.js';
import type { JwtClaims, JwtHeader } from '../jwt/types.js';
import { VERIFIER_OPTION_NAMES, warnIfUnscoped } from '../jwt/verifier-options.js';
import { createVerifierCore, type Verifier, type VerifierOptions } from '../jwt/verify.js';
import { parseDuration } from '../lib/duration.js';
import { assertKnownOptions, type OptionNames } from '../lib/known-options.js';
import type { RevocationIndex } from './types.js';

/** What a staleness callback is told about the token it has to decide on. */
export interface StaleContext {
  /** The verified claims (signature, `exp` and the rest already checked; not revoked by the index). */
  readonly claims: JwtClaims;
  readonly header: JwtHeader;
  /** Seconds since the index last heard from its source (Infinity if never). */
  readonly staleness: number;
}

/**
 * What to do with a token while the index is staler than `maxStaleness`: `'fail-closed'` refuses
 * it with `ERR_REVOCATION_STALE`; a function decides, returning true to accept the token (it may
 * also throw its own error).
 *
 * @example
 * ```ts
 * // Tolerate a short outage for read-only tokens, refuse the rest.
 * const onStale: StalePolicy = ({ claims, staleness }) => claims.scope === 'read' && staleness < 120;
 * ```
 */
export type StalePolicy = 'fail-closed' | ((context: StaleContext) => boolean);

/**
 * Options for {@link createRevocableVerifier}: those of `createVerifier`, plus the index and the
 * staleness bound.
 *
 * @example
 * ```ts
 * const options: RevocableVerifierOptions = { keys: ring, audience: 'api', index, maxStaleness: '30s' };
 * ```
 */
export interface RevocableVerifierOptions extends VerifierOptions {
  /** The revocation index every verify consults. */
  index: RevocationIndex;
  /**
   * How long the index may go without hearing from its source (seconds, or a string like `30s`)
   * before the stale policy applies. Default: no bound (a single process with no bus).
   */
  maxStaleness?: number | string;
  /** What to do past `maxStaleness` (default `'fail-closed'`). */
  onStale?: StalePolicy;
}

/** Every option of `createRevocableVerifier`. @internal */
export const REVOCABLE_VERIFIER_OPTION_NAMES: OptionNames<RevocableVerifierOptions> = Object.freeze(
  {
    ...VERIFIER_OPTION_NAMES,
    index: true,
    maxStaleness: true,
    onStale: true,
  },
);

/**
 * Creates the verifier of revocable: one synchronous call checks the signature (with the key ring's
 * algorithm binding), the header, the claims, and the revocation index, then returns the claims.
 * Revoked tokens throw a {@link TokenRevokedError} (`ERR_TOKEN_REVOKED`) whose `rule` says which
 * revocation matched; a stale index throws `ERR_REVOCATION_STALE` under the `'fail-closed'` policy.
 *
 * The verifier's `clockTolerance` must not exceed the index's `clockSkew` (nor, as in every
 * verifier, `MAX_CLOCK_TOLERANCE`): the index keeps a token revocation until the token's `exp` plus
 * the skew, and a verifier forgiving more would accept a revoked token after the index forgot it.
 * For the same reason `maxTokenLifetime` defaults to the index's `maxAccessTokenLifetime` and may
 * not exceed it: a cut-off is remembered for that long after it is made, so a token living longer
 * (`exp - iat`) is refused with `ERR_JWT_LIFETIME`.
 *
 * @example
 * ```ts
 * const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
 * const verifier = createRevocableVerifier({
 *   keys: ring,
 *   issuer: 'https://auth.example',
 *   audience: 'api',
 *   index,
 * });
 * const claims = verifier.verify(token); // ERR_TOKEN_REVOKED once its session is revoked
 * ```
 */
export function createRevocableVerifier(options: RevocableVerifierOptions): Verifier {
  if (typeof options !== 'object' || options === null) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'createRevocableVerifier needs options.');
  }
  assertKnownOptions(options, REVOCABLE_VERIFIER_OPTION_NAMES, 'createRevocableVerifier');
  const { index, maxStaleness, onStale, ...jwtOptions } = options;
  if (typeof index?.check !== 'function' || typeof index.staleness !== 'function') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'index must be a RevocationIndex.');
  }
  const tolerance = parseDuration(jwtOptions.clockTolerance ?? 0, 'clockTolerance');
  if (tolerance > index.clockSkew) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      "clockTolerance must not exceed the index's clockSkew.",
    );
  }
  // The index forgets a session, subject or global cut-off once every token issued before it has
  // expired, counting on no token living longer than maxAccessTokenLifetime; a longer-lived one
  // would come back to life when its revocation is forgotten. The clock skew is not added: exp and
  // iat are two readings of the issuer's clock, so their difference owes nothing to clock skew, and
  // the index's two skew margins are already spent, one on an issuer clock ahead of the revoker's
  // (iat compared with the cut-off) and one on this verifier's clockTolerance (exp compared with
  // now). A limit of lifetime + skew would let a revoked token outlive its entry by up to the skew.
  const maxTokenLifetime =
    jwtOptions.maxTokenLifetime === undefined
      ? index.maxAccessTokenLifetime
      : parseDuration(jwtOptions.maxTokenLifetime, 'maxTokenLifetime');
  if (maxTokenLifetime > index.maxAccessTokenLifetime) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      "maxTokenLifetime must not exceed the index's maxAccessTokenLifetime.",
    );
  }
  const bound = maxStaleness === undefined ? null : parseDuration(maxStaleness, 'maxStaleness');
  const policy = onStale ?? 'fail-closed';
  if (policy !== 'fail-closed' && typeof policy !== 'function') {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      "onStale must be 'fail-closed' or a function.",
    );
  }
  const ring = jwtOptions.keys;
  // Claims are judged on the index's clock unless the caller gave the verifier one.
  const inner = createVerifierCore({
    ...jwtOptions,
    maxTokenLifetime,
    now: jwtOptions.now ?? index.now,
  });
  warnIfUnscoped(jwtOptions, 'createRevocableVerifier');
  const verifyToken = inner.verify;
  const lastHeader = inner.lastHeader;

  function verify(token: string): JwtClaims {
    const claims = verifyToken(token);
    const parsed = lastHeader();
    // A token without kid was verified by the ring's sole key for its alg: that key's kid counts.
    const kid = parsed.kid ?? ring.soleKeyFor(parsed.alg)?.kid;
    const rule = index.check(claims, kid);
    if (rule !== null) throw new TokenRevokedError(rule);
    if (bound !== null) {
      const staleness = index.staleness();
      if (staleness > bound) {
        const accepted =
          policy !== 'fail-closed' && policy({ claims, header: parsed.header, staleness }) === true;
        if (!accepted) {
          throw new RevocableError(
            'ERR_REVOCATION_STALE',
            'The revocation index is stale: revocations may be missing.',
          );
        }
      }
    }
    return claims;
  }

  return {
    verify,
    verifyJwt: (token) => {
      const claims = verify(token);
      return { header: lastHeader().header, claims };
    },
  };
}
