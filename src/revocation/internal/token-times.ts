import type { RevocationClaims } from '../types.js';

/** No generation: the `gen` of an entry no event gave one, and the `sgen` of a token without one. */
export const NO_GENERATION = -1;

/**
 * A token's `iat` for cut-offs. Without a usable one the token counts as issued at the beginning of
 * time: dead under any live time cut-off.
 */
export function issuedAt(claims: RevocationClaims): number {
  const iat = claims.iat;
  return typeof iat === 'number' && !Number.isNaN(iat) ? iat : Number.NEGATIVE_INFINITY;
}

/** A token's subject generation (`sgen`): a non-negative safe integer, or {@link NO_GENERATION}. */
export function generationOf(claims: RevocationClaims): number {
  const sgen = claims.sgen;
  return typeof sgen === 'number' && Number.isSafeInteger(sgen) && sgen >= 0 ? sgen : NO_GENERATION;
}
