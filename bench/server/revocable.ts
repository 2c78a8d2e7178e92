/**
 * The revocable side of the server benchmark: starting `revocable serve` on SQLite or on
 * PostgreSQL + Redis, seeding its revocation log before it starts, accounts and logins over HTTP,
 * access tokens signed with the server's own key (for the uncached rows), and the clean-up of what
 * the PostgreSQL and Redis set-ups leave behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { decodeUnverified } from '../../src/jwt/decode.js';
import { unsealKeyRing } from '../../src/jwt/sealed-key-ring.js';
import { signJwt } from '../../src/jwt/sign.js';
import type { JwtClaims } from '../../src/jwt/types.js';
import {
  createSessionRevocation,
  createTokenRevocation,
} from '../../src/revocation/create-event.js';
import type { RevocationEvent } from '../../src/revocation/events.js';
import {
  createSqliteKeyRingStore,
  createSqliteStore,
  openSqliteDatabase,
} from '../../src/stores/sqlite/index.js';
import { type ServerProcess, startProcess } from './processes.js';

/** The CLI the server runs from: the package's build (`npx tsc -p tsconfig.build.json`). */
export const SERVER_CLI =
  process.env.BENCH_SERVER_CLI ??
  fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

/** The database file of a single server in its data directory. */
export const DATABASE_FILE = 'revocable.db';

/** The password of every benchmark account (argon2id hashes it at registration and each login). */
export const PASSWORD = 'bench password, long enough 0123456789';

const READY = /revocable auth server listening on (http:\/\/\S+)/;

// Variables that would switch the server to another set-up: never inherited from the caller.
const SERVER_VARIABLES = /^(DATABASE_URL|REDIS_URL|PORT|HOST|REVOCABLE_.*)$/;

/** The bench's environment without anything that configures a revocable server. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!SERVER_VARIABLES.test(name)) env[name] = value;
  }
  return env;
}

/** How to start one revocable server. */
export interface RevocableSetup {
  readonly name: string;
  readonly dataDir: string;
  /** The keys secret (`REVOCABLE_KEYS_SECRET`), also what unseals its key ring for minting. */
  readonly keysSecret: string;
  /** PostgreSQL and Redis: the cluster set-up; absent, SQLite in the data directory. */
  readonly cluster?: {
    readonly databaseUrl: string;
    readonly schema: string;
    readonly redisUrl: string;
    readonly redisPrefix: string;
  };
}

/** Starts `revocable serve` with the benchmark's flags. */
export function startRevocable(setup: RevocableSetup): Promise<ServerProcess> {
  if (!existsSync(SERVER_CLI)) {
    return Promise.reject(
      new Error(
        `${SERVER_CLI} is missing: build the package first (npx tsc -p tsconfig.build.json)`,
      ),
    );
  }
  const env = cleanEnv();
  env.REVOCABLE_KEYS_SECRET = setup.keysSecret;
  if (setup.cluster !== undefined) {
    env.DATABASE_URL = setup.cluster.databaseUrl;
    env.REVOCABLE_PG_SCHEMA = setup.cluster.schema;
    env.REDIS_URL = setup.cluster.redisUrl;
    env.REVOCABLE_REDIS_PREFIX = setup.cluster.redisPrefix;
  }
  return startProcess({
    name: setup.name,
    args: [
      SERVER_CLI,
      'serve',
      '--port',
      '0',
      '--data',
      setup.dataDir,
      '--log-level',
      'silent',
      // One issuer across the restarts of the rounds: the tokens minted once stay valid.
      '--issuer',
      'https://auth.bench.example',
      // The largest limits the server takes (they count failed logins; the benchmark's succeed).
      '--login-account-limit',
      '1000',
      '--login-address-limit',
      '100000',
    ],
    env,
    ready: READY,
    timeoutMs: 120_000,
  });
}

function randomIds(count: number): string[] {
  const bytes = randomBytes(16 * count);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(bytes.toString('base64url', i * 16, i * 16 + 16));
  return ids;
}

/**
 * Appends `count` live revocations to the SQLite store of `dataDir` before its server starts,
 * half token revocations (a `jti` until its `exp`) and half session revocations (a `sid`), all
 * ending within the access-token lifetime, so the server's index loads and keeps every one.
 */
export async function seedSqliteRevocations(dataDir: string, count: number): Promise<void> {
  const database = openSqliteDatabase(join(dataDir, DATABASE_FILE));
  try {
    const store = createSqliteStore({ database });
    const now = Math.floor(Date.now() / 1000);
    const timing = { maxAccessTokenLifetime: 600, now: () => now };
    const ids = randomIds(count);
    const batch: RevocationEvent[] = [];
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      batch.push(
        i % 2 === 0
          ? // exp spread over the last minute of a 10-minute lifetime.
            createTokenRevocation({ jti: id, exp: now + 540 + (i % 60), at: now }, timing)
          : createSessionRevocation({ sid: id, at: now }, timing),
      );
      if (batch.length === 5000 || i === count - 1) {
        await store.appendEvents(batch);
        batch.length = 0;
      }
    }
    await store.close();
  } finally {
    database.close();
  }
}

