import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { RevocableError } from '../../errors/revocable-error.js';
import { type AdapterOptions, guardFrom, isGuard, type WithGuard } from '../adapter-options.js';
import { assertOneAuthorization } from '../bearer.js';
import { checkRealm, DEFAULT_REALM } from '../challenge.js';
import { errorAnswer } from '../error-answer.js';
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
   * `errorAnswer`). An error that is not revocable's (a bug) goes to `next(error)`.
   */
  authenticate(route?: RouteRequirements): RequestHandler;
  /** The guard, for checks outside a route (a WebSocket upgrade, a job). */
  readonly guard: TokenGuard;
}

/**
 * Express middleware on a token guard.
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
export function revocableExpress(init: RevocableExpressInit): RevocableExpress {
  let guard: TokenGuard;
  let realm = DEFAULT_REALM;
  let passError = false;
  if (isGuard(init)) {
    guard = init;
  } else {
    if (typeof init !== 'object' || init === null) {
      throw new RevocableError(
        'ERR_INVALID_ARGUMENT',
        'revocableExpress needs a guard or options.',
      );
    }
    const { realm: givenRealm, passError: givenPass, ...rest } = init;
    if (givenRealm !== undefined) realm = checkRealm(givenRealm);
    if (givenPass !== undefined && typeof givenPass !== 'boolean') {
      throw new RevocableError('ERR_INVALID_ARGUMENT', 'passError must be a boolean.');
    }
    passError = givenPass === true;
    guard = guardFrom(rest);
  }
  const answerOptions = { realm };

  function fail(error: unknown, res: Response, next: NextFunction): void {
    if (passError || !(error instanceof RevocableError)) {
      next(error);
      return;
    }
    const { status, headers, body } = errorAnswer(error, answerOptions);
    res.status(status).set(headers).json(body);
  }

  return {
    guard,
    authenticate(route) {
      const prepared = route === undefined ? undefined : guard.route(route);
      return function revocableAuthenticate(req: Request, res: Response, next: NextFunction) {
        let result: AuthContext | Promise<AuthContext>;
        try {
          if (req.headers.authorization !== undefined) assertOneAuthorization(req.rawHeaders);
          result = guard.checkFast(req.headers, prepared, req.method);
        } catch (error) {
          fail(error, res, next);
          return;
        }
        if (result instanceof Promise) {
          result.then(
            (auth) => {
              req.auth = auth;
              next();
            },
            (error: unknown) => fail(error, res, next),
          );
          return;
        }
        req.auth = result;
        next();
      };
    },
  };
}
