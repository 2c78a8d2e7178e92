import type { RevocableError } from '../../../errors/revocable-error.js';
import { hasControlCharacter, isWellFormedText } from '../../../lib/text.js';
import {
  assertEpochSeconds,
  assertSub,
  invalidArgument,
} from '../../../stores/internal/validate.js';
import type { UserRecord } from '../types.js';

/**
 * The shape checks every user store runs before it touches its database, so that all stores
 * refuse the same values with `ERR_INVALID_ARGUMENT` and none writes half of a bad record. These
 * are bounds of storage, looser than the policies of policy.ts: a store keeps any well-formed text
 * exactly, and deciding what a username may be is the accounts' job. Messages name the field,
 * never its value (a value may be a password hash). Internal: never exported from the package.
 *
 * @example
 * ```ts
 * assertUserRecord(user);
 * const key = usernameKey(user.username);
 * ```
 * @module
 */

/** The longest username a store keeps (the policy allows 64). */
export const MAX_STORED_USERNAME = 256;
/** The longest password hash a store keeps (an argon2id PHC string is about 100). */
export const MAX_STORED_HASH = 512;
/** The most roles a store keeps, and the longest role (the policy allows 16 of 32). */
export const MAX_STORED_ROLES = 64;
export const MAX_STORED_ROLE = 64;

// Text a database keeps exactly: a lone surrogate has no UTF-8 form (drivers replace it, and two
// names would become one), and PostgreSQL text cannot hold NUL.
function storable(value: unknown, max: number): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= max &&
    isWellFormedText(value) &&
    !hasControlCharacter(value)
  );
}

/** A username as a store takes it, for a lookup or a new record. */
export function assertStoredUsername(value: unknown): asserts value is string {
  if (!storable(value, MAX_STORED_USERNAME)) {
    throw invalidArgument(
      `username must be a non-empty, well-formed string of at most ${MAX_STORED_USERNAME} characters, without control characters.`,
    );
  }
}

/** A user id: what a store accepts as a JWT `sub`. */
export function assertUserId(value: unknown): asserts value is string {
  assertSub(value, 'id');
}

/** A password hash as a store keeps it. */
export function assertPasswordHash(value: unknown): asserts value is string {
  if (!storable(value, MAX_STORED_HASH)) {
    throw invalidArgument(
      `passwordHash must be a non-empty string of at most ${MAX_STORED_HASH} characters, without control characters.`,
    );
  }
}

/** A list of roles as a store keeps it. */
export function assertStoredRoles(value: unknown): asserts value is readonly string[] {
  if (
    !Array.isArray(value) ||
    value.length > MAX_STORED_ROLES ||
    !value.every((role) => storable(role, MAX_STORED_ROLE))
  ) {
    throw invalidArgument(
      `roles must be an array of at most ${MAX_STORED_ROLES} non-empty strings of at most ${MAX_STORED_ROLE} characters.`,
    );
  }
}

/**
 * The error for a new record whose id another user has: ids are 128 random bits, so this is a
 * caller that gave one record twice under another name, never bad luck.
 */
export function idTaken(): RevocableError {
  return invalidArgument('Another user has this id: give each new user an id of its own.');
}

/** A whole record, as `create` takes it. */
export function assertUserRecord(value: unknown): asserts value is UserRecord {
  if (typeof value !== 'object' || value === null) throw invalidArgument('user must be an object.');
  const user = value as Partial<Record<keyof UserRecord, unknown>>;
  assertUserId(user.id);
  assertStoredUsername(user.username);
  assertPasswordHash(user.passwordHash);
  assertStoredRoles(user.roles);
  assertEpochSeconds(user.createdAt, 'createdAt');
  assertEpochSeconds(user.passwordChangedAt, 'passwordChangedAt');
}

/**
 * The key that makes usernames unique without regard to case. Lower-cased here, in JavaScript,
 * and never by the database: SQLite's `lower()` folds ASCII only and PostgreSQL's follows the
 * database's collation, so two stores (or two databases) would disagree on which names collide.
 */
export function usernameKey(username: string): string {
  return username.toLowerCase();
}

/** A copy of the roles that a caller cannot change under the store (or the store under it). */
export function copyRoles(roles: readonly string[]): readonly string[] {
  return Object.freeze([...roles]);
}
