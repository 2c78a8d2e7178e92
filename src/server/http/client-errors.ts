import type { Socket } from 'node:net';

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
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
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
    return;
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
    return;
  }
  socket.end(
    rawAnswer(400, 'Bad Request', 'ERR_INVALID_ARGUMENT', 'The request is not valid HTTP/1.1.'),
  );
}
