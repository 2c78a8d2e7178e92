import { randomFillSync } from 'node:crypto';
import { RevocableError } from '../errors/revocable-error.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import {
  buildRevocationEvent,
  type GlobalRevocationEvent,
  type KeyRevocationEvent,
  MAX_EVENT_TIME,
  type parseRevocationEvent,
  type RevocationEvent,
  type SessionRevocationEvent,
  type SubjectRevocationEvent,
  type TokenRevocationEvent,
} from './events.js';

/** The clock skew assumed between issuers and verifiers when none is given, in seconds. */
export const DEFAULT_CLOCK_SKEW = 5;

/**
 * How long revocations must be remembered: the longest access-token lifetime and the clock skew.
 * Give the same values to the event helpers and to the index.
 *
 * @example
 * ```ts
 * const timing: RevocationTiming = { maxAccessTokenLifetime: '10m', clockSkew: 5 };
 * const index = createRevocationIndex(timing);
 * index.apply(createSessionRevocation({ sid }, timing));
 * ```
 */
export interface RevocationTiming {
  /** The longest lifetime of any access token: seconds, or a string like `10m`. */
  maxAccessTokenLifetime: number | string;
  /** The largest clock difference between an issuer and a verifier, in seconds (default 5). */
  clockSkew?: number | string;
  /** The clock, in epoch seconds (default: the system clock). */
  now?: Clock;
}

/** Members every helper accepts: the time of the revocation and the event id. */
export interface RevocationInputBase {
  /** When the revocation happens, epoch seconds (default: now). The cut-off for subject and global. */
  at?: number;
  /** The event id (default: 128 random bits, base64url). */
  id?: string;
}

/** What {@link createRevocationEvent} needs for each kind. */
export type RevocationInput = RevocationInputBase &
  (
    | { kind: 'token'; target: string; exp: number }
    | { kind: 'session' | 'key'; target: string }
    | { kind: 'subject'; target: string; gen?: number }
    | { kind: 'global' }
  );

// Event ids come from a pool of random bytes filled in large blocks: one `randomBytes(16)` call
// per event (a Buffer allocated, a trip into the crypto binding) was most of what making an event
// cost. The ids are not secrets, only unique; each pool byte goes into one id and is never reused.
const ID_BYTES = 16;
const POOL_BYTES = ID_BYTES * 1024;
const idPool = Buffer.allocUnsafe(POOL_BYTES);
let idOffset = POOL_BYTES;

/**
 * A new event id: 128 random bits, base64url (22 characters).
 *
 * @example
 * ```ts
 * newRevocationEventId(); // 'pVv1wX3p2m3bLmJ8c1E0Jg'
 * ```
 */
export function newRevocationEventId(): string {
  if (idOffset === POOL_BYTES) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const start = idOffset;
  idOffset = start + ID_BYTES;
  return idPool.toString('base64url', start, start + ID_BYTES);
}

function clockOf(now: Clock | undefined): Clock {
  const clock = now ?? systemClock;
  if (typeof clock !== 'function') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'now must be a function returning seconds.');
  }
  return clock;
}

function inputOf<T>(input: T): T {
  if (typeof input !== 'object' || input === null) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'A revocation needs an input object.');
  }
  return input;
}

// A producer passes the same timing with every event, often with string durations ('10m'): the
// last string read for each member is remembered, so the pattern runs once, not once an event.
// Keyed by the string itself, not the timing object, which its owner may change between calls.
class DurationMemo {
  #text: string | null = null;
  #seconds = 0;
  constructor(readonly what: string) {}
  read(value: unknown): number {
    if (typeof value === 'number') return parseDuration(value, this.what);
    if (value === this.#text) return this.#seconds;
    const seconds = parseDuration(value, this.what);
    this.#text = value as string;
    this.#seconds = seconds;
    return seconds;
  }
}
const lifetimeMemo = new DurationMemo('maxAccessTokenLifetime');
const skewMemo = new DurationMemo('clockSkew');

// The `until` of a cut-off made here: every token the revocation could affect has expired by then.
function cutoffUntil(at: number, timing: RevocationTiming): number {
  if (typeof timing !== 'object' || timing === null) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'A revocation needs its timing.');
  }
  return (
    at +
    lifetimeMemo.read(timing.maxAccessTokenLifetime) +
    skewMemo.read(timing.clockSkew ?? DEFAULT_CLOCK_SKEW)
  );
}

function tokenEvent(target: unknown, exp: unknown, at: number, id: string): TokenRevocationEvent {
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw new RevocableError(
      'ERR_REVOCATION_EVENT_INVALID',
      "Revocation event: a token revocation needs the token's exp.",
    );
  }
  // A token that has already expired needs no entry; the event is still well-formed.
  const until = exp > at ? exp : at;
  return buildRevocationEvent('token', id, target, at, until, undefined) as TokenRevocationEvent;
}

// A cut-off (session, subject, global) lives until every token issued before it has expired; the
// kinds differ only in their target and, for a subject, the generation.
function cutoffEvent(
  kind: unknown,
  target: unknown,
  gen: unknown,
  at: number,
  id: string,
  timing: RevocationTiming,
): RevocationEvent {
  return buildRevocationEvent(kind, id, target, at, cutoffUntil(at, timing), gen);
}

