// One HTTP request exactly as a test wants it, over node:http: any method, a path sent as given,
// a header given twice, a body of any bytes with or without a Content-Length. fetch normalises
// all of these away. An answer that does not come within the time allowed is a hang.
import { request } from 'node:http';
import { connect } from 'node:net';

/** What {@link rawRequest} sends. */
export interface RawRequest {
  readonly method: string;
  /** Sent as given (percent-escapes, dots and all). */
  readonly path: string;
  /** A header given as a list is sent once per value, in order. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly body?: string | Buffer;
  /** Send the body chunked, without a Content-Length. */
  readonly chunked?: boolean;
}

/** What the server answered. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** Whether the answer was an event stream (read no further). */
  readonly stream: boolean;
}

/** Sends one request to the server at `url`; rejects when no complete answer comes in `ms`. */
export function rawRequest(url: string, raw: RawRequest, ms = 10_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const body = raw.body === undefined ? undefined : Buffer.from(raw.body);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(raw.headers ?? {})) {
    headers[name] = typeof value === 'string' ? value : [...value];
  }
  if (body !== undefined) {
    // Node frames a body in chunks by itself only for some methods: say so for every one.
    if (raw.chunked === true) headers['transfer-encoding'] = 'chunked';
    else headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const client = request({
      host: hostname,
      port: Number(port),
      method: raw.method,
      path: raw.path,
      headers,
      agent: false,
    });
    const timer = setTimeout(() => {
      client.destroy();
      reject(new Error(`no complete answer within ${ms} ms`));
    }, ms);
    client.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    client.on('response', (response) => {
      const chunks: Buffer[] = [];
      const done = (stream: boolean) => {
        clearTimeout(timer);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
          stream,
        });
      };
      if ((response.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        client.destroy();
        done(true);
        return;
      }
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => done(false));
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    if (body !== undefined) client.write(body);
    client.end();
  });
}

/**
 * Writes `bytes` to a new connection as they are (for what no HTTP client sends: an unknown
 * method, bytes that are not ASCII in the request target, broken chunked framing) and resolves to
 * everything the server wrote back before it closed the connection, or before `ms` passed.
 */
export function rawExchange(url: string, bytes: string | Buffer, ms = 5000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.end(bytes);
  });
}

/** The status and the body of a raw HTTP/1.1 answer (the first, if there are several). */
export function parseRawAnswer(text: string): { status: number; body: string } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const end = text.indexOf('\r\n\r\n');
  return { status, body: end < 0 ? '' : text.slice(end + 4) };
}
