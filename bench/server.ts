/**
 * Auth server benchmark (issue 15): `revocable serve` over HTTP, against two peers, in one run.
 *
 * - `GET /auth/me`, with autocannon: the revocable server on SQLite (an EdDSA token, the same one
 *   on every request, so the verification cache hits; 100,000 live revocations in its index,
 *   appended to its log before it starts), against
 *   - peer A: a minimal Fastify app with `@fastify/jwt` (HS256) whose route calls
 *     `request.jwtVerify()` and answers the claims; no revocation at all;
 *   - peer B: the same plus a Redis `GET` of the token's jti per request (a blocklist of 100,000
 *     jtis, ioredis with its default options) before answering.
 *   Targets: revocable >= 1.0x peer A and >= 1.5x peer B in requests per second. A second
 *   revocable row sends a different token on every request (each signed by the server's own key,
 *   unsealed from the key ring in its database, with the claims of one of its tokens and a fresh
 *   jti), so no request hits the cache: the uncached cost. The servers take turns over
 *   BENCH_ROUNDS rounds (each started afresh, the order rotating); each row is the median round.
 * - `POST /auth/login` and `POST /auth/refresh` per second, with autocannon, on SQLite and on
 *   PostgreSQL + Redis: logins cycle over 32 accounts; refreshes chain, each refresh token used
 *   once and its successor put back in a shared queue (more chains than connections, and a chain is
 *   never used by two requests at once). A login is an argon2id verification (about 19 MiB, t=2)
 *   and little else. Keycloak's published sizing is printed next to the figures per server core.
 *
 * Processes: each server runs in a child process of its own (`node`), one at a time; autocannon
 * runs in the bench process. Client and server share the machine's cores (2 on the reference
 * machine), so the CPU each used during the run is printed too (CPU-seconds per second: the
 * server's from `/proc/<pid>/stat`, all its threads; the client's from `process.cpuUsage()`; the
 * rest of the machine's from `/proc/stat`, which holds Redis and PostgreSQL, and any noise).
 *
 * Settings (environment): BENCH_SECONDS (10) per measured run after BENCH_WARMUP_SECONDS (2) of
 * warm-up with the same settings; BENCH_ROUNDS (3) for `GET /auth/me`; BENCH_CONNECTIONS (50) for
 * `GET /auth/me`, BENCH_AUTH_CONNECTIONS (32) for logins and refreshes; pipelining 1.
 * DATABASE_URL (postgres://postgres@127.0.0.1:5432/test), REDIS_URL (redis://127.0.0.1:6379);
 * BENCH_SERVER_CLI, the server's CLI (default dist/cli/main.js: build it first with
 * `npx tsc -p tsconfig.build.json`). A server that cannot start is reported in a note, and the
 * rest still runs.
 *
 * Clean-up, whatever fails (SIGINT and SIGTERM included): every child process is stopped (and
 * killed when the bench exits), the PostgreSQL schema (`bench_server_<random>`) dropped, the Redis
 * keys under the run's random prefixes deleted (SCAN + UNLINK), the temporary data directories
 * removed.
 *
 * Run it after both builds: `node build/bench/index.js server [case filter...] [--md]`; the filter
 * matches the case or the server (`me`, `login`, `refresh`, `peer`, `PostgreSQL`...).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';
import { decodeUnverified } from '../src/jwt/decode.js';
import {
  formatOps,
  progress,
  type ResultRow,
  type SuiteOptions,
  type SuiteResult,
} from './harness.js';
import { abortLoad, type LoadResult, type LoadSpec, measureLoad } from './server/load.js';
import { type ServerProcess, settle, startProcess } from './server/processes.js';
import {
  cleanEnv,
  dropSchema,
  liveRevocations,
  loginMany,
  mintTokens,
  PASSWORD,
  registerUsers,
  removeKeys,
  requestJson,
  seedBlocklist,
  seedSqliteRevocations,
  startRevocable,
  tokenPair,
} from './server/revocable.js';

export const name = 'server';

function envNumber(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${variable} must be a number`);
  return value;
}

const SECONDS = envNumber('BENCH_SECONDS', 10);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50);
const ROUNDS = Math.max(1, Math.round(envNumber('BENCH_ROUNDS', 3)));
const AUTH_CONNECTIONS = envNumber('BENCH_AUTH_CONNECTIONS', 32);
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Live revocations in the revocable server's index, and jtis in peer B's blocklist. */
const REVOKED = 100_000;
/** Accounts the logins cycle over. */
const LOGIN_USERS = 32;
/** Refresh chains kept, per connection at least. */
const CHAINS_PER_CONNECTION = 4;
/** Distinct tokens per second of the uncached run budgeted for (more than the server can take). */
const UNCACHED_TOKENS_PER_SECOND = 12_000;

