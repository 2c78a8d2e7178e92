import { RevocableError } from '../errors/revocable-error.js';
import { checkRealm, DEFAULT_REALM } from './challenge.js';
import { createTokenGuard } from './token-guard.js';
import type { TokenGuard, TokenGuardOptions } from './types.js';

/** What the middleware does with a CORS preflight that reaches it. */
export type PreflightHandling = 'answer' | 'pass';

/** What both adapters take besides the guard. */
export interface AdapterOptions {
  /** The realm of the `WWW-Authenticate` challenges (default `revocable`). */
  realm?: string;
  /**
   * A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) carries no credentials, so
   * it is never refused with 401. `'answer'` (the default): the middleware answers it 204 itself,
   * with the headers a CORS middleware in front of it set, and no handler behind it runs: anyone
   * can send that header, and a handler that also takes `OPTIONS` (`app.all`) must not run for
   * no one. `'pass'`: it goes on with no `auth`, for an app whose CORS handler comes after the
   * middleware; every handler behind it must then expect a request with no `auth`.
   */
  preflight?: PreflightHandling;
}

/** What an adapter answers with, checked, with the defaults. @internal */
export interface AdapterSettings {
  readonly realm: string;
  /** Refusals go to the framework's error handler instead of being answered. */
  readonly passError: boolean;
  readonly preflight: PreflightHandling;
}

/**
 * Checks an adapter's `realm`, `passError` and `preflight`: `ERR_INVALID_ARGUMENT` for a bad one.
 * @internal
 */
export function adapterSettings(
  realm: unknown,
  passError: unknown,
  preflight: unknown,
): AdapterSettings {
  if (passError !== undefined && typeof passError !== 'boolean') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'passError must be a boolean.');
  }
  if (preflight !== undefined && preflight !== 'answer' && preflight !== 'pass') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'preflight must be "answer" or "pass".');
  }
  return {
    realm: realm === undefined ? DEFAULT_REALM : checkRealm(realm),
    passError: passError === true,
    preflight: preflight ?? 'answer',
  };
}

/** A guard made elsewhere (by `createTokenGuard`), shared by several apps or adapters. */
export interface WithGuard {
  guard: TokenGuard;
}

/** Whether a value is a token guard. @internal */
export function isGuard(value: unknown): value is TokenGuard {
  return (
    typeof (value as TokenGuard | null)?.checkFast === 'function' &&
    typeof (value as TokenGuard).route === 'function'
  );
}

/**
 * The guard of an adapter: the one given as `{ guard }`, or one made of guard options (from
 * which the adapter took its own). @internal
 */
export function guardFrom(options: TokenGuardOptions | WithGuard): TokenGuard {
  if (typeof options !== 'object' || options === null) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'Give a token guard, or its options.');
  }
  if (!('guard' in options)) return createTokenGuard(options);
  const { guard, ...others } = options;
  if (!isGuard(guard))
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'guard must be a TokenGuard.');
  const extra = Object.keys(others);
  if (extra.length > 0) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      `Give a guard or guard options, not both (${extra.join(', ')}).`,
    );
  }
  return guard;
}
