/**
 * Middleware benchmark (issue 16): revocable's Express and Fastify middleware against no
 * authentication and against the usual stateless JWT middleware with a Redis blocklist, over HTTP.
 *
 * autocannon sends `GET /me` to a small Express 5 app and a small Fastify 5 app; `/me` answers
 * `{ ok: true, sub }` in every variant. Per framework, each variant an app of its own in a child
 * process (bench/http/express-app.ts, bench/http/fastify-app.ts):
 *
 * - no authentication: the same route without middleware (the same headers are sent);
 * - revocable: `revocableExpress(guard).authenticate()`, or the `revocablePlugin` with
 *   `fastify.revocable.authenticate()` as the route's onRequest hook, on
 *   `createTokenGuard({ keys, index, issuer, audience, maxStaleness: 5 })`: an EdDSA key ring (the
 *   public keys), a revocation index (`maxAccessTokenLifetime: '10m'`) holding 100,000 live
 *   revocations (half token, half session revocations) marked fresh every second, as a follower
 *   does. One row sends the same token on every request (the verification cache hits); a second one
 *   a different token on every request (each signed here with the same key, a fresh jti): the
 *   uncached cost, a signature check per request;
 * - the peer: express-jwt 8 (HS256) with an `isRevoked` doing one Redis `GET` of the jti per
 *   request, or @fastify/jwt 10 (HS256) with an onRequest hook doing `request.jwtVerify()` then the
 *   same `GET`; ioredis with its default options, 100,000 jtis in the blocklist, Redis on this
 *   machine;
 * - the asymmetric peer, not a target: the same peer verifying with the issuer's public key instead
 *   of a shared secret, as a resource server that must not hold the signing secret does (ES256 for
 *   express-jwt, whose jsonwebtoken 9 has no EdDSA; EdDSA, revocable's own kind, for
 *   @fastify/jwt). The targets stay on the HS256 peer, the cheapest verification a peer can do.
 *
 * Targets, per framework: revocable (same token) >= 0.85x no authentication and >= 1.5x the peer
 * of the same framework, in requests per second. The apps take turns over BENCH_ROUNDS rounds
 * (each started afresh, the order rotating from round to round); each row of the table is the
 * median round. The targets are judged on paired ratios instead: in each round that measured both
 * rows, revocable's req/s over the other row's, then the median of those per-round ratios. On a
 * shared machine an app's req/s drifts by tens of percent from one minute to the next, so the
 * medians of two rows may come from rounds far apart; two runs of the same round are at most a
 * round apart, and the ratio between them cancels much of that drift (not a burst during one run).
 *
 * Processes and CPU as in the server benchmark (bench/server.ts, whose load generator and process
 * helpers this uses): autocannon runs in the bench process, sharing the machine's cores with the
 * app; the CPU each used during the run is printed (the app's from `/proc/<pid>/stat`, the client's
 * from `process.cpuUsage()`, the rest of the machine's, Redis included, from `/proc/stat`).
 *
 * Settings (environment): BENCH_SECONDS (6) per measured run after BENCH_WARMUP_SECONDS (2) of
 * warm-up with the same settings; BENCH_ROUNDS (5: more, shorter rounds give more pairs for about
 * the same time); BENCH_CONNECTIONS (50); pipelining 1;
 * REDIS_URL (redis://127.0.0.1:6379). An app that cannot start is reported in a note, and the rest
 * still runs.
 *
 * Clean-up, whatever fails (SIGINT and SIGTERM included): every child process is stopped (and
 * killed when the bench exits) and the Redis keys under the run's random prefix deleted (SCAN +
 * UNLINK).
 *
 * Run it after the build: `node build/bench/index.js http [case filter...] [--md]`; the filter
 * matches the framework, the case or its role (`express`, `fastify`, `revocable`, `new token`,
 * `none`, `peer`...).
 */
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import jwt from 'jsonwebtoken';
import { decodeUnverified } from '../src/jwt/decode.js';
import { KeyRing } from '../src/jwt/key-ring.js';
import { createSigner, type Signer } from '../src/jwt/sign.js';
import {
  formatOps,
  median,
  progress,
  type ResultRow,
  type SuiteOptions,
  type SuiteResult,
} from './harness.js';
import { MAX_ACCESS_TOKEN_LIFETIME, READY_LINE, type Variant } from './http/child.js';
import { abortLoad, type LoadResult, type LoadSpec, measureLoad } from './server/load.js';
import { type ServerProcess, settle, startProcess } from './server/processes.js';
import { cleanEnv, removeKeys, requestJson, seedBlocklist } from './server/revocable.js';

