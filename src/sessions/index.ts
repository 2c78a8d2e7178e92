/**
 * The session lifecycle: login, refresh rotation with reuse detection, and every way of ending
 * sessions and tokens, persisted in a store and applied at once to the revocation index.
 *
 * @example
 * ```ts
 * import { createSessionManager } from 'revocable/sessions';
 * ```
 * @module
 */
export type { SessionManagerOptions } from './options.js';
export type { Revocations } from './revocations.js';
export { createSessionManager, type SessionManager } from './session-manager.js';
export type {
  AccessTokenGrant,
  LoginInput,
  RefreshInput,
  SessionAuditEvent,
  SessionAuditListener,
  SessionInfo,
  TokenPair,
} from './types.js';