/** One JSON request to a server; the answer's status and parsed body (null when not JSON). */
export async function requestJson(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: unknown; text: string }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, json, text };
}

/** What a login or a refresh answers. */
export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
}

/** The token pair of a login or refresh answer, or null when it is not one. */
export function tokenPair(json: unknown): TokenPair | null {
  if (typeof json !== 'object' || json === null) return null;
  const { access_token: accessToken, refresh_token: refreshToken } = json as Record<
    string,
    unknown
  >;
  return typeof accessToken === 'string' && typeof refreshToken === 'string'
    ? { accessToken, refreshToken }
    : null;
}

async function inBatches<T>(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** Registers `bench<prefix><i>` for i < count (argon2id each), a few at a time. */
export async function registerUsers(url: string, prefix: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `bench${prefix}${i}`);
  await inBatches(count, 4, async (i) => {
    const answer = await requestJson(url, 'POST', '/auth/register', {
      username: names[i],
      password: PASSWORD,
    });
    if (answer.status !== 201) {
      throw new Error(
        `POST /auth/register answered ${answer.status}: ${answer.text.slice(0, 300)}`,
      );
    }
  });
  return names;
}

/** `count` logins over HTTP, spread over `users`, a few at a time. */
export function loginMany(
  url: string,
  users: readonly string[],
  count: number,
): Promise<TokenPair[]> {
  return inBatches(count, 4, async (i) => {
    const answer = await requestJson(url, 'POST', '/auth/login', {
      username: users[i % users.length],
      password: PASSWORD,
    });
    const pair = tokenPair(answer.json);
    if (answer.status !== 200 || pair === null) {
      throw new Error(`POST /auth/login answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    }
    return pair;
  });
}

/** How many live revocation events the server has loaded, from `GET /revocations`. */
export async function liveRevocations(url: string): Promise<number | null> {
  try {
    const answer = await requestJson(url, 'GET', '/revocations');
    const events = (answer.json as { events?: unknown } | null)?.events;
    return answer.status === 200 && Array.isArray(events) ? events.length : null;
  } catch {
    return null;
  }
}

/**
 * `count` access tokens as the server would sign them: the claims of `model` (one of its own
 * tokens) with a fresh `jti` each, signed by the key that signed `model`, taken from the key ring
 * the server sealed in its SQLite database (unsealed with the keys secret it was given, or the one
 * it keeps in its data directory). Each verifies on the server and none is in its cache.
 */
export async function mintTokens(
  dataDir: string,
  keysSecret: string,
  model: string,
  count: number,
): Promise<string[]> {
  const { header, claims } = decodeUnverified(model);
  const database = openSqliteDatabase(join(dataDir, DATABASE_FILE));
  let row: { revision: number; sealed: string } | null;
  try {
    row = await createSqliteKeyRingStore({ database }).load();
  } finally {
    database.close();
  }
  if (row === null) throw new Error('the server has no key ring in its database');
  const secrets = [keysSecret];
  try {
    secrets.push(readFileSync(join(dataDir, 'keys-secret'), 'utf8').trim());
  } catch {
    // Only the given secret, then.
  }
  let lastError: unknown;
  for (const secret of secrets) {
    try {
      const ring = unsealKeyRing(row.sealed, secret, { revision: row.revision });
      const key = typeof header.kid === 'string' ? ring.get(header.kid) : ring.active;
      if (key === undefined) throw new Error(`no key ${String(header.kid)} in the ring`);
      const typ = typeof header.typ === 'string' ? header.typ : null;
      const jtis = randomIds(count);
      const tokens: string[] = [];
      for (const jti of jtis) tokens.push(signJwt({ ...claims, jti } as JwtClaims, key, { typ }));
      return tokens;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** Drops a PostgreSQL schema and everything in it. */
export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Deletes every Redis key under `prefix` (SCAN + UNLINK, never FLUSHALL). */
export async function removeKeys(url: string, prefix: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) removed += await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return removed;
}

/**
 * A blocklist of `count` random jtis and the `extra` ones: `prefix + jti` set for each, with a TTL
 * in case the clean-up never runs.
 */
export async function seedBlocklist(
  url: string,
  prefix: string,
  count: number,
  ttlSeconds: number,
  extra: readonly string[] = [],
): Promise<void> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  try {
    const jtis = [...randomIds(count), ...extra];
    for (let start = 0; start < jtis.length; start += 5000) {
      const pipeline = client.pipeline();
      for (const jti of jtis.slice(start, start + 5000)) {
        pipeline.set(`${prefix}${jti}`, '1', 'EX', ttlSeconds);
      }
      await pipeline.exec();
    }
  } finally {
    client.disconnect();
  }
}
