import { createHash, timingSafeEqual } from 'node:crypto';
import { isRevocableError, RevocableError } from '../errors/revocable-error.js';
import { decodeUnverified } from '../jwt/decode.js';
import type { JwtClaims } from '../jwt/types.js';
import { withDeadline } from '../lib/deadline.js';
import { assertBearerHeader, bearerCandidate, bearerToken } from './bearer.js';
import { contextOf } from './context.js';
import { assertCookieOnce, cookieRepeated, cookieValue } from './cookies.js';
import { resolveGuardOptions } from './guard-options.js';
import { createKeyReloader } from './key-refresh.js';
import { type CompiledRoute, checkRoute, compileRoute, requirementsOf } from './route.js';
import { checkSession } from './session-check.js';
import type {
  AuthContext,
  CredentialHeaders,
  RouteRequirements,
  TokenGuard,
  TokenGuardOptions,
} from './types.js';

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function isSafeMethod(method: string | undefined): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

function oneValue(value: string | readonly string[] | undefined): string | undefined {
  return value === undefined || typeof value === 'string' ? value : value.join(',');
}

/**
 * Creates the guard of a resource server: it takes a request's bearer token (or, without an
 * Authorization header, the access cookie of the auth server's cookie mode), verifies it with a
 * revocable verifier (signature, claims, and the in-memory revocation index, synchronously), and
 * holds it to a route's requirements. The Express and Fastify adapters are thin layers on it.
 *
 * Most requests need no I/O and no promise: {@link TokenGuard.checkFast} returns the context
 * synchronously, allocating little beyond it (the verifier's cache skips the signature of a token
 * seen before; the index check allocates nothing). I/O happens only for a `checkStore` route, under
 * the `'check-store'` policy while the index is stale, and for one key reload when a token names a
 * `kid` the ring lacks.
 *
 * @example
 * ```ts
 * const guard = createTokenGuard({
 *   keys,
 *   index,
 *   issuer: 'https://auth.example',
 *   audience: 'api',
 *   maxStaleness: '5s',
 * });
 * const auth = await guard.check({ authorization: `Bearer ${accessToken}` }, { roles: ['admin'] });
 * console.log(auth.sub, auth.roles);
 * ```
 */
