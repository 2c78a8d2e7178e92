/**
 * The JWT core: JWS compact sign and verify on `node:crypto`, a key ring whose keys are each bound
 * to one algorithm, JWK and JWKS import and export, and strict claim checks.
 *
 * @example
 * ```ts
 * import { KeyRing, createSigner, createVerifier } from 'revocable/jwt';
 * const ring = KeyRing.generate('EdDSA');
 * const options = { keys: ring, issuer: 'https://auth.example', audience: 'api' };
 * const token = createSigner(options).sign({ sub: 'u1' });
 * createVerifier(options).verify(token).sub; // 'u1'
 * ```
 * @module
 */
export { ALGORITHM_NAMES, type Algorithm, isAlgorithm } from './algorithms.js';
export { decodeUnverified, type UnverifiedJwt } from './decode.js';
export { type Jwks, KeyRing, type KeyRingDocument } from './key-ring.js';
export {
  type ExportJwkOptions,
  exportJwk,
  type GenerateKeyOptions,
  generateKey,
  generateKid,
  type ImportJwkOptions,
  importJwk,
  type JwkMembers,
  type JwtKey,
  type KeyRingJwk,
  type KeyState,
} from './keys.js';
export { DEFAULT_MAX_PAYLOAD_DEPTH, type PayloadChecks } from './payload-checks.js';
export {
  KEYS_SECRET_VARIABLE,
  MIN_KEYS_SECRET_BYTES,
  type SealOptions,
  sealKeyRing,
  unsealKeyRing,
} from './sealed-key-ring.js';
export {
  createSigner,
  type Signer,
  type SignerOptions,
  type SignJwtOptions,
  signJwt,
} from './sign.js';
export type { JwtClaims, JwtHeader, VerifiedJwt } from './types.js';
export {
  ACCESS_TOKEN_CLAIMS,
  ACCESS_TOKEN_TYP,
  createVerifier,
  DEFAULT_MAX_TOKEN_LENGTH,
  MAX_CLOCK_TOLERANCE,
  type Verifier,
  type VerifierOptions,
} from './verify.js';
