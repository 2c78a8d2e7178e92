/**
 * Revocation benchmark: what the in-memory index costs on every verify, against no revocation at
 * all and against a Redis round trip per verify; its memory per revoked token; its snapshots; how
 * many events per second a producer makes and applies.
 *
 * Run it on its own after a build (`npx tsc -p tsconfig.json`):
 *   node build/bench/revocation.js [case filter...] [--md]
 * or register it in bench/index.ts (`revocation: () => import('./revocation.js')`): `run()` returns
 * a SuiteResult like every suite. The memory case runs in a child process started with
 * `--expose-gc`, so the parent needs no flag. The Redis case needs `ioredis` and a Redis server on
 * 127.0.0.1:6379 (REDIS_URL overrides); without them it is skipped with a note.
 *
 * Fairness: every verifier checks the same pool of 1024 live tokens (signed beforehand by
 * revocable: HS256, typ at+jwt, kid; sub, sid, jti, sgen, iat, exp, iss, aud), and must accept all
 * of them, and refuse a forged one, before anything is timed. Each call gets the token as a fresh
 * string decoded from bytes, as an HTTP server hands it over, so no verifier profits from a string
 * whose hash V8 has already computed. fast-jwt runs with the same checks revocable makes (exp, iss,
 * aud required, typ at+jwt), as in bench/jwt.ts; a bare fast-jwt (key and algorithm only) is shown
 * too. Caches are off except in the candidates named "cache", where both revocable and fast-jwt
 * keep 2048 tokens (more than the pool, so that every call after the warm-up is a hit).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createVerifier as fastVerifier } from 'fast-jwt';
import { createSigner, createVerifier, KeyRing } from '../src/jwt/index.js';
import {
  createRevocableVerifier,
  createRevocationIndex,
  createSessionRevocation,
  createTokenRevocation,
  type RevocationEvent,
  type RevocationIndex,
  restoreRevocationIndex,
} from '../src/revocation/index.js';
import {
  type Candidate,
  compare,
  formatMarkdown,
  formatOps,
  formatTable,
  type Measurement,
  median,
  progress,
  type ResultRow,
  type SuiteOptions,
  type SuiteResult,
  toRows,
} from './harness.js';

export const name = 'revocation';

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'api.example.com';
const TYP = 'at+jwt';
const POOL = 1024;
const MASK = POOL - 1;
const LIFETIME = 3600;
const BASELINE = 'fast-jwt';
const REVOCABLE = 'revocable + index (1M entries)';
const REVOCABLE_CACHED = 'revocable + index (1M entries) + cache';
const FAST_CACHED = 'fast-jwt + cache';
const CACHE_SIZE = 2048;
const GROUP_VERIFY = 'HS256 verify with revocation';
const GROUP_REDIS = 'HS256 verify vs Redis per request';
const GROUP_MEMORY = 'memory per revoked token';
const GROUP_SNAPSHOT = 'snapshot of 1M entries';
const GROUP_EVENTS = 'revocation events created and applied';
const EVENT_TARGETS = 1 << 20;
const EVENTS_TARGET = 500_000;
const ENTRIES = 1_000_000;
const MIX = { tokens: 900_000, sessions: 80_000, subjects: 20_000, keys: 3 };

type Verify = (token: string) => unknown;

function wanted(group: string, filter: readonly string[] | undefined): boolean {
  if (filter === undefined || filter.length === 0) return true;
  const lower = group.toLowerCase();
  return filter.some((term) => lower.includes(term.toLowerCase()));
}

function id(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * An index of 1,000,000 live entries: 900k tokens, 80k sessions, 20k subjects (a tenth of the
 * pool's subjects among them), a few retired keys, and a global cut-off older than every token.
 * The pool's own jtis and sids are not revoked: every verify is a full miss on those tables.
 */
