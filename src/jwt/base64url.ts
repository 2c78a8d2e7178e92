/**
 * Strict base64url (RFC 4648 section 5, as JWS uses it in RFC 7515 section 2): the URL-safe alphabet,
 * no padding, no whitespace, and canonical trailing bits. Node's own decoder skips characters it does
 * not know, so every segment is checked here before it is decoded; otherwise two different strings
 * could carry one signature or one payload.
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/;
// The last character of a 2- or 3-character tail carries 4 or 2 unused bits; canonical encoders set
// them to zero, so only these characters may end such a tail.
const TAIL_OF_TWO = 'AQgw';
const TAIL_OF_THREE = 'AEIMQUYcgkosw048';

/** Whether `segment` is canonical unpadded base64url. */
export function isBase64Url(segment: string): boolean {
  const rest = segment.length & 3;
  if (rest === 1 || !ALPHABET.test(segment)) return false;
  if (rest === 0) return true;
  const last = segment[segment.length - 1]!;
  return rest === 2 ? TAIL_OF_TWO.includes(last) : TAIL_OF_THREE.includes(last);
}

/** Decodes a segment that `isBase64Url` accepted. */
export function decodeBase64Url(segment: string): Buffer {
  return Buffer.from(segment, 'base64url');
}

// Segments decoded only to be read as text go through this buffer rather than a new one each time
// (a verify decodes one payload); 6 KiB holds the payload of a token at the default 8192-character
// limit. Decoding is synchronous, so no two calls ever share it at once.
const TEXT_SCRATCH = Buffer.alloc(6144);

/** Decodes a segment that `isBase64Url` accepted, as UTF-8 text. */
export function decodeBase64UrlText(segment: string): string {
  // Every 4 characters carry 3 bytes, so this bound is never short.
  if (segment.length * 0.75 > TEXT_SCRATCH.length) {
    return Buffer.from(segment, 'base64url').toString('utf8');
  }
  const length = TEXT_SCRATCH.write(segment, 0, 'base64url');
  return TEXT_SCRATCH.toString('utf8', 0, length);
}

/** Encodes bytes or UTF-8 text as unpadded base64url. */
export function encodeBase64Url(input: string | Uint8Array): string {
  return (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)).toString(
    'base64url',
  );
}
