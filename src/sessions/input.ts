import { RevocableError } from '../errors/revocable-error.js';
import { isIdentifier } from '../jwt/claims.js';
import { isSessionId } from './refresh-token.js';

const MAX_TEXT = 512;

/** Claims the manager sets itself in every access token. */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'sid',
  'auth_time',
  'sgen',
]);

/**
 * An identifier the manager stores and revokes (a subject, a jti): a non-empty string of at most
 * 256 characters, well-formed, without control characters. Checked before anything is written: a
 * cut-off must never bump a generation and then fail to log its event.
 */
export function assertIdentifier(value: unknown, what: string): asserts value is string {
  if (!isIdentifier(value)) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      `${what} must be a non-empty, well-formed string of at most 256 characters, without control characters.`,
    );
  }
}

/** A subject id, by {@link assertIdentifier}'s rule. */
export function assertSubject(sub: unknown): asserts sub is string {
  assertIdentifier(sub, 'A subject');
}

/** A session id as the manager makes them. */
export function assertSessionId(sid: unknown): asserts sid is string {
  if (!isSessionId(sid)) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'A session id is 22 base64url characters.');
  }
}

/** An optional label (device, ip, user agent): a string of bounded length, or absent. */
export function assertOptionalText(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > MAX_TEXT) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      `${name} must be a string of at most ${MAX_TEXT} characters.`,
    );
  }
  return value;
}

/**
 * Application claims: a plain JSON object whose names are not the registered claims the manager
 * sets itself, so an application can never override `sub`, `sid` or `exp` by accident.
 */
export function assertClaims(claims: unknown): asserts claims is Record<string, unknown> {
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'claims must be a plain object.');
  }
  for (const name of Object.keys(claims)) {
    if (RESERVED_CLAIMS.has(name) || name === '__proto__') {
      throw new RevocableError(
        'ERR_INVALID_ARGUMENT',
        `The claim ${name} is set by revocable and cannot be given.`,
      );
    }
  }
  let text: string;
  try {
    text = JSON.stringify(claims);
  } catch {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'claims must be JSON-serialisable.');
  }
  if (text.length > 4096)
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'claims must be at most 4 KiB as JSON.');
}
