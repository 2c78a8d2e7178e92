import { randomBytes } from 'node:crypto';
import { RevocableError } from '../errors/revocable-error.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import {
  type GlobalRevocationEvent,
  type KeyRevocationEvent,
  parseRevocationEvent,
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

/**
 * A new event id: 128 random bits, base64url (22 characters).
 *
 * @example
 * ```ts
 * newRevocationEventId(); // 'pVv1wX3p2m3bLmJ8c1E0Jg'
 * ```
 */
export function newRevocationEventId(): string {
  return randomBytes(16).toString('base64url');
}

function clockOf(now: Clock | undefined): Clock {
  const clock = now ?? systemClock;
  if (typeof clock !== 'function') {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'now must be a function returning seconds.');
  }
  return clock;
}

/**
 * Makes one event of any kind. `until` is the token's `exp` for `token` (never before `at`), and
 * `at + maxAccessTokenLifetime + clockSkew` otherwise: by then every token the revocation could
 * affect has expired. The result passes {@link parseRevocationEvent}, or this throws its error.
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
  if (typeof input !== 'object' || input === null) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'A revocation needs an input object.');
  }
  const at = input.at ?? clockOf(timing?.now)();
  const id = input.id ?? newRevocationEventId();
  if (input.kind === 'token') {
    if (typeof input.exp !== 'number' || !Number.isFinite(input.exp)) {
      throw new RevocableError(
        'ERR_REVOCATION_EVENT_INVALID',
        "Revocation event: a token revocation needs the token's exp.",
      );
    }
    // A token that has already expired needs no entry; the event is still well-formed.
    const until = Math.max(input.exp, at);
    return parseRevocationEvent({ v: 1, id, kind: 'token', target: input.target, at, until });
  }
  const lifetime = parseDuration(timing?.maxAccessTokenLifetime, 'maxAccessTokenLifetime');
  const skew = parseDuration(timing.clockSkew ?? DEFAULT_CLOCK_SKEW, 'clockSkew');
  const until = at + lifetime + skew;
  if (input.kind === 'global') {
    return parseRevocationEvent({ v: 1, id, kind: 'global', target: '', at, until });
  }
  const event: Record<string, unknown> = {
    v: 1,
    id,
    kind: input.kind,
    target: input.target,
    at,
    until,
  };
  if (input.kind === 'subject' && input.gen !== undefined) event.gen = input.gen;
  return parseRevocationEvent(event);
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
  const { jti, exp, ...base } = input;
  return createRevocationEvent(
    { ...base, kind: 'token', target: jti, exp },
    { maxAccessTokenLifetime: 0, ...options },
  ) as TokenRevocationEvent;
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
  const { sid, ...base } = input;
  return createRevocationEvent(
    { ...base, kind: 'session', target: sid },
    timing,
  ) as SessionRevocationEvent;
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
  const { sub, ...rest } = input;
  return createRevocationEvent(
    { ...rest, kind: 'subject', target: sub },
    timing,
  ) as SubjectRevocationEvent;
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
  return createRevocationEvent({ ...input, kind: 'global' }, timing) as GlobalRevocationEvent;
}

/**
 * Revokes every token signed by one key. Retire the key in the ring as well: the index forgets the
 * entry once every token the key signed before `at` has expired.
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
  const { kid, ...base } = input;
  return createRevocationEvent({ ...base, kind: 'key', target: kid }, timing) as KeyRevocationEvent;
}
