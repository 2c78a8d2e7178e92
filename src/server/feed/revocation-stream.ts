import type { IncomingMessage, ServerResponse } from 'node:http';
import { RevocableError } from '../../errors/revocable-error.js';
import { positiveInteger } from '../../lib/positive-integer.js';
import { resumePosition } from './resume-position.js';
import {
  eventMessage,
  heartbeatMessage,
  resetMessage,
  retryMessage,
  waitingMessage,
} from './sse-messages.js';
import type { RevocationFeed } from './types.js';

/** The headers of the stream. */
export const REVOCATION_STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  // Tells nginx (and proxies that follow it) not to buffer the stream.
  'x-accel-buffering': 'no',
});

/** Options for {@link writeRevocationStream}. */
export interface RevocationStreamOptions {
  /**
   * Bytes that may wait in the response's and the socket's buffers once the client is caught up
   * (default 1 MiB). Past it the stream ends: a client that reads slower than revocations come
   * resumes with Last-Event-ID, and its backlog is then served at its pace (a page at a time,
   * waiting for the socket to drain), rather than this process queueing without bound.
   */
  maxBufferedBytes?: number;
  /** The reconnection delay the stream asks of the client, milliseconds (default 1000). */
  retry?: number;
}

/** One open stream. */
export interface RevocationStream {
  /** The position the stream resumed after. */
  readonly after: number;
  /** Ends the stream now (the client reconnects with Last-Event-ID). Idempotent. */
  close(): void;
  /**
   * Resolves once the stream has ended, whatever ended it: the client, `close()`, the feed's
   * `close()`, a reset, or a client that could not keep up.
   */
  readonly closed: Promise<void>;
}

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

/**
 * Serves `GET /revocations/stream`: server-sent events that deliver every revocation of the log
 * after the position the request resumes from (see {@link resumePosition}), then every new one,
 * with heartbeats; see the module's documentation for the messages. Throws `ERR_INVALID_ARGUMENT`
 * for a malformed position before it writes anything (the route answers 400); otherwise it writes
 * the headers at once and returns, and the stream runs until the client leaves or something
 * above ends it. A route of a framework takes over the raw response only after this returns.
 *
 * @example
 * ```ts
 * fastify.get('/revocations/stream', (request, reply) => {
 *   writeRevocationStream(request.raw, reply.raw, feed); // throws first for a bad position
 *   reply.hijack();
 * });
 * ```
 */
export function writeRevocationStream(
  request: IncomingMessage,
  response: ServerResponse,
  feed: RevocationFeed,
  options: RevocationStreamOptions = {},
): RevocationStream {
  const maxBuffered = positiveInteger(options.maxBufferedBytes, 'maxBufferedBytes', 1024 * 1024);
  const retry = positiveInteger(options.retry, 'retry', 1000);
  if (typeof feed?.subscribe !== 'function') throw invalid('feed must be a RevocationFeed.');
  const after = resumePosition(request);
  if (response.headersSent) throw invalid('The response has already started.');

  let ended = false;
  let unsubscribe: (() => void) | null = null;
  let resolveClosed = (): void => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  function finish(): void {
    if (ended) return;
    ended = true;
    unsubscribe?.();
    response.off('close', finish);
    if (!response.writableEnded && !response.destroyed) response.end();
    resolveClosed();
  }

  // A backlog is paced by `drained` and never ends the stream; what the live fan-out writes is
  // bounded here. Past the bound the connection is cut, not ended: an ended response whose client
  // never reads would keep its buffer and socket after the stream gave its place back. The client
  // loses nothing, as it resumes from the last id it read.
  function send(text: string, paced = false): void {
    if (ended) return;
    response.write(text);
    if (!paced && response.writableLength > maxBuffered) {
      finish();
      response.destroy();
    }
  }

  function drained(): Promise<void> {
    if (ended || !response.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        response.off('drain', done);
        response.off('close', done);
        resolve();
      };
      response.on('drain', done);
      response.on('close', done);
    });
  }

  response.writeHead(200, REVOCATION_STREAM_HEADERS);
  response.write(retryMessage(retry));
  response.on('close', finish);
  unsubscribe = feed.subscribe(after, {
    event: (stored, backlog) => send(eventMessage(stored), backlog),
    heartbeat: (beat) => send(heartbeatMessage(beat)),
    reset(head) {
      send(resetMessage(head));
      finish();
    },
    end: finish,
    waiting: () => send(waitingMessage()),
    drained,
  });
  // The client may have gone before the response was even written.
  if (response.destroyed || request.socket?.destroyed === true) finish();
  return { after, close: finish, closed };
}
