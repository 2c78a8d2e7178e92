import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isRevocableError, RevocableError } from '../../errors/revocable-error.js';
import { bearerChallenge, DEFAULT_REALM } from '../../http/challenge.js';
import type { ErrorBody } from '../../http/error-answer.js';
import { publicMessage } from '../../http/public-message.js';
import { HTTP_STATUS } from '../../http/status.js';
import { StreamLimitError } from './stream-admission.js';

export type { ErrorBody };

const BARE_CHALLENGE = `Bearer realm="${DEFAULT_REALM}"`;

// Fastify's own errors (parsing, validation, limits) are the client's fault: each becomes one of
// ours, so the answer's `error` is always a code from the table.
function fromFastify(error: FastifyError): RevocableError | null {
  if (error.validation !== undefined) {
    return new RevocableError('ERR_HTTP_BODY_INVALID', `Invalid request: ${error.message}.`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new RevocableError(
        'ERR_HTTP_MEDIA_TYPE',
        'This route takes application/json (the /oauth routes also take form data).',
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RevocableError('ERR_HTTP_BODY_TOO_LARGE', 'The request body is too large.');
    case 'FST_ERR_NOT_FOUND':
      return new RevocableError('ERR_HTTP_NOT_FOUND', 'No route has this method and path.');
    default:
      break;
  }
  const status = error.statusCode ?? 500;
  if (status === 404) return new RevocableError('ERR_HTTP_NOT_FOUND', 'Not found.');
  if (status === 413) return new RevocableError('ERR_HTTP_BODY_TOO_LARGE', 'Too large.');
  if (status === 415) return new RevocableError('ERR_HTTP_MEDIA_TYPE', 'Unsupported media type.');
  if (status >= 400 && status < 500) {
    // Malformed JSON, an empty JSON body, a bad Content-Length, a poisoned prototype key.
    return new RevocableError('ERR_HTTP_BODY_INVALID', `Invalid request body: ${error.message}`);
  }
  return null;
}

/** The status and body of an error, and the challenge header of a refused credential. */
export function describeError(error: unknown): {
  status: number;
  body: ErrorBody;
  challenge: string | null;
} {
  let known: RevocableError | null = null;
  if (isRevocableError(error)) known = error;
  else if (error instanceof Error) known = fromFastify(error as FastifyError);
  if (known === null) {
    return {
      status: 500,
      body: {
        error: 'ERR_SERVER_INTERNAL',
        message: 'The server met an unexpected error and logged it.',
      },
      challenge: null,
    };
  }
  const status = HTTP_STATUS[known.code];
  return {
    status,
    // A 5xx's message is for the operator, except a limit's, which this server writes for the
    // client: which limit, and when to try again.
    body: {
      error: known.code,
      message: known instanceof StreamLimitError ? known.message : publicMessage(known, status),
    },
    // RFC 9110 section 15.5.2: every 401 carries a challenge. A 401 that is not about a bearer
    // token (a failed login, a refused refresh token) gets the bare one, with no error code.
    challenge: bearerChallenge(known.code, status) ?? (status === 401 ? BARE_CHALLENGE : null),
  };
}

/** Fastify's error handler: every error answers `{ error, message }` with its status. */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body, challenge: header } = describeError(error);
  // A limit reached is the server working as configured: a line for the operator, no stack.
  if (body.error === 'ERR_STREAM_LIMIT') request.log.warn({ code: body.error }, body.message);
  else if (status >= 500) request.log.error({ err: error }, 'request failed');
  if (header !== null) void reply.header('www-authenticate', header);
  const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
  if (typeof retryAfter === 'number' && Number.isFinite(retryAfter)) {
    void reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
  }
  if (status === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', '1');
  // The one content coding a request body may have (RFC 7694): said with every 415.
  if (status === 415) void reply.header('accept-encoding', 'identity');
  void reply.code(status).header('cache-control', 'no-store').send(body);
}

/** Fastify's not-found handler. */
export function handleNotFound(_request: FastifyRequest, reply: FastifyReply): void {
  void reply.code(404).send({
    error: 'ERR_HTTP_NOT_FOUND',
    message: 'No route has this method and path.',
  } satisfies ErrorBody);
}
