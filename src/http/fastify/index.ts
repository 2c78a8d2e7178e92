/**
 * The Fastify plugin (`revocable/fastify`): authenticate requests with revocable's tokens and
 * revocation index, or add the index to an existing @fastify/jwt set-up. Needs `fastify` 5 and
 * `fastify-plugin`.
 * @module
 */
import type { AuthContext } from '../types.js';
import type { RevocableFastify } from './plugin.js';

export type { AdapterOptions, PreflightHandling, WithGuard } from '../adapter-options.js';
export * from '../index.js';
export {
  type AuthenticateHook,
  type FastifyAdapterOptions,
  type RevocableFastify,
  type RevocablePluginOptions,
  revocablePlugin,
} from './plugin.js';
export { fastifyJwtTrusted } from './trusted.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request is: null until revocable's `authenticate()` hook accepted its token. */
    auth: AuthContext | null;
  }
  interface FastifyInstance {
    /** revocable's hooks and guard, added by `revocablePlugin`. */
    revocable: RevocableFastify;
  }
}
