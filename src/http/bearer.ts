import { RevocableError } from '../errors/revocable-error.js';
import { charCodeAt } from '../lib/char-code.js';

/**
 * The longest Authorization header read, well above any token revocable signs (the verifier's own
 * limit is 8192 characters of token): a longer one is refused before it is scanned.
 */
export const MAX_AUTHORIZATION_LENGTH = 8192;

// RFC 6750's b64token after the scheme, optional spaces around; no capture group: `test` allocates
// nothing, and the token's bounds are found by skipping the spaces the pattern allowed.
const BEARER = /^Bearer +[A-Za-z0-9\-._~+/]+=* *$/i;
const SPACE = 0x20;
const SCHEME_LENGTH = 6;

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_AUTH_HEADER_INVALID', message);
}

/**
 * The header as one string; null for a credential of another scheme longer than the limit, which
 * carries no bearer token however long it is (a Negotiate token from a proxy runs to 16 KB), so a
 * browser app behind such a proxy still signs in with its cookie.
 */
function headerText(value: string | readonly string[]): string | null {
  // Node.js keeps one Authorization header, but another server or a test may hand over a list.
  const header = typeof value === 'string' ? value : value.join(',');
  if (header.length > MAX_AUTHORIZATION_LENGTH) {
    if (OTHER_SCHEME.test(header)) return null;
    throw invalid('The Authorization header is too long.');
  }
  return header;
}

function notBearer(): RevocableError {
  return invalid('The Authorization header must be "Bearer <token>".');
}

// A credential of another scheme (RFC 9110 section 11.4: the scheme is a token, then a space or
// nothing): `Basic ...`, `DPoP ...`, `Digest ...`. The scheme leaves out the token character `.`,
// so that a bare JWT is a malformed header rather than a scheme, and anything that starts with
// "bearer" is a malformed Bearer header (`Bearer`, `Bearer\tabc`, `Bearerabc`).
const OTHER_SCHEME = /^(?!bearer)[A-Za-z0-9!#$%&'*+^_`|~-]+(?: |$)/i;

/**
 * What a header that is no well-formed Bearer credential stands for: nothing, when it is a
 * credential of another scheme. RFC 6750 section 3.1 treats a request that "attempted using an
 * unsupported authentication method" as one without authentication information, answered with a
 * bare challenge; and a browser app behind a proxy's HTTP Basic authentication still signs in
 * with its cookie. Anything else is refused as malformed.
 */
function otherSchemeOrThrow(header: string): null {
  if (OTHER_SCHEME.test(header)) return null;
  throw notBearer();
}

// "bearer", lower case: a letter's code with bit 0x20 set is its lower case, and no other
// character of the header becomes one of these letters that way.
const SCHEME = [0x62, 0x65, 0x61, 0x72, 0x65, 0x72];

/**
 * The token of an `Authorization: Bearer <token>` header; null when there is no header, or when
 * it is a credential of another scheme (`Basic ...`: no bearer token, as RFC 6750 section 3.1
 * has it).
 *
 * Strict on purpose: exactly one scheme `Bearer` (any case), one or more spaces, one b64token
 * (RFC 6750 section 2.1), optional trailing spaces, printable ASCII only, at most
 * {@link MAX_AUTHORIZATION_LENGTH} characters. Anything else (two tokens, a comma list from a
 * repeated header, a control or non-ASCII character, a bare token with no scheme) is
 * `ERR_AUTH_HEADER_INVALID` rather than a guess at what was meant. The regular expression is
 * compiled to machine code and checks a token faster than a loop over its characters in
 * JavaScript.
 */
export function bearerToken(value: string | readonly string[] | undefined): string | null {
  if (value === undefined) return null;
  const header = headerText(value);
  if (header === null) return null;
  if (!BEARER.test(header)) return otherSchemeOrThrow(header);
  return tokenPart(header);
}

function tokenPart(header: string): string {
  let start = SCHEME_LENGTH;
  while (charCodeAt(header, start) === SPACE) start++;
  let end = header.length;
  while (charCodeAt(header, end - 1) === SPACE) end--;
  return header.slice(start, end);
}

/**
 * What a JWT verifier is to be handed from an `Authorization` header, checked only as far as the
 * scheme: `Bearer` (any case), then one or more spaces; the rest, trailing spaces removed, is the
 * candidate; null when there is no header or one of another scheme. It costs a few character
 * reads where {@link bearerToken} scans every character of the token.
 *
 * The guard uses it on its hot path because a token that verifies is made of base64url segments
 * and dots only, so a header whose candidate verifies is one `bearerToken` accepts, with the same
 * token. When the verify fails, the caller must call {@link assertBearerHeader} before anything
 * else, so that a malformed header is refused as `ERR_AUTH_HEADER_INVALID` (not as the verifier's
 * error) and never leads to I/O such as a key reload. @internal
 */
export function bearerCandidate(value: string | readonly string[] | undefined): string | null {
  if (value === undefined) return null;
  const header = headerText(value);
  if (header === null) return null;
  if (header.length <= SCHEME_LENGTH || charCodeAt(header, SCHEME_LENGTH) !== SPACE) {
    return otherSchemeOrThrow(header);
  }
  for (let i = 0; i < SCHEME_LENGTH; i++) {
    if ((charCodeAt(header, i) | 0x20) !== SCHEME[i]) return otherSchemeOrThrow(header);
  }
  return tokenPart(header);
}

/**
 * Throws `ERR_AUTH_HEADER_INVALID` unless the header is one {@link bearerToken} accepts (a header
 * that is absent, or of another scheme, passes). @internal
 */
export function assertBearerHeader(value: string | readonly string[] | undefined): void {
  if (value === undefined) return;
  const header = headerText(value);
  if (header !== null && !BEARER.test(header)) otherSchemeOrThrow(header);
}

const AUTHORIZATION = 'authorization';

/**
 * Throws `ERR_AUTH_HEADER_INVALID` when a request's raw header list (Node's `rawHeaders`: name,
 * value, name, value...) holds more than one Authorization line. Node.js keeps the first in
 * `headers` and drops the rest, and a proxy in front may have acted on another one: the two would
 * disagree on who the caller is, so a repeated credential is refused (RFC 6750 section 3.1,
 * invalid_request). A few string compares a request: only names of the right length are read.
 */
export function assertOneAuthorization(rawHeaders: readonly string[] | undefined): void {
  if (rawHeaders === undefined) return;
  let seen = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (
      name?.length === AUTHORIZATION.length &&
      (name === 'Authorization' || name.toLowerCase() === AUTHORIZATION)
    ) {
      if (seen) throw invalid('Give one Authorization header, not two.');
      seen = true;
    }
  }
}