/**
 * Makes one event of any kind. `until` is the token's `exp` for `token` (never before `at`),
 * {@link MAX_EVENT_TIME} for `key` (a key revocation lasts as long as the key could verify
 * anywhere, see {@link createKeyRevocation}), and `at + maxAccessTokenLifetime + clockSkew`
 * otherwise: by then every token the revocation could affect has expired. The result passes
 * {@link parseRevocationEvent}, or this throws its error.
 *
 * @example
 * ```ts
 * const timing = { maxAccessTokenLifetime: '10m' };
 * const event = createRevocationEvent({ kind: 'subject', target: 'user-42', gen: 7 }, timing);
 * ```
 */
export function createRevocationEvent(
  input: RevocationInput,
  timing: RevocationTiming,
): RevocationEvent {
  inputOf(input);
  const at = input.at ?? clockOf(timing?.now)();
  const id = input.id ?? newRevocationEventId();
  switch (input.kind) {
    case 'token':
      return tokenEvent(input.target, input.exp, at, id);
    case 'key':
      return buildRevocationEvent('key', id, input.target, at, MAX_EVENT_TIME, undefined);
    case 'global':
      return cutoffEvent('global', '', undefined, at, id, timing);
    case 'subject':
      return cutoffEvent('subject', input.target, input.gen, at, id, timing);
    default: {
      const { kind, target } = input as { kind: unknown; target?: unknown };
      return cutoffEvent(kind, target, undefined, at, id, timing);
    }
  }
}

/**
 * Revokes one access token until its `exp`.
 *
 * @example
 * ```ts
 * index.apply(createTokenRevocation({ jti: claims.jti, exp: claims.exp }));
 * ```
 */
export function createTokenRevocation(
  input: RevocationInputBase & { jti: string; exp: number },
  options: { now?: Clock } = {},
): TokenRevocationEvent {
  inputOf(input);
  const at = input.at ?? clockOf(options?.now)();
  return tokenEvent(input.jti, input.exp, at, input.id ?? newRevocationEventId());
}

/**
 * Revokes every token of one session (its `sid`): logout on one device, refresh-token reuse.
 *
 * @example
 * ```ts
 * index.apply(createSessionRevocation({ sid }, { maxAccessTokenLifetime: '10m' }));
 * ```
 */
export function createSessionRevocation(
  input: RevocationInputBase & { sid: string },
  timing: RevocationTiming,
): SessionRevocationEvent {
  inputOf(input);
  const at = input.at ?? clockOf(timing?.now)();
  const id = input.id ?? newRevocationEventId();
  return cutoffEvent('session', input.sid, undefined, at, id, timing) as SessionRevocationEvent;
}

/**
 * Cuts off every token of one subject issued before now (or `at`). Pass `gen`, the subject's new
 * generation, whenever the tokens carry `sgen`: the cut-off is then exact whatever the clocks.
 *
 * @example
 * ```ts
 * const gen = await store.bumpGeneration(sub);
 * index.apply(createSubjectRevocation({ sub, gen }, { maxAccessTokenLifetime: '10m' }));
 * ```
 */
export function createSubjectRevocation(
  input: RevocationInputBase & { sub: string; gen?: number },
  timing: RevocationTiming,
): SubjectRevocationEvent {
  inputOf(input);
  const at = input.at ?? clockOf(timing?.now)();
  const id = input.id ?? newRevocationEventId();
  return cutoffEvent('subject', input.sub, input.gen, at, id, timing) as SubjectRevocationEvent;
}

/**
 * Cuts off every token issued before now (or `at`): the emergency lever.
 *
 * @example
 * ```ts
 * index.apply(createGlobalRevocation({}, { maxAccessTokenLifetime: '10m' }));
 * ```
 */
export function createGlobalRevocation(
  input: RevocationInputBase,
  timing: RevocationTiming,
): GlobalRevocationEvent {
  inputOf(input);
  const at = input.at ?? clockOf(timing?.now)();
  const id = input.id ?? newRevocationEventId();
  return cutoffEvent('global', '', undefined, at, id, timing) as GlobalRevocationEvent;
}

/**
 * Revokes every token signed by one key, for good. Its `until` is {@link MAX_EVENT_TIME}: a key
 * can verify tokens in any process whose ring still holds it, for as long as that ring does, so the
 * revocation must outlive every lifetime. Stores keep an event in their log until its `until`,
 * and indexes keep key entries whatever their `until` (they are few). {@link bindKeyRing} carries
 * the retirement into each process's ring as well.
 *
 * @example
 * ```ts
 * ring.retire(kid);
 * index.apply(createKeyRevocation({ kid }, { maxAccessTokenLifetime: '10m' }));
 * ```
 */
export function createKeyRevocation(
  input: RevocationInputBase & { kid: string },
  timing: RevocationTiming,
): KeyRevocationEvent {
  inputOf(input);
  const at = input.at ?? clockOf(timing?.now)();
  const id = input.id ?? newRevocationEventId();
  return buildRevocationEvent(
    'key',
    id,
    input.kid,
    at,
    MAX_EVENT_TIME,
    undefined,
  ) as KeyRevocationEvent;
}
