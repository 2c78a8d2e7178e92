import { RevocableError } from '../../errors/revocable-error.js';
import { requestAbort } from './abort.js';
import { shownUrl } from './endpoints.js';
import { type FeedMessage, parseFeedMessage } from './feed-messages.js';
import {
  connectionError,
  type HttpContext,
  networkCause,
  STOPPED,
  statusError,
} from './http-request.js';
import { type SseMessage, SseParser } from './sse-parser.js';

/** How one connection to the stream ended. */
export type StreamEnd =
  /**
   * It failed to open, dropped, went silent, or sent a message that was not understood (the
   * error says which): reconnect after the last message understood.
   */
  | { readonly kind: 'failed'; readonly error: RevocableError; readonly heard: boolean }
  /**
   * The server cannot resume at that position (a `reset` message, or a 400 for a position it
   * refused, then `error` says so): load the snapshot again.
   */
  | { readonly kind: 'reset'; readonly error: RevocableError | null }
  /** The source stopped. */
  | { readonly kind: 'stopped' };

/** What {@link runStream} needs. */
export interface StreamOptions {
  readonly http: HttpContext;
  /** The stream's URL, with `after`. */
  readonly url: URL;
  /** Sent as `Last-Event-ID` when the stream resumes after a message (null: `after` only). */
  readonly lastEventId: string | null;
  readonly heartbeatTimeoutMs: number;
  readonly maxMessageLength: number;
  /** The answer was the stream: it is open. `serverDate` is its `Date` header, if any. */
  readonly opened: (serverDate: string | null) => void;
  /**
   * One message, understood whole; called synchronously as its last byte is parsed, so that an
   * event is applied the moment it arrives. A throw is handled like a malformed message.
   */
  readonly message: (message: FeedMessage) => void;
}

const EVENT_STREAM = /^text\/event-stream\s*(;|$)/i;

/**
 * Runs one connection to `GET /revocations/stream` until it ends, and says how. The messages are
 * parsed from the fetch body as it arrives (Node.js 20 has no EventSource). Anything received,
 * even a comment, proves the connection alive; `heartbeatTimeoutMs` with nothing at all, from the
 * request on, aborts it. A message that is too long or not understood ends the connection before
 * any part of it, or anything after it, is applied. Never throws.
 */
export async function runStream(options: StreamOptions): Promise<StreamEnd> {
  const { http, url } = options;
  const shown = shownUrl(url);
  const abort = requestAbort(http.signal);
  const silent = (): RevocableError =>
    connectionError(
      `GET ${shown}: nothing received for ${options.heartbeatTimeoutMs / 1000} s (not even a heartbeat); reconnecting.`,
    );
  abort.deadline(options.heartbeatTimeoutMs, silent);
  let heard = false;
  const failed = (error: RevocableError): StreamEnd => ({ kind: 'failed', error, heard });
  const lost = (error: unknown, what: string): StreamEnd => {
    const reason = abort.reason();
    if (reason === STOPPED) return { kind: 'stopped' };
    if (reason !== undefined) return failed(reason as RevocableError);
    return failed(connectionError(`GET ${shown} ${what}: ${networkCause(error)}`, error));
  };
  try {
    let response: Response;
    try {
      response = await http.fetch(url, {
        headers: {
          ...http.headers,
          accept: 'text/event-stream',
          'cache-control': 'no-store',
          ...(options.lastEventId === null ? {} : { 'last-event-id': options.lastEventId }),
        },
        redirect: 'manual',
        signal: abort.signal,
      });
    } catch (error) {
      return lost(error, 'failed');
    }
    if (response.status === 400) {
      return { kind: 'reset', error: await statusError(url, response) };
    }
    if (response.status !== 200) return failed(await statusError(url, response));
    const type = response.headers.get('content-type') ?? '';
    if (!EVENT_STREAM.test(type) || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
      return failed(connectionError(`GET ${shown} answered 200 without an event stream.`));
    }
    options.opened(response.headers.get('date'));
    const reader = response.body.getReader();
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const parser = new SseParser(options.maxMessageLength);
    // Set by dispatch (a closure: a plain variable would be narrowed to null below).
    const outcome: { end: StreamEnd | null } = { end: null };
    const dispatch = (sse: SseMessage): boolean => {
      const message = parseFeedMessage(sse);
      if (message.type === 'reset') {
        outcome.end = { kind: 'reset', error: null };
        return false;
      }
      options.message(message);
      return true;
    };
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        return lost(error, 'was cut');
      }
      if (chunk.done) {
        return failed(connectionError(`GET ${shown}: the server ended the stream; reconnecting.`));
      }
      abort.deadline(options.heartbeatTimeoutMs, silent);
      heard = true;
      try {
        parser.push(decoder.decode(chunk.value, { stream: true }), dispatch);
      } catch (error) {
        return failed(asMessageError(error, shown));
      }
      if (outcome.end !== null) return outcome.end;
    }
  } finally {
    // Ends the request whichever way it went: the socket is released, the timer cleared.
    abort.abort(STOPPED);
    abort.dispose();
  }
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : null;
}

/** What ends a connection whose bytes were received but not understood. */
function asMessageError(error: unknown, shown: string): RevocableError {
  if (error instanceof RevocableError && error.code === 'ERR_SYNC_MESSAGE_INVALID') return error;
  const what =
    codeOf(error) === 'ERR_ENCODING_INVALID_ENCODED_DATA'
      ? 'the stream is not UTF-8 text'
      : 'a message could not be applied';
  return new RevocableError('ERR_SYNC_MESSAGE_INVALID', `GET ${shown}: ${what}.`, {
    cause: error,
  });
}
