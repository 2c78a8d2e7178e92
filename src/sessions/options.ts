import { randomBytes } from 'node:crypto';
import { RevocableError } from '../errors/revocable-error.js';
import type { KeyRing } from '../jwt/key-ring.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { parseDuration } from '../lib/duration.js';
import type { RevocationIndex } from '../revocation/types.js';
import type { Store } from '../stores/types.js';
import type { SharedKeyRing } from '../sync/shared-key-ring.js';
import type { RevocationPublisher } from '../sync/types.js';

/** Options for {@link createSessionManager}. */
export interface SessionManagerOptions {
  /** Where sessions, subjects and the revocation log are kept. */
  store: Store;
  /**
   * The signing keys; the active key signs access tokens. In a cluster, the shared ring from
   * `openSharedKeyRing`: the manager signs with its live ring, and `retireKey` then writes the
   * retirement (with the key that replaces an active one) into the stored ring before logging it.
   */
  keys: KeyRing | SharedKeyRing;
  /** `iss` of every access token. */
  issuer: string;
  /** `aud` of every access token. */
  audience: string | string[];
  /**
   * The local revocation index: every revocation this manager makes is applied to it at once, and
   * refreshes are checked against its global cut-off. Give the one your verifier uses.
   */
  index: RevocationIndex;
  /**
   * The key that derives each refresh token's successor: at least 32 bytes. Every process sharing a
   * store must use the same one (otherwise concurrent refreshes across processes cannot agree on a
   * successor). Required unless the store is the in-memory one (`persistent: false`), where a
   * random secret per manager is the default.
   */
  refreshSecret?: Uint8Array | string;
  /** Access-token lifetime (default `10m`); must not exceed the index's `maxAccessTokenLifetime`. */
  accessTokenTtl?: number | string;
  /** A session not refreshed for this long dies (default `7d`). */
  idleTimeout?: number | string;
  /** No session lives longer than this after login, however active (default `30d`). */
  absoluteLifetime?: number | string;
  /**
   * How long a spent refresh token may still be presented by the same client's concurrent requests
   * and receive the same successor (default `10s`). After it, a spent token is theft.
   */
  refreshGrace?: number | string;
  /** How many older spent refresh hashes a session remembers to catch their reuse (default 16). */
  spentHistory?: number;
  /** The clock, in epoch seconds (default: the index's clock). */
  now?: Clock;
  /**
   * Tells other processes of every revocation this manager makes, the moment it is logged
   * (`createRedisPublisher`, `createPostgresPublisher`). Without one, other processes learn of it
   * when their follower next reads the log.
   */
  publisher?: RevocationPublisher;
}

/** Options after defaults and checks; internal to the sessions part. */
export interface ResolvedOptions {
  readonly store: Store;
  readonly keys: KeyRing;
  /** The shared ring `keys` came from, or null for a ring of this process alone. */
  readonly sharedKeys: SharedKeyRing | null;
  readonly issuer: string;
  readonly audience: string | string[];
  readonly index: RevocationIndex;
  readonly refreshSecret: Buffer;
  readonly accessTokenTtl: number;
  readonly idleTimeout: number;
  readonly absoluteLifetime: number;
  readonly refreshGrace: number;
  readonly spentHistory: number;
  readonly now: Clock;
  readonly publisher: RevocationPublisher | null;
}

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function positive(value: number | string, name: string): number {
  const seconds = parseDuration(value, name);
  if (seconds <= 0) throw invalid(`${name} must be longer than zero.`);
  return seconds;
}

// A shared ring is told apart by its live `ring`: a KeyRing has rotate and retire too.
function resolveKeys(keys: KeyRing | SharedKeyRing | undefined): {
  keys: KeyRing;
  sharedKeys: SharedKeyRing | null;
} {
  const shared = keys as Partial<SharedKeyRing> | undefined;
  if (
    typeof shared?.ring?.get === 'function' &&
    typeof shared.retire === 'function' &&
    typeof shared.rotate === 'function'
  ) {
    return { keys: shared.ring, sharedKeys: shared as SharedKeyRing };
  }
  if (typeof (keys as Partial<KeyRing> | undefined)?.get !== 'function') {
    throw invalid('keys must be a KeyRing or a shared key ring.');
  }
  return { keys: keys as KeyRing, sharedKeys: null };
}

/** Applies defaults and refuses impossible combinations, before the manager is used. */
export function resolveOptions(options: SessionManagerOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw invalid('createSessionManager needs options.');
  const { store, index, issuer, audience } = options;
  if (typeof store?.rotateRefresh !== 'function') throw invalid('store must be a Store.');
  const { keys, sharedKeys } = resolveKeys(options.keys);
  if (typeof index?.apply !== 'function') throw invalid('index must be a RevocationIndex.');
  if (typeof issuer !== 'string' || issuer.length === 0)
    throw invalid('issuer must be a non-empty string.');
  const audiences = typeof audience === 'string' ? [audience] : audience;
  if (
    !Array.isArray(audiences) ||
    audiences.length === 0 ||
    !audiences.every((a) => typeof a === 'string' && a.length > 0)
  ) {
    throw invalid('audience must be a non-empty string or array of strings.');
  }
  const accessTokenTtl = positive(options.accessTokenTtl ?? '10m', 'accessTokenTtl');
  if (accessTokenTtl > index.maxAccessTokenLifetime) {
    // Revocation entries are forgotten after the index's lifetime: a longer token would outlive them.
    throw invalid("accessTokenTtl must not exceed the index's maxAccessTokenLifetime.");
  }
  const idleTimeout = positive(options.idleTimeout ?? '7d', 'idleTimeout');
  const absoluteLifetime = positive(options.absoluteLifetime ?? '30d', 'absoluteLifetime');
  const refreshGrace = parseDuration(options.refreshGrace ?? 10, 'refreshGrace');
  const spentHistory = options.spentHistory ?? 16;
  if (!Number.isInteger(spentHistory) || spentHistory < 0 || spentHistory > 1000) {
    throw invalid('spentHistory must be an integer from 0 to 1000.');
  }
  let refreshSecret: Buffer;
  if (options.refreshSecret === undefined) {
    if (store.persistent !== false) {
      // Processes sharing a store must derive the same successor for the same refresh token;
      // with a secret of their own, a client's two concurrent refreshes that reach two processes
      // (or one process before and after a restart) look like theft and end the session.
      throw invalid(
        'refreshSecret is required with a persistent store: give every process that shares the store the same secret of at least 32 bytes (for example from an environment variable).',
      );
    }
    refreshSecret = randomBytes(32);
  } else if (typeof options.refreshSecret === 'string')
    refreshSecret = Buffer.from(options.refreshSecret, 'utf8');
  else if (options.refreshSecret instanceof Uint8Array)
    refreshSecret = Buffer.from(options.refreshSecret);
  else throw invalid('refreshSecret must be a string or bytes.');
  if (refreshSecret.length < 32) throw invalid('refreshSecret must be at least 32 bytes.');
  const publisher = options.publisher ?? null;
  if (publisher !== null && typeof publisher?.publish !== 'function') {
    throw invalid('publisher must be a RevocationPublisher.');
  }
  const now = options.now ?? index.now ?? systemClock;
  if (typeof now !== 'function') throw invalid('now must be a function returning epoch seconds.');
  return {
    store,
    keys,
    sharedKeys,
    issuer,
    audience: typeof audience === 'string' ? audience : [...audience],
    index,
    refreshSecret,
    accessTokenTtl,
    idleTimeout,
    absoluteLifetime,
    refreshGrace,
    spentHistory,
    now,
    publisher,
  };
}
