import type { RevocableError } from '../errors/revocable-error.js';

// A 5xx says the server could not do its part, and its message is for the operator: a driver's
// reason, a schema or table name, what a misconfiguration is. The code still tells the client what
// happened and whether to retry; the message and `cause` stay on the error, for the log.
const UNAVAILABLE = 'The service is unavailable for a moment: retry shortly.';
const FAILED = 'The server met an unexpected error.';

// 5xx codes whose message is written for the client: a limit reached, with when to try again.
const FOR_THE_CLIENT: ReadonlySet<string> = new Set(['ERR_STREAM_LIMIT']);

/**
 * The message an HTTP answer carries for an error of the given status: its own below 500 (and for
 * a refusal written for the client, like `ERR_STREAM_LIMIT`), and a fixed sentence from 500 up.
 * @internal
 */
export function publicMessage(error: RevocableError, status: number): string {
  if (status < 500 || FOR_THE_CLIENT.has(error.code)) return error.message;
  return status === 503 ? UNAVAILABLE : FAILED;
}