function buildIndex(now: number, poolSubjects: readonly string[]): RevocationIndex {
  const index = createRevocationIndex({
    maxAccessTokenLifetime: LIFETIME,
    maxSubjectEntries: Number.POSITIVE_INFINITY,
  });
  const at = now - 60;
  const until = now + LIFETIME;
  const apply = (kind: RevocationEvent['kind'], target: string, gen?: number) => {
    const event: Record<string, unknown> = { v: 1, id: id(), kind, target, at, until };
    if (gen !== undefined) event.gen = gen;
    index.apply(event as unknown as RevocationEvent);
  };
  for (let i = 0; i < MIX.tokens; i++) apply('token', id());
  for (let i = 0; i < MIX.sessions; i++) apply('session', id());
  // One pool subject in ten has a cut-off (older than its tokens: they carry sgen 1, live under
  // generation 1), so the subject rule is evaluated, not only looked up, on some verifies.
  const cutOff = poolSubjects.filter((_, i) => i % 10 === 0);
  for (let i = 0; i < MIX.subjects; i++) {
    apply('subject', i < cutOff.length ? cutOff[i]! : `user-${500_000 + i}`, 1);
  }
  for (let i = 0; i < MIX.keys; i++) apply('key', `retired-kid-${i}`);
  index.apply({
    v: 1,
    id: id(),
    kind: 'global',
    target: '',
    at: now - 2 * LIFETIME,
    until: now + LIFETIME,
  });
  index.markFresh();
  return index;
}

interface Fixture {
  readonly tokens: readonly string[];
  /** The tokens' bytes: `arrival(i)` decodes one into a fresh string, as a request parser does. */
  readonly arrival: (i: number) => string;
  readonly index: RevocationIndex;
  readonly candidates: Record<string, Verify>;
}

function setUp(): Fixture {
  const ring = KeyRing.generate('HS256');
  const signer = createSigner({ keys: ring, issuer: ISSUER, audience: AUDIENCE, ttl: LIFETIME });
  const subjects: string[] = [];
  const tokens: string[] = [];
  for (let i = 0; i < POOL; i++) {
    subjects.push(`user-${100_000 + i}`);
    tokens.push(signer.sign({ sub: subjects[i]!, sid: id(), sgen: 1, role: 'member' }));
  }
  progress(`revocation: building an index of ${ENTRIES.toLocaleString('en-US')} entries...`);
  const index = buildIndex(Date.now() / 1000, subjects);
  const revocable = createRevocableVerifier({
    keys: ring,
    issuer: ISSUER,
    audience: AUDIENCE,
    index,
  });
  const revocableCached = createRevocableVerifier({
    keys: ring,
    issuer: ISSUER,
    audience: AUDIENCE,
    index,
    cache: CACHE_SIZE,
  });
  const plain = createVerifier({ keys: ring, issuer: ISSUER, audience: AUDIENCE });
  const secret = ring.active.verifyKey.export();
  const fastOptions = {
    key: secret,
    algorithms: ['HS256' as const],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    requiredClaims: ['exp', 'iss', 'aud'],
    checkTyp: TYP,
  };
  const fast = fastVerifier({ ...fastOptions, cache: false });
  const fastCached = fastVerifier({ ...fastOptions, cache: CACHE_SIZE });
  const bare = fastVerifier({ key: secret, algorithms: ['HS256'], cache: false });
  const candidates: Record<string, Verify> = {
    [REVOCABLE]: revocable.verify,
    [BASELINE]: (token) => fast(token),
    'fast-jwt (bare: key and alg only)': (token) => bare(token),
    'revocable (no index)': plain.verify,
    [REVOCABLE_CACHED]: revocableCached.verify,
    [FAST_CACHED]: (token) => fastCached(token),
  };
  // Every verifier accepts the whole pool and refuses a forgery; the index refuses revoked tokens.
  const sample = tokens[0]!;
  const dot = sample.lastIndexOf('.');
  const forged = `${sample.slice(0, dot + 1)}${sample[dot + 1] === 'A' ? 'B' : 'A'}${sample.slice(dot + 2)}`;
  for (const [label, verify] of Object.entries(candidates)) {
    for (const token of tokens) verify(token);
    let refused = false;
    try {
      verify(forged);
    } catch {
      refused = true;
    }
    if (!refused) throw new Error(`${label} accepts a forged signature.`);
  }
  const claims = plain.verify(tokens[10]!);
  const revokedIndex = index.check({ ...claims, sgen: 0 });
  if (revokedIndex !== 'subject') throw new Error('the index does not apply its subject cut-offs.');
  const bytes = tokens.map((token) => Buffer.from(token, 'latin1'));
  const arrival = (i: number) => bytes[i & MASK]!.toString('latin1');
  return { tokens, arrival, index, candidates };
}

