import type * as Pg from 'pg';
import { RevocableError } from '../../errors/revocable-error.js';
import { connectTimeoutOf } from '../internal/connect-arguments.js';
import { loadDriver, reasonOf } from '../internal/driver-errors.js';
import { invalidArgument } from '../internal/validate.js';
import type { ConnectedPostgresPool } from './driver-types.js';

/** Options for {@link connectPostgres}. */
export interface ConnectPostgresOptions {
  /**
   * How long opening a connection may take, in milliseconds (default 10000). pg's own default is
   * to wait for ever, which turns an unreachable host into a hung start-up.
   */
  connectTimeoutMs?: number;
  /** The most connections the pool opens (default 10, pg's). */
  max?: number;
}

const SCHEMES = new Set(['postgres:', 'postgresql:']);
const EXPECTED = 'postgres://user:password@host:5432/database';

// Said back in a message: only the scheme, never the rest (a malformed URL may still hold a
// password). For the same reason the parser's error is not kept as the cause: Node.js's URL error
// carries the whole input.
function schemeOf(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(url);
  return match === null ? 'no scheme' : `the scheme "${match[1]}:"`;
}

function malformed(url: string): RevocableError {
  return new RevocableError(
    'ERR_STORE_UNAVAILABLE',
    `Could not connect to PostgreSQL: the URL is not a PostgreSQL URL (found ${schemeOf(url)}; ` +
      `expected ${EXPECTED}).`,
  );
}

// What pg will try, as pg itself reads the URL (host and port from the query string, defaults
// from PGHOST and the like), without the password.
function target(pg: typeof Pg, url: string): string {
  const probe = new pg.Client({ connectionString: url });
  const host = probe.host.startsWith('/') ? `socket ${probe.host}` : `${probe.host}:${probe.port}`;
  return `${host}, database "${probe.database ?? ''}", user "${probe.user ?? ''}"`;
}

/**
 * Opens a `pg` Pool on `url` and checks it with `SELECT 1`, so that a wrong `DATABASE_URL` fails
 * at start-up, in one line that says what was tried and why: a malformed URL, a host that does
 * not exist or refuses the connection, an unknown database, a failed authentication all throw
 * `ERR_STORE_UNAVAILABLE` (host, port, database and user, never the password; the driver error
 * as `cause`), after closing what was opened. pg is loaded here, at the first call: without it
 * installed this throws `ERR_DRIVER_MISSING` naming the package.
 *
 * The pool listens for its `error` event: pg raises it when an idle connection is cut (the
 * server restarted, a proxy timed out), and an `error` event nobody listens to ends the process.
 * The pool drops such a connection and opens another; a statement that meets the outage fails
 * with `ERR_STORE_UNAVAILABLE` in the store. The application ends the pool at shutdown.
 *
 * @example
 * ```ts
 * import { connectPostgres, createPostgresStore, migratePostgresStore } from 'revocable/postgres';
 *
 * const pool = await connectPostgres(process.env.DATABASE_URL ?? '');
 * await migratePostgresStore(pool);
 * const store = createPostgresStore({ client: pool });
 * process.on('SIGTERM', () => pool.end());
 * ```
 */
export async function connectPostgres(
  url: string,
  options: ConnectPostgresOptions = {},
): Promise<ConnectedPostgresPool> {
  const timeout = connectTimeoutOf(url, options, 'postgres');
  const max = options.max ?? 10;
  if (!Number.isSafeInteger(max) || max < 1) throw invalidArgument('max must be at least 1.');
  // pg reads nearly anything as a connection string (a typo'd `postgres//host` resolves against
  // a default host): a URL is asked for, and checked here.
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw malformed(url);
  }
  if (!SCHEMES.has(parsed.protocol)) throw malformed(url);

  const pg = loadDriver<typeof Pg>({
    name: 'pg',
    types: '@types/pg',
    subpath: 'revocable/postgres',
  });
  let tried: string;
  let pool: Pg.Pool;
  try {
    tried = target(pg, url);
    pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: timeout, max });
  } catch {
    // pg decodes the URL's parts and may refuse them.
    throw malformed(url);
  }
  pool.on('error', () => {
    // An idle connection was cut; the pool has dropped it, and the next statement says so.
  });
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw new RevocableError(
      'ERR_STORE_UNAVAILABLE',
      `Could not connect to PostgreSQL at ${tried}: ${reasonOf(error)}.`,
      { cause: error },
    );
  }
  return pool;
}
