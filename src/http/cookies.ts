import { RevocableError } from '../errors/revocable-error.js';
import { charCodeAt } from '../lib/char-code.js';

/** The cookies of the auth server's cookie mode (see docs/server.md), by role. */
export interface CookieNames {
  /** The access token (HttpOnly). */
  readonly access: string;
  /** The refresh token (HttpOnly); the auth server's business only. */
  readonly refresh: string;
  /** The CSRF token a page copies into the X-CSRF-Token header (readable by its script). */
  readonly csrf: string;
  /** The fingerprint whose SHA-256 a token's `fgp` claim carries (HttpOnly). */
  readonly fingerprint: string;
}

/**
 * The names the auth server gives its cookies, which a resource server reads too. With Secure
 * cookies (the default) they carry the `__Host-` prefix, which browsers honour only for a cookie
 * that is Secure, host-only and for the whole path: no subdomain or other path can set or shadow
 * it. Without Secure (`--cookie-secure=false`, plain-http development) the prefix would make
 * browsers drop them.
 */
export function cookieNames(secure: boolean): CookieNames {
  const prefix = secure ? '__Host-' : '';
  return {
    access: `${prefix}revocable-access`,
    refresh: `${prefix}revocable-refresh`,
    csrf: `${prefix}revocable-csrf`,
    fingerprint: `${prefix}revocable-fgp`,
  };
}

// RFC 6265's cookie-name is an RFC 9110 token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether a string may be a cookie name. */
export function isCookieName(name: unknown): name is string {
  return typeof name === 'string' && COOKIE_NAME.test(name);
}

const SPACE = 0x20;
const TAB = 0x09;
const EQUALS = 0x3d;
const QUOTE = 0x22;

// Where the next cookie called `name` at or after `from` has its `=`, or -1.
function nextCookie(text: string, name: string, from: number): number {
  const length = text.length;
  let at = from;
  while (at < length) {
    while (charCodeAt(text, at) === SPACE || charCodeAt(text, at) === TAB) at++;
    let end = text.indexOf(';', at);
    if (end === -1) end = length;
    if (text.startsWith(name, at)) {
      let cursor = at + name.length;
      while (charCodeAt(text, cursor) === SPACE) cursor++;
      if (cursor < end && charCodeAt(text, cursor) === EQUALS) return cursor;
    }
    at = end + 1;
  }
  return -1;
}

function headerOf(header: string | readonly string[]): string {
  return typeof header === 'string' ? header : header.join('; ');
}

/**
 * The value of the first cookie called `name` in a Cookie header, or undefined (also for an empty
 * value). Only that cookie is looked for: the header is scanned, not parsed into an object, since
 * this runs on requests that carry no Authorization header. Values are returned as sent (without
 * the double quotes RFC 6265 allows around them), not percent-decoded: the tokens and the CSRF
 * token of cookie mode are base64url, which needs no encoding.
 */
export function cookieValue(
  header: string | readonly string[] | undefined,
  name: string,
): string | undefined {
  if (header === undefined) return undefined;
  const text = headerOf(header);
  const equals = nextCookie(text, name, 0);
  if (equals === -1) return undefined;
  let end = text.indexOf(';', equals);
  if (end === -1) end = text.length;
  let start = equals + 1;
  let stop = end;
  while (start < stop && charCodeAt(text, start) === SPACE) start++;
  while (stop > start && charCodeAt(text, stop - 1) === SPACE) stop--;
  if (
    stop - start >= 2 &&
    charCodeAt(text, start) === QUOTE &&
    charCodeAt(text, stop - 1) === QUOTE
  ) {
    start++;
    stop--;
  }
  return stop > start ? text.slice(start, stop) : undefined;
}

/**
 * Whether a Cookie header holds two cookies called `name`. A browser sends both when another
 * path or a parent domain set one of the same name, the longer path first: a sibling subdomain
 * can so put a cookie of its choosing ahead of the real one ("cookie tossing"), which the
 * `__Host-` prefix of the default names rules out and other names do not.
 */
export function cookieRepeated(
  header: string | readonly string[] | undefined,
  name: string,
): boolean {
  if (header === undefined) return false;
  const text = headerOf(header);
  const first = nextCookie(text, name, 0);
  if (first === -1) return false;
  const end = text.indexOf(';', first);
  return end !== -1 && nextCookie(text, name, end + 1) !== -1;
}

/**
 * Throws `ERR_AUTH_HEADER_INVALID` when the Cookie header holds the credential cookie `name`
 * twice: which one is the user's cannot be told, and the first, which would be read, is the one
 * another site could have put there (see {@link cookieRepeated}). @internal
 */
export function assertCookieOnce(
  header: string | readonly string[] | undefined,
  name: string,
): void {
  if (cookieRepeated(header, name)) {
    throw new RevocableError(
      'ERR_AUTH_HEADER_INVALID',
      `The request carries the cookie ${name} twice; another path or domain set one of them.`,
    );
  }
}
