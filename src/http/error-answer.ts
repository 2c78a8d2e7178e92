import type { ErrorCode } from '../errors/codes.js';
import { isRevocableError, type RevocableError } from '../errors/revocable-error.js';
import { checkRealm, DEFAULT_REALM, resourceChallenge } from './challenge.js';
import { publicMessage } from './public-message.js';
import { ReauthRequiredError } from './reauth-error.js';
import { InsufficientScopeError } from './scope-error.js';
import { HTTP_STATUS } from './status.js';

/** The body of every error answer: the stable code, and a message for people. */
export interface ErrorBody {
  readonly error: ErrorCode;
  readonly message: string;
}

/** An error as an HTTP answer: what an adapter sends. Header names are lower case. */
export interface ErrorAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorBody;
}

/** Options of {@link errorAnswer}. */
export interface ErrorAnswerOptions {
  /** The realm of the `WWW-Authenticate` challenge (default `revocable`). */
  readonly realm?: string;
}

const INTERNAL: ErrorBody = Object.freeze({
  error: 'ERR_SERVER_INTERNAL',
  message: 'The server met an unexpected error.',
});

/**
 * Whether an error is a `RevocableError` whose code has a status in the table: a refusal an adapter
 * answers. One made with a code the table lacks (by a store or a verifier of the application's,
 * in JavaScript or through a cast) has no status to send and a message never meant for clients:
 * it is a bug like any other error. `Object.hasOwn`, so that `constructor` is no code. @internal
 */
export function isAnswerable(error: unknown): error is RevocableError {
  return isRevocableError(error) && Object.hasOwn(HTTP_STATUS, error.code);
}

/**
 * The answer to an error of a {@link TokenGuard}: the status of its code (the table of
 * docs/server.md), the body `{"error": "<CODE>", "message": "..."}`, and the headers: an RFC 6750
 * challenge on a 401 (`invalid_token`, or `invalid_request` for a malformed Authorization header,
 * each with the code as `error_description`; a bare `Bearer realm="..."` when no token came), and
 * `insufficient_scope` on a 403 (with the route's scopes as `scope` when a scope is missing);
 * `Retry-After: 1` on a 503 (a stale revocation index or a store that is down: the client may
 * retry); `Cache-Control: no-store` always. An error that is not a
 * `RevocableError`, or is one whose code has no status, is a 500 `ERR_SERVER_INTERNAL` whose
 * message tells nothing of it.
 *
 * @example
 * ```ts
 * const { status, headers, body } = errorAnswer(error, { realm: 'api' });
 * response.writeHead(status, { ...headers, 'content-type': 'application/json' });
 * response.end(JSON.stringify(body));
 * ```
 */
export function errorAnswer(error: unknown, options: ErrorAnswerOptions = {}): ErrorAnswer {
  const realm = options.realm === undefined ? DEFAULT_REALM : checkRealm(options.realm);
  if (!isAnswerable(error)) {
    return { status: 500, headers: { 'cache-control': 'no-store' }, body: INTERNAL };
  }
  const code = error.code;
  const status = HTTP_STATUS[code];
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  const maxAge = error instanceof ReauthRequiredError ? error.maxAge : undefined;
  const scope = error instanceof InsufficientScopeError ? error.scope : undefined;
  const challenge = resourceChallenge(code, status, realm, maxAge, scope);
  if (challenge !== null) headers['www-authenticate'] = challenge;
  if (status === 503) headers['retry-after'] = '1';
  return { status, headers, body: { error: code, message: publicMessage(error, status) } };
}
