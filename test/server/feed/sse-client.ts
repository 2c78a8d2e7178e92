// A small client of the revocation stream for the tests: it opens the stream over node:http,
// parses server-sent events as they arrive (the subset the server writes: id, event, data and
// retry fields, one data line each) and lets a test wait for what it expects.
import { type ClientRequest, type IncomingHttpHeaders, request } from 'node:http';
import { waitUntil } from './feed-support.js';

export interface SseMessage {
  /** The id field, when the message has one ('' for an empty id). */
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

export interface SseStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Every message so far, in order. */
  readonly messages: SseMessage[];
  /** The retry field, when one came. */
  readonly retry: () => number | undefined;
  /** The client's last event id, as an EventSource keeps it. */
  readonly lastEventId: () => string;
  /** Whether the server ended the stream. */
  readonly ended: () => boolean;
  /** The whole body as text (for an answer that is not a stream). */
  readonly text: () => string;
  /** Waits until `condition` holds over the messages. */
  until(what: string, condition: (messages: SseMessage[]) => boolean): Promise<void>;
  /** Waits until the server ends the stream. */
  end(): Promise<void>;
  /** Stops reading (TCP flow control then holds the server back) or reads again. */
  pause(): void;
  resume(): void;
  /** Disconnects. */
  close(): void;
}

/** Opens `path` on the server at `port`; resolves once the response headers arrived. */
export function openStream(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const client: ClientRequest = request({
      host: '127.0.0.1',
      port,
      path,
      headers: { accept: 'text/event-stream', ...headers },
    });
    client.on('error', reject);
    client.on('response', (response) => {
      const messages: SseMessage[] = [];
      let buffer = '';
      let body = '';
      let retry: number | undefined;
      let lastEventId = '';
      let ended = false;
      let fields: { id?: string; event?: string; data?: string } = {};
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        buffer += chunk;
        for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (fields.id !== undefined) lastEventId = fields.id;
            if (fields.data !== undefined) {
              messages.push({ id: fields.id, event: fields.event ?? 'message', data: fields.data });
            }
            fields = {};
            continue;
          }
          const colon = line.indexOf(':');
          const name = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (name === 'id') fields.id = value;
          else if (name === 'event') fields.event = value;
          else if (name === 'data') fields.data = value;
          else if (name === 'retry') retry = Number(value);
        }
      });
      // 'close' too: a stream the server ends abruptly emits no 'end'.
      response.on('end', () => {
        ended = true;
      });
      response.on('close', () => {
        ended = true;
      });
      response.on('error', () => {});
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        messages,
        retry: () => retry,
        lastEventId: () => lastEventId,
        ended: () => ended,
        text: () => body,
        until: (what, condition) => waitUntil(what, () => condition(messages)),
        end: () => waitUntil('the stream ends', () => ended),
        pause: () => response.pause(),
        resume: () => response.resume(),
        close: () => client.destroy(),
      });
    });
    client.end();
  });
}

/** The log positions of the revocation events among `messages`. */
export function eventIds(messages: readonly SseMessage[]): number[] {
  return messages.filter((message) => message.event === 'revocation').map((m) => Number(m.id));
}

/** The positions from `first` to `last`, both included. */
export function range(first: number, last: number): number[] {
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
}
