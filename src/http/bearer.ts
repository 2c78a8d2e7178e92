import { RevocableError } from '../errors/revocable-error.js';

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
 * The token of an `Authorization: Bearer <token>` header; null when there is no header.
 *
 * Strict on purpose: exactly one scheme `Bearer` (any case), one or more spaces, one b64token
 * (RFC 6750 section 2.1), optional trailing spaces, printable ASCII only, at most
 * {@link MAX_AUTHORIZATION_LENGTH} characters. Anything else (another scheme, two tokens, a comma
 * list from a repeated header, a control or non-ASCII character) is `ERR_AUTH_HEADER_INVALID`
 * rather than a guess at what was meant. The regular expression is compiled to machine code and
 * checks a token faster than a loop over its characters in JavaScript.
 */
export function bearerToken(value: string | readonly string[] | undefined): string | null {
  if (value === undefined) return null;
  // Node.js keeps one Authorization header, but another server or a test may hand over a list.
  const header = typeof value === 'string' ? value : value.join(',');
  if (header.length > MAX_AUTHORIZATION_LENGTH) {
    throw invalid('The Authorization header is too long.');
  }
  if (!BEARER.test(header)) throw invalid('The Authorization header must be "Bearer <token>".');
  let start = SCHEME_LENGTH;
  while (header.charCodeAt(start) === SPACE) start++;
  let end = header.length;
  while (header.charCodeAt(end - 1) === SPACE) end--;
  return header.slice(start, end);
}
