import { invalidArgument } from './scalars.js';

/** The longest claims object, as JSON text. */
export const MAX_CLAIMS_JSON_LENGTH = 65_536;
/** The deepest nesting of claims (which also stops a cycle). */
export const MAX_CLAIMS_DEPTH = 32;

function assertJsonValue(value: unknown, depth: number): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    // JSON has no NaN or Infinity: JSON.stringify would silently write null.
    if (!Number.isFinite(value)) throw invalidArgument('claims must hold finite numbers only.');
    return;
  }
  if (typeof value !== 'object') {
    throw invalidArgument('claims must hold JSON values only (no undefined, functions, bigint).');
  }
  if (depth >= MAX_CLAIMS_DEPTH) {
    throw invalidArgument(`claims must be nested at most ${MAX_CLAIMS_DEPTH} levels deep.`);
  }
  if (Array.isArray(value)) {
    for (const item of value) assertJsonValue(item, depth + 1);
    return;
  }
  // A Date, Map or class instance would be written as something else than it is read back as.
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    throw invalidArgument('claims must hold plain objects, arrays and JSON scalars only.');
  }
  for (const item of Object.values(value)) assertJsonValue(item, depth + 1);
}

/**
 * Application claims: a plain object of JSON values only (so every store reads back exactly what
 * it was given), at most {@link MAX_CLAIMS_DEPTH} deep and {@link MAX_CLAIMS_JSON_LENGTH} long as
 * JSON.
 *
 * @example
 * ```ts
 * assertClaims(claims);
 * ```
 */
export function assertClaims(
  value: unknown,
  name = 'claims',
): asserts value is Readonly<Record<string, unknown>> {
  claimsJson(value, name);
}

/**
 * Checks claims as {@link assertClaims} does and returns their JSON text, the form every
 * driver-backed store persists.
 *
 * @example
 * ```ts
 * await client.query('UPDATE sessions SET claims = $1 WHERE sub = $2', [claimsJson(claims), sub]);
 * ```
 */
export function claimsJson(value: unknown, name = 'claims'): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument(`${name} must be a JSON object.`);
  }
  assertJsonValue(value, 0);
  const text = JSON.stringify(value);
  if (text.length > MAX_CLAIMS_JSON_LENGTH) {
    throw invalidArgument(`${name} must be at most ${MAX_CLAIMS_JSON_LENGTH} characters as JSON.`);
  }
  return text;
}