export const name = 'http';

function envNumber(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${variable} must be a number`);
  return value;
}

const SECONDS = envNumber('BENCH_SECONDS', 6);
const WARMUP_SECONDS = envNumber('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50);
const ROUNDS = Math.max(1, Math.round(envNumber('BENCH_ROUNDS', 5)));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Live revocations in revocable's index, and jtis in the peers' blocklist. */
const REVOKED = 100_000;
/** Distinct tokens per second of the uncached run budgeted for (more than an app can take). */
const UNCACHED_TOKENS_PER_SECOND = 12_000;
/** The tokens' lifetime: the longest the index allows (`MAX_ACCESS_TOKEN_LIFETIME`). */
const TOKEN_TTL = 600;

/** Targets of revocable (same token), per framework. */
const TARGET_NONE = 0.85;
const TARGET_PEER = 1.5;

const ISSUER = 'https://auth.bench.example';
const AUDIENCE = 'api';
const PATH = '/me';
const READY = new RegExp(`${READY_LINE} (http://\\S+)`);
const INDEX_SIZE = /the revocation index holds (\d+) entries/;

const NONE = 'no authentication';
const CACHED = 'revocable (same token)';
const UNCACHED = 'revocable (new token each request)';

interface Framework {
  /** As printed: `Express 5`. */
  readonly name: string;
  readonly script: string;
  /** The label of its peer's row. */
  readonly peer: string;
  /** What its peer is, for the notes. */
  readonly peerNote: string;
  /** The label of its asymmetric peer's row (informational, not a target). */
  readonly asymmetricPeer: string;
  /** What its asymmetric peer is, for the notes. */
  readonly asymmetricPeerNote: string;
  /** The asymmetric peer's algorithm: its tokens and the public key its app is given. */
  readonly asymmetricAlgorithm: 'ES256' | 'EdDSA';
  /** What its revocable variant is, for the notes. */
  readonly revocableNote: string;
  /** What its apps share, for the notes. */
  readonly appNote: string;
}

const FRAMEWORKS: readonly Framework[] = [
  {
    name: 'Express 5',
    script: fileURLToPath(new URL('./http/express-app.js', import.meta.url)),
    peer: 'express-jwt (HS256) + Redis GET',
    peerNote:
      "express-jwt 8 (jsonwebtoken, no verification cache), HS256, iss/aud/exp checked, and an async isRevoked doing one Redis GET of the token's jti per request",
    asymmetricPeer: 'express-jwt (ES256) + Redis GET',
    asymmetricPeerNote:
      "the peer with the issuer's ES256 public key instead of the HS256 secret (jsonwebtoken 9 has no EdDSA)",
    asymmetricAlgorithm: 'ES256',
    revocableNote: 'revocableExpress(guard).authenticate() as the route middleware',
    appNote: 'Express 5 with its defaults (res.json, an ETag, X-Powered-By) and one error handler',
  },
  {
    name: 'Fastify 5',
    script: fileURLToPath(new URL('./http/fastify-app.js', import.meta.url)),
    peer: '@fastify/jwt (HS256) + Redis GET',
    peerNote:
      "@fastify/jwt 10 (fast-jwt, no verification cache), HS256, iss/aud/exp checked, in an async onRequest hook (request.jwtVerify(), then one Redis GET of the token's jti)",
    asymmetricPeer: '@fastify/jwt (EdDSA) + Redis GET',
    asymmetricPeerNote:
      "the peer with the issuer's EdDSA public key instead of the HS256 secret: revocable's own kind of token",
    asymmetricAlgorithm: 'EdDSA',
    revocableNote:
      'the revocablePlugin with the guard, fastify.revocable.authenticate() as the route onRequest hook',
    appNote: 'Fastify 5, logger off, an async handler returning the object (no response schema)',
  },
];

interface Measured {
  readonly framework: Framework;
  readonly label: string;
  readonly result: LoadResult;
  /** Every round's result, by round index (a round that failed for this row has none). */
  readonly byRound: ReadonlyMap<number, LoadResult>;
  /** (max - min) / median of req/s across the rounds. */
  readonly spread: number;
  readonly note: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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

/**
 * `row`'s figure over `base`'s in each round that measured both, in round order. Both runs of a
 * pair are at most a round apart, so the machine's drift between rounds mostly cancels out of it.
 */
function pairedRatios(
  row: Measured,
  base: Measured,
  figure: (result: LoadResult) => number | null,
): number[] {
  const ratios: number[] = [];
  for (const [round, result] of [...row.byRound].sort(([a], [b]) => a - b)) {
    const other = base.byRound.get(round);
    const value = figure(result);
    const baseValue = other === undefined ? null : figure(other);
    if (value !== null && baseValue !== null && baseValue > 0) ratios.push(value / baseValue);
  }
  return ratios;
}

const rpsOf = (result: LoadResult): number => result.rps;

/** `paired median of 5 rounds: 0.89, 0.62, ...`: the ratios a paired median was taken of. */
function pairedRounds(ratios: readonly number[]): string {
  const list = ratios.map((ratio) => ratio.toFixed(2)).join(', ');
  return `paired median of ${ratios.length} round${ratios.length === 1 ? '' : 's'}: ${list}`;
}

/**
 * The verdict on a target of `row` against `base`, decided on the paired median of req/s (see
 * pairedRatios); the ratio of the row medians is printed beside it, as the table shows it.
 */
function verdict(row: Measured, base: Measured, what: string, target: number): string | null {
  if (base.result.rps <= 0) return null;
  const medians = `ratio of the row medians ${(row.result.rps / base.result.rps).toFixed(2)}x`;
  const ratios = pairedRatios(row, base, rpsOf);
  if (ratios.length === 0) {
    return `${what}: no round measured both rows (${medians}), target >= ${target}x: not judged`;
  }
  const paired = median(ratios);
  const coreRatios = pairedRatios(row, base, perCore);
  // Per core too: a row's req/s may move with the CPU the server got (other tenants), not its cost.
  const core =
    coreRatios.length === 0
      ? ''
      : ` (per server core, paired median${coreRatios.length === ratios.length ? '' : ` of ${coreRatios.length} rounds`} ${median(coreRatios).toFixed(2)}x)`;
  return (
    `${paired.toFixed(2)}x ${what} (${pairedRounds(ratios)}; ${medians}), ` +
    `target >= ${target}x: ${paired >= target ? 'met' : 'NOT met'}${core}`
  );
}

/**
 * No authentication against the peer, paired as the verdicts are: what a middleware that cost
 * nothing would reach against the peer in the same rounds. A target against the peer above it
 * cannot be met on this machine by any middleware, however fast; near it, only by one that costs
 * next to nothing beside the framework's own work on a request.
 */
function ceilingLine(none: Measured | undefined, peer: Measured | undefined): string | null {
  if (none === undefined || peer === undefined) return null;
  const ratios = pairedRatios(none, peer, rpsOf);
  if (ratios.length === 0) return null;
  return (
    `${NONE} against ${peer.label}, the ceiling of any middleware: ${median(ratios).toFixed(2)}x ` +
    `(${pairedRounds(ratios)}); ` +
    `the target against the peer is ${TARGET_PEER}x`
  );
}

/**
 * revocable against the asymmetric peer, paired as the verdicts are, but no target: the targets
 * are on the HS256 peer. What a resource server that holds only the issuer's public key, as
 * revocable's do, would gain.
 */
function asymmetricLine(cached: Measured, peer: Measured | undefined): string | null {
  if (peer === undefined) return null;
  const ratios = pairedRatios(cached, peer, rpsOf);
  if (ratios.length === 0) return null;
  const coreRatios = pairedRatios(cached, peer, perCore);
  return (
    `${CACHED} against ${peer.label}, not a target: ${median(ratios).toFixed(2)}x ` +
    `(${pairedRounds(ratios)}` +
    (coreRatios.length === 0 ? '' : `; per server core ${median(coreRatios).toFixed(2)}x`) +
    ')'
  );
}

function expOf(token: string): number {
  const exp = decodeUnverified(token).claims.exp;
  return typeof exp === 'number' ? exp : 0;
}

/**
 * The tokens of the run, signed again whenever they would expire before a member's runs end (a
 * long BENCH_SECONDS): revocable's EdDSA token and one whose session the index revokes, the pool of
 * the uncached row, and the peers' HS256 token and one whose jti the blocklist holds, and the same
 * two of the asymmetric peers (ES256 with a key of their own, EdDSA with revocable's key).
 */
class Tokens {
  readonly jwks: string;
  readonly secret = randomBytes(32).toString('base64url');
  /** The public keys of the asymmetric peers, in PEM. */
  readonly publicKeys: Readonly<Record<'ES256' | 'EdDSA', string>>;
  readonly #es256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  readonly sub = randomUUID();
  readonly sid = randomBytes(16).toString('base64url');
  readonly revokedSid = randomBytes(16).toString('base64url');
  readonly revokedJti = randomBytes(16).toString('base64url');
  readonly #signer: Signer;
  readonly #authTime = Math.floor(Date.now() / 1000);
  #expires = 0;
  #poolExpires = 0;
  cached = '';
  revokedCached = '';
  hs256 = '';
  revokedHs256 = '';
  /** The asymmetric peers' tokens: accepted, and one whose jti the blocklist holds. */
  asymmetric: Record<'ES256' | 'EdDSA', { ok: string; revoked: string }> = {
    ES256: { ok: '', revoked: '' },
    EdDSA: { ok: '', revoked: '' },
  };
  pool: string[] = [];

  constructor() {
    const ring = KeyRing.generate('EdDSA');
    this.jwks = JSON.stringify(ring.jwks());
    const [jwk] = ring.jwks().keys;
    this.publicKeys = {
      ES256: this.#es256.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      EdDSA: createPublicKey({ key: { ...jwk }, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString(),
    };
    this.#signer = createSigner({ keys: ring, issuer: ISSUER, audience: AUDIENCE, ttl: TOKEN_TTL });
  }

  // The claims of a token of revocable's sessions (iss, aud, iat, exp and jti added by the signer).
  #claims(sid: string) {
    return { sub: this.sub, sid, auth_time: this.#authTime, sgen: 0 };
  }

  #hs256(jti: string): string {
    return jwt.sign({ ...this.#claims(this.sid), jti }, this.secret, {
      algorithm: 'HS256',
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: TOKEN_TTL,
      header: { alg: 'HS256', typ: 'at+jwt' },
    });
  }

  #es256Token(jti: string): string {
    return jwt.sign({ ...this.#claims(this.sid), jti }, this.#es256.privateKey, {
      algorithm: 'ES256',
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: TOKEN_TTL,
      header: { alg: 'ES256', typ: 'at+jwt' },
    });
  }

  /** Signs again what would expire within `margin` seconds; the pool only when `withPool`. */
  renew(margin: number, withPool: boolean): void {
    const now = Date.now() / 1000;
    if (this.#expires - now <= margin) {
      this.cached = this.#signer.sign(this.#claims(this.sid));
      this.revokedCached = this.#signer.sign(this.#claims(this.revokedSid));
      this.hs256 = this.#hs256(randomBytes(16).toString('base64url'));
      this.revokedHs256 = this.#hs256(this.revokedJti);
      this.asymmetric = {
        ES256: {
          ok: this.#es256Token(randomBytes(16).toString('base64url')),
          revoked: this.#es256Token(this.revokedJti),
        },
        EdDSA: {
          ok: this.#signer.sign({
            ...this.#claims(this.sid),
            jti: randomBytes(16).toString('base64url'),
          }),
          revoked: this.#signer.sign({ ...this.#claims(this.sid), jti: this.revokedJti }),
        },
      };
      this.#expires = Math.min(
        expOf(this.cached),
        expOf(this.hs256),
        expOf(this.asymmetric.ES256.ok),
        expOf(this.asymmetric.EdDSA.ok),
      );
    }
    if (withPool && this.#poolExpires - now <= margin) {
      const count = Math.ceil((SECONDS + WARMUP_SECONDS) * UNCACHED_TOKENS_PER_SECOND);
      progress(`http: signing ${count.toLocaleString('en-US')} EdDSA tokens for the uncached row`);
      const pool: string[] = new Array<string>(count);
      for (let i = 0; i < count; i++) pool[i] = this.#signer.sign(this.#claims(this.sid));
      this.pool = pool;
      this.#poolExpires = expOf(pool[0]!);
    }
  }
}

