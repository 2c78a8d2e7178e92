import type { IncomingMessage } from 'node:http';
import { RevocableError } from '../../errors/revocable-error.js';

// Digits only: no sign, no exponent, no spaces, no hex; 16 digits hold every safe integer.
const POSITION = /^[0-9]{1,16}$/;

function parsePosition(text: string, what: string): number {
  const value = POSITION.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      `${what} must be a log position: a non-negative integer in decimal digits.`,
    );
  }
  return value;
}

/**
 * The log position a stream request resumes after: its `Last-Event-ID` header (what a browser's
 * EventSource sends when it reconnects, so it wins), else its `after` query parameter (what a
 * client sets when it opens the stream after loading the snapshot), else 0 (from the start of the
 * log). Either must be a non-negative safe integer in decimal digits, given once; anything else is
 * `ERR_INVALID_ARGUMENT` (an HTTP 400). A route may call it before it takes over the response.
 *
 * @example
 * ```ts
 * resumePosition(request); // 0, or the position to resume after
 * ```
 */
export function resumePosition(request: IncomingMessage): number {
  const header = request.headers['last-event-id'];
  if (header !== undefined) {
    // Node.js joins a repeated header it does not know with ', ', which no position matches.
    return parsePosition(Array.isArray(header) ? header.join(', ') : header, 'Last-Event-ID');
  }
  let values: string[];
  try {
    values = new URL(request.url ?? '/', 'http://localhost').searchParams.getAll('after');
  } catch {
    values = [];
  }
  if (values.length > 1) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'after must be given at most once.');
  }
  return values.length === 0 ? 0 : parsePosition(values[0]!, 'after');
}
