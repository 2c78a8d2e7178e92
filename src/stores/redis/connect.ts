import type * as IORedis from 'ioredis';
import type { Redis, RedisOptions } from 'ioredis';
import { RevocableError } from '../../errors/revocable-error.js';
import { emitRevocableWarning } from '../../lib/warning.js';
import { connectTimeoutOf } from '../internal/connect-arguments.js';
import { loadDriver, reasonOf, withoutSecrets } from '../internal/driver-errors.js';

/** Options for {@link connectRedis}. */
export interface ConnectRedisOptions {
  /** How long opening the connection may take, in milliseconds (default 10000). */
  connectTimeoutMs?: number;
  /**
   * More ioredis options for the client (TLS settings, `maxRetriesPerRequest`, ...). The URL
   * wins over `host`, `port`, `password`, `db`. Not `lazyConnect` (set by `connectRedis`),
   * `keyPrefix` (the store refuses it) nor `replyMapping` (the client is a plain `Redis`).
   */
  clientOptions?: Omit<RedisOptions, 'lazyConnect' | 'keyPrefix' | 'replyMapping'>;
}

const SCHEMES = new Set(['redis:', 'rediss:']);

// Only the scheme is said back, never the rest: a malformed URL may still hold a password.
function malformed(url: string): RevocableError {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  const found = match === null ? 'no scheme' : `the scheme "${match[1]}:"`;
  return new RevocableError(
    'ERR_STORE_UNAVAILABLE',
    `Could not connect to Redis: the URL is not a Redis URL (found ${found}; expected ` +
      'redis://[user:password@]host:6379[/db] or rediss://...).',
  );
}

// What is tried, from the URL as ioredis reads it, without the password.
function target(url: URL): string {
  const host = url.hostname === '' ? 'localhost' : url.hostname;
  const db = url.pathname.length > 1 ? url.pathname.slice(1) : '0';
  const user = url.username === '' ? '' : `, user "${decodeURIComponent(url.username)}"`;
  return `${host}:${url.port === '' ? '6379' : url.port}, database ${db}${user}`;
}

/**
 * Opens an ioredis client on `url` and checks it with `PING`, so that a wrong `REDIS_URL` fails at
 * start-up, in one line that says what was tried and why: a malformed URL, a host that does not
 * exist or refuses the connection, a wrong password, a database number the server does not have
 * all throw `ERR_STORE_UNAVAILABLE` (host, port, database and user, never the password; the driver
 * error as `cause`), after disconnecting. ioredis alone would keep retrying a refused connection
 * for ever, and would carry on in database 0 after a failed `SELECT`. ioredis is loaded here, at
 * the first call: without it installed this throws `ERR_DRIVER_MISSING`.
 *
 * After the check the client behaves as ioredis does: it reconnects by itself, and a call of the
 * store that meets an outage fails with `ERR_STORE_UNAVAILABLE`. The application quits it at
 * shutdown.
 *
 * @example
 * ```ts
 * import { connectRedis, createRedisStore } from 'revocable/redis';
 *
 * const client = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const store = createRedisStore({ client, prefix: 'app:revocable:' });
 * process.on('SIGTERM', () => client.quit());
 * ```
 */
export async function connectRedis(url: string, options: ConnectRedisOptions = {}): Promise<Redis> {
  const timeout = connectTimeoutOf(url, options, 'redis');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw malformed(url);
  }
  if (!SCHEMES.has(parsed.protocol)) throw malformed(url);
  const tried = target(parsed);

  const { Redis: Client } = loadDriver<typeof IORedis>({
    name: 'ioredis',
    subpath: 'revocable/redis',
  });
  const client = new Client(url, {
    ...options.clientOptions,
    connectTimeout: timeout,
    lazyConnect: true,
  });
  // ioredis reports why a connection failed (refused, WRONGPASS, a SELECT out of range) as an
  // error event, and only "Connection is closed." to the caller; the first event says why.
  let failure: unknown;
  const listener = (error: unknown) => {
    failure ??= error;
  };
  client.on('error', listener);
  try {
    await client.connect();
    await client.ping();
    // A failed SELECT does not stop ioredis: the client would go on in database 0.
    if (failure !== undefined) throw failure;
  } catch (error) {
    client.disconnect();
    const cause = withoutSecrets(failure ?? error);
    throw new RevocableError(
      'ERR_STORE_UNAVAILABLE',
      `Could not connect to Redis at ${tried}: ${reasonOf(cause)}.`,
      { cause },
    );
  } finally {
    client.off('error', listener);
  }
  reportOutages(client, tried);
  return client;
}

/**
 * After the check: with no error listener, ioredis prints each failed reconnection as an
 * "Unhandled error event" with its stack, several a second through an outage. One warning per
 * outage instead (the first error since the client was last ready), without the password; the
 * store's calls that meet the outage fail with `ERR_STORE_UNAVAILABLE` on their own.
 */
function reportOutages(client: Redis, tried: string): void {
  let reported = false;
  client.on('ready', () => {
    reported = false;
  });
  client.on('error', (error: unknown) => {
    if (reported) return;
    reported = true;
    emitRevocableWarning(
      'REVOCABLE_REDIS_UNAVAILABLE',
      `revocable: Redis at ${tried}: ${reasonOf(withoutSecrets(error))}; reconnecting.`,
    );
  });
}
