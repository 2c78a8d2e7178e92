/**
 * The input checks every store runs before it touches its backend, so that all stores refuse the
 * same values with the same code (`ERR_INVALID_ARGUMENT`, or `ERR_REVOCATION_EVENT_INVALID` for an
 * event) and none writes half of a bad input. Internal: never exported from the package.
 *
 * @example
 * ```ts
 * import { assertSid, assertSessionRecord, parseEvents } from '../internal/validate.js';
 * ```
 * @module
 */
export { assertClaims, claimsJson, MAX_CLAIMS_DEPTH, MAX_CLAIMS_JSON_LENGTH } from './claims.js';
export { assertRefreshRotation, assertSessionRecord } from './records.js';
export {
  assertBoolean,
  assertDurationSeconds,
  assertEpochSeconds,
  assertGeneration,
  assertHash,
  assertLimit,
  assertPosition,
  assertReason,
  assertSid,
  assertSidList,
  assertSub,
  eventConflict,
  invalidArgument,
  MAX_HASH_LENGTH,
  MAX_ID_LENGTH,
  MAX_SPENT_HASHES,
  MAX_TEXT_LENGTH,
  parseEvents,
} from './scalars.js';