export function createTokenGuard(options: TokenGuardOptions): TokenGuard {
  const {
    verifier,
    staleVerifier,
    ownVerifier,
    accessCookie,
    csrfCookie,
    fingerprintCookie,
    store,
    storeTimeout,
    refreshKeys,
    keyRevoked,
    clockSkew,
    readStaleLog,
    now,
  } = resolveGuardOptions(options);
  // A verifier of the caller's own may accept what a JWS parser would not: the header is then
  // checked in full before the verify.
  const readBearer = ownVerifier ? bearerCandidate : bearerToken;
  const reload = refreshKeys === null ? null : createKeyReloader(refreshKeys, now);
  // Routes prepared by guard.route(), by the frozen object it returned.
  const prepared = new WeakMap<RouteRequirements, CompiledRoute>();

  function compile(requirements: RouteRequirements): CompiledRoute {
    const route = compileRoute(requirements);
    if (route.checkStore && store === null) {
      throw new RevocableError(
        'ERR_INVALID_ARGUMENT',
        "A checkStore route needs the guard to have a store (the cluster's, read-only): give " +
          'createTokenGuard `store`. A guard of connectToAuthServer has none, so its routes ' +
          'cannot use checkStore.',
      );
    }
    return route;
  }

  function planOf(route: RouteRequirements | undefined): CompiledRoute | null {
    if (route === undefined) return null;
    return prepared.get(route) ?? compile(route);
  }

  function checkFingerprint(claims: JwtClaims, headers: CredentialHeaders): void {
    const bound = claims.fgp;
    // Two fingerprint cookies: one may be another site's, and which is the user's cannot be told.
    assertCookieOnce(headers.cookie, fingerprintCookie);
    const cookie = cookieValue(headers.cookie, fingerprintCookie);
    if (
      typeof bound !== 'string' ||
      cookie === undefined ||
      !sameText(createHash('sha256').update(cookie).digest('hex'), bound)
    ) {
      throw new RevocableError(
        'ERR_FINGERPRINT_MISMATCH',
        'This token is bound to a fingerprint cookie the request does not carry.',
      );
    }
  }

  // Double submit: the header must repeat the cookie, which a page of another site cannot read.
  // A second cookie of the name (set by a sibling subdomain, see cookieRepeated) would let that
  // subdomain choose the value the header is compared with, so it is refused.
  function checkCsrf(headers: CredentialHeaders, cookieName: string): void {
    const presented = oneValue(headers['x-csrf-token']);
    const expected = cookieValue(headers.cookie, cookieName);
    if (
      presented === undefined ||
      expected === undefined ||
      !sameText(presented, expected) ||
      cookieRepeated(headers.cookie, cookieName)
    ) {
      throw new RevocableError(
        'ERR_CSRF',
        'A request authenticated by cookie that changes state needs the X-CSRF-Token header.',
      );
    }
  }

  const storeTimedOut = (): RevocableError =>
    new RevocableError(
      'ERR_STORE_UNAVAILABLE',
      `The session store did not answer within ${storeTimeout} s.`,
    );

  async function afterStore(auth: AuthContext, plan: CompiledRoute | null): Promise<AuthContext> {
    await withDeadline(checkSession(store!, auth, now), storeTimeout, storeTimedOut);
    if (plan !== null) checkRoute(plan, auth, now(), clockSkew);
    return auth;
  }

  // Everything after the verify: the bindings of the token to the request, then the route.
  function accept(
    claims: JwtClaims,
    token: string,
    via: 'bearer' | 'cookie',
    headers: CredentialHeaders,
    plan: CompiledRoute | null,
    method: string | undefined,
    askStore: boolean,
  ): AuthContext | Promise<AuthContext> {
    if (claims.fgp !== undefined) checkFingerprint(claims, headers);
    if (via === 'cookie' && csrfCookie !== null && !isSafeMethod(method)) {
      checkCsrf(headers, csrfCookie);
    }
    const auth = contextOf(claims, token, via);
    if (askStore || plan?.checkStore === true) return afterStore(auth, plan);
    if (plan !== null) checkRoute(plan, auth, now(), clockSkew);
    return auth;
  }

  function canRecover(error: unknown): boolean {
    if (!isRevocableError(error)) return false;
    return (
      (reload !== null && error.code === 'ERR_JWT_KID_UNKNOWN') ||
      (staleVerifier !== null && error.code === 'ERR_REVOCATION_STALE')
    );
  }

  // The verify failed in a way I/O may cure: a key reload, or the store in place of the index.
  async function recover(
    first: unknown,
    token: string,
    via: 'bearer' | 'cookie',
    headers: CredentialHeaders,
    plan: CompiledRoute | null,
    method: string | undefined,
  ): Promise<AuthContext> {
    let error = first;
    if (reload !== null && isRevocableError(error, 'ERR_JWT_KID_UNKNOWN')) {
      // A key revoked at the auth server and since dropped from the ring (a restart reloads the
      // JWKS, which no longer lists it): no reload will bring it back, and none is spent on it.
      const kid = kidOf(token);
      if (kid !== null && keyRevoked?.(kid) === true) {
        throw new RevocableError(
          'ERR_JWT_KEY_RETIRED',
          'The key that signed this token is retired.',
        );
      }
      // Checked again whatever the reload says: the key may have come meanwhile by another way
      // (the fetch a key event started, the periodic one) and this reload found nothing new.
      await reload();
      try {
        return await accept(verifier.verify(token), token, via, headers, plan, method, false);
      } catch (again) {
        if (!isRevocableError(again, 'ERR_REVOCATION_STALE')) throw again;
        error = again;
      }
    }
    if (staleVerifier === null || !isRevocableError(error, 'ERR_REVOCATION_STALE')) throw error;
    // What only the log records (a jti, a retired key) reaches the index before the verify.
    if (readStaleLog !== null) await readStaleLog();
    return accept(staleVerifier.verify(token), token, via, headers, plan, method, true);
  }

  function checkFast(
    headers: CredentialHeaders,
    route?: RouteRequirements,
    method?: string,
  ): AuthContext | Promise<AuthContext> {
    const plan = planOf(route);
    // With the guard's own verifier, the scheme only: the verify proves the token's characters.
    let token: string | null | undefined = readBearer(headers.authorization);
    let via: 'bearer' | 'cookie' = 'bearer';
    if (token === null && accessCookie !== null) {
      // Whatever the first holds, an empty value included: two of the name cannot be told apart.
      assertCookieOnce(headers.cookie, accessCookie);
      token = cookieValue(headers.cookie, accessCookie);
      via = 'cookie';
    }
    if (token === null || token === undefined) {
      throw new RevocableError(
        'ERR_AUTH_REQUIRED',
        accessCookie === null
          ? 'This route needs an access token: an Authorization: Bearer header.'
          : 'This route needs an access token: an Authorization: Bearer header or the access cookie.',
      );
    }
    let claims: JwtClaims;
    try {
      claims = verifier.verify(token);
    } catch (error) {
      // A header bearerToken refuses is refused as such, before any recovery could do I/O for it.
      if (via === 'bearer' && ownVerifier) assertBearerHeader(headers.authorization);
      if (canRecover(error)) return recover(error, token, via, headers, plan, method);
      throw error;
    }
    return accept(claims, token, via, headers, plan, method, false);
  }

  return {
    checkFast,
    async check(headers, route, method) {
      return checkFast(headers, route, method);
    },
    route(requirements) {
      const plan = compile(requirements);
      const frozen = requirementsOf(plan);
      prepared.set(frozen, plan);
      return frozen;
    },
  };
}

// The kid of a token whose verify failed on it, so its header parsed: read again here, off the
// hot path. Null when there is none to read.
function kidOf(token: string): string | null {
  try {
    const kid = decodeUnverified(token).header.kid;
    return typeof kid === 'string' ? kid : null;
  } catch {
    return null;
  }
}
