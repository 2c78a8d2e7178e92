import { RevocableError } from '../../errors/revocable-error.js';

/** One server-sent event, as dispatched (the fields of one block of lines). */
export interface SseMessage {
  /** The `event` field, `message` when absent. */
  readonly event: string;
  /** The `data` lines, joined with line feeds. */
  readonly data: string;
  /** The `id` field of this message ('' for an empty one), undefined when it had none. */
  readonly id: string | undefined;
}

function tooLong(what: string, maxLength: number): RevocableError {
  return new RevocableError(
    'ERR_SYNC_MESSAGE_INVALID',
    `Revocation stream: ${what} is longer than ${maxLength} characters.`,
  );
}

/**
 * An incremental parser of `text/event-stream` (the WHATWG HTML "event stream interpretation"):
 * lines end with CRLF, LF or CR, even split across chunks; `:` starts a comment; a field's value
 * loses one leading space; `data` lines join with LF; a blank line dispatches the message, unless
 * it had no data; `retry` and unknown fields are ignored; a message cut off by the end of the
 * stream is never dispatched. Node.js 20 has no EventSource, and one would not do anyway: it
 * hides the status of a refused request, reconnects on its own schedule and bounds nothing.
 *
 * Bounded: a line, and the fields of one message together, longer than `maxLength` characters
 * throw `ERR_SYNC_MESSAGE_INVALID` before more is buffered, so a server that never ends a line
 * cannot make the client buffer without bound. The auth server's messages are well under 1 KiB.
 */
export class SseParser {
  readonly #maxLength: number;
  readonly #lineBreak = /[\r\n]/g;
  #partial = '';
  // The previous chunk ended with CR: a LF that starts the next one belongs to it.
  #afterCr = false;
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  #size = 0;

  constructor(maxLength: number) {
    this.#maxLength = maxLength;
  }

  /**
   * Parses a chunk of text, handing every message it completes to `dispatch`, in order and
   * synchronously. Stops, returning false, as soon as `dispatch` returns false (the rest of the
   * chunk is dropped: the caller is closing the stream). Throws when a bound is passed, after
   * dispatching the messages before it.
   */
  push(text: string, dispatch: (message: SseMessage) => boolean): boolean {
    if (text === '') return true;
    let at = 0;
    if (this.#afterCr && text.startsWith('\n')) at = 1;
    this.#afterCr = false;
    this.#lineBreak.lastIndex = at;
    for (;;) {
      const found = this.#lineBreak.exec(text);
      if (found === null) {
        const rest = text.slice(at);
        if (this.#partial.length + rest.length > this.#maxLength) {
          throw tooLong('a line', this.#maxLength);
        }
        this.#partial += rest;
        return true;
      }
      const end = found.index;
      const line = this.#partial + text.slice(at, end);
      this.#partial = '';
      at = end + 1;
      if (text[end] === '\r') {
        if (at === text.length) this.#afterCr = true;
        else if (text[at] === '\n') at++;
      }
      this.#lineBreak.lastIndex = at;
      if (line.length > this.#maxLength) throw tooLong('a line', this.#maxLength);
      if (!this.#line(line, dispatch)) return false;
    }
  }

  #line(line: string, dispatch: (message: SseMessage) => boolean): boolean {
    if (line === '') return this.#dispatch(dispatch);
    if (line.startsWith(':')) return true;
    this.#size += line.length;
    if (this.#size > this.#maxLength) throw tooLong('a message', this.#maxLength);
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'event') this.#event = value;
    else if (name === 'data') this.#data.push(value);
    else if (name === 'id' && !value.includes('\0')) this.#id = value;
    return true;
  }

  #dispatch(dispatch: (message: SseMessage) => boolean): boolean {
    const data = this.#data;
    const message: SseMessage = {
      event: this.#event || 'message',
      data: data.join('\n'),
      id: this.#id,
    };
    this.#event = '';
    this.#data = [];
    this.#id = undefined;
    this.#size = 0;
    // A block without data (the stream's opening `retry:`) is no message.
    return data.length === 0 ? true : dispatch(message);
  }
}
