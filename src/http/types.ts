import type { JwtClaims } from '../jwt/types.js';
import type { Verifier } from '../jwt/verify.js';
import type { Clock } from '../lib/clock.js';
import type { RevocableVerifierOptions } from '../revocation/verifier.js';
import type { Store } from '../stores/types.js';
import type { RevocationFollower } from '../sync/types.js';

/**
 * Who a request is: what `req.auth` (Express) and `request.auth` (Fastify) hold once a token was
 * accepted.
 */
export interface AuthContext {
  /** The verified claims (frozen when the verifier caches, which the guard's own one does). */
  readonly claims: JwtClaims;
  /** The subject (`sub`). */
  readonly sub: string;
  /** The session (`sid`), when the token names one (every token of revocable's sessions does). */
  readonly sid: string | undefined;
  /** The `roles` claim: its strings, or none. */
  readonly roles: readonly string[];
  /** The `scope` claim (RFC 9068 / RFC 8693: space-separated), split; or none. */
  readonly scopes: readonly string[];
  /** The access token itself, to pass on to another service. */
  readonly token: string;
  /** Where it came from: the Authorization header, or the access cookie of cookie mode. */
  readonly via: 'bearer' | 'cookie';
}

/**
 * What a route demands beyond a valid, unrevoked token. Checked in this order: the store (when
 * asked), `roles`, `scopes`, `maxAge`; so a token whose session has ended is a 401 even where it
 * would also lack a role, and one that lacks a role is a 403 even where its login is also too old
 * (logging in again would not give it the role).
 *
 * @example
 * ```ts
 * const adminOnly: RouteRequirements = { roles: ['admin'], maxAge: '15m', checkStore: true };
 * ```
 */
export interface RouteRequirements {
  /**
   * The token must hold at least one of these in its `roles` claim (any of them: a list of roles
   * names who may enter; several requirements that must all hold are written as scopes).
   * `ERR_FORBIDDEN` (403) otherwise.
   */
  readonly roles?: readonly string[];
  /** The token's `scope` claim must hold every one of these. `ERR_FORBIDDEN` (403) otherwise. */
  readonly scopes?: readonly string[];
  /**
   * The user must have authenticated (`auth_time`) at most this long ago: whole seconds, or a
   * string like `15m`. `ERR_REAUTH_REQUIRED` (401) otherwise, which tells the client to log in
   * again (a refresh keeps the old `auth_time`). A token without `auth_time` is refused too.
   */
  readonly maxAge?: number | string;
  /**
   * Also ask the store, on every request: a session that is revoked, missing, expired, whose
   * subject is banned or whose generation moved past the token's `sgen`, is refused
   * (`ERR_SESSION_REVOKED` or `ERR_SESSION_EXPIRED`, 401), even if this process's revocation index
   * has not heard of it yet; a store that does not answer is `ERR_STORE_UNAVAILABLE` (503). For the
   * few routes where the staleness bound is too long (changing a password, paying). Needs `store`.
   */
  readonly checkStore?: boolean;
}

/**
 * The request headers the guard reads, by their Node.js names: a Node.js `IncomingMessage`'s
 * `headers` (and so Express's and Fastify's) fits as it is.
 */
export interface CredentialHeaders {
  readonly authorization?: string | readonly string[] | undefined;
  /** The raw Cookie header, read only when there is no Authorization header. */
  readonly cookie?: string | readonly string[] | undefined;
  /** The CSRF token of cookie mode, on requests that change state. */
  readonly 'x-csrf-token'?: string | readonly string[] | undefined;
}

/**
 * What the guard needs of a store: one read of a session with its subject's state; and, for the
 * `'check-store'` policy, reads of the revocation log (`readEvents`, and `liveEvents` when no
 * `follower` is given), which every revocable store has.
 */
export type SessionReader = Pick<Store, 'getSession'> &
  Partial<Pick<Store, 'readEvents' | 'liveEvents'>>;

/**
 * What to do with a token while the revocation index is staler than `maxStaleness`:
 * `'fail-closed'` answers 503 `ERR_REVOCATION_STALE`; `'check-store'` verifies the token without
 * the staleness bound and asks the store about its session on every request, as `checkStore`
 * does, until the index is fresh again.
 */
export type GuardStalePolicy = 'fail-closed' | 'check-store';

