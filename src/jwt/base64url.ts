/**
 * Strict base64url (RFC 4648 section 5, as JWS uses it in RFC 7515 section 2): the URL-safe alphabet,
 * no padding, no whitespace, and canonical trailing bits. Node's own decoder skips characters it does
 * not know, so every segment is checked here before it is decoded; otherwise two different strings
 * could carry one signature or one payload.
 */
import { isUtf8 } from 'node:buffer';

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

// Segments decoded only to be read as text go through this buffer rather than a new one each time
// (a verify decodes one payload). It grows to the largest segment seen, which the verifier's token
// length limit bounds. Decoding is synchronous: nothing else decodes between a decodeCanonical and
// the decodedText that reads its result.
let scratch = Buffer.alloc(6144);

/**
 * Decodes `segment` into a shared buffer if it is canonical unpadded base64url, and returns the
 * number of bytes, or -1 if it is not canonical. Read the bytes with {@link decodedText} before the
 * next call. One pass of Node's decoder and one of its encoder cost less than the alphabet check of
 * {@link isBase64Url} on a payload-sized segment.
 */
export function decodeCanonical(segment: string): number {
  if ((segment.length & 3) === 1) return -1;
  const needed = Math.ceil((segment.length * 3) / 4);
  if (needed > scratch.length) scratch = Buffer.alloc(needed);
  const length = scratch.write(segment, 0, 'base64url');
  // Node's decoder skips characters outside the alphabet (and may read only the low byte of one
  // outside Latin-1), takes the standard alphabet and padding too, and ignores unused trailing bits:
  // the canonical encoding of what it decoded is the segment itself only if the segment was
  // canonical.
  return scratch.toString('base64url', 0, length) === segment ? length : -1;
}

/**
 * Whether the bytes of the last {@link decodeCanonical} are valid UTF-8. Exact but slower than
 * {@link decodedText}, whose decoder replaces invalid bytes with U+FFFD: call it only when that text
 * holds a U+FFFD.
 */
export function decodedIsUtf8(length: number): boolean {
  return isUtf8(scratch.subarray(0, length));
}

/** The bytes of the last {@link decodeCanonical}, as UTF-8 text. */
export function decodedText(length: number): string {
  return scratch.toString('utf8', 0, length);
}

/** Encodes bytes or UTF-8 text as unpadded base64url. */
export function encodeBase64Url(input: string | Uint8Array): string {
  return (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)).toString(
    'base64url',
  );
}