/** Keycloak's published sizing (per vCPU), for scale. */
const KEYCLOAK = {
  url: 'https://www.keycloak.org/high-availability/concepts-memory-and-cpu-sizing',
  refreshesPerVcpu: 120,
  loginsPerVcpu: 15,
};

const PEER_SCRIPT = fileURLToPath(new URL('./server/peer.js', import.meta.url));
const PEER_READY = /peer listening on (http:\/\/\S+)/;
const PEER_ISSUER = 'http://127.0.0.1:3000';
const PEER_AUDIENCE = 'revocable';

const ME = 'GET /auth/me';
const LOGIN = 'POST /auth/login';
const REFRESH = 'POST /auth/refresh';

const PEER_A = 'peer A (@fastify/jwt, HS256)';
const PEER_B = 'peer B (peer A + Redis GET)';
const CACHED = 'revocable (same token)';
const UNCACHED = 'revocable (new token each request)';
const SQLITE = 'revocable (SQLite)';
const CLUSTER = 'revocable (PostgreSQL + Redis)';

interface Measured {
  readonly group: string;
  readonly server: string;
  readonly result: LoadResult;
  /** Across the rounds for GET /auth/me, across the seconds of the run otherwise. */
  readonly spread: number;
  readonly note: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function hex(): string {
  return randomBytes(5).toString('hex');
}

function ms(value: number): string {
  return value.toFixed(2);
}

function cores(value: number | null): string {
  return value === null ? '-' : value.toFixed(2);
}

function perCore(result: LoadResult): number | null {
  return result.serverCores === null || result.serverCores <= 0
    ? null
    : result.rps / result.serverCores;
}

function summary(result: LoadResult): string {
  const codes = Object.entries(result.statuses)
    .map(([code, count]) => `${code}: ${count.toLocaleString('en-US')}`)
    .join(', ');
  const bad = result.non2xx + result.errors;
  return (
    `${result.ok.toLocaleString('en-US')} answers in ${result.seconds.toFixed(1)} s` +
    (codes === '' ? '' : ` (${codes})`) +
    (bad > 0
      ? `; WARNING ${result.non2xx} non-2xx and ${result.errors} connection errors, not counted`
      : '')
  );
}

/** A queue of strings (refresh tokens) with an index for a head: shift is O(1). */
class Queue {
  #items: string[] = [];
  #head = 0;
  get size(): number {
    return this.#items.length - this.#head;
  }
  push(item: string): void {
    this.#items.push(item);
  }
  shift(): string | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function loginSpec(users: readonly string[], refreshTokens: Queue, cap: number): LoadSpec {
  const bodies = users.map((username) => JSON.stringify({ username, password: PASSWORD }));
  let next = 0;
  return {
    connections: AUTH_CONNECTIONS,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    method: 'POST',
    path: '/auth/login',
    headers: JSON_HEADERS,
    setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length]! }),
    onResponse: (status, body) => {
      if (status !== 200 || refreshTokens.size >= cap) return;
      const pair = tokenPair(JSON.parse(body));
      if (pair !== null) refreshTokens.push(pair.refreshToken);
    },
  };
}

function refreshSpec(refreshTokens: Queue): LoadSpec {
  return {
    connections: AUTH_CONNECTIONS,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    method: 'POST',
    path: '/auth/refresh',
    headers: JSON_HEADERS,
    setupRequest: (request) => ({
      ...request,
      // An exhausted queue (every chain broken) sends a token that cannot work: a 401, counted.
      body: JSON.stringify({ refresh_token: refreshTokens.shift() ?? 'exhausted' }),
    }),
    onResponse: (status, body) => {
      if (status !== 200) return;
      const pair = tokenPair(JSON.parse(body));
      if (pair === null) return;
      refreshTokens.push(pair.refreshToken);
    },
  };
}

async function expectStatus(server: ServerProcess, token: string, status: number): Promise<void> {
  const answer = await requestJson(server.url, 'GET', '/auth/me', undefined, token);
  if (answer.status !== status) {
    throw new Error(
      `${server.name}: GET /auth/me answered ${answer.status}, not ${status}: ${answer.text.slice(0, 300)}`,
    );
  }
}

