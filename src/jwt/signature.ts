import { createHmac, sign, timingSafeEqual, verify } from 'node:crypto';
import { ALGORITHMS, signatureOptions } from './algorithms.js';
import type { JwtKey } from './keys.js';

// The longest HMAC tag in base64url: HS512's 64 bytes are 86 characters.
const MAX_TAG_CHARS = 86;
// Both tags are copied here for timingSafeEqual. A digest straight to a base64url string is about
// 0.7 µs cheaper than one to a Buffer on Node 20 (no Buffer object per verify), and these two
// buffers, made once, keep the comparison free of allocation. Verify is synchronous, so no two
// comparisons ever share them at once.
const EXPECTED_TAG = new Uint8Array(MAX_TAG_CHARS);
const GIVEN_TAG = new Uint8Array(MAX_TAG_CHARS);
const TAG_VIEWS = new Map<number, readonly [Uint8Array, Uint8Array]>(
  [43, 64, 86].map((length) => [
    length,
    [EXPECTED_TAG.subarray(0, length), GIVEN_TAG.subarray(0, length)] as const,
  ]),
);
const utf8 = new TextEncoder();

/**
 * Whether two base64url HMAC tags are equal, in time that does not depend on where they differ.
 * `expected` is the digest, pure ASCII. `given` comes from the token: any character outside ASCII
 * encodes to bytes of 0x80 and above, starting at its own position, so it can never match.
 */
function tagsEqual(expected: string, given: string): boolean {
  // The lengths are public (they follow from the algorithm), so comparing them first leaks nothing.
  if (expected.length !== given.length) return false;
  const views = TAG_VIEWS.get(expected.length);
  if (views === undefined) return false;
  utf8.encodeInto(expected, EXPECTED_TAG);
  utf8.encodeInto(given, GIVEN_TAG);
  return timingSafeEqual(views[0], views[1]);
}

/**
 * Checks a JWS signature over `signingInput` with a key already known to fit its algorithm.
 * `signatureSegment` is the token's third segment, already checked to be canonical base64url.
 * HMAC tags are compared in constant time, as canonical base64url strings: with the canonical
 * check, equal strings and equal bytes are the same thing.
 */
export function signatureMatches(
  key: JwtKey,
  signingInput: string,
  signatureSegment: string,
): boolean {
  const spec = ALGORITHMS[key.alg];
  if (spec.family === 'hmac') {
    const expected = createHmac(spec.hash as string, key.verifyKey)
      .update(signingInput)
      .digest('base64url');
    return tagsEqual(expected, signatureSegment);
  }
  const signature = Buffer.from(signatureSegment, 'base64url');
  if (spec.size === 0) {
    // RSA: exactly the modulus's length (RFC 8017, 8.1.2 and 8.2.2, step 1). OpenSSL's PSS check
    // also takes one with its leading zero bytes left out: a second string for the same token.
    const modulusBits = key.verifyKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (signature.length !== (modulusBits + 7) >> 3) return false;
  } else if (signature.length !== spec.size) {
    return false;
  }
  return verify(
    spec.hash,
    Buffer.from(signingInput),
    { key: key.verifyKey, ...signatureOptions(spec) },
    signature,
  );
}

/** Signs `signingInput` with the key's private or secret part; returns the base64url segment. */
export function createSignature(
  key: JwtKey & { signKey: NonNullable<JwtKey['signKey']> },
  signingInput: string,
): string {
  const spec = ALGORITHMS[key.alg];
  if (spec.family === 'hmac') {
    return createHmac(spec.hash as string, key.signKey)
      .update(signingInput)
      .digest('base64url');
  }
  return sign(spec.hash, Buffer.from(signingInput), {
    key: key.signKey,
    ...signatureOptions(spec),
  }).toString('base64url');
}
