import { RevocableError } from '../errors/revocable-error.js';
import type { RevocationRule } from '../errors/token-revoked-error.js';
import { MAX_IDENTIFIER_LENGTH } from '../jwt/claims.js';
import { hasControlCharacter, isWellFormedText } from '../lib/text.js';
import { isValidated, markValidated } from './internal/validated-events.js';

/** The version of the revocation event format this code reads and writes. */
export const REVOCATION_EVENT_VERSION = 1;

/** What an event revokes: one token, one session, a subject, every token, or one key. */
export type RevocationKind = RevocationRule;

/** The kinds, in the order the index checks them. */
export const REVOCATION_KINDS: readonly RevocationKind[] = [
  'global',
  'key',
  'token',
  'session',
  'subject',
];

/**
 * The longest `target` (a `jti`, `sid`, `sub` or `kid`), in UTF-16 code units: the longest
 * identifier a verifier accepts in a token, so that every token it accepts can be named.
 */
export const MAX_TARGET_LENGTH = MAX_IDENTIFIER_LENGTH;
/** The longest event `id`. */
export const MAX_EVENT_ID_LENGTH = 128;
/** The latest time an event may carry: 3000-01-01T00:00:00Z, in epoch seconds. */
export const MAX_EVENT_TIME = 32_503_680_000;

interface EventBase {
  /** The format version, {@link REVOCATION_EVENT_VERSION}. */
  readonly v: 1;
  /** Unique per event (128 random bits, base64url, when made here); for logs and de-duplication. */
  readonly id: string;
  /** When the revocation happened, epoch seconds; for `subject` and `global`, the cut-off. */
  readonly at: number;
  /** When the entry can be forgotten, epoch seconds: no token it affects can be valid after it. */
  readonly until: number;
}

/** Revokes one access token by its `jti`, until the token's own `exp`. */
export interface TokenRevocationEvent extends EventBase {
  readonly kind: 'token';
  readonly target: string;
}
/** Revokes every token of one session by its `sid` (logout of one device, refresh reuse). */
export interface SessionRevocationEvent extends EventBase {
  readonly kind: 'session';
  readonly target: string;
}
/**
 * Cuts off every token of one subject (`sub`) issued before it: logout everywhere, password change,
 * ban, claims change. `gen` is the subject's new generation; tokens carrying an older `sgen` claim
 * are dead whatever the clocks say (see docs/revocation.md).
 */
export interface SubjectRevocationEvent extends EventBase {
  readonly kind: 'subject';
  readonly target: string;
  readonly gen?: number;
}
/** Cuts off every token issued before `at` (an emergency). Its `target` is always `''`. */
export interface GlobalRevocationEvent extends EventBase {
  readonly kind: 'global';
  readonly target: '';
}
/** Revokes every token signed by one key, by its `kid`. */
export interface KeyRevocationEvent extends EventBase {
  readonly kind: 'key';
  readonly target: string;
}

/**
 * One revocation, as stored in the log and sent on the bus: a versioned JSON object. Events merge
 * by set union (token, session, key) and by maximum (subject and global cut-offs), so applying
 * them is idempotent and order does not matter.
 *
 * @example
 * ```ts
 * const event: RevocationEvent = {
 *   v: 1, id: 'pVv1wX3p2m3bLmJ8c1E0Jg', kind: 'session', target: 'Wm9vS2VlcGVyU2Vzc2lvbg',
 *   at: 1900000000, until: 1900000605,
 * };
 * ```
 */
export type RevocationEvent =
  | TokenRevocationEvent
  | SessionRevocationEvent
  | SubjectRevocationEvent
  | GlobalRevocationEvent
  | KeyRevocationEvent;

// The checked members before they are frozen as one of the kinds.
interface WireEvent {
  v: 1;
  id: string;
  kind: RevocationKind;
  target: string;
  at: number;
  until: number;
  gen?: number;
}

const MEMBERS = new Set(['v', 'id', 'kind', 'target', 'at', 'until', 'gen']);

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_REVOCATION_EVENT_INVALID', `Revocation event: ${message}`);
}

function isKind(value: unknown): value is RevocationKind {
  return (REVOCATION_KINDS as readonly unknown[]).includes(value);
}

function time(value: unknown, member: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_EVENT_TIME) {
    throw invalid(`${member} must be epoch seconds between 0 and the year 3000.`);
  }
  return value;
}

// An identifier must survive every encoding it meets (JSON, UTF-8 in the snapshot and the stores)
// as exactly itself: a lone surrogate has no UTF-8 form and comes back as U+FFFD, so a revocation
// of `user\ud800` would be restored as one of `user\ufffd` and the real target would be let through.
// The same rule as the stores' ids: a target with a lone surrogate or a control character could
// not be stored and read back as itself.
function identifier(value: string, member: string): string {
  if (!isWellFormedText(value)) {
    throw invalid(`${member} must be well-formed UTF-16 (it has a lone surrogate).`);
  }
  if (hasControlCharacter(value)) throw invalid(`${member} must not contain control characters.`);
  return value;
}

