/**
 * A resource server's revocation index and key ring, kept in step with an auth server known only
 * by its URL: the snapshot, the server-sent events stream and the JWKS of `revocable serve`.
 *
 * @module
 */
export { createHttpRevocationSource } from './http-revocation-source.js';
export type { HttpRevocationSource, HttpRevocationSourceOptions } from './types.js';
