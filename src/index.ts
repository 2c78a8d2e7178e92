/**
 * revocable: JWT sessions the server can take back at once, verified locally and synchronously.
 *
 * @example
 * ```ts
 * import { KeyRing, createSigner, createVerifier } from 'revocable';
 * ```
 * @module
 */
export * from './errors/index.js';
export * from './jwt/index.js';
export * from './revocation/index.js';
export * from './sessions/index.js';
export * from './stores/index.js';
