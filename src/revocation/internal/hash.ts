import { charCodeAt } from '../../lib/char-code.js';

/**
 * A 64-bit table hash of a string, as two 32-bit lanes. Not cryptography: it only spreads keys over
 * a hash table and tells them apart. Its inputs come from tokens the issuer signed and events the
 * server made: `jti` and `sid` are random values the server chose; a `sub` may be chosen by a user,
 * but for subjects the hash only picks a filter bit or a bucket, and the exact map compares the
 * string itself.
 *
 * The two lanes run independent multiplicative hashes over the UTF-16 code units (different
 * multipliers and seeds, no shared state), then a bijective final mix (the one of cyrb53) spreads
 * every input bit over both lanes. Two distinct keys agree on all 64 bits with a probability of
 * about 2^-64, so a lookup against a million entries meets a false match about once in 2^44
 * lookups. A false match, accidental or contrived, can only make the index refuse a live token,
 * never accept a revoked one.
 *
 * The result goes to {@link HASH} rather than being returned: a pair of uint32 values would have to
 * be boxed or wrapped in an object, and the verify path must not allocate.
 */

/** The last hash computed by {@link hashString}: `[lane1, lane2]`. */
export const HASH = new Uint32Array(2);

const SEED_1 = 0xdeadbeef;
const SEED_2 = 0x41c6ce57;

/**
 * Hashes `key` into {@link HASH}.
 *
 * @example
 * ```ts
 * hashString('Wm9vS2VlcGVyU2Vzc2lvbg');
 * const [lane1, lane2] = HASH;
 * ```
 */
export function hashString(key: string): void {
  hashStringInto(key, HASH, 0);
}

/**
 * Hashes `key` into `target[at]` and `target[at + 1]`: for a caller that keeps several hashes at
 * once. They stay in a typed array rather than locals, because a uint32 local handed to a call
 * that is not inlined may be boxed into a heap number, and the verify path must not allocate.
 */
export function hashStringInto(key: string, target: Uint32Array, at: number): void {
  let h1 = SEED_1;
  let h2 = SEED_2;
  for (let i = 0; i < key.length; i++) {
    const unit = charCodeAt(key, i);
    h1 = Math.imul(h1 ^ unit, 2654435761);
    h2 = Math.imul(h2 ^ unit, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  target[at] = h1;
  target[at + 1] = h2;
}