interface RedisLike {
  connect(): Promise<unknown>;
  exists(key: string): Promise<number>;
  set(key: string, value: string, mode: 'EX', seconds: number): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
  disconnect(): void;
}
type RedisConstructor = new (url: string, options: Record<string, unknown>) => RedisLike;

async function connectRedis(): Promise<RedisLike | string> {
  let Redis: RedisConstructor | undefined;
  try {
    const specifier = 'ioredis';
    const module = (await import(specifier)) as {
      Redis?: RedisConstructor;
      default?: RedisConstructor;
    };
    Redis = module.Redis ?? module.default;
  } catch {
    return 'skipped: the ioredis package is not installed (npm install -D ioredis).';
  }
  if (Redis === undefined) return 'skipped: ioredis exports no Redis class.';
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    connectTimeout: 2000,
  });
  try {
    await client.connect();
    return client;
  } catch (error) {
    client.disconnect();
    return `skipped: no Redis at ${url} (${error instanceof Error ? error.message : String(error)}).`;
  }
}

function jtiOf(token: string): string {
  const payload = token.slice(token.indexOf('.') + 1, token.lastIndexOf('.'));
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { jti: string }).jti;
}

/** The memory case, in a child started with --expose-gc: prints one JSON line. */
function measureMemoryInChild(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const used = () => {
    gc();
    gc();
    const memory = process.memoryUsage();
    return memory.heapUsed + memory.arrayBuffers;
  };
  const now = Date.now() / 1000;
  const before = used();
  const index = createRevocationIndex({ maxAccessTokenLifetime: LIFETIME });
  for (let i = 0; i < ENTRIES; i++) {
    index.apply({ v: 1, id: 'e', kind: 'token', target: id(), at: now, until: now + LIFETIME });
  }
  const indexBytes = used() - before;
  const stats = index.stats();
  // For comparison: what a Map of jti strings to epoch seconds holds for the same entries.
  const mapBefore = used();
  const map = new Map<string, number>();
  for (let i = 0; i < ENTRIES; i++) map.set(id(), Math.floor(now) + LIFETIME);
  const mapBytes = used() - mapBefore;
  process.stdout.write(
    `${JSON.stringify({
      perEntry: indexBytes / ENTRIES,
      tableBytes: stats.tableBytes,
      entries: stats.tokens,
      mapPerEntry: mapBytes / map.size,
      sizeCheck: index.size + map.size,
    })}\n`,
  );
}

interface MemoryResult {
  perEntry: number;
  tableBytes: number;
  entries: number;
  mapPerEntry: number;
}

function measureMemory(): MemoryResult {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), '--memory-child'],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (child.status !== 0) throw new Error(`memory child failed: ${child.stderr}`);
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as MemoryResult;
}

function timeMs(fn: () => unknown, runs: number): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(samples);
}

/** A candidate's body: verify the token of call `i`, arriving as a fresh string. */
function arriving(fixture: Fixture, verify: Verify): (i: number) => unknown {
  return (i: number) => verify(fixture.arrival(i));
}

function opsOf(measured: readonly { name: string; opsPerSec: number }[], label: string): number {
  return measured.find((m) => m.name === label)?.opsPerSec ?? 0;
}

function verdict(met: boolean): string {
  return met ? 'met' : 'NOT met';
}

/**
 * The producer's side: make an event with the helper and apply it to a local index, as the session
 * manager does for every logout. Targets are distinct 22-character ids made beforehand (one random
 * buffer, so making them costs the run nothing), so every apply inserts a new entry until the pool
 * wraps; the index keeps its default sweeps and the system clock.
 */
async function measureEvents(options: SuiteOptions): Promise<Measurement[]> {
  const random = randomBytes(16 * EVENT_TARGETS);
  const targets = Array.from({ length: EVENT_TARGETS }, (_, i) =>
    random.toString('base64url', i * 16, i * 16 + 16),
  );
  const mask = EVENT_TARGETS - 1;
  const timing = { maxAccessTokenLifetime: LIFETIME };
  const tokens = createRevocationIndex(timing);
  const sessions = createRevocationIndex(timing);
  const exp = Math.floor(Date.now() / 1000) + LIFETIME;
  const measured = await compare(
    [
      {
        name: 'token: createTokenRevocation + apply',
        fn: (i) => tokens.apply(createTokenRevocation({ jti: targets[i & mask]!, exp })),
      },
      {
        name: 'session: createSessionRevocation + apply',
        fn: (i) => sessions.apply(createSessionRevocation({ sid: targets[i & mask]! }, timing)),
      },
    ],
    options.measure,
  );
  if (tokens.check({ jti: targets[0]! }) !== 'token') throw new Error('a token event was lost');
  if (sessions.check({ sid: targets[0]! }) !== 'session')
    throw new Error('a session event was lost');
  return measured;
}