/**
 * Checks the members of one event and returns it frozen and recorded as checked. Every event this
 * module hands out is made here, by the parser and by the `create*Revocation` helpers alike.
 */
export function buildRevocationEvent(
  kind: unknown,
  id: unknown,
  target: unknown,
  at: unknown,
  until: unknown,
  gen: unknown,
): RevocationEvent {
  if (!isKind(kind)) throw invalid('kind must be token, session, subject, global or key.');
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_EVENT_ID_LENGTH) {
    throw invalid(`id must be a non-empty string of at most ${MAX_EVENT_ID_LENGTH} characters.`);
  }
  identifier(id, 'id');
  if (typeof target !== 'string') throw invalid('target must be a string.');
  if (kind === 'global') {
    if (target !== '') throw invalid("target must be '' for a global revocation.");
  } else {
    if (target.length === 0 || target.length > MAX_TARGET_LENGTH) {
      throw invalid(
        `target must be a non-empty string of at most ${MAX_TARGET_LENGTH} characters.`,
      );
    }
    identifier(target, 'target');
  }
  const checkedAt = time(at, 'at');
  const checkedUntil = time(until, 'until');
  if (checkedUntil < checkedAt) throw invalid('until must not be before at.');
  const event: WireEvent = {
    v: REVOCATION_EVENT_VERSION,
    id,
    kind,
    target,
    at: checkedAt,
    until: checkedUntil,
  };
  if (gen !== undefined) {
    if (kind !== 'subject') throw invalid('gen is only for subject revocations.');
    if (typeof gen !== 'number' || !Number.isSafeInteger(gen) || gen < 0) {
      throw invalid('gen must be a non-negative safe integer.');
    }
    event.gen = gen;
  }
  return Object.freeze(markValidated(event as RevocationEvent));
}

/**
 * Checks an untrusted value (parsed JSON from the bus or the log) and returns it as a
 * {@link RevocationEvent}: a new, frozen object; the input is only read, each member once. Refuses
 * with `ERR_REVOCATION_EVENT_INVALID` anything but a version-1 event with exactly the members of
 * its kind: an unknown kind or version, an unknown member (a misspelt `gen` must not silently
 * weaken a revocation), a wrong type, a time that is not finite, negative or past the year 3000,
 * `until` before `at`, an empty or oversized (over 256 characters) target, an `id` or target that
 * is not well-formed UTF-16 (a lone surrogate), a non-empty target
 * for `global`, `gen` that is not a non-negative safe integer or on another kind than `subject`.
 * An event this module made (or already parsed) is frozen and known to be valid: it is returned
 * as it is.
 *
 * @example
 * ```ts
 * const event = parseRevocationEvent(JSON.parse(message));
 * index.apply(event);
 * ```
 */
export function parseRevocationEvent(value: unknown): RevocationEvent {
  if (isValidated(value)) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('must be a JSON object.');
  }
  for (const member of Object.keys(value)) {
    if (!MEMBERS.has(member)) throw invalid('has a member that is not part of version 1.');
  }
  const record = value as Record<string, unknown>;
  const own = (member: string): unknown =>
    Object.hasOwn(record, member) ? record[member] : undefined;
  if (own('v') !== REVOCATION_EVENT_VERSION) throw invalid('v must be 1 (an unknown version).');
  const kind = own('kind');
  const id = own('id');
  const target = own('target');
  const at = own('at');
  const until = own('until');
  return buildRevocationEvent(kind, id, target, at, until, own('gen'));
}

/**
 * Parses the JSON text of one event (a bus message, a log row). Malformed JSON is
 * `ERR_REVOCATION_EVENT_INVALID` too, with the `SyntaxError` as `cause`.
 *
 * @example
 * ```ts
 * subscriber.on('message', (_channel, text) => index.apply(parseRevocationEventJson(text)));
 * ```
 */
export function parseRevocationEventJson(text: string): RevocationEvent {
  if (typeof text !== 'string') throw invalid('the JSON text must be a string.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new RevocableError('ERR_REVOCATION_EVENT_INVALID', 'Revocation event: not JSON.', {
      cause,
    });
  }
  return parseRevocationEvent(value);
}

/**
 * The JSON text of an event, members in a fixed order (`v id kind target at until gen`).
 *
 * @example
 * ```ts
 * await redis.publish('revocations', serializeRevocationEvent(event));
 * ```
 */
export function serializeRevocationEvent(event: RevocationEvent): string {
  // Every event is built with its members in that order, so the parsed one serializes as it is.
  return JSON.stringify(parseRevocationEvent(event));
}
