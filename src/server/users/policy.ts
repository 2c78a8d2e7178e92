import { RevocableError } from '../../errors/revocable-error.js';
import { hasControlCharacter, isWellFormedText } from '../../lib/text.js';
import { invalidArgument } from '../../stores/internal/validate.js';
import { normalizePassword } from './normalize.js';

/**
 * What the server accepts as a username, a password and a list of roles. Messages say what is
 * wrong and never repeat the value: a password must not reach a log, nor a username full of
 * terminal escapes.
 *
 * @module
 */

/**
 * The shortest and longest password, in code points of its NFKC form (NIST SP 800-63B asks at
 * least 8).
 */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 256;
/**
 * The longest password as typed, in UTF-16 units, past which it is refused before it is
 * normalised or walked. Normalising composes, and a Greek letter with three accents typed
 * decomposed is four units for one code point: four units a character is room for however a
 * password the length limit accepts is typed. Internal: the policy and the login share it.
 */
export const MAX_PASSWORD_INPUT = 4 * MAX_PASSWORD_LENGTH;
/** The longest username. */
export const MAX_USERNAME_LENGTH = 64;
/** The most roles a user has. */
export const MAX_ROLES = 16;

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
const ROLE = /^[a-z][a-z0-9_-]{0,31}$/;

function policy(message: string): RevocableError {
  return new RevocableError('ERR_PASSWORD_POLICY', message);
}

/**
 * A password the server accepts, judged in the form the server stores (its NFKC form, see
 * `normalizePassword`): 8 to 256 characters (code points, so an emoji counts once), without
 * control characters (C0, DEL, C1: what a paste or a terminal slips in unseen, and what no
 * keyboard types on purpose). The text as typed must be well-formed (no lone surrogate: text with
 * no UTF-8 form, which the hash would take as U+FFFD, so two passwords would be one), at most
 * 1024 UTF-16 units, at least 8 code points, and without code points Unicode does not assign.
 * Anything else throws `ERR_PASSWORD_POLICY`.
 *
 * @example
 * ```ts
 * checkPassword('correct horse battery staple'); // passes
 * checkPassword('short'); // throws ERR_PASSWORD_POLICY
 * ```
 */
export function checkPassword(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw policy('The password must be a string.');
  // Bounds on units first, so that a huge string is refused before it is normalised or walked.
  if (value.length > MAX_PASSWORD_INPUT) throw tooLong();
  // On the typed text: what NFKC does with a lone surrogate is no part of its definition (V8
  // keeps it), so the check does not rely on it.
  if (!isWellFormedText(value)) {
    throw policy('The password is not well-formed text (it has a lone surrogate).');
  }
  // A code point Unicode does not assign yet may gain a compatibility decomposition in a later
  // version (RFC 8265's OpaqueString refuses them too): a Node.js upgrade would then change the
  // password's NFKC form, and its hash would match neither form its user types.
  if (UNASSIGNED.test(value)) {
    throw policy('The password has a character that Unicode does not assign.');
  }
  // The stored secret is the normalised one, so that is what the limits measure: typed, "e" and
  // U+0301 are two code points and "ﬁ" one; stored, they are one ("é") and two ("fi"). The
  // shortest length holds for the typed text too: NFKC turns one U+FDFA into 18 characters, which
  // no one would call an 18-character password.
  const stored = normalizePassword(value);
  const length = [...stored].length;
  if (length < MIN_PASSWORD_LENGTH || [...value].length < MIN_PASSWORD_LENGTH) {
    throw policy(`The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`);
  }
  if (length > MAX_PASSWORD_LENGTH) throw tooLong();
  if (hasControlCharacter(stored)) throw policy('The password must not have control characters.');
}

// General category Cn: unassigned code points and the noncharacters (U+FFFE, U+FFFF...).
const UNASSIGNED = /\p{Cn}/u;

function tooLong(): RevocableError {
  return policy(`The password must be at most ${MAX_PASSWORD_LENGTH} characters long.`);
}

/**
 * A username the server accepts: 1 to 64 of `A-Z a-z 0-9 . _ @ -` (an e-mail address fits).
 * ASCII only, so that no two names look alike and lower-casing means one thing everywhere.
 * Anything else throws `ERR_USERNAME_INVALID`.
 *
 * @example
 * ```ts
 * checkUsername('alice@example.com'); // passes
 * checkUsername('al ice'); // throws ERR_USERNAME_INVALID
 * ```
 */
export function checkUsername(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !USERNAME.test(value)) {
    throw new RevocableError(
      'ERR_USERNAME_INVALID',
      `A username is 1 to ${MAX_USERNAME_LENGTH} characters among letters, digits and . _ - @.`,
    );
  }
}

/** Whether `value` is a username {@link checkUsername} accepts, without throwing. */
export function isUsername(value: unknown): value is string {
  return typeof value === 'string' && USERNAME.test(value);
}

/**
 * Roles the server accepts: an array of at most 16 distinct names, each a lowercase letter then
 * up to 31 lowercase letters, digits, `_` or `-`. Anything else throws `ERR_INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * checkRoles(['admin', 'support']); // passes
 * checkRoles(['Admin']); // throws ERR_INVALID_ARGUMENT
 * ```
 */
export function checkRoles(value: unknown): asserts value is readonly string[] {
  if (!Array.isArray(value) || value.length > MAX_ROLES) {
    throw invalidArgument(`roles must be an array of at most ${MAX_ROLES} role names.`);
  }
  for (const role of value) {
    if (typeof role !== 'string' || !ROLE.test(role)) {
      throw invalidArgument(
        'A role name is a lowercase letter followed by up to 31 lowercase letters, digits, _ or -.',
      );
    }
  }
  if (new Set(value).size !== value.length) throw invalidArgument('roles must not repeat a role.');
}
