import type { ErrorCode } from '../errors/codes.js';
import { RevocableError } from '../errors/revocable-error.js';

/** The realm of the challenges when none is given. */
export const DEFAULT_REALM = 'revocable';

// A realm is sent as an RFC 9110 quoted-string; these characters need no escaping in one.
const REALM = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,200}$/;

/** Checks a realm: printable ASCII without `"` or `\`, 1 to 200 characters. */
export function checkRealm(realm: unknown): string {
  if (typeof realm !== 'string' || !REALM.test(realm)) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      'realm must be 1 to 200 printable ASCII characters without " or \\.',
    );
  }
  return realm;
}

/** Whether the code is one of a token that was read and refused by its JWT checks. */
function isTokenCode(code: ErrorCode): boolean {
  return /^ERR_JWT[A-Z_]*$/.test(code) || code === 'ERR_TOKEN_REVOKED';
}

/**
 * The RFC 6750 `WWW-Authenticate` challenge of an error answer, or null when it takes none: the
 * auth server's rule. A 401 for a token that was presented and refused (its JWT checks, a
 * revocation, its fingerprint) says `invalid_token`; a 401 for no token at all is a bare challenge
 * (RFC 6750 section 3.1: no error code when the request had no credential); a malformed
 * Authorization header is `invalid_request`; ERR_FORBIDDEN is `insufficient_scope`, with the
 * scopes the route requires as `scope` when they are what the token lacks. Each error names the
 * stable code as `error_description`. Other 401s of the server (a failed login, a refresh token)
 * are not about a bearer token: null here, and the server sends the bare challenge that RFC 9110
 * asks of every 401. `realm` must have passed {@link checkRealm}; each of `scope` is a scope
 * token (RFC 6749 section 3.3: no space, `"` or `\`).
 */
export function bearerChallenge(
  code: ErrorCode,
  status: number,
  realm: string = DEFAULT_REALM,
  scope?: readonly string[],
): string | null {
  if (code === 'ERR_FORBIDDEN') {
    const required = scope === undefined ? '' : `, scope="${scope.join(' ')}"`;
    return `Bearer realm="${realm}", error="insufficient_scope", error_description="${code}"${required}`;
  }
  if (status !== 401) return null;
  if (code === 'ERR_AUTH_REQUIRED') return `Bearer realm="${realm}"`;
  if (code === 'ERR_AUTH_HEADER_INVALID') {
    return `Bearer realm="${realm}", error="invalid_request", error_description="${code}"`;
  }
  if (isTokenCode(code) || code === 'ERR_FINGERPRINT_MISMATCH') {
    return `Bearer realm="${realm}", error="invalid_token", error_description="${code}"`;
  }
  return null;
}

/**
 * The challenge of a resource server's answer. There every 401 is about the bearer token, and
 * RFC 6750 section 3 wants a challenge on each: the auth server's rule, then `invalid_token` for
 * any other 401 (a session the store says has ended, say), and RFC 9470's
 * `insufficient_user_authentication` (with `max_age` when known) for a token whose `auth_time` is
 * older than the route allows, which tells the client to log in again rather than refresh.
 */
export function resourceChallenge(
  code: ErrorCode,
  status: number,
  realm: string,
  maxAge: number | undefined,
  scope?: readonly string[],
): string | null {
  if (code === 'ERR_REAUTH_REQUIRED') {
    const age = maxAge === undefined ? '' : `, max_age="${Math.floor(maxAge)}"`;
    return `Bearer realm="${realm}", error="insufficient_user_authentication", error_description="${code}"${age}`;
  }
  const challenge = bearerChallenge(code, status, realm, scope);
  if (challenge !== null || status !== 401) return challenge;
  return `Bearer realm="${realm}", error="invalid_token", error_description="${code}"`;
}
