import type { Algorithm } from './algorithms.js';

/**
 * A JWT claims set: the registered claims revocable checks, plus any application claims.
 */
export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

/** A JWS protected header after revocable has parsed and checked it. */
export interface JwtHeader {
  readonly alg: Algorithm;
  readonly kid?: string;
  readonly typ?: string;
  readonly cty?: string;
  readonly [member: string]: unknown;
}

/** A token after verification: its header and claims. */
export interface VerifiedJwt {
  readonly header: JwtHeader;
  readonly claims: JwtClaims;
}
