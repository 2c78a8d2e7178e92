import { constants } from 'node:crypto';

/** Every JWS algorithm revocable signs and verifies. `none` is not and never will be one. */
export type Algorithm =
  | 'HS256'
  | 'HS384'
  | 'HS512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA';

/** How an algorithm uses `node:crypto`; internal. */
export interface AlgorithmSpec {
  readonly family: 'hmac' | 'rsa' | 'rsa-pss' | 'ec' | 'eddsa';
  /** Digest name for `node:crypto`, or null for EdDSA, which hashes internally. */
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  /** HMAC: minimum secret bytes (the hash output, RFC 7518 3.2). EC: the signature byte length. */
  readonly size: number;
  /** EC and EdDSA: the one curve the algorithm is defined for. */
  readonly curve?: 'P-256' | 'P-384' | 'P-521' | 'Ed25519';
}

const RSA_MIN_BITS = 2048;

/** The minimum RSA modulus size accepted for any RSA algorithm (RFC 7518 3.3). */
export const RSA_MINIMUM_MODULUS_BITS = RSA_MIN_BITS;

export const ALGORITHMS: Readonly<Record<Algorithm, AlgorithmSpec>> = {
  HS256: { family: 'hmac', hash: 'sha256', size: 32 },
  HS384: { family: 'hmac', hash: 'sha384', size: 48 },
  HS512: { family: 'hmac', hash: 'sha512', size: 64 },
  RS256: { family: 'rsa', hash: 'sha256', size: 0 },
  RS384: { family: 'rsa', hash: 'sha384', size: 0 },
  RS512: { family: 'rsa', hash: 'sha512', size: 0 },
  PS256: { family: 'rsa-pss', hash: 'sha256', size: 0 },
  PS384: { family: 'rsa-pss', hash: 'sha384', size: 0 },
  PS512: { family: 'rsa-pss', hash: 'sha512', size: 0 },
  ES256: { family: 'ec', hash: 'sha256', size: 64, curve: 'P-256' },
  ES384: { family: 'ec', hash: 'sha384', size: 96, curve: 'P-384' },
  ES512: { family: 'ec', hash: 'sha512', size: 132, curve: 'P-521' },
  EdDSA: { family: 'eddsa', hash: null, size: 64, curve: 'Ed25519' },
};

/** The algorithm names, in a stable order. */
export const ALGORITHM_NAMES = Object.keys(ALGORITHMS) as readonly Algorithm[];

/**
 * Whether a value names a supported algorithm. Case matters: `hs256` and `None` are not names.
 *
 * @example
 * ```ts
 * isAlgorithm('ES256'); // true
 * isAlgorithm('none'); // false
 * ```
 */
export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && Object.hasOwn(ALGORITHMS, value);
}

/** Options for `crypto.sign` / `crypto.verify` beyond the key, per family; internal. */
export function signatureOptions(spec: AlgorithmSpec): {
  padding?: number;
  saltLength?: number;
  dsaEncoding?: 'ieee-p1363';
} {
  if (spec.family === 'rsa-pss') {
    return {
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    };
  }
  if (spec.family === 'ec') return { dsaEncoding: 'ieee-p1363' };
  return {};
}
