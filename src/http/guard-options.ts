import { RevocableError } from '../errors/revocable-error.js';
import type { Verifier } from '../jwt/verify.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import { assertKnownOptions, type OptionNames } from '../lib/known-options.js';
import { DEFAULT_CLOCK_SKEW } from '../revocation/create-event.js';
import {
  createRevocableVerifier,
  REVOCABLE_VERIFIER_OPTION_NAMES,
} from '../revocation/verifier.js';
import { cookieNames, isCookieName } from './cookies.js';
import { ROUTE_REQUIREMENT_NAMES } from './route.js';
import { createStaleLogReader } from './stale-log.js';
import { warnIfUnboundedStaleness } from './staleness-warning.js';
import type {
  GuardStalePolicy,
  SessionReader,
  TokenGuardBaseOptions,
  TokenGuardKeyOptions,
  TokenGuardOptions,
} from './types.js';

/** The options of a guard, checked, with their defaults. @internal */
export interface ResolvedGuardOptions {
  readonly verifier: Verifier;
  /** The verifier of the `'check-store'` policy, or null under `'fail-closed'`. */
  readonly staleVerifier: Verifier | null;
  /**
   * Whether the guard made the verifiers (from keys and an index): then a token that verifies is
   * known to be a compact JWS, base64url and dots only, which the bearer fast path relies on.
   */
  readonly ownVerifier: boolean;
  readonly accessCookie: string | null;
  readonly csrfCookie: string | null;
  readonly fingerprintCookie: string;
  readonly store: SessionReader | null;
  /** Seconds a request waits on the store. */
  readonly storeTimeout: number;
  readonly refreshKeys: (() => Promise<boolean>) | null;
  /**
   * Whether the index holds a key's revocation (null with a verifier of the caller's own): a
   * token of a retired key the ring has since dropped is refused at once, with no reload.
   */
  readonly keyRevoked: ((kid: string) => boolean) | null;
  /**
   * Seconds a token's `auth_time` may be ahead of its `iat` on a `maxAge` route: the index's
   * clock skew, or 5 with a verifier of the caller's own.
   */
  readonly clockSkew: number;
  /** Under `'check-store'` with a follower: reads the log into the index while it is stale. */
  readonly readStaleLog: (() => Promise<void>) | null;
  readonly now: Clock;
}

// Seconds a request waits on the store by default, and at most (setTimeout's range is 24 days).
const DEFAULT_STORE_TIMEOUT = 5;
const MAX_STORE_TIMEOUT = 86_400;

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

const BASE_OPTION_NAMES: OptionNames<TokenGuardBaseOptions> = {
  cookie: true,
  csrfCookie: true,
  fingerprintCookie: true,
  onStale: true,
  store: true,
  storeTimeout: true,
  refreshKeys: true,
  now: true,
};

// With a verifier of the caller's own, the options of one the guard would make (issuer, audience)
// would be ignored, so they are refused; keys, index and follower get a message of their own below.
const VERIFIER_FORM_NAMES = Object.freeze({
  ...BASE_OPTION_NAMES,
  verifier: true,
  staleVerifier: true,
  follower: true,
  keys: true,
  index: true,
});

const KEY_FORM_NAMES = Object.freeze({
  ...BASE_OPTION_NAMES,
  ...REVOCABLE_VERIFIER_OPTION_NAMES,
  follower: true,
  staleVerifier: true,
});

function checkOptionNames(options: TokenGuardOptions): void {
  // What belongs to a route, given to the guard by mistake, would leave the route open.
  for (const name of Object.keys(ROUTE_REQUIREMENT_NAMES)) {
    if (Object.hasOwn(options, name)) {
      throw invalid(
        `${name} is a route requirement, not a guard option: give it to authenticate() or guard.route().`,
      );
    }
  }
  assertKnownOptions(
    options,
    options.verifier === undefined ? KEY_FORM_NAMES : VERIFIER_FORM_NAMES,
    'createTokenGuard',
  );
}

