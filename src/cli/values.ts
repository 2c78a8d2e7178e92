import { ALGORITHM_NAMES, type Algorithm, isAlgorithm } from '../jwt/index.js';
import { parseDuration } from '../lib/duration.js';
import { CliError } from './cli-error.js';

/**
 * Reads `--alg`: one of the algorithm names, spelled exactly (`none` is never one).
 *
 * @example
 * ```ts
 * parseAlgorithm('ES256'); // 'ES256'
 * ```
 */
export function parseAlgorithm(text: string): Algorithm {
  if (!isAlgorithm(text)) {
    throw new CliError(`--alg must be one of ${ALGORITHM_NAMES.join(', ')}`);
  }
  return text;
}

/**
 * Reads a time option in epoch seconds, like `--now 1800000000`.
 *
 * @example
 * ```ts
 * parseEpochSeconds('1800000000', '--now'); // 1800000000
 * ```
 */
export function parseEpochSeconds(text: string, option: string): number {
  if (!/^\d{1,12}(\.\d+)?$/.test(text)) {
    throw new CliError(`${option} must be a time in epoch seconds, like 1800000000`);
  }
  return Number(text);
}

/**
 * Reads a duration option (`600`, `30s`, `10m`, `12h`, `7d`) as whole seconds, with the rules the
 * signer and verifier apply, so what passes here is never refused later.
 *
 * @example
 * ```ts
 * parseDurationOption('10m', '--ttl'); // 600
 * ```
 */
export function parseDurationOption(text: string, option: string): number {
  try {
    return parseDuration(text, option);
  } catch {
    throw new CliError(
      `${option} must be a duration: seconds, or a number with s, m, h or d (like 10m)`,
    );
  }
}

/**
 * Reads a JSON object given on the command line. The parser's own message is not shown: it can
 * quote the text it failed on.
 *
 * @example
 * ```ts
 * parseJsonObject('{"sub":"u1"}', '--claims'); // { sub: 'u1' }
 * ```
 */
export function parseJsonObject(text: string, option: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError(`${option} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`${option} must be a JSON object, like '{"sub":"u1"}'`);
  }
  return value as Record<string, unknown>;
}

/**
 * Echoes a word the user typed (a command name) only when it looks like one: a mistyped token in a
 * command's place must not be repeated on the terminal or in a log.
 *
 * @example
 * ```ts
 * throw new CliError(`unknown command ${quoteWord(word)}`);
 * ```
 */
export function quoteWord(word: string): string {
  return /^[A-Za-z][A-Za-z0-9-]{0,31}$/.test(word) ? `'${word}'` : '(not shown)';
}
