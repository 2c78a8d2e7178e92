import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

// Written by hand: what Node's HTTP parser refuses never reaches Fastify's error handler, and its
// default answer has Fastify's body, not ours.
function rawAnswer(status: number, reason: string, error: string, message: string): string {
  const body = JSON.stringify({ error, message });
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * Fastify's `clientErrorHandler`: a request Node cannot parse (an unknown method, bytes that are
 * not HTTP, broken chunked framing, headers past the size limit) answers in the same shape as
 * every other error, then the connection closes, since the parser has lost its place in the stream.
 * Returns the status answered, or null when the client had gone; Fastify's `onResponse` never sees
 * these, so the caller counts them.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): number | null {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return null;
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    socket.end(
      rawAnswer(
        408,
        'Request Timeout',
        'ERR_HTTP_REQUEST_TIMEOUT',
        'The request took too long to arrive.',
      ),
    );
    return 408;
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    socket.end(
      rawAnswer(
        431,
        'Request Header Fields Too Large',
        'ERR_HTTP_HEADERS_TOO_LARGE',
        'The request headers are larger than this server reads.',
      ),
    );
    return 431;
  }
  socket.end(
    rawAnswer(400, 'Bad Request', 'ERR_INVALID_ARGUMENT', 'The request is not valid HTTP/1.1.'),
  );
  return 400;
}

/**
 * Node's `connect` event: a CONNECT request (a proxy tunnel) never reaches Fastify, and without a
 * listener Node closes the connection with no answer at all. This server is no proxy: the answer
 * is the one any other method gets on a path it does not serve. Returns the status answered, or
 * null when the client had gone.
 */
export function answerConnect(_request: IncomingMessage, socket: Duplex): number | null {
  if (!socket.writable) {
    socket.destroy();
    return null;
  }
  // Node hands the socket over for good: no server timeout and no shutdown reaches it any more,
  // so it is destroyed once the answer is written, or after a second if the client never reads.
  const backstop = setTimeout(() => socket.destroy(), 1000);
  backstop.unref();
  socket.on('error', () => socket.destroy());
  socket.end(
    rawAnswer(404, 'Not Found', 'ERR_HTTP_NOT_FOUND', 'No route has this method and path.'),
    () => {
      clearTimeout(backstop);
      socket.destroy();
    },
  );
  return 404;
}

/**
 * Node's `checkExpectation` event: an `Expect` other than `100-continue`, which no route here
 * fulfils (RFC 9110, section 10.1.1). Node's own answer is a bare 417 with no body; this one has
 * the shape of every other error. The connection closes, since a body the client may still send
 * would otherwise be read as the next request. Returns the status answered.
 */
export function answerExpectation(_request: IncomingMessage, response: ServerResponse): number {
  const body = JSON.stringify({
    error: 'ERR_HTTP_EXPECTATION_FAILED',
    message: 'The request expects what this server does not do (only 100-continue is known).',
  });
  response.writeHead(417, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    connection: 'close',
  });
  response.end(body);
  return 417;
}
