/**
 * Revocation: the in-memory index every verify consults with no I/O, the revocation events that
 * feed it, snapshots, and the verifier that checks signature, claims and revocation in one call.
 *
 * @example
 * ```ts
 * import {
 *   createRevocableVerifier,
 *   createRevocationIndex,
 *   createSessionRevocation,
 * } from 'revocable/revocation';
 * const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
 * const verifier = createRevocableVerifier({ keys: ring, index, issuer: 'https://auth.example', audience: 'api' });
 * index.apply(createSessionRevocation({ sid }, { maxAccessTokenLifetime: '10m' }));
 * verifier.verify(token); // throws ERR_TOKEN_REVOKED (rule 'session')
 * ```
 * @module
 */
export { type RevocationRule, TokenRevokedError } from '../errors/token-revoked-error.js';
export {
  createGlobalRevocation,
  createKeyRevocation,
  createRevocationEvent,
  createSessionRevocation,
  createSubjectRevocation,
  createTokenRevocation,
  DEFAULT_CLOCK_SKEW,
  newRevocationEventId,
  type RevocationInput,
  type RevocationInputBase,
  type RevocationTiming,
} from './create-event.js';
export {
  type GlobalRevocationEvent,
  type KeyRevocationEvent,
  MAX_EVENT_ID_LENGTH,
  MAX_EVENT_TIME,
  MAX_TARGET_LENGTH,
  parseRevocationEvent,
  parseRevocationEventJson,
  REVOCATION_EVENT_VERSION,
  REVOCATION_KINDS,
  type RevocationEvent,
  type RevocationKind,
  type SessionRevocationEvent,
  type SubjectRevocationEvent,
  serializeRevocationEvent,
  type TokenRevocationEvent,
} from './events.js';
export { SNAPSHOT_VERSION } from './internal/snapshot-codec.js';
export { bindKeyRing } from './key-ring-binding.js';
export { createRevocationIndex, restoreRevocationIndex } from './revocation-index.js';
export type {
  RevocationClaims,
  RevocationIndex,
  RevocationIndexOptions,
  RevocationIndexStats,
  RevocationListener,
  SnapshotLoadListener,
} from './types.js';
export {
  createRevocableVerifier,
  type RevocableVerifierOptions,
  type StaleContext,
  type StalePolicy,
} from './verifier.js';
