// What the cluster tests of the auth server share: the shared PostgreSQL and Redis (each
// deployment in a schema and a key prefix of its own, dropped afterwards), server processes that
// form one deployment, the usual calls of a client, and a poll that waits for another process to
// see a change and records how long that took.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DATABASE_URL, REDIS_URL, serviceMissing } from '../support/services.js';
import {
  call,
  type ServerProcess,
  startServerProcess,
  temporaryDataDir,
} from './server-process.js';

/** The staleness bound of the servers (their default): the longest another process may lag. */
export const STALENESS_MS = 5000;

/** The shared services of one test file, and why its tests are skipped (null: both answer). */
export interface ClusterServices {
  readonly missing: string | null;
  readonly pool: pg.Pool;
  /** A new deployment's PostgreSQL schema (created by the servers, dropped by `cleanup`). */
  newSchema(): string;
  /** A new deployment's Redis key prefix (its keys deleted by `cleanup`). */
  newPrefix(): string;
  /** Drops every schema and deletes every key of the prefixes handed out; closes the clients. */
  cleanup(): Promise<void>;
}

/** Connects to the shared PostgreSQL and Redis; outside CI a missing one skips the tests. */
export async function openClusterServices(): Promise<ClusterServices> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let socketError: unknown;
  redis.on('error', (error: unknown) => {
    socketError ??= error;
  });
  let missing: string | null = null;
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    missing = serviceMissing('PostgreSQL', error); // throws when CI=true
  }
  if (missing === null) {
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      missing = serviceMissing('Redis', socketError ?? error);
    }
  }
  const schemas = new Set<string>();
  const prefixes = new Set<string>();
  const id = () => randomBytes(6).toString('hex');
  return {
    missing,
    pool,
    newSchema() {
      const schema = `revocable_cluster_test_${id()}`;
      schemas.add(schema);
      return schema;
    },
    newPrefix() {
      const prefix = `revocable-cluster-test:${id()}:`;
      prefixes.add(prefix);
      return prefix;
    },
    async cleanup() {
      if (missing === null) {
        for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        for (const prefix of prefixes) {
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
            if (keys.length > 0) await redis.unlink(...keys);
            cursor = next;
          } while (cursor !== '0');
        }
      }
      redis.disconnect();
      await pool.end();
    },
  };
}

/** The administrator every process of a test deployment makes sure of. */
export const ADMIN = { username: 'root', password: 'admin password 1' } as const;

/** What the processes of one deployment share, and each its own data directory. */
export interface Deployment {
  readonly env: Record<string, string>;
  readonly args: readonly string[];
  /** Starts one more process of the deployment (in a new data directory unless given one). */
  start(dataDir?: string): Promise<ServerProcess>;
}

/**
 * One deployment on the shared services: a schema, a Redis prefix (unless `redis` is false: then
 * PostgreSQL's LISTEN/NOTIFY is the bus), a random keys secret and the admin, the same in every
 * process it starts.
 */
export function deployment(
  services: ClusterServices,
  options: { redis: boolean; args?: readonly string[] },
): Deployment {
  const env: Record<string, string> = {
    DATABASE_URL,
    REVOCABLE_KEYS_SECRET: randomBytes(32).toString('base64'),
    REVOCABLE_PG_SCHEMA: services.newSchema(),
    REVOCABLE_ADMIN_USER: ADMIN.username,
    REVOCABLE_ADMIN_PASSWORD: ADMIN.password,
  };
  if (options.redis) {
    env.REDIS_URL = REDIS_URL;
    env.REVOCABLE_REDIS_PREFIX = services.newPrefix();
  }
  const args = options.args ?? [];
  return {
    env,
    args,
    start: (dataDir = temporaryDataDir()) => startServerProcess({ dataDir, env, args: [...args] }),
  };
}

/** What a login or a refresh answers. */
export interface Tokens {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly session_id: string;
}

/** A new user name, unique within the test file. */
export function newName(stem: string): string {
  return `${stem}-${randomBytes(4).toString('hex')}`;
}

export const PASSWORD = 'correct horse battery';

/** Registers a user; resolves to its id. */
export async function register(url: string, username: string, password = PASSWORD) {
  const answer = await call(url, 'POST', '/auth/register', { json: { username, password } });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  return answer.body.id as string;
}

/** Logs in; resolves to the tokens. */
export async function login(url: string, username: string, password = PASSWORD): Promise<Tokens> {
  const answer = await call(url, 'POST', '/auth/login', { json: { username, password } });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as Tokens;
}

/** Refreshes; resolves to the new tokens. */
export async function refresh(url: string, refreshToken: string): Promise<Tokens> {
  const answer = await call(url, 'POST', '/auth/refresh', {
    json: { refresh_token: refreshToken },
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as Tokens;
}

/** Asserts an error answer: its status, its code, and a message. */
export function assertRefused(
  answer: { status: number; body: unknown },
  status: number,
  code: string,
): void {
  const body = answer.body as { error?: unknown; message?: unknown };
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(body.error, code, JSON.stringify(answer.body));
  assert.equal(typeof body.message, 'string');
}

/** Asserts that `GET /auth/me` on `url` accepts the token; resolves to its claims. */
export async function accepted(url: string, token: string): Promise<Record<string, unknown>> {
  const me = await call(url, 'GET', '/auth/me', { token });
  assert.equal(me.status, 200, JSON.stringify(me.body));
  return me.body as Record<string, unknown>;
}

/** Asserts that `GET /auth/me` on `url` refuses the token as revoked. */
export async function revoked(url: string, token: string): Promise<void> {
  assertRefused(await call(url, 'GET', '/auth/me', { token }), 401, 'ERR_TOKEN_REVOKED');
}

/** How long each change took to be seen by another process, by what was seen. */
export const latencies: { what: string; ms: number; polls: number }[] = [];

/**
 * Waits until `check` passes (polling every 10 ms), at most the staleness bound: the promise of a
 * cluster. Records how long it took, measured from the call, so call it right after the answer
 * of the change.
 */
export async function seen(what: string, check: () => Promise<void>): Promise<void> {
  const start = performance.now();
  const end = start + STALENESS_MS;
  for (let polls = 1; ; polls++) {
    try {
      await check();
      latencies.push({ what, ms: performance.now() - start, polls });
      return;
    } catch (error) {
      if (performance.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** The recorded latencies, as lines for the test log. */
export function describeLatencies(): string {
  if (latencies.length === 0) return 'no cross-process latency recorded';
  const sorted = latencies.map((entry) => entry.ms).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const fixed = (ms: number | undefined) => `${(ms ?? 0).toFixed(1)} ms`;
  return [
    `cross-process latency over ${sorted.length} changes: median ${fixed(at(0.5))}, ` +
      `p90 ${fixed(at(0.9))}, max ${fixed(sorted[sorted.length - 1])}`,
    `seen at the first poll: ${latencies.filter((entry) => entry.polls === 1).length}`,
    ...latencies.map(
      (entry) =>
        `  ${entry.what}: ${fixed(entry.ms)}${entry.polls > 1 ? ` (${entry.polls} polls)` : ''}`,
    ),
  ].join('\n');
}
