/**
 * Express middleware (`revocable/express`): authenticate requests with revocable's tokens and
 * revocation index, or add the index to an existing express-jwt set-up. Needs `express` 5.
 * @module
 */
import type { AuthContext } from '../types.js';

export type { AdapterOptions, PreflightHandling, WithGuard } from '../adapter-options.js';
export * from '../index.js';
export { type ExpressJwtToken, expressJwtIsRevoked } from './is-revoked.js';
export {
  type ExpressAdapterOptions,
  type RevocableExpress,
  type RevocableExpressInit,
  revocableExpress,
} from './middleware.js';

declare global {
  namespace Express {
    interface Request {
      /** Who the request is, set by revocable's `authenticate()` middleware. */
      auth?: AuthContext;
    }
  }
}
