import { isIP } from 'node:net';
import { hasControlCharacter, isWellFormedText } from '../../lib/text.js';

/** A rule a text setting must follow, and how a problem line says what is expected. */
export interface TextCheck {
  /** Completes "`--flag` must be ...". */
  readonly expected: string;
  test(value: string): boolean;
}

const HOST_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** An IP address or a DNS name: what `listen` can bind, and nothing that could split a log line. */
export const HOST_CHECK: TextCheck = {
  expected: 'an IP address or a host name (0.0.0.0 or :: to listen on every interface)',
  test: (value) =>
    isIP(value) !== 0 ||
    (value.length <= 253 && value.split('.').every((label) => HOST_LABEL.test(label))),
};

/**
 * A claim value (`iss`, each `aud`): printable, no whitespace. Whitespace is never meant there and
 * usually is a paste slip (a trailing newline) that would make every token fail to verify.
 */
export const CLAIM_CHECK: TextCheck = {
  expected: 'a non-empty string without whitespace or control characters',
  test: (value) =>
    value.length > 0 && !/\s/.test(value) && !hasControlCharacter(value) && isWellFormedText(value),
};

/** A Redis key prefix: printable ASCII, so keys read the same in every client and in logs. */
export const REDIS_PREFIX_CHECK: TextCheck = {
  expected: '1 to 64 printable ASCII characters without spaces',
  test: (value) => /^[\x21-\x7e]{1,64}$/.test(value),
};

/**
 * A PostgreSQL identifier that needs no quoting (lower case, at most 63 bytes), and not `pg_...`,
 * a prefix PostgreSQL reserves for its own schemas.
 */
export const PG_SCHEMA_CHECK: TextCheck = {
  expected:
    'a SQL identifier: a lower-case letter or _, then up to 62 of a-z, 0-9 and _, not pg_...',
  test: (value) => /^[a-z_][a-z0-9_]{0,62}$/.test(value) && !value.startsWith('pg_'),
};

/**
 * A user name given by the operator: no control characters and no spaces around it, which would
 * make a name that cannot be typed at the login form.
 */
export const USERNAME_CHECK: TextCheck = {
  expected: 'a user name without control characters or spaces around it',
  test: (value) =>
    value.length > 0 &&
    value.trim() === value &&
    !hasControlCharacter(value) &&
    isWellFormedText(value),
};
