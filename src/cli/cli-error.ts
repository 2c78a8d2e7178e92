import { isRevocableError } from '../errors/index.js';

/** The exit status of a command that did what it was asked. */
export const EXIT_OK = 0;
/** The exit status when a token was refused (verify) or could not be read (decode). */
export const EXIT_REJECTED = 1;
/** The exit status for bad usage or bad input: arguments, key files, claims. */
export const EXIT_USAGE = 2;

/**
 * A mistake in how the CLI was called or in what it was given. Its message is shown as is, so it
 * must never hold a token, a claim value or key material: name the option or the file instead.
 *
 * @example
 * ```ts
 * throw new CliError('missing --keys FILE');
 * ```
 */
export class CliError extends Error {
  override get name(): string {
    return 'CliError';
  }
}

/**
 * The one line printed on stderr for an error that ends a command: `revocable: <message>`, with the
 * code first for a library error. Line breaks are folded so that the output stays one line.
 *
 * @example
 * ```ts
 * io.stderr(`${formatError(error)}\n`);
 * ```
 */
export function formatError(error: unknown): string {
  let text: string;
  if (error instanceof CliError) text = error.message;
  else if (isRevocableError(error)) text = `${error.code}: ${error.message}`;
  else if (error instanceof Error) text = `unexpected error: ${error.message}`;
  else text = 'unexpected error';
  return `revocable: ${text.replace(/\s*[\r\n]+\s*/g, ' ')}`;
}
