import { createRequire } from 'node:module';
import { RevocableError } from '../../errors/revocable-error.js';
import type { Store } from '../types.js';

/**
 * How the stores load and report on their optional drivers. Internal: never exported from the
 * package.
 *
 * @example
 * ```ts
 * const pg = loadDriver<PgModule>({ name: 'pg', types: '@types/pg', subpath: 'revocable/postgres' });
 * ```
 * @module
 */

// Resolved from this file, so from revocable's own place in node_modules: where a package manager
// puts the peer dependencies of revocable.
const requireFromHere = createRequire(import.meta.url);

/** An optional driver: the package, its separate types package if any, and who needs it. */
export interface DriverPackage {
  name: string;
  types?: string;
  subpath: string;
}

function isNotFound(error: unknown, name: string): boolean {
  // Only the driver itself missing: a driver that is installed but fails to load (a missing
  // dependency of its own, a native module built for another Node.js) is another problem.
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${name}'`)
  );
}

/**
 * Loads a driver when it is first needed, never when the subpath is imported: an application that
 * only passes its own client in (or only imports the types) needs nothing more, and one that lacks
 * the package learns which one to install instead of reading a resolver's stack.
 */
export function loadDriver<T>(driver: DriverPackage): T {
  try {
    return requireFromHere(driver.name) as T;
  } catch (error) {
    if (!isNotFound(error, driver.name)) throw error;
    const types =
      driver.types === undefined
        ? ''
        : ` (and \`npm install -D ${driver.types}\` for its TypeScript types)`;
    throw new RevocableError(
      'ERR_DRIVER_MISSING',
      `${driver.subpath} needs the ${driver.name} package, which is not installed: run ` +
        `\`npm install ${driver.name}\`${types}.`,
      { cause: error },
    );
  }
}

// Socket errors say little by their code alone ("connect ECONNREFUSED"); these say what it means.
const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is the server running and listening there?)',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be looked up (DNS)',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EPIPE: 'the connection was closed',
};

const MAX_REASON_LENGTH = 300;

/**
 * A driver error as one line: the meaning of a socket error's code, or the first line of the
 * message with the driver's code when the message lacks it. Node.js reports a refused connection
 * to a name with several addresses (localhost: ::1 and 127.0.0.1) as an AggregateError whose own
 * message is empty: its first error speaks for it.
 */
export function reasonOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0 && error.message === '') {
    return reasonOf(error.errors[0]);
  }
  if (!(error instanceof Error)) return String(error).slice(0, MAX_REASON_LENGTH);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_REASONS[code] !== undefined) {
    return NETWORK_REASONS[code];
  }
  // Without its final full stop: the reason is set inside a sentence of revocable's.
  const first = (error.message.split('\n')[0] ?? '').trim().replace(/\.+$/, '') || error.name;
  const line = first.length > MAX_REASON_LENGTH ? `${first.slice(0, MAX_REASON_LENGTH)}...` : first;
  return typeof code === 'string' && code !== '' && !line.includes(code)
    ? `${line} (${code})`
    : line;
}

/**
 * The error a caller meets when the backend fails: revocable's own errors (bad input, a conflict,
 * a schema problem) pass unchanged; anything else, the driver's failure, becomes
 * `ERR_STORE_UNAVAILABLE` with the driver error as its cause, so that callers branch on one code
 * whatever the driver.
 */
export function storeUnavailable(backend: string, error: unknown): RevocableError {
  if (error instanceof RevocableError) return error;
  return new RevocableError('ERR_STORE_UNAVAILABLE', `${backend} failed: ${reasonOf(error)}`, {
    cause: error,
  });
}

/**
 * A store whose every method reports failures through `translate`: the one place where a store
 * whose methods call the driver directly (SQLite) turns driver errors into revocable's.
 */
export function translateFailures(store: Store, translate: (error: unknown) => Error): Store {
  const wrapped: Record<string, unknown> = { ...store };
  for (const [name, member] of Object.entries(store)) {
    if (typeof member !== 'function') continue;
    const method = member as (...args: unknown[]) => Promise<unknown>;
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await method.apply(store, args);
      } catch (error) {
        throw translate(error);
      }
    };
  }
  return wrapped as unknown as Store;
}

/**
 * The driver error to keep as a `cause`, without what may hold a secret: ioredis attaches the
 * failed command to an error reply, and for `AUTH` or `HELLO ... AUTH` its arguments hold the
 * password, which any log of the error would print. Such an error is replaced by a plain copy of
 * its name, message and code.
 */
export function withoutSecrets(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const command = (error as { command?: { name?: unknown } }).command;
  const name = typeof command?.name === 'string' ? command.name.toLowerCase() : '';
  if (name !== 'auth' && name !== 'hello') return error;
  const copy = new Error(error.message);
  copy.name = error.name;
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}
