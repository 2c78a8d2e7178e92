import { RevocableError } from '../../errors/revocable-error.js';
import { hasControlCharacter, isWellFormedText } from '../../lib/text.js';
import {
  MAX_EVENT_TIME,
  MAX_TARGET_LENGTH,
  parseRevocationEvent,
  type RevocationEvent,
  serializeRevocationEvent,
} from '../../revocation/events.js';

// Checks of the scalar arguments of the Store methods, and of event lists. Messages name the
// argument, never its value: a value may be a refresh-token hash.

/** The longest sid or sub: as long as a revocation event's target, so every one can be revoked. */
export const MAX_ID_LENGTH = MAX_TARGET_LENGTH;
/** The longest refresh-token hash (a SHA-256 base64url hash is 43 characters). */
export const MAX_HASH_LENGTH = 512;
/** The longest device, ip, user agent or revocation reason. */
export const MAX_TEXT_LENGTH = 512;
/** The most spent hashes a session or rotation carries (the session manager's own bound). */
export const MAX_SPENT_HASHES = 1000;

/**
 * The error of every refused argument: `ERR_INVALID_ARGUMENT`. Give it a message that names the
 * argument and never quotes its value.
 *
 * @example
 * ```ts
 * if (typeof prefix !== 'string') throw invalidArgument('prefix must be a string.');
 * ```
 */
export function invalidArgument(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

// An id that is not well-formed UTF-16 has no exact UTF-8 form: a driver would store `user\ud800`
// as `user\ufffd`, and a ban of one would hit the other. Control characters have no place in an id.
function assertId(value: unknown, name: string): asserts value is string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > MAX_ID_LENGTH ||
    !isWellFormedText(value) ||
    hasControlCharacter(value)
  ) {
    throw invalidArgument(
      `${name} must be a non-empty, well-formed string of at most ${MAX_ID_LENGTH} characters, without control characters.`,
    );
  }
}

/**
 * A session id: a non-empty string of at most {@link MAX_ID_LENGTH} characters.
 *
 * @example
 * ```ts
 * assertSid(sid); // throws ERR_INVALID_ARGUMENT for 42, '' or undefined
 * ```
 */
export function assertSid(value: unknown, name = 'sid'): asserts value is string {
  assertId(value, name);
}

/**
 * A subject id: a non-empty string of at most {@link MAX_ID_LENGTH} characters.
 *
 * @example
 * ```ts
 * assertSub(sub);
 * ```
 */
export function assertSub(value: unknown, name = 'sub'): asserts value is string {
  assertId(value, name);
}

/**
 * A refresh-token hash: a non-empty string of at most {@link MAX_HASH_LENGTH} characters.
 *
 * @example
 * ```ts
 * assertHash(expectedHash, 'expectedHash');
 * ```
 */
export function assertHash(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_HASH_LENGTH) {
    throw invalidArgument(
      `${name} must be a non-empty string of at most ${MAX_HASH_LENGTH} characters.`,
    );
  }
}

/**
 * Why sessions are revoked (`logout`, `ban`, ...): a non-empty string of bounded length.
 *
 * @example
 * ```ts
 * assertReason(reason);
 * ```
 */
export function assertReason(value: unknown, name = 'reason'): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TEXT_LENGTH) {
    throw invalidArgument(
      `${name} must be a non-empty string of at most ${MAX_TEXT_LENGTH} characters.`,
    );
  }
}

/**
 * A point in time in epoch seconds, fractions allowed: finite, from 0 to the year 3000 (the bound
 * of revocation events, so no store needs more than a double to keep it exactly).
 *
 * @example
 * ```ts
 * assertEpochSeconds(now, 'now');
 * ```
 */
export function assertEpochSeconds(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_EVENT_TIME) {
    throw invalidArgument(`${name} must be epoch seconds between 0 and the year 3000.`);
  }
}

/**
 * A length of time in seconds (a retention): finite and not negative.
 *
 * @example
 * ```ts
 * assertDurationSeconds(retention, 'retention');
 * ```
 */
export function assertDurationSeconds(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidArgument(`${name} must be a finite, non-negative number of seconds.`);
  }
}

/**
 * A subject generation, as `createSession` and `rotateRefresh` expect it: a non-negative safe
 * integer.
 *
 * @example
 * ```ts
 * assertGeneration(expectedGen, 'expectedGen');
 * ```
 */
export function assertGeneration(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${name} must be a non-negative integer (a subject generation).`);
  }
}

/**
 * A log position to read after: a non-negative safe integer (0 reads from the start).
 *
 * @example
 * ```ts
 * assertPosition(after, 'after');
 * ```
 */
export function assertPosition(value: unknown, name = 'after'): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${name} must be a non-negative integer.`);
  }
}

/**
 * How many events to read at most: a positive safe integer.
 *
 * @example
 * ```ts
 * assertLimit(limit);
 * ```
 */
export function assertLimit(value: unknown, name = 'limit'): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalidArgument(`${name} must be a positive integer.`);
  }
}

/**
 * A boolean, and nothing merely truthy: `'false'` must not ban anyone.
 *
 * @example
 * ```ts
 * assertBoolean(banned, 'banned');
 * ```
 */
export function assertBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgument(`${name} must be a boolean.`);
}

/**
 * A list of session ids (as `revokeSessions` takes them): an array of valid sids.
 *
 * @example
 * ```ts
 * assertSidList(sids);
 * ```
 */
export function assertSidList(value: unknown, name = 'sids'): asserts value is readonly string[] {
  if (!Array.isArray(value)) throw invalidArgument(`${name} must be an array of session ids.`);
  for (const sid of value) assertSid(sid, `each of ${name}`);
}

/**
 * Revocation events to append: an array (`ERR_INVALID_ARGUMENT` otherwise), each checked by
 * `parseRevocationEvent` (`ERR_REVOCATION_EVENT_INVALID`). Returns new frozen events, so a caller
 * changing its objects afterwards changes nothing stored. Check every event before writing any.
 *
 * @example
 * ```ts
 * const checked = parseEvents(events);
 * for (const event of checked) insert(event.id, event.until, serializeRevocationEvent(event));
 * ```
 */
export function parseEvents(value: unknown, name = 'events'): RevocationEvent[] {
  if (!Array.isArray(value)) throw invalidArgument(`${name} must be an array of events.`);
  const events = value.map((event: unknown) => parseRevocationEvent(event));
  const texts = new Map<string, string>();
  for (const event of events) {
    const text = serializeRevocationEvent(event);
    const seen = texts.get(event.id);
    if (seen !== undefined && seen !== text) throw eventConflict();
    texts.set(event.id, text);
  }
  return events;
}

/**
 * The error of an append that names an event id the log holds with other contents:
 * `ERR_STORE_EVENT_CONFLICT`. Silently keeping either version would let one process believe a
 * revocation is in force that every other process reads differently.
 *
 * @example
 * ```ts
 * if (stored !== undefined && stored !== serializeRevocationEvent(event)) throw eventConflict();
 * ```
 */
export function eventConflict(): RevocableError {
  return new RevocableError(
    'ERR_STORE_EVENT_CONFLICT',
    'An event with this id is in the revocation log already, with other contents.',
  );
}
