import { invalidArgument } from './validate.js';

/**
 * The arguments every `connect*` helper takes: a non-empty URL of its scheme, an options object,
 * and a positive connect timeout (default 10 s). Returns the timeout. Internal.
 */
export function connectTimeoutOf(url: unknown, options: unknown, scheme: string): number {
  if (typeof url !== 'string' || url.trim() === '') {
    throw invalidArgument(`url must be a non-empty string (a ${scheme}:// URL).`);
  }
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('options must be an object.');
  }
  const timeout = (options as { connectTimeoutMs?: unknown }).connectTimeoutMs ?? 10_000;
  if (!Number.isSafeInteger(timeout) || (timeout as number) <= 0) {
    throw invalidArgument('connectTimeoutMs must be a positive integer.');
  }
  return timeout as number;
}
