import { RevocableError } from '../../../errors/revocable-error.js';
import type { UserRecord } from '../types.js';
import { copyRoles } from './record.js';

/**
 * The columns of a user row once the driver has read them, before they are trusted.
 * Internal: never exported from the package.
 */
export interface UserColumns {
  id: unknown;
  username: unknown;
  password_hash: unknown;
  roles: unknown;
  created_at: unknown;
  password_changed_at: unknown;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * A record from a row, refusing (with `ERR_STORE_SCHEMA`) a row of another shape: a table
 * changed by hand must not turn into a user with roles nobody gave.
 *
 * @example
 * ```ts
 * const user = recordFromColumns({ ...row, roles: JSON.parse(row.roles) }, 'The SQLite user store');
 * ```
 */
export function recordFromColumns(row: UserColumns, backend: string): UserRecord {
  const { id, username, password_hash, roles, created_at, password_changed_at } = row;
  if (
    typeof id !== 'string' ||
    typeof username !== 'string' ||
    typeof password_hash !== 'string' ||
    !isStringList(roles) ||
    typeof created_at !== 'number' ||
    typeof password_changed_at !== 'number'
  ) {
    throw new RevocableError(
      'ERR_STORE_SCHEMA',
      `${backend} read a user row it cannot understand (a table changed by hand?).`,
    );
  }
  return {
    id,
    username,
    passwordHash: password_hash,
    roles: copyRoles(roles),
    createdAt: created_at,
    passwordChangedAt: password_changed_at,
  };
}

/** A JSON array of strings as SQLite keeps roles, or undefined when it is not one. */
export function parseRoles(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
