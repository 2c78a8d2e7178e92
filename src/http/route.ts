import { RevocableError } from '../errors/revocable-error.js';
import { parseDuration } from '../lib/duration.js';
import { assertKnownOptions, type OptionNames } from '../lib/known-options.js';
import { ReauthRequiredError } from './reauth-error.js';
import { InsufficientScopeError } from './scope-error.js';
import type { AuthContext, RouteRequirements } from './types.js';

/** Route requirements, checked once: what a request is held to. @internal */
export interface CompiledRoute {
  readonly roles: readonly string[] | null;
  readonly scopes: readonly string[] | null;
  readonly maxAge: number | null;
  readonly checkStore: boolean;
}

/** Every route requirement. @internal */
export const ROUTE_REQUIREMENT_NAMES: OptionNames<RouteRequirements> = Object.freeze({
  roles: true,
  scopes: true,
  maxAge: true,
  checkStore: true,
});

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function names(value: unknown, what: string): readonly string[] | null {
  if (value === undefined) return null;
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((item) => typeof item === 'string' && item.length > 0)
  ) {
    throw invalid(`${what} must be a non-empty array of non-empty strings.`);
  }
  return Object.freeze([...value]);
}

// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

// A token's scope claim is split on spaces, so a required scope with a space could never be held.
function scopeTokens(scopes: readonly string[] | null): readonly string[] | null {
  if (scopes !== null && !scopes.every((scope) => SCOPE_TOKEN.test(scope))) {
    throw invalid(
      'Each of scopes must be one scope token (RFC 6749): printable ASCII without space, " or \\.',
    );
  }
  return scopes;
}

// RFC 9470's max_age, which the challenge of a refusal carries, is a whole number of seconds.
function wholeSeconds(maxAge: number): number {
  if (!Number.isInteger(maxAge)) throw invalid('maxAge must be a whole number of seconds.');
  return maxAge;
}

/** Checks route requirements: `ERR_INVALID_ARGUMENT` names the bad one. @internal */
export function compileRoute(requirements: RouteRequirements): CompiledRoute {
  if (typeof requirements !== 'object' || requirements === null) {
    throw invalid('Route requirements must be an object.');
  }
  assertKnownOptions(requirements, ROUTE_REQUIREMENT_NAMES, 'A route');
  const { roles, scopes, maxAge, checkStore } = requirements;
  if (checkStore !== undefined && typeof checkStore !== 'boolean') {
    throw invalid('checkStore must be a boolean.');
  }
  return Object.freeze({
    roles: names(roles, 'roles'),
    scopes: scopeTokens(names(scopes, 'scopes')),
    maxAge: maxAge === undefined ? null : wholeSeconds(parseDuration(maxAge, 'maxAge')),
    checkStore: checkStore === true,
  });
}

/** The requirements a compiled route was made from, frozen (for `guard.route`). @internal */
export function requirementsOf(route: CompiledRoute): RouteRequirements {
  return Object.freeze({
    ...(route.roles === null ? {} : { roles: route.roles }),
    ...(route.scopes === null ? {} : { scopes: route.scopes }),
    ...(route.maxAge === null ? {} : { maxAge: route.maxAge }),
    ...(route.checkStore ? { checkStore: true } : {}),
  });
}

/**
 * Holds an authenticated request to a route's `roles`, `scopes` and `maxAge` (the store check,
 * asynchronous, is the guard's). Roles and scopes first: a user who lacks them gets the 403 at
 * once, rather than a call to log in again that would end in the same 403. @internal
 */
export function checkRoute(
  route: CompiledRoute,
  auth: AuthContext,
  now: number,
  clockSkew: number,
): void {
  // Loops, not some/every with arrow functions: this runs on every request of the route.
  const roles = route.roles;
  if (roles !== null && !holdsAny(auth.roles, roles)) {
    throw new RevocableError('ERR_FORBIDDEN', 'This route needs a role the token does not have.');
  }
  const scopes = route.scopes;
  if (scopes !== null && !holdsAll(auth.scopes, scopes)) throw new InsufficientScopeError(scopes);
  if (route.maxAge !== null) {
    const { auth_time: authTime, iat } = auth.claims;
    // A token without auth_time cannot show a recent login, so it is refused like an old one; nor
    // can one whose login comes after the token was issued, which would pass for recent for good.
    // Within the clock skew it may: a login takes an auth_time that much ahead, and a fraction,
    // while iat is whole seconds, perhaps of another process's clock.
    if (
      typeof authTime !== 'number' ||
      (typeof iat === 'number' && authTime > iat + clockSkew) ||
      !(now - authTime <= route.maxAge)
    ) {
      throw new ReauthRequiredError(route.maxAge);
    }
  }
}

function holdsAny(held: readonly string[], wanted: readonly string[]): boolean {
  for (let i = 0; i < wanted.length; i++) if (held.includes(wanted[i]!)) return true;
  return false;
}

function holdsAll(held: readonly string[], wanted: readonly string[]): boolean {
  for (let i = 0; i < wanted.length; i++) if (!held.includes(wanted[i]!)) return false;
  return true;
}