async function expectAnswer(
  server: ServerProcess,
  token: string,
  status: number,
  sub?: string,
): Promise<void> {
  const answer = await requestJson(server.url, 'GET', PATH, undefined, token);
  const body = answer.json as { ok?: unknown; sub?: unknown } | null;
  if (answer.status !== status || (sub !== undefined && (body?.ok !== true || body.sub !== sub))) {
    throw new Error(
      `${server.name}: GET ${PATH} answered ${answer.status} ${answer.text.slice(0, 300)}, not ${status}${sub === undefined ? '' : ` with sub ${sub}`}`,
    );
  }
}

/** One run of a member: a row of the table. */
interface MemberRun {
  readonly label: string;
  /** Made again for each round (the uncached pool starts over on a fresh app). */
  readonly spec: () => LoadSpec;
  readonly note: (result: LoadResult) => string;
}

/** An app of the rounds: started afresh in each round, then its runs. */
interface Member {
  readonly name: string;
  readonly framework: Framework;
  readonly variant: Variant;
  readonly runs: readonly MemberRun[];
  check(server: ServerProcess): Promise<void>;
}

export async function run(options: SuiteOptions = {}): Promise<SuiteResult> {
  const filter = options.filter ?? [];
  // A term matches the framework, the row's label, or its role (`none`, `peer`).
  const wants = (framework: Framework, label: string): boolean => {
    const role =
      label === NONE
        ? 'none'
        : label === framework.peer
          ? 'peer'
          : label === framework.asymmetricPeer
            ? 'asymmetric peer'
            : '';
    const text = `${framework.name} ${label} ${role}`.toLowerCase();
    return filter.length === 0 || filter.some((term) => text.includes(term.toLowerCase()));
  };

  const measured: Measured[] = [];
  const notes: string[] = [];
  const loadStart = loadavg()
    .map((value) => value.toFixed(2))
    .join(', ');
  const cleanups: { what: string; fn: () => Promise<unknown> | unknown }[] = [];
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = true;
    progress(`http: ${signal}, stopping and cleaning up`);
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
      progress(`http: ${what} failed: ${text}`);
      return false;
    }
  };

  const tokens = new Tokens();
  const indexSizes: string[] = [];
  let sent = 0;
  const meSpec = (headers: Record<string, string>): LoadSpec => ({
    connections: CONNECTIONS,
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    path: PATH,
    headers,
  });
  const bearer = (token: string): Record<string, string> => ({
    authorization: `Bearer ${token}`,
  });

  try {
    // --- The members: per framework, the apps of the rows asked for.
    const members: Member[] = [];
    let wantPool = false;
    let blocklistPrefix: string | null = null;
    for (const framework of FRAMEWORKS) {
      if (wants(framework, NONE)) {
        members.push({
          name: `${framework.name}, ${NONE}`,
          framework,
          variant: 'none',
          check: (server) => expectAnswer(server, tokens.cached, 200, tokens.sub),
          runs: [
            {
              label: NONE,
              // The same headers as revocable's cached row: only the middleware differs.
              spec: () => meSpec(bearer(tokens.cached)),
              note: (result) =>
                `${NONE}: the route alone (the Authorization header of revocable's token sent all the same). ${summary(result)}.`,
            },
          ],
        });
      }
      const runs: MemberRun[] = [];
      if (wants(framework, CACHED)) {
        runs.push({
          label: CACHED,
          spec: () => meSpec(bearer(tokens.cached)),
          note: (result) =>
            `${CACHED}: ${framework.revocableNote}; an EdDSA token with the claims of revocable's sessions (sub, sid, jti, auth_time, sgen, iss, aud, iat, exp), the same on every request, so the verification cache hits. ${summary(result)}.`,
        });
      }
      if (wants(framework, UNCACHED)) {
        wantPool = true;
        runs.push({
          label: UNCACHED,
          spec: () => {
            // A fresh app has an empty cache: each round sends the pool from its start.
            let next = 0;
            const pool = tokens.pool;
            return {
              ...meSpec({}),
              setupRequest: (request) => {
                sent = Math.max(sent, next + 1);
                return {
                  ...request,
                  headers: {
                    ...request.headers,
                    authorization: `Bearer ${pool[next++ % pool.length]}`,
                  },
                };
              },
            };
          },
          note: (result) =>
            `${UNCACHED}: the same claims with a fresh jti on every request, each token signed once by the same EdDSA key: no cache hit, a signature check each; autocannon rebuilds each request (more client CPU). ${summary(result)}.`,
        });
      }
      if (runs.length > 0) {
        members.push({
          name: `${framework.name}, revocable`,
          framework,
          variant: 'revocable',
          check: async (server) => {
            const size = INDEX_SIZE.exec(server.output())?.[1];
            indexSizes.push(
              `${framework.name} ${size === undefined ? 'unknown' : Number(size).toLocaleString('en-US')}`,
            );
            await expectAnswer(server, tokens.cached, 200, tokens.sub);
            await expectAnswer(server, tokens.revokedCached, 401);
            if (runs.some((each) => each.label === UNCACHED)) {
              await expectAnswer(server, tokens.pool[0]!, 200, tokens.sub);
            }
          },
          runs,
        });
      }
      if (wants(framework, framework.peer)) {
        blocklistPrefix ??= `revocable-bench-http:${randomBytes(5).toString('hex')}:blocklist:`;
        members.push({
          name: `${framework.name}, ${framework.peer}`,
          framework,
          variant: 'redis',
          check: async (server) => {
            await expectAnswer(server, tokens.hs256, 200, tokens.sub);
            await expectAnswer(server, tokens.revokedHs256, 401);
          },
          runs: [
            {
              label: framework.peer,
              spec: () => meSpec(bearer(tokens.hs256)),
              note: (result) =>
                `${framework.peer}: ${framework.peerNote} (ioredis, default options: no auto-pipelining), ${REVOKED.toLocaleString('en-US')} jtis in the blocklist; an HS256 token with the same claims. ${summary(result)}.`,
            },
          ],
        });
      }
      if (wants(framework, framework.asymmetricPeer)) {
        blocklistPrefix ??= `revocable-bench-http:${randomBytes(5).toString('hex')}:blocklist:`;
        const algorithm = framework.asymmetricAlgorithm;
        members.push({
          name: `${framework.name}, ${framework.asymmetricPeer}`,
          framework,
          variant: 'redis-asymmetric',
          check: async (server) => {
            await expectAnswer(server, tokens.asymmetric[algorithm].ok, 200, tokens.sub);
            await expectAnswer(server, tokens.asymmetric[algorithm].revoked, 401);
          },
          runs: [
            {
              label: framework.asymmetricPeer,
              spec: () => meSpec(bearer(tokens.asymmetric[algorithm].ok)),
              note: (result) =>
                `${framework.asymmetricPeer} (not a target): ${framework.asymmetricPeerNote}; otherwise as the peer, the same blocklist; an ${algorithm} token with the same claims. ${summary(result)}.`,
            },
          ],
        });
      }
    }

    const prefix = blocklistPrefix;
    if (prefix !== null) {
      cleanups.push({
        what: `delete the Redis keys ${prefix}*`,
        fn: () => removeKeys(REDIS_URL, prefix),
      });
      const ok = await section('the Redis blocklist', async () => {
        progress(`http: ${REVOKED.toLocaleString('en-US')} blocklist keys in Redis`);
        await seedBlocklist(REDIS_URL, prefix, REVOKED, 3600, [tokens.revokedJti]);
      });
      if (!ok) {
        const left = members.filter(
          (m) => m.variant !== 'redis' && m.variant !== 'redis-asymmetric',
        );
        members.splice(0, members.length, ...left);
      }
    }

    const env = (framework: Framework, variant: Variant): NodeJS.ProcessEnv => {
      const common = {
        ...cleanEnv(),
        HTTP_BENCH_ISSUER: ISSUER,
        HTTP_BENCH_AUDIENCE: AUDIENCE,
        HTTP_BENCH_SUB: tokens.sub,
      };
      if (variant === 'revocable') {
        return {
          ...common,
          HTTP_BENCH_JWKS: tokens.jwks,
          HTTP_BENCH_REVOKED: String(REVOKED),
          HTTP_BENCH_REVOKED_SID: tokens.revokedSid,
        };
      }
      if (variant === 'redis' || variant === 'redis-asymmetric') {
        return {
          ...common,
          HTTP_BENCH_REDIS_URL: REDIS_URL,
          HTTP_BENCH_REDIS_PREFIX: prefix ?? '',
          ...(variant === 'redis'
            ? { HTTP_BENCH_SECRET: tokens.secret }
            : { HTTP_BENCH_PUBLIC_KEY: tokens.publicKeys[framework.asymmetricAlgorithm] }),
        };
      }
      return common;
    };

    // --- The rounds: every app in turn, the order rotating from round to round.
    // Keyed by round index, so that the rows' runs of one round can be paired.
    const rounds = new Map<Member, Map<string, Map<number, LoadResult>>>();
    const failed = new Set<Member>();
    for (let round = 0; round < ROUNDS && members.length > 0; round++) {
      for (let k = 0; k < members.length; k++) {
        const member = members[(round + k) % members.length]!;
        if (failed.has(member)) continue;
        const ok = await section(`${member.name} (round ${round + 1})`, async () => {
          // Every token must outlive this member's runs (and their settling), with a minute spare.
          tokens.renew(
            member.runs.length * (SECONDS + WARMUP_SECONDS + 10) + 60,
            wantPool && member.variant === 'revocable',
          );
          progress(`http: round ${round + 1} of ${ROUNDS}: ${member.name}`);
          const server = await startProcess({
            name: member.name,
            args: [member.framework.script, member.variant],
            env: env(member.framework, member.variant),
            ready: READY,
          });
          cleanups.push({ what: `stop ${member.name}`, fn: () => server.stop() });
          await member.check(server);
          for (const each of member.runs) {
            progress(
              `http: ${member.framework.name}, ${each.label}: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s`,
            );
            await settle(server);
            const result = await measureLoad(server, each.spec());
            if (result.ok === 0)
              throw new Error(`${each.label}: no 2xx answer; ${summary(result)}`);
            const byLabel = rounds.get(member) ?? new Map<string, Map<number, LoadResult>>();
            const byRound = byLabel.get(each.label) ?? new Map<number, LoadResult>();
            byRound.set(round, result);
            byLabel.set(each.label, byRound);
            rounds.set(member, byLabel);
          }
          await server.stop();
        });
        if (!ok) failed.add(member);
      }
    }
    // In the order of FRAMEWORKS, then none, revocable, peer, asymmetric peer.
    for (const member of members) {
      for (const each of member.runs) {
        const byRound = rounds.get(member)?.get(each.label);
        if (byRound === undefined || byRound.size === 0) continue;
        const results = [...byRound.values()];
        const { result, spread } = medianRound(results);
        const all = results.map((entry) => formatOps(entry.rps)).join(', ');
        measured.push({
          framework: member.framework,
          label: each.label,
          result,
          byRound,
          spread,
          note: `${each.note(result)} Rounds: ${all} req/s.`,
        });
      }
    }
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup.fn();
      } catch (error) {
        notes.push(`clean-up: could not ${cleanup.what}: ${message(error)}`);
        progress(`http: could not ${cleanup.what}: ${message(error)}`);
      }
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupted) throw new Error('http benchmark interrupted (everything it started is stopped)');

  // --- The table, the ratios and the targets.
  const find = (framework: Framework, label: string): Measured | undefined =>
    measured.find((entry) => entry.framework === framework && entry.label === label);
  const tableRows: string[][] = [];
  const rows: ResultRow[] = [];
  const targets: string[] = [];
  for (const framework of FRAMEWORKS) {
    const none = find(framework, NONE)?.result;
    const peer = find(framework, framework.peer)?.result;
    for (const entry of measured.filter((each) => each.framework === framework)) {
      const { result } = entry;
      const each = perCore(result);
      const parts: string[] = [];
      if (none !== undefined && entry.label !== NONE) {
        parts.push(`${(result.rps / none.rps).toFixed(2)}x none`);
      }
      if (peer !== undefined && entry.label !== framework.peer) {
        parts.push(`${(result.rps / peer.rps).toFixed(2)}x peer`);
      }
      tableRows.push([
        `${framework.name}: ${entry.label}`,
        formatOps(result.rps),
        ms(result.p50),
        ms(result.p99),
        cores(result.serverCores),
        cores(result.clientCores),
        cores(result.otherCores),
        each === null ? '-' : formatOps(each),
        parts.length === 0 ? '-' : parts.join(', '),
      ]);
      rows.push({
        group: framework.name,
        library: entry.label,
        opsPerSec: result.rps,
        spread: entry.spread,
        ratio: none === undefined || none.rps <= 0 ? null : result.rps / none.rps,
      });
    }
    const cached = find(framework, CACHED);
    if (cached === undefined) continue;
    const lines: string[] = [];
    for (const [base, target] of [
      [find(framework, NONE), TARGET_NONE],
      [find(framework, framework.peer), TARGET_PEER],
    ] as const) {
      const line = base === undefined ? null : verdict(cached, base, base.label, target);
      if (line !== null) lines.push(line);
    }
    if (lines.length > 0) targets.push(`${framework.name}, ${CACHED}: ${lines.join('; ')}`);
    const ceiling = ceilingLine(find(framework, NONE), find(framework, framework.peer));
    if (ceiling !== null) targets.push(`${framework.name}, ${ceiling}`);
    const asymmetric = asymmetricLine(cached, find(framework, framework.asymmetricPeer));
    if (asymmetric !== null) targets.push(`${framework.name}, ${asymmetric}`);
  }

  const poolNote =
    sent === 0
      ? []
      : [
          sent > tokens.pool.length
            ? `${UNCACHED}: WARNING a round sent ${sent.toLocaleString('en-US')} requests, more than the ${tokens.pool.length.toLocaleString('en-US')} tokens of the pool: some repeated a token and may have hit the cache.`
            : `${UNCACHED}: at most ${sent.toLocaleString('en-US')} requests in a round (warm-up included), each with a token of its own (a pool of ${tokens.pool.length.toLocaleString('en-US')}).`,
        ];
  return {
    suite: 'http',
    title: 'HTTP middleware: GET /me behind revocable, no authentication, and JWT + Redis GET',
    baseline: NONE,
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
    ...(targets.length > 0 ? { text: `\n${targets.join('\n')}` } : {}),
    notes: [
      `Client and server share this machine's ${cpus().length} logical CPUs (and whatever else runs on it): autocannon runs in the bench process, each app in a node child process of its own, one app at a time; "server cores" and "client cores" are the CPU-seconds each used per second of the measured run (the app's from /proc), "other cores" the rest of the machine's busy CPU then (/proc/stat): Redis for the peers, and any other work on the machine, which skews a row. Load average at the start of the suite: ${loadStart}; at the end: ${loadavg()
        .map((value) => value.toFixed(2))
        .join(', ')}.`,
      `autocannon, ${CONNECTIONS} connections (BENCH_CONNECTIONS), pipelining 1, ${WARMUP_SECONDS} s warm-up then ${SECONDS} s measured with the same settings (BENCH_WARMUP_SECONDS, BENCH_SECONDS); ${ROUNDS} round(s) (BENCH_ROUNDS), each starting every app afresh in turn, the order rotating from round to round; each row is the median round, its latencies and CPU that round's. req/s counts 2xx answers only; latencies are those of the 2xx answers. "ratio": the row's median req/s against that of the same framework's ${NONE} ("none") and its JWT + Redis peer ("peer"), medians possibly from different rounds. The targets are judged on the paired median instead: in each round that measured both rows, ${CACHED}'s req/s over the other row's (runs at most a round apart, so the drift of this shared machine between rounds mostly cancels; a burst during one run does not), then the median of those per-round ratios, each listed; per server core likewise.`,
      `Every app answers GET ${PATH} with {"ok":true,"sub":"<the token's sub>"}; ${FRAMEWORKS.map((framework) => `${framework.name}: ${framework.appNote}`).join('; ')}. Each app checked before its runs: the token accepted with its sub answered; for revocable and the peers, a revoked token refused (401). Every app process imports ioredis (bench/http/child.ts), as an application using it would; that puts String.prototype in dictionary mode (the Express app keeps it so while it serves), where code calling its methods in a loop runs slower than in a bare process.`,
      `revocable: createTokenGuard({ keys, index, issuer, audience, maxStaleness: 5 }) with the public EdDSA key, and a revocation index (maxAccessTokenLifetime '${MAX_ACCESS_TOKEN_LIFETIME}') holding ${REVOKED.toLocaleString('en-US')} live revocations, half token and half session revocations, applied in the app's process before it listens, marked fresh then and every second after (index entries at each start: ${indexSizes.length === 0 ? 'none started' : indexSizes.join(', ')}).`,
      ...measured.map((entry) => `${entry.framework.name}, ${entry.note}`),
      ...poolNote,
      ...notes,
    ],
  };
}

// Run on its own: node build/bench/http.js [filter...] [--md]
if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatMarkdown, formatTable } = await import('./harness.js');
  const args = process.argv.slice(2);
  const result = await run({ filter: args.filter((arg) => !arg.startsWith('--')) });
  console.log(formatTable(result));
  if (result.text !== undefined) console.log(result.text);
  for (const note of result.notes) console.log(`- ${note}`);
  if (args.includes('--md')) console.log(`\n${formatMarkdown(result)}`);
}
