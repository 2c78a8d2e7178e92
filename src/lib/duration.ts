import { RevocableError } from '../errors/revocable-error.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const PATTERN = /^(\d+)(s|m|h|d)?$/;

/**
 * Reads a duration as whole seconds: a non-negative number of seconds, or a string such as `90`,
 * `30s`, `10m`, `12h`, `7d`. Anything else is `ERR_INVALID_ARGUMENT` naming `what`.
 */
export function parseDuration(value: unknown, what: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value.trim());
    if (match !== null) return Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1);
  }
  throw new RevocableError(
    'ERR_INVALID_ARGUMENT',
    `${what} must be a duration: seconds, or a number with s, m, h or d (like 10m).`,
  );
}