/** Runs the revocation suite. */
export async function run(options: SuiteOptions = {}): Promise<SuiteResult> {
  const rows: ResultRow[] = [];
  const notes: string[] = [];
  const filter = options.filter;
  let fixture: Fixture | undefined;
  const fixtureNeeded = [GROUP_VERIFY, GROUP_REDIS, GROUP_SNAPSHOT].some((g) => wanted(g, filter));
  if (fixtureNeeded) fixture = setUp();

  if (fixture !== undefined && wanted(GROUP_VERIFY, filter)) {
    progress(`revocation: measuring ${GROUP_VERIFY}...`);
    const candidates: Candidate[] = Object.entries(fixture.candidates).map(([label, verify]) => ({
      name: label,
      fn: arriving(fixture, verify),
    }));
    const measured = await compare(candidates, options.measure);
    const groupRows = toRows(GROUP_VERIFY, measured, BASELINE);
    rows.push(...groupRows);
    const ratio = groupRows.find((row) => row.library === REVOCABLE)?.ratio ?? 0;
    const cachedRatio = opsOf(measured, REVOCABLE_CACHED) / opsOf(measured, FAST_CACHED);
    notes.push(
      `${GROUP_VERIFY}: revocable with the index of 1M entries at ${ratio.toFixed(2)}x fast-jwt without revocation (target 0.9x: ${verdict(ratio >= 0.9)}), both without cache; with both caches on, ${cachedRatio.toFixed(2)}x fast-jwt's. Index mix: ${MIX.tokens.toLocaleString('en-US')} tokens, ${MIX.sessions.toLocaleString('en-US')} sessions, ${MIX.subjects.toLocaleString('en-US')} subjects (a tenth of the pool's subjects among them, with cut-offs older than their tokens), ${MIX.keys} keys, one global cut-off older than the tokens.`,
    );
  }

  if (fixture !== undefined && wanted(GROUP_REDIS, filter)) {
    const redis = await connectRedis();
    if (typeof redis === 'string') {
      notes.push(`${GROUP_REDIS}: ${redis}`);
    } else {
      progress(`revocation: measuring ${GROUP_REDIS}...`);
      const { tokens, candidates: verifiers } = fixture;
      const prefix = `revocable-bench:${id()}:`;
      // Some revoked jtis in Redis; the pool's own are not among them, so every EXISTS answers 0.
      const revoked = Array.from({ length: 1000 }, () => `${prefix}${id()}`);
      for (const key of revoked) await redis.set(key, '1', 'EX', 600);
      const jtis = tokens.map(jtiOf);
      // jwt-redis style: verify, then one sequential round trip per request.
      const withRedis = (verify: Verify) => async (i: number) => {
        const claims = verify(fixture.arrival(i));
        if ((await redis.exists(`${prefix}${jtis[i & MASK]!}`)) !== 0) throw new Error('revoked');
        return claims;
      };
      const REDIS = 'fast-jwt + Redis EXISTS (jwt-redis style)';
      const REDIS_CACHED = 'fast-jwt + cache + Redis EXISTS';
      try {
        const measured = await compare(
          [
            { name: REVOCABLE_CACHED, fn: arriving(fixture, verifiers[REVOCABLE_CACHED]!) },
            { name: REVOCABLE, fn: arriving(fixture, verifiers[REVOCABLE]!) },
            { name: BASELINE, fn: arriving(fixture, verifiers[BASELINE]!) },
            { name: REDIS, fn: withRedis(verifiers[BASELINE]!), async: true },
            { name: REDIS_CACHED, fn: withRedis(verifiers[FAST_CACHED]!), async: true },
          ],
          options.measure,
        );
        rows.push(...toRows(GROUP_REDIS, measured, BASELINE));
        // The faster of the two Redis designs is the one to beat.
        const peer = Math.max(opsOf(measured, REDIS), opsOf(measured, REDIS_CACHED));
        const cached = opsOf(measured, REVOCABLE_CACHED) / peer;
        const uncached = opsOf(measured, REVOCABLE) / peer;
        notes.push(
          `${GROUP_REDIS}: revocable + index with its cache is ${cached.toFixed(1)}x the faster jwt-redis style design (fast-jwt verify, with or without its cache, then an awaited ioredis EXISTS on 127.0.0.1 per verify) (target 20x: ${verdict(cached >= 20)} with the cache, which is an option, off by default); without its cache, ${uncached.toFixed(1)}x (${verdict(uncached >= 20)}).`,
        );
      } finally {
        await redis.del(...revoked);
        redis.disconnect();
      }
    }
  }

  if (wanted(GROUP_MEMORY, filter)) {
    progress(`revocation: measuring ${GROUP_MEMORY} (child process with --expose-gc)...`);
    const memory = measureMemory();
    notes.push(
      `${GROUP_MEMORY}: ${memory.perEntry.toFixed(1)} bytes of heap (heapUsed + arrayBuffers, after forced GC) per revoked-token entry at ${memory.entries.toLocaleString('en-US')} entries (target at most 64: ${verdict(memory.perEntry <= 64)}); table arrays ${memory.tableBytes.toLocaleString('en-US')} bytes. A Map<string, number> of the same jtis: ${memory.mapPerEntry.toFixed(1)} bytes per entry.`,
    );
  }

  if (fixture !== undefined && wanted(GROUP_SNAPSHOT, filter)) {
    progress(`revocation: measuring ${GROUP_SNAPSHOT}...`);
    const { index } = fixture;
    let bytes: Uint8Array = new Uint8Array(0);
    const writeMs = timeMs(() => {
      bytes = index.snapshot();
    }, 5);
    const options_ = {
      maxAccessTokenLifetime: LIFETIME,
      maxSubjectEntries: Number.POSITIVE_INFINITY,
    };
    let restoredSize = 0;
    const restoreMs = timeMs(() => {
      restoredSize = restoreRevocationIndex(bytes, options_).size;
    }, 5);
    const merged = createRevocationIndex(options_);
    merged.load(bytes);
    const reloadMs = timeMs(() => merged.load(bytes), 3);
    if (restoredSize !== index.size) throw new Error('the restored index lost entries');
    notes.push(
      `${GROUP_SNAPSHOT}: ${index.size.toLocaleString('en-US')} entries, ${bytes.length.toLocaleString('en-US')} bytes (${(bytes.length / index.size).toFixed(1)} per entry); snapshot() ${writeMs.toFixed(0)} ms, restore into a new index ${restoreMs.toFixed(0)} ms, load into an index already holding them ${reloadMs.toFixed(0)} ms (median of 5, 5, 3; target under 1 s each: ${verdict(writeMs < 1000 && restoreMs < 1000)}).`,
    );
  }

  if (wanted(GROUP_EVENTS, filter)) {
    progress(`revocation: measuring ${GROUP_EVENTS}...`);
    const measured = await measureEvents(options);
    rows.push(...toRows(GROUP_EVENTS, measured, BASELINE));
    const rates = measured.map((m) => `${m.name} ${formatOps(m.opsPerSec)}/s`).join('; ');
    const slowest = Math.min(...measured.map((m) => m.opsPerSec));
    notes.push(
      `${GROUP_EVENTS}: ${rates} (target ${formatOps(EVENTS_TARGET)} events/s: ${verdict(slowest >= EVENTS_TARGET)}). Each event gets a fresh random id, the default timing parsing and the system clock; targets are distinct ids made beforehand, ${formatOps(EVENT_TARGETS)} of them.`,
    );
  }

  notes.push(
    'Sync candidates run back to back in interleaved batches (bench/harness.ts); the Redis candidates await every call, as a request handler would.',
  );
  return {
    suite: name,
    title: 'Revocation: the index on every verify',
    baseline: BASELINE,
    rows,
    notes,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.includes('--memory-child')) {
    measureMemoryInChild();
  } else {
    const result = await run({ filter: args.filter((arg) => !arg.startsWith('--')) });
    console.log(`\n## ${result.title}\n`);
    console.log(args.includes('--md') ? formatMarkdown(result) : formatTable(result));
    console.log('');
    for (const note of result.notes) console.log(`- ${note}`);
  }
}
