import { createHmac, sign, timingSafeEqual, verify } from 'node:crypto';
import { ALGORITHMS, signatureOptions } from './algorithms.js';
import type { JwtKey } from './keys.js';

/**
 * Checks a JWS signature over `signingInput` with a key already known to fit its algorithm.
 * HMAC tags are compared in constant time.
 */
export function signatureMatches(key: JwtKey, signingInput: string, signature: Buffer): boolean {
  const spec = ALGORITHMS[key.alg];
  if (spec.family === 'hmac') {
    const expected = createHmac(spec.hash as string, key.verifyKey)
      .update(signingInput)
      .digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  if (signature.length !== spec.size && spec.size !== 0) return false;
  return verify(
    spec.hash,
    Buffer.from(signingInput),
    { key: key.verifyKey, ...signatureOptions(spec) },
    signature,
  );
}

/** Signs `signingInput` with the key's private or secret part. */
export function createSignature(
  key: JwtKey & { signKey: NonNullable<JwtKey['signKey']> },
  signingInput: string,
): Buffer {
  const spec = ALGORITHMS[key.alg];
  if (spec.family === 'hmac') {
    return createHmac(spec.hash as string, key.signKey)
      .update(signingInput)
      .digest();
  }
  return sign(spec.hash, Buffer.from(signingInput), {
    key: key.signKey,
    ...signatureOptions(spec),
  });
}
