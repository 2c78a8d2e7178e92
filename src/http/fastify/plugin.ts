import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { RevocableError } from '../../errors/revocable-error.js';
import {
  type AdapterOptions,
  adapterSettings,
  guardFrom,
  type WithGuard,
} from '../adapter-options.js';
import { errorAnswer, isAnswerable } from '../error-answer.js';
import { checkRequest } from '../request-check.js';
import type { AuthContext, RouteRequirements, TokenGuard, TokenGuardOptions } from '../types.js';

/** What {@link revocablePlugin} takes besides the guard. */
export interface FastifyAdapterOptions extends AdapterOptions {
  /**
   * Hand refusals to Fastify's error handler (a `RevocableError`: answer it in `setErrorHandler`
   * with `errorAnswer`, or with a body of your own) instead of answering them. Default false: the
   * hook answers, so an app needs no error handler. Fastify's default handler, which knows nothing
   * of revocable's codes, would answer them 500.
   */
  passError?: boolean;
}

/** The options of {@link revocablePlugin}: `{ guard }` or guard options, and the adapter's own. */
export type RevocablePluginOptions = (TokenGuardOptions | WithGuard) & FastifyAdapterOptions;

/**
 * A hook that authenticates a request: callback-style, so a request that needs no I/O is let
 * through without a promise. Made for `onRequest`, where a refusal costs nothing of the body (it
 * is not read yet); it works as a `preHandler` too.
 */
export type AuthenticateHook = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: (error?: Error) => void,
) => void;

/** What the plugin adds to the Fastify instance, as `fastify.revocable`. */
export interface RevocableFastify {
  /**
   * A hook holding the request to `route`: on success `request.auth` is the {@link AuthContext};
   * on refusal it answers (401, 403 or 503, see `errorAnswer`), or with `passError` hands the
   * refusal to Fastify's error handler. An error that is not revocable's (a bug), or is one whose
   * code has no status, goes to Fastify's error handler. A CORS preflight (`OPTIONS` with
   * `Access-Control-Request-Method`), which a browser sends without credentials, is answered 204
   * (or, with `preflight: 'pass'`, passes with `request.auth` null).
   *
   * @example
   * ```ts
   * app.get('/admin', { onRequest: app.revocable.authenticate({ roles: ['admin'] }) }, handler);
   * ```
   */
  authenticate(route?: RouteRequirements): AuthenticateHook;
  /** The guard, for checks outside a route (a WebSocket upgrade, a job). */
  readonly guard: TokenGuard;
}

// Fastify's hooks take an Error; a thrown value that is not one is wrapped.
function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

// Fastify's own options of `register`, which it hands to the plugin with the plugin's.
interface RegisterOptions {
  prefix?: unknown;
  logLevel?: unknown;
  logSerializers?: unknown;
}

const plugin: FastifyPluginAsync<RevocablePluginOptions> = async (fastify, options) => {
  // Its decorations reach the whole app (fastify-plugin), so a second registration, even in
  // another scope, would meet the first one's: said here, before anything is made.
  if (fastify.hasDecorator('revocable') || fastify.hasRequestDecorator('auth')) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      'revocablePlugin is already registered in this app: register it once, and give each route its own roles, scopes, maxAge or checkStore through fastify.revocable.authenticate(route).',
    );
  }
  const {
    realm: givenRealm,
    passError: givenPass,
    preflight: givenPreflight,
    prefix: _prefix,
    logLevel: _logLevel,
    logSerializers: _logSerializers,
    ...rest
  } = options as RevocablePluginOptions & RegisterOptions;
  const { realm, passError, preflight } = adapterSettings(givenRealm, givenPass, givenPreflight);
  const guard = guardFrom(rest);
  const answerOptions = { realm };

  function fail(error: unknown, reply: FastifyReply, done: (error?: Error) => void): void {
    // Asked for, or no refusal (a bug, or a code without a status): Fastify's error handler.
    if (passError || !isAnswerable(error)) {
      done(asError(error));
      return;
    }
    const { status, headers, body } = errorAnswer(error, answerOptions);
    void reply.code(status).headers(headers).send(body);
  }

  // The promise's own handler: a throw there would be an unhandled rejection, which ends the
  // process, so whatever fail throws goes to Fastify instead.
  function failLater(error: unknown, reply: FastifyReply, done: (error?: Error) => void): void {
    try {
      fail(error, reply, done);
    } catch (failure) {
      done(asError(failure));
    }
  }

  const revocable: RevocableFastify = {
    guard,
    authenticate(route) {
      const prepared = route === undefined ? undefined : guard.route(route);
      return function revocableAuthenticate(request, reply, done) {
        // Fastify's headers and method are getters: each called once.
        let result: AuthContext | Promise<AuthContext> | null;
        try {
          result = checkRequest(
            guard,
            request.headers,
            request.method,
            request.raw.rawHeaders,
            prepared,
          );
        } catch (error) {
          fail(error, reply, done);
          return;
        }
        if (result === null) {
          if (preflight === 'pass') done();
          else void reply.code(204).send();
          return;
        }
        if (result instanceof Promise) {
          result.then(
            (auth) => {
              request.auth = auth;
              done();
            },
            (error: unknown) => failLater(error, reply, done),
          );
          return;
        }
        request.auth = result;
        done();
      };
    },
  };
  fastify.decorateRequest('auth', null);
  fastify.decorate('revocable', revocable);
};

/**
 * The Fastify plugin (made with fastify-plugin, so its decorations reach the whole app): decorates
 * every request with `auth` (null until a hook accepts its token) and the instance with
 * `revocable` ({@link RevocableFastify}), whose `authenticate(route?)` makes the route hooks.
 *
 * @example
 * ```ts
 * await app.register(revocablePlugin, { keys, index, issuer: 'https://auth.example', audience: 'api' });
 * app.get('/me', { onRequest: app.revocable.authenticate() }, async (request) => ({
 *   sub: request.auth?.sub,
 * }));
 * ```
 */
export const revocablePlugin = fastifyPlugin(plugin, {
  fastify: '5.x',
  name: 'revocable',
});
