import { RevocableError } from '../../errors/revocable-error.js';
import { requestAbort } from './abort.js';
import { shownUrl } from './endpoints.js';
import { readRetryAfter } from './retry-after.js';

/** The fetch a source uses: the global one, or one a test or a proxy set-up injects. */
export type FetchFunction = typeof globalThis.fetch;

/** What every request of one source shares. */
export interface HttpContext {
  readonly fetch: FetchFunction;
  /** Sent with every request (an Authorization header for a proxy, say); never shown. */
  readonly headers: Readonly<Record<string, string>>;
  /** Aborted by the source's `stop()`. */
  readonly signal: AbortSignal;
}

/** The reason a request is aborted with when the source stops: not an error of the request. */
export const STOPPED: unique symbol = Symbol('revocable: source stopped');

/** Makes the error for a body that is too large or not what was expected. */
export type ContentError = (message: string, cause?: unknown) => RevocableError;

export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The message of a failed fetch, with the network cause (`connect ECONNREFUSED ...`) undici hides. */
export function networkCause(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const inner = cause instanceof Error ? `: ${cause.message}` : '';
  return `${error instanceof Error ? error.message : String(error)}${inner}`;
}

export function connectionError(message: string, cause?: unknown): RevocableError {
  return new RevocableError('ERR_SYNC_CONNECTION', message, { cause });
}

/**
 * Reads a body's bytes, at most `maxBytes` of them: null past that, the rest left unread (and the
 * request cancelled), so a misconfigured or hostile server cannot make a source buffer without
 * bound.
 */
export async function readBoundedBytes(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Buffer | null> {
  if (body === null) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, bytes);
}

/** UTF-8 text, or null for bytes that are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

const ERROR_CODE = /^ERR_[A-Z0-9_]{1,60}$/;

/** The `error` code of an auth server's error answer, if the body is one (read only a little). */
async function errorCodeOf(response: Response): Promise<string | null> {
  try {
    const bytes = await readBoundedBytes(response.body, 4096);
    const text = bytes === null ? null : decodeUtf8(bytes);
    const value: unknown = text === null ? null : JSON.parse(text);
    const code =
      typeof value === 'object' && value !== null ? (value as { error?: unknown }).error : null;
    return typeof code === 'string' && ERROR_CODE.test(code) ? code : null;
  } catch {
    return null;
  }
}

// Redirects are not followed (`redirect: 'manual'`): one to plain http, or to another host,
// would take the keys from somewhere the configured URL does not name.
const REDIRECT_NOTE = ': a redirect, which the source does not follow (give it the final URL)';

// The waits asked by the refusals of statusError, in milliseconds, kept beside the error rather
// than on it: `onError` receives it, and what it holds is the source's business.
const retryAfters = new WeakMap<RevocableError, number>();

/**
 * The wait the server asked for with the refusal `error` (a 503 or a 429 with a `Retry-After` it
 * could read), in milliseconds; null for any other error.
 */
export function retryAfterOf(error: unknown): number | null {
  return error instanceof RevocableError ? (retryAfters.get(error) ?? null) : null;
}

/**
 * What the message says of a refusal's `Retry-After`, and the wait it asks. Only 503 and 429 are
 * read (RFC 9110 gives the header to 3xx too, but a redirect is not followed here). The message
 * shows the wait as a number of seconds this source computed, never the header's text, which
 * could be anything a broken server or a proxy put there.
 */
function retryAfterNote(response: Response): { note: string; ms: number | null } {
  if (response.status !== 503 && response.status !== 429) return { note: '', ms: null };
  const { headers } = response;
  const asked = readRetryAfter(headers.get('retry-after'), headers.get('date'), Date.now());
  if (asked === 'absent') return { note: '', ms: null };
  if (asked === 'invalid') {
    return { note: '; its Retry-After was not understood and is ignored', ms: null };
  }
  return { note: `; the server asked to retry after ${Math.ceil(asked / 1000)} s`, ms: asked };
}

/**
 * `GET url answered HTTP 503 (ERR_STORE_UNAVAILABLE)`, for any answer but the one expected; for a
 * 503 or a 429 with a `Retry-After`, what the server asked (see {@link retryAfterOf}).
 */
export async function statusError(url: URL, response: Response): Promise<RevocableError> {
  // Read first: the wait runs from the answer, not from the end of its body.
  const retry = retryAfterNote(response);
  const code = await errorCodeOf(response);
  const redirect = response.status >= 300 && response.status < 400 ? REDIRECT_NOTE : '';
  const error = connectionError(
    `GET ${shownUrl(url)} answered HTTP ${response.status}${code === null ? '' : ` (${code})`}${redirect}${retry.note}.`,
  );
  if (retry.ms !== null) retryAfters.set(error, retry.ms);
  return error;
}

/** Options of {@link getJson}. */
export interface GetJsonOptions {
  /** Milliseconds the whole request (answer and body) may take. */
  readonly timeoutMs: number;
  /** The largest body read, in bytes. */
  readonly maxBytes: number;
  /** The error for a body that is too large or not JSON. */
  readonly invalid: ContentError;
}

/**
 * `GET url` and its JSON body. A failure to connect, a timeout or an answer other than 200 is
 * `ERR_SYNC_CONNECTION`; a body too large or not JSON is `options.invalid`'s error. Every message
 * names the URL (origin and path: the source refuses URLs with credentials or a query), never a
 * header. Rejects with {@link STOPPED} when the source stops meanwhile.
 */
export async function getJson(
  http: HttpContext,
  url: URL,
  options: GetJsonOptions,
): Promise<unknown> {
  const shown = shownUrl(url);
  const abort = requestAbort(http.signal);
  const timeout = connectionError(
    `GET ${shown}: no complete answer within ${options.timeoutMs / 1000} s.`,
  );
  abort.deadline(options.timeoutMs, () => timeout);
  const failed = (error: unknown): unknown => {
    const reason = abort.reason();
    if (reason === STOPPED || reason === timeout) return reason;
    return connectionError(`GET ${shown} failed: ${networkCause(error)}`, error);
  };
  try {
    let response: Response;
    try {
      response = await http.fetch(url, {
        headers: { ...http.headers, accept: 'application/json' },
        redirect: 'manual',
        signal: abort.signal,
      });
    } catch (error) {
      throw failed(error);
    }
    if (response.status !== 200) throw await statusError(url, response);
    let bytes: Buffer | null;
    try {
      bytes = await readBoundedBytes(response.body, options.maxBytes);
    } catch (error) {
      throw failed(error);
    }
    if (bytes === null) {
      throw options.invalid(`GET ${shown}: the answer is larger than ${options.maxBytes} bytes.`);
    }
    const text = decodeUtf8(bytes);
    if (text === null) throw options.invalid(`GET ${shown}: the answer is not UTF-8 text.`);
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw options.invalid(`GET ${shown}: the answer is not JSON.`, error);
    }
  } finally {
    abort.dispose();
  }
}