function cookieOption(value: unknown, name: string): string | null | undefined {
  if (value === undefined || value === false) return value === false ? null : undefined;
  if (!isCookieName(value)) throw invalid(`${name} must be a cookie name or false.`);
  return value;
}

// The auth server names its cookies alike (`<prefix>revocable-access`, `-csrf`, `-fgp`), so the
// others follow from the access cookie's name; another name falls back to the server's default.
function sibling(access: string | null, role: 'csrf' | 'fgp'): string {
  const defaults = cookieNames(true);
  if (access?.endsWith('-access')) return `${access.slice(0, -6)}${role}`;
  return role === 'csrf' ? defaults.csrf : defaults.fingerprint;
}

function isVerifier(value: unknown): value is Verifier {
  return typeof (value as Verifier | null)?.verify === 'function';
}

function verifiersFromKeys(
  options: TokenGuardKeyOptions,
  policy: GuardStalePolicy,
): { verifier: Verifier; staleVerifier: Verifier | null } {
  const {
    cookie: _cookie,
    csrfCookie: _csrf,
    fingerprintCookie: _fingerprint,
    onStale: _onStale,
    store: _store,
    storeTimeout: _storeTimeout,
    refreshKeys: _refreshKeys,
    verifier: _verifier,
    staleVerifier: _staleVerifier,
    follower: _follower,
    now,
    ...verifierOptions
  } = options;
  const clock = now === undefined ? {} : { now };
  const verifier = createRevocableVerifier({
    ...verifierOptions,
    ...clock,
    cache: verifierOptions.cache ?? true,
  });
  if (policy !== 'check-store') return { verifier, staleVerifier: null };
  // The same checks without the staleness bound: what the index knows is still refused. An
  // issuer or audience left out was warned about once already; null means the same, silently.
  const { maxStaleness: _bound, issuer, audience, ...rest } = verifierOptions;
  const staleVerifier = createRevocableVerifier({
    ...rest,
    ...clock,
    issuer: issuer ?? null,
    audience: audience ?? null,
    cache: rest.cache ?? true,
  });
  return { verifier, staleVerifier };
}

