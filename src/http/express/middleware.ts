import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { RevocableError } from '../../errors/revocable-error.js';
import { assertKnownOptions, type OptionNames } from '../../lib/known-options.js';
import {
  type AdapterOptions,
  type AdapterSettings,
  adapterSettings,
  guardFrom,
  isGuard,
  type WithGuard,
} from '../adapter-options.js';
import { errorAnswer, isAnswerable } from '../error-answer.js';
import { checkRequest } from '../request-check.js';
import type { AuthContext, RouteRequirements, TokenGuard, TokenGuardOptions } from '../types.js';

/** What {@link revocableExpress} takes besides the guard. */
export interface ExpressAdapterOptions extends AdapterOptions {
  /**
   * Hand refusals to `next(error)` (a `RevocableError`; answer it with `errorAnswer`) instead of
   * answering them. Default false: the middleware answers, so an app needs no error handler.
   */
  passError?: boolean;
}

/** What {@link revocableExpress} takes: a guard, or `{ guard }` or guard options, with its own. */
export type RevocableExpressInit =
  | TokenGuard
  | ((TokenGuardOptions | WithGuard) & ExpressAdapterOptions);

/** The Express middleware of a guard. */
export interface RevocableExpress {
  /**
   * A middleware that authenticates the request and holds it to `route`: on success `req.auth` is
   * the {@link AuthContext} and `next()` runs; on refusal it answers (401, 403 or 503, see
   * `errorAnswer`). A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`), which a
   * browser sends without credentials, is answered 204 (or, with `preflight: 'pass'`, goes to
   * `next()` with no `req.auth`). An error that is not revocable's (a bug), or is one whose code
   * has no status, goes to `next(error)`; so does a refusal that comes (after a store read) once
   * another middleware has already answered.
   */
  authenticate(route?: RouteRequirements): RequestHandler;
  /** The guard, for checks outside a route (a WebSocket upgrade, a job). */
  readonly guard: TokenGuard;
}

const ADAPTER_OPTION_NAMES: OptionNames<ExpressAdapterOptions> = {
  realm: true,
  passError: true,
  preflight: true,
};

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

/**
 * The adapter's options, from the first argument and the second together, checked. The second is
 * read strictly (no other key, none given twice): JavaScript drops an argument a function does
 * not take, and a `passError` dropped silently would send refusals past the app's error handler.
 */
function adapterOptions(
  first: ExpressAdapterOptions,
  second: ExpressAdapterOptions | undefined,
): AdapterSettings {
  if (second !== undefined && (typeof second !== 'object' || second === null)) {
    throw invalid(
      'The options of revocableExpress must be an object: { realm, passError, preflight }.',
    );
  }
  const extra = second === undefined ? {} : second;
  assertKnownOptions(extra, ADAPTER_OPTION_NAMES, 'revocableExpress');
  for (const key of Object.keys(extra)) {
    if (Object.hasOwn(first, key)) throw invalid(`Give "${key}" once, not twice.`);
  }
  const { realm, passError, preflight } = { ...first, ...extra };
  return adapterSettings(realm, passError, preflight);
}

/**
 * Express middleware on a token guard: `revocableExpress(guard)`, `revocableExpress(guard,
 * { passError: true })`, or `revocableExpress({ guard, passError: true })` / guard options with
 * the adapter's own in one object.
 *
 * @example
 * ```ts
 * const auth = revocableExpress({ keys, index, issuer: 'https://auth.example', audience: 'api' });
 * app.get('/me', auth.authenticate(), (req, res) => {
 *   res.json({ sub: req.auth?.sub });
 * });
 * app.post('/admin/reset', auth.authenticate({ roles: ['admin'], checkStore: true }), reset);
 * ```
 */
export function revocableExpress(
  init: RevocableExpressInit,
  options?: ExpressAdapterOptions,
): RevocableExpress {
  if (isGuard(init)) return middlewareOf(init, adapterOptions({}, options));
  if (typeof init !== 'object' || init === null) {
    throw invalid('revocableExpress needs a guard or options.');
  }
  const { realm, passError, preflight, ...rest } = init;
  const first = {
    ...(realm === undefined ? {} : { realm }),
    ...(passError === undefined ? {} : { passError }),
    ...(preflight === undefined ? {} : { preflight }),
  };
  // The adapter's options are checked before a guard is made of the rest.
  const checked = adapterOptions(first, options);
  return middlewareOf(guardFrom(rest), checked);
}

function middlewareOf(
  guard: TokenGuard,
  { realm, passError, preflight }: AdapterSettings,
): RevocableExpress {
  const answerOptions = { realm };

  function fail(error: unknown, res: Response, next: NextFunction): void {
    // Answered here unless the app asked for refusals, or it is no refusal (a bug), or a response
    // is already under way: another middleware (a request timeout) may have answered while the
    // store was asked, and writing over it would throw. Express's handler then ends the connection.
    if (passError || !isAnswerable(error) || res.headersSent) {
      next(error);
      return;
    }
    const { status, headers, body } = errorAnswer(error, answerOptions);
    res.status(status).set(headers).json(body);
  }

  // The promise's own handler: a throw there would be an unhandled rejection, which ends the
  // process, so whatever fail throws goes to Express instead.
  function failLater(error: unknown, res: Response, next: NextFunction): void {
    try {
      fail(error, res, next);
    } catch (failure) {
      next(failure);
    }
  }

  return {
    guard,
    authenticate(route) {
      const prepared = route === undefined ? undefined : guard.route(route);
      return function revocableAuthenticate(req: Request, res: Response, next: NextFunction) {
        // Each read of `req` once. Express gives every request object a hidden class of its own
        // (it sets the prototype, then adds properties), so no read of `req` is ever cached: each
        // is a full lookup, `headers` one through four prototypes to Node's getter.
        let result: AuthContext | Promise<AuthContext> | null;
        try {
          result = checkRequest(guard, req.headers, req.method, req.rawHeaders, prepared);
        } catch (error) {
          fail(error, res, next);
          return;
        }
        if (result === null) {
          if (preflight === 'pass') next();
          else res.status(204).end();
          return;
        }
        if (result instanceof Promise) {
          result.then(
            (auth) => {
              req.auth = auth;
              next();
            },
            (error: unknown) => failLater(error, res, next),
          );
          return;
        }
        req.auth = result;
        next();
      };
    },
  };
}
