import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type ErrorCode, isRevocableError } from '../../../src/errors/index.js';
import {
  createGlobalRevocation,
  createKeyRevocation,
  createSessionRevocation,
  createSubjectRevocation,
  createTokenRevocation,
  type GlobalRevocationEvent,
  type KeyRevocationEvent,
  type SessionRevocationEvent,
  type SubjectRevocationEvent,
  type TokenRevocationEvent,
} from '../../../src/revocation/index.js';
import type {
  CreateOutcome,
  RefreshRotation,
  RotateOutcome,
  SessionRecord,
  Store,
} from '../../../src/stores/index.js';

/** A store under test and how to dispose of it. */
export interface StoreSetup {
  store: Store;
  teardown(): Promise<void>;
}

/**
 * What each part of the contract is given: the store shared by the suite (set once the suite's
 * `before` hook has run, so read it inside tests only) and a way to make a store of its own.
 */
export interface ContractContext {
  store(): Store;
  /** A new, empty store (for exact log positions and prune counts); tear it down after use. */
  fresh(): Promise<StoreSetup>;
}

/** An instant in 2030 with a fraction that a float32 or a fixed 3-decimal column would lose. */
export const T0 = 1_900_000_000.125;
/** A time no binary fraction represents briefly: it catches stores that round or truncate. */
export const T_PRECISE = 1_900_000_000.1234567;
/** Event timing for the helpers below: 10-minute tokens, 5 seconds of skew. */
export const TIMING = { maxAccessTokenLifetime: 600, clockSkew: 5 };

/** A fresh random id (22 base64url characters, like a sid), so stores sharing a database never collide. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/** A fresh random subject id. */
export function randomSub(): string {
  return `sub-${randomId()}`;
}

/** Claims that exercise JSON: nesting, unicode (astral too), numbers, empty containers, odd keys. */
export const RICH_CLAIMS: Readonly<Record<string, unknown>> = {
  role: 'player',
  nested: { list: [1, 'two', null, { deep: [true, false] }], flag: true, empty: {} },
  text: 'ünï 漢字 🎮 "quoted" \\ back\nline',
  numbers: [0, -5, 0.1, 1.5e-7, 2 ** 53 - 1, -1234.5678],
  none: null,
  emptyList: [],
  emptyText: '',
  'key.with.dots': 1,
  $dollar: 'x',
  'with space': 'y',
};

/** A valid session record with fresh ids; `overrides` replace any field. */
export function makeSession(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    sid: randomId(),
    sub: randomSub(),
    createdAt: T0,
    lastSeenAt: T0,
    idleExpiresAt: T0 + 3600.5,
    absoluteExpiresAt: T0 + 86400.25,
    authTime: Math.floor(T0),
    device: 'Pixel 8',
    ip: '2001:db8::1',
    userAgent: 'Mozilla/5.0 (Ünïcødé; 漢字)',
    claims: { role: 'player', nested: { list: [1, 'two', null], flag: true }, text: 'ünï 漢字 🎮' },
    refreshHash: randomId(),
    previousHash: null,
    rotatedAt: null,
    spentHashes: [],
    revokedAt: null,
    revokedReason: null,
    ...overrides,
  };
}

/** A valid rotation of `from`'s refresh chain at `at`, as the session manager would compute it. */
export function makeRotation(from: SessionRecord, at = T0 + 10): RefreshRotation {
  return {
    refreshHash: randomId(),
    previousHash: from.refreshHash,
    rotatedAt: at,
    spentHashes: from.previousHash === null ? [] : [from.previousHash, ...from.spentHashes],
    lastSeenAt: at,
    idleExpiresAt: at + 3600,
    ip: null,
    userAgent: null,
  };
}

/** Creates a session under its subject's current generation, as the session manager does. */
export async function createIn(store: Store, session: SessionRecord): Promise<CreateOutcome> {
  const { gen } = await store.getSubject(session.sub);
  return store.createSession(session, gen);
}

/** Rotates a session's chain under its subject's current generation (0 for an unknown session). */
export async function rotateIn(
  store: Store,
  sid: string,
  expectedHash: string,
  next: RefreshRotation,
): Promise<RotateOutcome> {
  const session = await store.getSession(sid);
  return store.rotateRefresh(sid, expectedHash, session?.gen ?? 0, next);
}

/** A session revocation of `sid` at `at` (until `at` + 605). */
export function makeSessionEvent(sid: string, at = T0): SessionRevocationEvent {
  return createSessionRevocation({ sid, at }, TIMING);
}

/** A subject cut-off of `sub` at `at`, with a generation when given. */
export function makeSubjectEvent(sub: string, at = T0, gen?: number): SubjectRevocationEvent {
  return createSubjectRevocation(gen === undefined ? { sub, at } : { sub, at, gen }, TIMING);
}

/** A token revocation at `at` whose `until` is exactly `until` (the token's exp). */
export function makeTokenEvent(until: number, at = Math.min(T0, until)): TokenRevocationEvent {
  return createTokenRevocation({ jti: randomId(), exp: until, at }, {});
}

/** A global cut-off at `at`. */
export function makeGlobalEvent(at = T0): GlobalRevocationEvent {
  return createGlobalRevocation({ at }, TIMING);
}

/** A key revocation of a random kid at `at`. */
export function makeKeyEvent(at = T0): KeyRevocationEvent {
  return createKeyRevocation({ kid: `kid-${randomId()}`, at }, TIMING);
}

/** An `assert.rejects` / `assert.throws` predicate: a RevocableError with this code. */
export function expectCode(code: ErrorCode) {
  return (error: unknown): boolean => {
    assert.ok(isRevocableError(error), `expected a RevocableError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

/** Runs `body` on a new, empty store from `context.fresh()`, and tears it down whatever happens. */
export async function withFreshStore(
  context: ContractContext,
  body: (store: Store) => Promise<void>,
): Promise<void> {
  const setup = await context.fresh();
  try {
    await body(setup.store);
  } finally {
    await setup.teardown();
  }
}
