import { RevocableError } from '../../errors/revocable-error.js';

// Fatal: a byte sequence that is not UTF-8 is refused, not replaced. The BOM is kept, so that
// what reads the text sees it as before.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A request body as text, refused with `ERR_HTTP_BODY_INVALID` unless it is well-formed UTF-8
 * (RFC 8259, section 8.1; form data likewise). Decoding with replacement would turn different
 * bytes into the same U+FFFD: two passwords that differ would be one.
 */
export function bodyText(body: Buffer | string): string {
  if (typeof body === 'string') return body;
  try {
    return utf8.decode(body);
  } catch {
    throw new RevocableError('ERR_HTTP_BODY_INVALID', 'The request body is not well-formed UTF-8.');
  }
}
