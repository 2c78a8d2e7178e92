import { RevocableError } from '../errors/revocable-error.js';

/**
 * An option that counts something: `value`, or `fallback` when it is undefined, refused with
 * `ERR_INVALID_ARGUMENT` unless it is a positive safe integer. @internal
 */
export function positiveInteger(
  value: number | undefined,
  name: string,
  fallback?: number,
): number {
  const chosen = value ?? fallback;
  if (chosen === undefined || !Number.isSafeInteger(chosen) || chosen < 1) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', `${name} must be a positive integer.`);
  }
  return chosen;
}
