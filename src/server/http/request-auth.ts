import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { isRevocableError, RevocableError } from '../../errors/revocable-error.js';
import { assertOneAuthorization, bearerToken as parseBearer } from '../../http/bearer.js';
import { assertCookieOnce } from '../../http/cookies.js';
import type { JwtClaims } from '../../jwt/types.js';
import type { ServerRuntime } from '../runtime/runtime.js';
import type { CookieNames } from './cookies.js';

/** A request whose access token verified. */
export interface Authenticated {
  readonly claims: JwtClaims;
  readonly sub: string;
  readonly sid: string;
  readonly roles: readonly string[];
  /** Where the token came from: cookie mode needs the CSRF check on requests that change state. */
  readonly via: 'bearer' | 'cookie';
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/** Checks who a request is, and whether it may change state; one per server. */
export interface Authenticator {
  /**
   * Verifies the request's access token (bearer header, else the access cookie). Synchronous on
   * the local index, but for a token of a key this process has not loaded yet (rotated by another
   * process a moment ago): then the shared ring is reloaded once and the token checked again.
   */
  authenticate(request: FastifyRequest): Promise<Authenticated>;
  /** Refuses with ERR_FORBIDDEN unless the token has the role. */
  requireRole(auth: Authenticated, role: string): void;
  /** The CSRF token of a session (cookie mode). */
  csrfToken(sid: string): string;
  /** Refuses a cookie-authenticated request that changes state without its session's CSRF token. */
  checkCsrf(request: FastifyRequest, sid: string): void;
  /** A new fingerprint and the claim that binds a session's tokens to it. */
  fingerprintHash(fingerprint: string): string;
  /**
   * Refuses with ERR_FINGERPRINT_MISMATCH a request without the fingerprint cookie that `claims`
   * (a token's, or a session's) are bound to by their `fgp`; claims without `fgp` pass.
   */
  checkFingerprint(request: FastifyRequest, claims: Readonly<Record<string, unknown>>): void;
}

/** The request's bearer token, null without an Authorization header (the rule of src/http). */
export function bearerToken(request: FastifyRequest): string | null {
  assertOneAuthorization(request.raw.rawHeaders);
  return parseBearer(request.headers.authorization);
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

// A token naming an unknown kid reloads the ring at most this often: a stream of forged kids must
// not become a stream of store reads.
const KEY_RELOAD_INTERVAL_MS = 1000;

export function createAuthenticator(runtime: ServerRuntime, names: CookieNames): Authenticator {
  const { verifier, metrics, secrets } = runtime;
  let lastReload = 0;
  let reloading: Promise<boolean> | null = null;

  async function reloadKeys(): Promise<boolean> {
    if (reloading !== null) return reloading;
    if (Date.now() - lastReload < KEY_RELOAD_INTERVAL_MS) return false;
    lastReload = Date.now();
    reloading = runtime.keys.refresh().finally(() => {
      reloading = null;
    });
    return reloading;
  }

  async function verify(token: string): Promise<JwtClaims> {
    try {
      return verifier.verify(token);
    } catch (error) {
      if (!isRevocableError(error, 'ERR_JWT_KID_UNKNOWN') || !(await reloadKeys())) throw error;
      return verifier.verify(token);
    }
  }

  function fingerprintHash(fingerprint: string): string {
    return createHash('sha256').update(fingerprint).digest('hex');
  }

  function checkFingerprint(
    request: FastifyRequest,
    claims: Readonly<Record<string, unknown>>,
  ): void {
    const bound = claims.fgp;
    if (bound === undefined) return;
    // Two fingerprint cookies: one may be another site's, and which is the user's cannot be told.
    assertCookieOnce(request.headers.cookie, names.fingerprint);
    const cookie = request.cookies[names.fingerprint];
    if (
      typeof bound !== 'string' ||
      cookie === undefined ||
      !sameText(fingerprintHash(cookie), bound)
    ) {
      throw new RevocableError(
        'ERR_FINGERPRINT_MISMATCH',
        'This token is bound to a fingerprint cookie the request does not carry.',
      );
    }
  }

  function csrfToken(sid: string): string {
    return createHmac('sha256', secrets.csrfKey).update(`csrf:${sid}`).digest('base64url');
  }

  function checkCsrf(request: FastifyRequest, sid: string): void {
    if (SAFE_METHODS.has(request.method)) return;
    const presented = headerValue(request.headers['x-csrf-token']);
    if (presented === undefined || !sameText(presented, csrfToken(sid))) {
      throw new RevocableError(
        'ERR_CSRF',
        'A request authenticated by cookie that changes state needs the X-CSRF-Token header of its session.',
      );
    }
  }

  return {
    async authenticate(request) {
      const bearer = bearerToken(request);
      if (bearer === null) assertCookieOnce(request.headers.cookie, names.access);
      const token = bearer ?? request.cookies[names.access];
      if (token === undefined || token === '') {
        throw new RevocableError(
          'ERR_AUTH_REQUIRED',
          'This route needs an access token: an Authorization: Bearer header or the access cookie.',
        );
      }
      let claims: JwtClaims;
      try {
        claims = await verify(token);
        checkFingerprint(request, claims);
      } catch (error) {
        metrics.verifyFailure(isRevocableError(error) ? error.code : 'unknown');
        throw error;
      }
      const roles = Array.isArray(claims.roles)
        ? claims.roles.filter((role): role is string => typeof role === 'string')
        : [];
      const auth: Authenticated = {
        claims,
        sub: claims.sub as string,
        sid: claims.sid as string,
        roles,
        via: bearer === null ? 'cookie' : 'bearer',
      };
      if (auth.via === 'cookie') checkCsrf(request, auth.sid);
      return auth;
    },
    requireRole(auth, role) {
      if (!auth.roles.includes(role)) {
        throw new RevocableError('ERR_FORBIDDEN', `This route needs the role "${role}".`);
      }
    },
    csrfToken,
    checkCsrf,
    fingerprintHash,
    checkFingerprint,
  };
}
