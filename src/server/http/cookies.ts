import type { FastifyReply } from 'fastify';
import type { CookieNames } from '../../http/cookies.js';

// The names are shared with the resource-server middleware, which reads the same cookies.
export { type CookieNames, cookieNames } from '../../http/cookies.js';

/** What a cookie-mode answer sets. */
export interface CookieGrant {
  readonly accessToken?: string;
  readonly accessTtl?: number;
  readonly refreshToken?: string;
  readonly refreshTtl?: number;
  readonly csrfToken?: string;
  readonly fingerprint?: string;
}

/** Sets the cookies of cookie mode on an answer. */
export function setSessionCookies(
  reply: FastifyReply,
  names: CookieNames,
  secure: boolean,
  grant: CookieGrant,
): void {
  // Strict: a browser sends them on no cross-site request at all, the first line against CSRF;
  // the CSRF token is the second.
  const set = (name: string, value: string, httpOnly: boolean, maxAge: number | undefined) => {
    void reply.setCookie(name, value, {
      path: '/',
      secure,
      sameSite: 'strict',
      httpOnly,
      ...(maxAge === undefined ? {} : { maxAge }),
    });
  };
  if (grant.accessToken !== undefined) set(names.access, grant.accessToken, true, grant.accessTtl);
  if (grant.refreshToken !== undefined) {
    set(names.refresh, grant.refreshToken, true, grant.refreshTtl);
  }
  // Readable by the page's script, which must copy it into the X-CSRF-Token header: a page of
  // another site can neither read it nor set that header.
  if (grant.csrfToken !== undefined) set(names.csrf, grant.csrfToken, false, grant.refreshTtl);
  if (grant.fingerprint !== undefined) {
    set(names.fingerprint, grant.fingerprint, true, grant.refreshTtl);
  }
}

/** Removes every cookie of cookie mode (a logout). */
export function clearSessionCookies(
  reply: FastifyReply,
  names: CookieNames,
  secure: boolean,
): void {
  const base = { path: '/', secure, sameSite: 'strict' as const };
  for (const name of [names.access, names.refresh, names.csrf, names.fingerprint]) {
    void reply.clearCookie(name, base);
  }
}
