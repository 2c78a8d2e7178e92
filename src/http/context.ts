import { JwtClaimError } from '../errors/revocable-error.js';
import type { JwtClaims } from '../jwt/types.js';
import type { AuthContext } from './types.js';

const NONE: readonly string[] = Object.freeze([]);

function allStrings(value: readonly unknown[]): boolean {
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
  return true;
}

/**
 * The `roles` claim's strings. An array of strings is handed over as it is (frozen with the
 * claims when the verifier caches): this runs on every request, and most carry one.
 */
function rolesOf(claims: JwtClaims): readonly string[] {
  const roles = claims.roles;
  if (!Array.isArray(roles) || roles.length === 0) return NONE;
  const list: readonly unknown[] = roles;
  if (allStrings(list)) return list as readonly string[];
  return Object.freeze(list.filter((role): role is string => typeof role === 'string'));
}

/**
 * The `scope` claim: a space-separated string (RFC 9068 section 2.2.3, RFC 8693 section 4.2),
 * split on spaces; an array of strings, as some issuers send, is taken as the list.
 */
function scopesOf(claims: JwtClaims): readonly string[] {
  const scope = claims.scope;
  if (typeof scope === 'string') {
    if (scope.length === 0) return NONE;
    const parts = scope.split(' ');
    return Object.freeze(parts.includes('') ? parts.filter((part) => part.length > 0) : parts);
  }
  if (Array.isArray(scope) && allStrings(scope)) return scope as readonly string[];
  return NONE;
}

/** The context of an accepted token. @internal */
export function contextOf(claims: JwtClaims, token: string, via: 'bearer' | 'cookie'): AuthContext {
  const sub = claims.sub;
  // A verifier made with its own requiredClaims may accept a token without sub; nobody to name.
  if (typeof sub !== 'string') {
    throw new JwtClaimError(
      'ERR_JWT_CLAIM_MISSING',
      'The token names no subject.',
      'sub',
      'missing',
    );
  }
  const sid = claims.sid;
  return {
    claims,
    sub,
    sid: typeof sid === 'string' ? sid : undefined,
    roles: rolesOf(claims),
    scopes: scopesOf(claims),
    token,
    via,
  };
}
