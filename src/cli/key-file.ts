import { isRevocableError, RevocableError } from '../errors/index.js';
import { KeyRing } from '../jwt/index.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './io.js';

const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

/**
 * Loads a key file: a key ring document (as `keys generate` prints) or a plain public JWKS. Every
 * failure names the file and never quotes it: the file holds private keys.
 *
 * @example
 * ```ts
 * const ring = loadKeyRing('ring.json', io);
 * ```
 */
export function loadKeyRing(path: string, io: CliIo): KeyRing {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    const reason = (code === undefined ? undefined : READ_FAILURES[code]) ?? code ?? 'unreadable';
    throw new CliError(`cannot read key file ${path}: ${reason}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new CliError(`key file ${path} is not valid JSON`);
  }
  try {
    return KeyRing.fromJSON(document, { now: () => io.now() });
  } catch (error) {
    // The library's message says what is wrong; the file name says where.
    if (isRevocableError(error)) {
      throw new RevocableError(error.code, `key file ${path}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
