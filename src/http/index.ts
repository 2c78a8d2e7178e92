/**
 * The framework-agnostic core of revocable's HTTP middleware, re-exported by `revocable/express`
 * and `revocable/fastify`.
 * @module
 */
export { bearerToken, MAX_AUTHORIZATION_LENGTH } from './bearer.js';
export {
  type AuthServerConnection,
  type ConnectToAuthServerOptions,
  connectToAuthServer,
} from './connect-auth-server.js';
export { type CookieNames, cookieNames } from './cookies.js';
export {
  type ErrorAnswer,
  type ErrorAnswerOptions,
  type ErrorBody,
  errorAnswer,
} from './error-answer.js';
export { ReauthRequiredError } from './reauth-error.js';
export {
  type CheckedClaims,
  createRevocationCheck,
  type RevocationCheck,
  type RevocationCheckOptions,
} from './revocation-check.js';
export { InsufficientScopeError } from './scope-error.js';
export { HTTP_STATUS } from './status.js';
export { createTokenGuard } from './token-guard.js';
export type {
  AuthContext,
  CredentialHeaders,
  GuardStalePolicy,
  RouteRequirements,
  SessionReader,
  TokenGuard,
  TokenGuardBaseOptions,
  TokenGuardKeyOptions,
  TokenGuardOptions,
  TokenGuardVerifierOptions,
} from './types.js';