/** Options every guard takes, however its verifier is made. */
export interface TokenGuardBaseOptions {
  /**
   * The access cookie of the auth server's cookie mode, read when a request has no Authorization
   * header: `__Host-revocable-access` by default, `revocable-access` for a server run with
   * `--cookie-secure=false`; `false` reads bearer tokens only.
   */
  cookie?: string | false;
  /**
   * The CSRF cookie, compared with the `X-CSRF-Token` header on a cookie-authenticated request that
   * changes state (double submit: a page of another site can neither read the cookie nor set the
   * header, and the `__Host-` prefix stops a sibling subdomain from planting one). Default: the
   * access cookie's `-access` replaced by `-csrf` (`__Host-revocable-csrf`). `false` turns the
   * check off, for an application with its own CSRF defence.
   */
  csrfCookie?: string | false;
  /**
   * The fingerprint cookie: a token carrying an `fgp` claim (the auth server's `--fingerprint`) is
   * accepted only with a cookie whose SHA-256 it is, by bearer or cookie alike. Default: the access
   * cookie's `-access` replaced by `-fgp` (`__Host-revocable-fgp`).
   */
  fingerprintCookie?: string;
  /** The stale policy (default `'fail-closed'`); `'check-store'` needs `store`. */
  onStale?: GuardStalePolicy;
  /** The store, for `checkStore` routes and the `'check-store'` policy. */
  store?: SessionReader;
  /**
   * How long a request waits on each store read (a `checkStore` route's session read, the log
   * read of `'check-store'`) before it is refused with 503 `ERR_STORE_UNAVAILABLE`: seconds, or
   * a string like `2s` (default 5). A store that never answers (a half-open connection) must not
   * hold requests open.
   */
  storeTimeout?: number | string;
  /**
   * Reloads the key ring (the `refreshKeys` of `createHttpRevocationSource`, or a shared ring's
   * `refresh`), resolving true when it changed. A token naming a `kid` the ring lacks (a key
   * rotated in a moment ago) triggers one reload, then one more verify. Reloads are shared by
   * concurrent requests and happen at most once a second, so a stream of forged `kid`s cannot
   * become a stream of fetches; a reload that fails, or has not settled within 5 seconds, leaves
   * the token refused as it was (`ERR_JWT_KID_UNKNOWN`).
   */
  refreshKeys?: () => Promise<boolean>;
  /** The clock, epoch seconds (default: the index's clock, or the system clock). */
  now?: Clock;
}

/** A guard on a verifier made elsewhere (`createRevocableVerifier`, usually with `cache: true`). */
export interface TokenGuardVerifierOptions extends TokenGuardBaseOptions {
  /** The verifier every request goes through. */
  verifier: Verifier;
  follower?: never;
  /**
   * With `onStale: 'check-store'`, the verifier used while `verifier` throws
   * `ERR_REVOCATION_STALE`: the same options without `maxStaleness` (it still refuses what the
   * index knows of). Required then; the guard cannot make it from a verifier.
   */
  staleVerifier?: Verifier;
  keys?: never;
  index?: never;
}

/**
 * A guard that makes its verifier: `createRevocableVerifier` with these options, the
 * verification cache on unless `cache` says otherwise.
 */
export interface TokenGuardKeyOptions
  extends TokenGuardBaseOptions,
    Omit<RevocableVerifierOptions, 'onStale' | 'now'> {
  verifier?: never;
  staleVerifier?: never;
  /**
   * The follower that keeps `index` (`createLogFollower`), with `onStale: 'check-store'` and a
   * store that reads the log (`readEvents`, as every revocable store does): while the index is
   * stale, a request then also reads the log's events past the follower's position (one read
   * shared by the requests that come meanwhile) and applies them to the index before its token is
   * checked, so a token revoked by its `jti` or a key retired during the outage is refused as the
   * index would. Without it, a store that has `liveEvents` (every revocable store) is read all the
   * same: its live events at the first stale request, then on from there (the live events again
   * after a minute without a read); a store that only reads sessions (`getSession`) tells only
   * what it knows of sessions and subjects.
   */
  follower?: Pick<RevocationFollower, 'health'>;
}

/** Options of {@link createTokenGuard}: a verifier, or what to make one of. */
export type TokenGuardOptions = TokenGuardVerifierOptions | TokenGuardKeyOptions;

/**
 * Checks the credentials of requests: the framework-agnostic core of the Express and Fastify
 * adapters. Made by {@link createTokenGuard}.
 */
export interface TokenGuard {
  /**
   * Authenticates a request: the bearer token (else the access cookie), verified against the keys
   * and the revocation index, then the route's requirements. Resolves to the {@link AuthContext};
   * rejects with a `RevocableError` whose code {@link errorAnswer} turns into the answer.
   * `method` (the request's) lets safe methods skip the CSRF check of cookie mode; without it a
   * cookie-authenticated request is held to it.
   */
  check(
    headers: CredentialHeaders,
    route?: RouteRequirements,
    method?: string,
  ): Promise<AuthContext>;
  /**
   * {@link TokenGuard.check} without a promise when none is needed: returns the context, or throws,
   * synchronously, unless the check needs I/O (a `checkStore` route, the `'check-store'` policy
   * while the index is stale, a key reload), when it returns a promise. The adapters use it.
   */
  checkFast(
    headers: CredentialHeaders,
    route?: RouteRequirements,
    method?: string,
  ): AuthContext | Promise<AuthContext>;
  /**
   * Checks route requirements now and returns them frozen: `ERR_INVALID_ARGUMENT` at start-up
   * rather than on the route's first request, and a route the guard then reads without checking
   * it again. The adapters call it once per route.
   */
  route(requirements: RouteRequirements): RouteRequirements;
}