/** One run of a round: a row of the table. */
interface RoundRun {
  readonly label: string;
  /** Made again for each round (a pool of tokens starts over on a fresh server). */
  readonly spec: () => LoadSpec;
  /** The row's note, from the median round's result. */
  readonly note: (result: LoadResult) => string;
}

/** A server of the `GET /auth/me` rounds: started afresh in each round, then its runs. */
interface RoundMember {
  readonly name: string;
  start(): Promise<ServerProcess>;
  check(server: ServerProcess): Promise<void>;
  readonly runs: readonly RoundRun[];
}

/** The median of the rounds by req/s, and the spread of req/s across them. */
function medianRound(results: readonly LoadResult[]): { result: LoadResult; spread: number } {
  const sorted = [...results].sort((a, b) => a.rps - b.rps);
  const result = sorted[(sorted.length - 1) >> 1]!;
  const spread =
    sorted.length > 1 && result.rps > 0
      ? (sorted[sorted.length - 1]!.rps - sorted[0]!.rps) / result.rps
      : result.spread;
  return { result, spread };
}

export async function run(options: SuiteOptions = {}): Promise<SuiteResult> {
  const filter = options.filter ?? [];
  const wants = (group: string, server: string): boolean =>
    filter.length === 0 ||
    filter.some((term) => `${group} ${server}`.toLowerCase().includes(term.toLowerCase()));
  const wantAuth = (server: string): boolean => wants(LOGIN, server) || wants(REFRESH, server);

  const measured: Measured[] = [];
  const notes: string[] = [];
  const loadStart = loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');
  const cleanups: { what: string; fn: () => Promise<unknown> | unknown }[] = [];
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = true;
    progress(`server: ${signal}, stopping and cleaning up`);
    abortLoad();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const section = async (what: string, fn: () => Promise<void>): Promise<boolean> => {
    if (interrupted) return false;
    try {
      await fn();
      return true;
    } catch (error) {
      if (interrupted) return false;
      const text = message(error).split('\n').slice(0, 6).join(' | ');
      notes.push(`${what}: not measured, ${text}`);
      progress(`server: ${what} failed: ${text}`);
      return false;
    }
  };
  const measure = async (
    server: ServerProcess,
    group: string,
    label: string,
    spec: LoadSpec,
  ): Promise<LoadResult> => {
    progress(
      `server: ${group}, ${label}: ${spec.connections} connections, ${spec.warmupSeconds} s warm-up + ${spec.seconds} s`,
    );
    await settle(server);
    const result = await measureLoad(server, spec);
    if (result.ok === 0) throw new Error(`${group}, ${label}: no 2xx answer; ${summary(result)}`);
    return result;
  };
  const started = async (start: Promise<ServerProcess>): Promise<ServerProcess> => {
    const server = await start;
    cleanups.push({ what: `stop ${server.name}`, fn: () => server.stop() });
    return server;
  };
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'revocable-bench-server-'));
    cleanups.push({
      what: `remove ${dir}`,
      fn: () => rmSync(dir, { recursive: true, force: true }),
    });
    return dir;
  };
  const meSpec = (headers: Record<string, string>): LoadSpec => ({
    connections: CONNECTIONS,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    path: '/auth/me',
    headers,
  });

  try {
    // --- Preparation of the GET /auth/me rounds.
    const members: RoundMember[] = [];
    const wantPeers = wants(ME, PEER_A) || wants(ME, PEER_B);
    if (wantPeers) {
      await section('peers', async () => {
        const secret = randomBytes(32).toString('base64url');
        const sign = (jti: string): string =>
          jwt.sign({ sub: randomUUID(), sid: randomBytes(16).toString('base64url'), jti }, secret, {
            algorithm: 'HS256',
            issuer: PEER_ISSUER,
            audience: PEER_AUDIENCE,
            expiresIn: 600,
            header: { alg: 'HS256', typ: 'at+jwt' },
          });
        const token = sign(randomBytes(16).toString('base64url'));
        const peerEnv = { ...cleanEnv(), PEER_JWT_SECRET: secret, PEER_ISSUER, PEER_AUDIENCE };
        const authorization = { authorization: `Bearer ${token}` };
        if (wants(ME, PEER_A)) {
          members.push({
            name: 'peer A',
            start: () =>
              startProcess({
                name: 'peer A',
                args: [PEER_SCRIPT, 'jwt'],
                env: peerEnv,
                ready: PEER_READY,
              }),
            check: (server) => expectStatus(server, token, 200),
            runs: [
              {
                label: PEER_A,
                spec: () => meSpec(authorization),
                note: (result) =>
                  `${PEER_A}: Fastify 5 + @fastify/jwt (fast-jwt, no verification cache), HS256, iss/aud/exp checked; no revocation. ${summary(result)}.`,
              },
            ],
          });
        }
        if (wants(ME, PEER_B)) {
          const prefix = `revocable-bench-server:${hex()}:blocklist:`;
          cleanups.push({
            what: `delete the Redis keys ${prefix}*`,
            fn: () => removeKeys(REDIS_URL, prefix),
          });
          const revokedJti = randomBytes(16).toString('base64url');
          progress(`server: peer B: ${REVOKED.toLocaleString('en-US')} blocklist keys in Redis`);
          await seedBlocklist(REDIS_URL, prefix, REVOKED, 3600, [revokedJti]);
          const revokedToken = sign(revokedJti);
          members.push({
            name: 'peer B',
            start: () =>
              startProcess({
                name: 'peer B',
                args: [PEER_SCRIPT, 'redis'],
                env: { ...peerEnv, PEER_REDIS_URL: REDIS_URL, PEER_REDIS_PREFIX: prefix },
                ready: PEER_READY,
              }),
            check: async (server) => {
              await expectStatus(server, token, 200);
              await expectStatus(server, revokedToken, 401);
            },
            runs: [
              {
                label: PEER_B,
                spec: () => meSpec(authorization),
                note: (result) =>
                  `${PEER_B}: peer A plus one Redis GET of the jti per request (ioredis, default options: no auto-pipelining), ${REVOKED.toLocaleString('en-US')} jtis in the blocklist, Redis on this machine. ${summary(result)}.`,
              },
            ],
          });
        }
      });
    }

    // revocable on SQLite: one data directory for every start (the rounds, then the logins).
    const wantCached = wants(ME, CACHED);
    const wantUncached = wants(ME, UNCACHED);
    const wantSqliteAuth = wantAuth(SQLITE);
    const sqlite = {
      dataDir: '',
      keysSecret: randomBytes(32).toString('base64url'),
      users: [] as string[],
      loaded: [] as (number | null)[],
    };
    const startSqlite = (): Promise<ServerProcess> =>
      started(
        startRevocable({
          name: 'revocable (SQLite)',
          dataDir: sqlite.dataDir,
          keysSecret: sqlite.keysSecret,
        }),
      );
    let sqliteReady = false;
    if (wantCached || wantUncached || wantSqliteAuth) {
      sqliteReady = await section('revocable on SQLite', async () => {
        sqlite.dataDir = tempDir();
        if (wantCached || wantUncached) {
          progress(`server: ${REVOKED.toLocaleString('en-US')} revocations into the SQLite log`);
          await seedSqliteRevocations(sqlite.dataDir, REVOKED);
        }
        const server = await startSqlite();
        sqlite.users = await registerUsers(server.url, 's', wantSqliteAuth ? LOGIN_USERS : 1);
        let token = '';
        let tokens: string[] = [];
        // A login's access token and, for the uncached rows, tokens minted on its model; again
        // whenever they would expire before a round ends (a long BENCH_SECONDS).
        let expires = 0;
        const renew = async (at: ServerProcess): Promise<void> => {
          const margin = 2 * (SECONDS + WARMUP_SECONDS) + 60;
          if (expires - Date.now() / 1000 > margin) return;
          const [pair] = await loginMany(at.url, sqlite.users, 1);
          token = pair!.accessToken;
          await expectStatus(at, token, 200);
          const exp = decodeUnverified(token).claims.exp;
          expires = typeof exp === 'number' ? exp : 0;
          if (wantUncached) {
            const count = Math.ceil((SECONDS + WARMUP_SECONDS) * UNCACHED_TOKENS_PER_SECOND);
            progress(
              `server: signing ${count.toLocaleString('en-US')} tokens with the server's key`,
            );
            tokens = await mintTokens(sqlite.dataDir, sqlite.keysSecret, token, count);
            await expectStatus(at, tokens[0]!, 200);
          }
        };
        await renew(server);
        await server.stop();
        if (!(wantCached || wantUncached)) return;
        const revocations = (): string => {
          const counts = sqlite.loaded.map((n) =>
            n === null ? 'unknown' : n.toLocaleString('en-US'),
          );
          return `live revocation events in the server's index at each start (GET /revocations): ${counts.join(', ')}`;
        };
        let sent = 0;
        const runs: RoundRun[] = [];
        if (wantCached) {
          runs.push({
            label: CACHED,
            spec: () => meSpec({ authorization: `Bearer ${token}` }),
            note: (result) =>
              `${CACHED}: the server's EdDSA access token, the same on every request (so a verification cache, if the server has one, always hits); ${revocations()}. ${summary(result)}.`,
          });
        }
        if (wantUncached) {
          runs.push({
            label: UNCACHED,
            spec: () => {
              // A fresh server has an empty cache: each round sends the pool from its start.
              let next = 0;
              return {
                ...meSpec({}),
                setupRequest: (request) => {
                  sent = Math.max(sent, next + 1);
                  return {
                    ...request,
                    headers: {
                      ...request.headers,
                      authorization: `Bearer ${tokens[next++ % tokens.length]}`,
                    },
                  };
                },
              };
            },
            note: (result) => {
              const wrapped =
                sent > tokens.length
                  ? ` WARNING: a round sent ${sent.toLocaleString('en-US')} requests, more than the ${tokens.length.toLocaleString('en-US')} tokens: some repeated a token and may have hit the cache.`
                  : ` At most ${sent.toLocaleString('en-US')} requests in a round (warm-up included), each with a token of its own.`;
              return `${UNCACHED}: a different EdDSA token on every request, each with the claims of a login's token and a fresh jti, signed with the server's own key (unsealed from its key ring): no cache hit, a signature check each; autocannon rebuilds each request (more client CPU).${wrapped} ${summary(result)}.`;
            },
          });
        }
        members.push({
          name: 'revocable on SQLite',
          start: startSqlite,
          check: async (server) => {
            sqlite.loaded.push(await liveRevocations(server.url));
            await renew(server);
            await expectStatus(server, token, 200);
          },
          runs,
        });
      });
    }

    // --- The GET /auth/me rounds: every server in turn, the order rotating from round to round.
    const rounds = new Map<string, LoadResult[]>();
    const failed = new Set<string>();
    for (let round = 0; round < ROUNDS && members.length > 0; round++) {
      for (let k = 0; k < members.length; k++) {
        const member = members[(round + k) % members.length]!;
        if (failed.has(member.name)) continue;
        const ok = await section(`${member.name} (round ${round + 1})`, async () => {
          progress(`server: round ${round + 1} of ${ROUNDS}: ${member.name}`);
          const server = await started(member.start());
          await member.check(server);
          for (const each of member.runs) {
            const result = await measure(server, ME, each.label, each.spec());
            rounds.set(each.label, [...(rounds.get(each.label) ?? []), result]);
          }
          await server.stop();
        });
        if (!ok) failed.add(member.name);
      }
    }
    for (const member of members) {
      for (const each of member.runs) {
        const results = rounds.get(each.label);
        if (results === undefined || results.length === 0) continue;
        const { result, spread } = medianRound(results);
        const all = results.map((entry) => formatOps(entry.rps)).join(', ');
        measured.push({
          group: ME,
          server: each.label,
          result,
          spread,
          note: `${each.note(result)} Rounds: ${all} req/s.`,
        });
      }
    }

    // --- Logins and refreshes.
    if (wantSqliteAuth && sqliteReady) {
      await section('revocable on SQLite, logins and refreshes', async () => {
        const server = await startSqlite();
        await authRuns(
          server,
          sqlite.users,
          SQLITE,
          'SQLite in the server process (its CPU counted in the server cores)',
        );
        await server.stop();
      });
    }
    if (wantAuth(CLUSTER)) {
      await section('revocable on PostgreSQL + Redis', async () => {
        const id = hex();
        const schema = `bench_server_${id}`;
        const redisPrefix = `revocable-bench-server:${id}:`;
        cleanups.push({
          what: `drop schema ${schema}`,
          fn: () => dropSchema(DATABASE_URL, schema),
        });
        cleanups.push({
          what: `delete the Redis keys ${redisPrefix}*`,
          fn: () => removeKeys(REDIS_URL, redisPrefix),
        });
        const server = await started(
          startRevocable({
            name: 'revocable (PostgreSQL + Redis)',
            dataDir: tempDir(),
            keysSecret: randomBytes(32).toString('base64url'),
            cluster: { databaseUrl: DATABASE_URL, schema, redisUrl: REDIS_URL, redisPrefix },
          }),
        );
        const users = await registerUsers(server.url, 'p', LOGIN_USERS);
        await authRuns(
          server,
          users,
          CLUSTER,
          `PostgreSQL (schema ${schema}) and Redis on this machine, their CPU not counted in the server cores`,
        );
        await server.stop();
      });
    }
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup.fn();
      } catch (error) {
        notes.push(`clean-up: could not ${cleanup.what}: ${message(error)}`);
        progress(`server: could not ${cleanup.what}: ${message(error)}`);
      }
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupted)
    throw new Error('server benchmark interrupted (everything it started is stopped)');

  async function authRuns(
    server: ServerProcess,
    users: readonly string[],
    label: string,
    where: string,
  ): Promise<void> {
    const chains = AUTH_CONNECTIONS * CHAINS_PER_CONNECTION;
    const refreshTokens = new Queue();
    if (wants(LOGIN, label)) {
      const result = await measure(server, LOGIN, label, loginSpec(users, refreshTokens, 10_000));
      measured.push({
        group: LOGIN,
        server: label,
        result,
        spread: result.spread,
        note: `${label}, logins: ${users.length} accounts in turn (the server runs the logins of one account one at a time); each login is an argon2id verification (about 19 MiB, t=2), which is nearly all of its cost, then a session written and a token pair signed; ${where}. ${summary(result)}.`,
      });
    }
    if (!wants(REFRESH, label)) return;
    if (refreshTokens.size < chains) {
      progress(
        `server: ${label}: ${chains - refreshTokens.size} more logins for the refresh chains`,
      );
      const pairs = await loginMany(server.url, users, chains - refreshTokens.size);
      for (const pair of pairs) refreshTokens.push(pair.refreshToken);
    }
    const startChains = refreshTokens.size;
    const result = await measure(server, REFRESH, label, refreshSpec(refreshTokens));
    measured.push({
      group: REFRESH,
      server: label,
      result,
      spread: result.spread,
      note: `${label}, refreshes: ${startChains.toLocaleString('en-US')} refresh chains over ${AUTH_CONNECTIONS} connections, each refresh token used once (a compare-and-set of the session's refresh hash in the store, then a new EdDSA access token); ${where}. ${summary(result)}.`,
    });
  }

  // --- The table.
  const peerA = measured.find((entry) => entry.server === PEER_A)?.result.rps;
  const peerB = measured.find((entry) => entry.server === PEER_B)?.result.rps;
  const ratioText = (entry: Measured): string => {
    const parts: string[] = [];
    if (entry.group === ME) {
      if (peerA !== undefined) parts.push(`${(entry.result.rps / peerA).toFixed(2)}x A`);
      if (peerB !== undefined && entry.server !== PEER_A && entry.server !== PEER_B) {
        parts.push(`${(entry.result.rps / peerB).toFixed(2)}x B`);
      }
    } else {
      const each = perCore(entry.result);
      const keycloak = entry.group === LOGIN ? KEYCLOAK.loginsPerVcpu : KEYCLOAK.refreshesPerVcpu;
      if (each !== null) parts.push(`${(each / keycloak).toFixed(1)}x Keycloak`);
    }
    return parts.length === 0 ? '-' : parts.join(', ');
  };
  const tableRows: string[][] = [];
  const rows: ResultRow[] = [];
  for (const group of [ME, LOGIN, REFRESH]) {
    const entries = measured.filter((entry) => entry.group === group);
    if (entries.length === 0) continue;
    const base = group === ME ? peerA : entries[0]!.result.rps;
    for (const entry of entries) {
      const { result } = entry;
      const each = perCore(result);
      tableRows.push([
        `${group}: ${entry.server}`,
        formatOps(result.rps),
        ms(result.p50),
        ms(result.p99),
        cores(result.serverCores),
        cores(result.clientCores),
        cores(result.otherCores),
        each === null ? '-' : formatOps(each),
        ratioText(entry),
      ]);
      rows.push({
        group,
        library: entry.server,
        opsPerSec: result.rps,
        spread: entry.spread,
        ratio: base === undefined || base <= 0 ? null : result.rps / base,
      });
    }
    if (group !== ME) {
      const perVcpu = group === LOGIN ? KEYCLOAK.loginsPerVcpu : KEYCLOAK.refreshesPerVcpu;
      tableRows.push([
        `${group}: Keycloak's published sizing (not run here)`,
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        String(perVcpu),
        '-',
      ]);
    }
  }

  const machineCores = cpus().length;
  const targets: string[] = [];
  const cached = measured.find((entry) => entry.server === CACHED)?.result.rps;
  if (cached !== undefined && peerA !== undefined) {
    const value = cached / peerA;
    targets.push(`>= 1.0x peer A: ${value.toFixed(2)}x, ${value >= 1 ? 'met' : 'NOT met'}`);
  }
  if (cached !== undefined && peerB !== undefined) {
    const value = cached / peerB;
    targets.push(`>= 1.5x peer B: ${value.toFixed(2)}x, ${value >= 1.5 ? 'met' : 'NOT met'}`);
  }
  // The same ratios per server core: less sensitive to other work on the machine than req/s.
  const coreOf = (label: string): number | null => {
    const entry = measured.find((each) => each.server === label);
    return entry === undefined ? null : perCore(entry.result);
  };
  const [cachedCore, peerACore, peerBCore] = [coreOf(CACHED), coreOf(PEER_A), coreOf(PEER_B)];
  if (cachedCore !== null && peerACore !== null && peerBCore !== null) {
    targets.push(
      `per server core (CPU per request, less sensitive to other work on the machine): ${(cachedCore / peerACore).toFixed(2)}x peer A, ${(cachedCore / peerBCore).toFixed(2)}x peer B`,
    );
  }
  return {
    suite: 'server',
    title: 'Auth server over HTTP: GET /auth/me against two peers; logins and refreshes per second',
    baseline: PEER_A,
    rows,
    table: {
      header: [
        'case',
        'req/s',
        'p50 ms',
        'p99 ms',
        'server cores',
        'client cores',
        'other cores',
        'req/s per server core',
        'ratio',
      ],
      rows: tableRows,
    },
    notes: [
      `Client and server share this machine's ${machineCores} logical CPUs (and whatever else runs on it): autocannon runs in the bench process, each server in a node child process of its own, one server at a time; "server cores" and "client cores" are the CPU-seconds each used per second of the measured run (the server's from /proc, all its threads), "other cores" the rest of the machine's busy CPU then (/proc/stat): Redis and PostgreSQL where a server uses them, and any other work on the machine, which skews a row. Load average at the start of the suite: ${loadStart}; at the end: ${loadavg()
        .map((value) => value.toFixed(2))
        .join(', ')}.`,
      `autocannon, pipelining 1, ${WARMUP_SECONDS} s warm-up then ${SECONDS} s measured with the same settings (BENCH_WARMUP_SECONDS, BENCH_SECONDS); ${CONNECTIONS} connections for ${ME} (BENCH_CONNECTIONS), ${AUTH_CONNECTIONS} for logins and refreshes (BENCH_AUTH_CONNECTIONS). req/s counts 2xx answers only; latencies are those of the 2xx answers.`,
      `${ME}: ${ROUNDS} round(s) (BENCH_ROUNDS), each starting every server afresh in turn, the order rotating from round to round; each row is the median round, its latencies and CPU that round's.`,
      ...(targets.length > 0 ? [`Targets for ${CACHED}: ${targets.join('; ')}.`] : []),
      ...measured.map((entry) => `${entry.group}, ${entry.note}`),
      `"req/s per server core" is req/s divided by the server's cores; "ratio" for logins and refreshes compares it with Keycloak's published sizing, ${KEYCLOAK.loginsPerVcpu} password logins/s and ${KEYCLOAK.refreshesPerVcpu} refresh-token requests/s per vCPU (${KEYCLOAK.url}); Keycloak's database is sized apart, as PostgreSQL is not counted here, and its logins hash with its own password policy, ours with argon2id.`,
      ...notes,
    ],
  };
}

// Run on its own: node build/bench/server.js [filter...] [--md]
if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatMarkdown, formatTable } = await import('./harness.js');
  const args = process.argv.slice(2);
  const result = await run({ filter: args.filter((arg) => !arg.startsWith('--')) });
  console.log(formatTable(result));
  for (const note of result.notes) console.log(`- ${note}`);
  if (args.includes('--md')) console.log(`\n${formatMarkdown(result)}`);
}
