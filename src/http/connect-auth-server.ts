import { RevocableError } from '../errors/revocable-error.js';
import { parseDuration } from '../lib/duration.js';
import { assertKnownOptions, type OptionNames } from '../lib/known-options.js';
import { createRevocationIndex } from '../revocation/revocation-index.js';
import type { RevocationIndex } from '../revocation/types.js';
import {
  createHttpRevocationSource,
  type HttpRevocationSource,
} from '../sync/http-source/index.js';

import { createTokenGuard } from './token-guard.js';
import type { TokenGuard, TokenGuardBaseOptions } from './types.js';

/** Options of {@link connectToAuthServer}. */
export interface ConnectToAuthServerOptions
  extends Omit<TokenGuardBaseOptions, 'refreshKeys' | 'onStale' | 'store' | 'storeTimeout'> {
  /** The auth server's base URL, like `https://auth.example.com` (no credentials, no query). */
  url: string | URL;
  /**
   * Take a plain `http:` URL to another machine (default false: `https:`, or `http:` only to
   * `localhost`, `127.x.x.x`, `[::1]` or `0.0.0.0`). Over plain http anyone on the network path
   * can replace the JWKS, and so sign tokens this server accepts, or hold back revocations; set
   * it only on a network you trust, like a docker-compose network (`http://auth:3000`).
   */
  allowInsecureHttp?: boolean;
  /** The issuer its tokens carry (its `--issuer`). */
  issuer: string | readonly string[];
  /** The audience this resource server accepts (one of the auth server's `--audience`). */
  audience: string | readonly string[];
  /**
   * The longest life of an access token (the auth server's `--access-ttl`, default `10m`): a
   * revocation is remembered this long, and a token living longer is refused.
   */
  maxAccessTokenLifetime?: number | string;
  /**
   * How long without a heartbeat from the feed before requests fail closed (default `5s`; at
   * least `2s`, two of the feed's heartbeats).
   */
  maxStaleness?: number | string;
  /**
   * How long a key the JWKS stops listing is still accepted (default `30s`; `0` at once): give
   * at least the time your auth server processes take to reload a rotated key ring (see
   * `createHttpRevocationSource`). A key revoked at the auth server is refused at once whatever
   * this says.
   */
  droppedKeyGrace?: number | string;
  /** Extra headers for the feed and JWKS requests (a proxy's credentials). */
  headers?: Readonly<Record<string, string>>;
  /** Receives the feed's errors it recovers from (default: a process warning). */
  onError?: (error: unknown) => void;
}

/** A resource server's link to its auth server. */
/** The smallest `maxStaleness`, in seconds: two heartbeats of the auth server's feed. */
const MIN_STALENESS = 2;

const OPTION_NAMES: OptionNames<ConnectToAuthServerOptions> = {
  url: true,
  allowInsecureHttp: true,
  issuer: true,
  audience: true,
  maxAccessTokenLifetime: true,
  maxStaleness: true,
  droppedKeyGrace: true,
  headers: true,
  onError: true,
  cookie: true,
  csrfCookie: true,
  fingerprintCookie: true,
  now: true,
};

export interface AuthServerConnection {
  /** Checks requests: give it to `revocableExpress` or the Fastify plugin. */
  readonly guard: TokenGuard;
  /** The index the feed keeps. */
  readonly index: RevocationIndex;
  /** The feed itself (its `health()` for a health endpoint). */
  readonly source: HttpRevocationSource;
  /** Closes the feed; the process can then exit. */
  stop(): Promise<void>;
}

/**
 * Everything a resource server that knows only its auth server's URL needs: an index kept by the
 * server's revocation feed (`GET /revocations` and its stream), the public keys from its JWKS
 * (fetched again on a key event or an unknown kid), and a guard that verifies each request
 * locally and fails closed once the feed has been silent past `maxStaleness`. Resolves once the
 * index is fresh.
 *
 * @example
 * ```ts
 * const auth = await connectToAuthServer({ url: 'https://auth.example.com', issuer: 'https://auth.example.com', audience: 'api' });
 * app.get('/me', revocableExpress(auth.guard).authenticate(), (req, res) => res.json(req.auth?.claims));
 * ```
 */
export async function connectToAuthServer(
  options: ConnectToAuthServerOptions,
): Promise<AuthServerConnection> {
  if (typeof options !== 'object' || options === null) {
    throw new RevocableError('ERR_INVALID_ARGUMENT', 'connectToAuthServer needs options.');
  }
  // Before any connection is made: a misspelt option is a mistake to fix, not to retry.
  assertKnownOptions(options, OPTION_NAMES, 'connectToAuthServer');
  const {
    url,
    allowInsecureHttp,
    issuer,
    audience,
    headers,
    onError,
    droppedKeyGrace,
    maxStaleness = 5,
    ...guardOptions
  } = options;
  // The auth server's feed sends a heartbeat each second: a bound under two of them is crossed by
  // any delay of one, and every request would fail as stale while the feed is fine.
  if (parseDuration(maxStaleness, 'maxStaleness') < MIN_STALENESS) {
    throw new RevocableError(
      'ERR_INVALID_ARGUMENT',
      `maxStaleness must be at least ${MIN_STALENESS} seconds: the auth server's feed sends a heartbeat each second.`,
    );
  }
  const { maxAccessTokenLifetime = '10m', ...rest } = guardOptions;
  const index = createRevocationIndex({ maxAccessTokenLifetime });
  const source = createHttpRevocationSource({
    url,
    index,
    maxStaleness,
    ...(allowInsecureHttp === undefined ? {} : { allowInsecureHttp }),
    ...(headers === undefined ? {} : { headers }),
    ...(droppedKeyGrace === undefined ? {} : { droppedKeyGrace }),
    ...(onError === undefined ? {} : { onError }),
  });
  await source.start();
  try {
    const guard = createTokenGuard({
      ...rest,
      keys: source.keys,
      index,
      issuer,
      audience,
      maxStaleness,
      refreshKeys: () => source.refreshKeys(),
    });
    return { guard, index, source, stop: () => source.stop() };
  } catch (error) {
    await source.stop();
    throw error;
  }
}