/** Checks the options of `createTokenGuard`; `ERR_INVALID_ARGUMENT` names the bad one. @internal */
export function resolveGuardOptions(options: TokenGuardOptions): ResolvedGuardOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalid('createTokenGuard needs options: a verifier, or keys and an index.');
  }
  checkOptionNames(options);
  const policy = options.onStale ?? 'fail-closed';
  if (policy !== 'fail-closed' && policy !== 'check-store') {
    throw invalid("onStale must be 'fail-closed' or 'check-store'.");
  }
  const store = options.store ?? null;
  if (store !== null && typeof store.getSession !== 'function') {
    throw invalid('store must be a Store (it needs getSession).');
  }
  if (policy === 'check-store' && store === null) {
    throw invalid("onStale: 'check-store' needs a store to ask.");
  }
  const storeTimeout =
    options.storeTimeout === undefined
      ? DEFAULT_STORE_TIMEOUT
      : parseDuration(options.storeTimeout, 'storeTimeout');
  if (!(storeTimeout > 0 && storeTimeout <= MAX_STORE_TIMEOUT)) {
    throw invalid('storeTimeout must be longer than zero and at most a day.');
  }
  const refreshKeys = options.refreshKeys ?? null;
  if (refreshKeys !== null && typeof refreshKeys !== 'function') {
    throw invalid('refreshKeys must be a function resolving to a boolean.');
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw invalid('now must be a function returning epoch seconds.');
  }
  const access = cookieOption(options.cookie, 'cookie');
  const accessCookie = access === undefined ? cookieNames(true).access : access;
  const csrf = cookieOption(options.csrfCookie, 'csrfCookie');
  const csrfCookie =
    accessCookie === null ? null : csrf === undefined ? sibling(accessCookie, 'csrf') : csrf;
  const fingerprint = options.fingerprintCookie;
  if (fingerprint !== undefined && !isCookieName(fingerprint)) {
    throw invalid('fingerprintCookie must be a cookie name.');
  }
  const fingerprintCookie = fingerprint ?? sibling(accessCookie, 'fgp');

  let verifier: Verifier;
  let staleVerifier: Verifier | null;
  let now: Clock;
  if (options.verifier !== undefined) {
    if (!isVerifier(options.verifier)) throw invalid('verifier must be a Verifier.');
    if ('keys' in options || 'index' in options) {
      throw invalid('Give either a verifier or keys and an index, not both.');
    }
    verifier = options.verifier;
    staleVerifier = options.staleVerifier ?? null;
    if (policy === 'check-store' && !isVerifier(staleVerifier)) {
      throw invalid(
        "onStale: 'check-store' with a verifier of your own needs staleVerifier: the same verifier without maxStaleness.",
      );
    }
    if (policy !== 'check-store' && staleVerifier !== null) {
      throw invalid("staleVerifier is used by onStale: 'check-store' only.");
    }
    now = options.now ?? systemClock;
  } else {
    if (options.staleVerifier !== undefined) {
      throw invalid(
        'staleVerifier goes with a verifier of your own; from keys and an index the guard makes both.',
      );
    }
    // Without a bound the index is never stale, and the policy would never apply: a set-up that
    // names one but not the other means something it does not do.
    if (policy === 'check-store' && options.maxStaleness === undefined) {
      throw invalid(
        "onStale: 'check-store' applies once the index is staler than maxStaleness: give maxStaleness too (connectToAuthServer uses 5).",
      );
    }
    ({ verifier, staleVerifier } = verifiersFromKeys(options, policy));
    warnIfUnboundedStaleness(options.index, options.maxStaleness, 'createTokenGuard');
    now = options.now ?? options.index.now;
  }
  const readStaleLog = staleLogReader(options, policy, store, storeTimeout);
  return {
    verifier,
    staleVerifier,
    ownVerifier: options.verifier === undefined,
    accessCookie,
    csrfCookie,
    fingerprintCookie,
    store,
    storeTimeout,
    refreshKeys,
    keyRevoked:
      options.verifier === undefined
        ? (kid: string) => options.index.revokedKeys().includes(kid)
        : null,
    clockSkew: options.verifier === undefined ? options.index.clockSkew : DEFAULT_CLOCK_SKEW,
    readStaleLog,
    now,
  };
}

function staleLogReader(
  options: TokenGuardOptions,
  policy: GuardStalePolicy,
  store: SessionReader | null,
  timeout: number,
): (() => Promise<void>) | null {
  const follower = options.follower;
  if (follower === undefined) return followerlessLogReader(options, policy, store, timeout);
  if (options.verifier !== undefined) {
    throw invalid('follower goes with keys and an index, not with a verifier of your own.');
  }
  if (typeof follower?.health !== 'function') {
    throw invalid('follower must be a RevocationFollower (createLogFollower).');
  }
  if (policy !== 'check-store') throw invalid("follower is used by onStale: 'check-store' only.");
  const readEvents = store?.readEvents;
  if (typeof readEvents !== 'function') {
    throw invalid(
      "With a follower, 'check-store' reads the revocation log: store needs readEvents.",
    );
  }
  return createStaleLogReader(
    { readEvents: readEvents.bind(store) },
    follower,
    options.index,
    timeout,
  );
}

/**
 * `'check-store'` with keys and an index but no follower: the log is read all the same when the
 * store can (every revocable store can), from its live events, since nothing tracks a position.
 * A store of the application's own that only reads sessions gets what it can answer.
 */
function followerlessLogReader(
  options: TokenGuardOptions,
  policy: GuardStalePolicy,
  store: SessionReader | null,
  timeout: number,
): (() => Promise<void>) | null {
  if (policy !== 'check-store' || options.verifier !== undefined || store === null) return null;
  const { readEvents, liveEvents } = store;
  if (typeof readEvents !== 'function' || typeof liveEvents !== 'function') return null;
  return createStaleLogReader(
    { readEvents: readEvents.bind(store), liveEvents: liveEvents.bind(store) },
    null,
    options.index,
    timeout,
  );
}
