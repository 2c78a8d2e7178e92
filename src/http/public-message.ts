import type { RevocableError } from '../errors/revocable-error.js';

// A 5xx says the server could not do its part, and its message is for the operator: a driver's
// reason, a schema or table name, what a misconfiguration is. The code still tells the client what
// happened and whether to retry; the message and `cause` stay on the error, for the log.
const UNAVAILABLE = 'The service is unavailable for a moment: retry shortly.';
const FAILED = 'The server met an unexpected error.';

/**
 * The message an HTTP answer carries for an error of the given status: its own below 500, and a
 * fixed sentence from 500 up. @internal
 */
export function publicMessage(error: RevocableError, status: number): string {
  if (status < 500) return error.message;
  return status === 503 ? UNAVAILABLE : FAILED;
}
