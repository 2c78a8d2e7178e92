/**
 * The verifier's `cache` option, measured against the same verifier without it: hits, a working set
 * bigger than the cache (10,000 rotating tokens against the default size and against 1,024 slots),
 * and the heap one remembered token costs.
 *
 * The tokens carry what the session manager puts in an access token (iss, aud, sub, sid, jti, iat,
 * exp, auth_time, sgen) and a role claim. The rotation is cyclic, the worst order for a cache that
 * keeps the most recent tokens: each token comes back only after every other one has been seen.
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Algorithm } from '../src/jwt/algorithms.js';
import { createSigner, createVerifier, type JwtClaims, KeyRing } from '../src/jwt/index.js';
import {
  type Candidate,
  compare,
  progress,
  type ResultRow,
  type SuiteOptions,
  toRows,
} from './harness.js';

/** The algorithms measured: the cheapest verify (where a miss's overhead shows most) and EdDSA. */
export const CACHE_ALGORITHMS = ['HS256', 'EdDSA'] as const satisfies readonly Algorithm[];

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'api.example.com';
const HOT = 1_024;
const ROTATING = 10_000;
const SMALL_CACHE = 1_024;
const MEMORY_ENTRIES = 100_000;
const UNCACHED = 'no cache';

/** The rows and the remarks (hit rates, bytes per entry) of one algorithm's cache group. */
export interface CacheMeasurements {
  readonly rows: readonly ResultRow[];
  readonly notes: readonly string[];
}

function sessionClaims(index: number, now: number): JwtClaims {
  return {
    sub: `user-${100000 + (index % 50_000)}`,
    sid: randomBytes(16).toString('base64url'),
    jti: randomBytes(16).toString('base64url'),
    auth_time: now - 60,
    sgen: 1,
    role: 'member',
  };
}

function signTokens(ring: KeyRing, count: number): string[] {
  const signer = createSigner({ keys: ring, issuer: ISSUER, audience: AUDIENCE, ttl: 3600 });
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  // Flat strings, as an HTTP parser hands them over, not the signer's concatenations.
  for (let i = 0; i < count; i++) {
    tokens.push(Buffer.from(signer.sign(sessionClaims(i, now)), 'latin1').toString('latin1'));
  }
  return tokens;
}

function verifierWith(ring: KeyRing, cache: boolean | number): (token: string) => JwtClaims {
  return createVerifier({ keys: ring, issuer: ISSUER, audience: AUDIENCE, cache }).verify;
}

/**
 * The share of verifies a cache answered, over the third pass of a cyclic rotation (the first two
 * fill it and let it settle). A hit returns the very object the previous verify of that token did.
 */
function hitRate(ring: KeyRing, tokens: readonly string[], cache: boolean | number): number {
  const verify = verifierWith(ring, cache);
  const previous: (JwtClaims | undefined)[] = new Array(tokens.length);
  let hits = 0;
  for (let pass = 0; pass < 3; pass++) {
    for (let i = 0; i < tokens.length; i++) {
      const claims = verify(tokens[i]!);
      if (pass === 2 && claims === previous[i]) hits++;
      previous[i] = claims;
    }
  }
  return hits / tokens.length;
}

// The benchmark is run without --expose-gc; the flag can still be set, and gc() read from a new
// context, before the first measurement needs it.
let collect: (() => void) | undefined;

async function settledHeap(): Promise<number> {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  for (let round = 0; round < 4; round++) {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/**
 * The heap a cache holds per remembered token. The tokens wait outside the heap, in one buffer, and
 * each is copied out as a fresh string just before its verify, so whatever the cache keeps of a
 * token (the string itself, a slice of it, a digest) is counted, and nothing else is.
 */
async function bytesPerEntry(ring: KeyRing, tokens: readonly string[]): Promise<number> {
  const ends: number[] = [];
  let end = 0;
  for (const token of tokens) {
    end += token.length;
    ends.push(end);
  }
  const source = Buffer.from(tokens.join(''), 'latin1');
  const verify = verifierWith(ring, MEMORY_ENTRIES);
  const before = await settledHeap();
  let start = 0;
  for (const stop of ends) {
    verify(source.toString('latin1', start, stop));
    start = stop;
  }
  const after = await settledHeap();
  // The verifier stays alive to the second reading.
  verify(source.toString('latin1', 0, ends[0]));
  return (after - before) / MEMORY_ENTRIES;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

/** Measures one algorithm's cache group; the ratio column is against the same verifier uncached. */
export async function measureCache(
  alg: (typeof CACHE_ALGORITHMS)[number],
  options: SuiteOptions,
): Promise<CacheMeasurements> {
  const group = `${alg} verify, cache (ratio vs ${UNCACHED})`;
  progress(`jwt: preparing ${group} (${MEMORY_ENTRIES} tokens)...`);
  const ring = KeyRing.generate(alg);
  const tokens = signTokens(ring, MEMORY_ENTRIES);
  const rotating = (verify: (token: string) => JwtClaims) => (i: number) =>
    verify(tokens[i % ROTATING]!);
  const cases: [string, boolean | number, number][] = [
    [`hits (${HOT} tokens, default size)`, true, HOT],
    [`${ROTATING} tokens, default size`, true, ROTATING],
    [`${ROTATING} tokens, ${SMALL_CACHE} slots`, SMALL_CACHE, ROTATING],
    // Each token comes back after 100,000 others: every verify is a miss, the miss path alone.
    [`${MEMORY_ENTRIES} tokens, ${SMALL_CACHE} slots (misses)`, SMALL_CACHE, MEMORY_ENTRIES],
  ];
  const uncachedWide = `${UNCACHED}, ${MEMORY_ENTRIES} tokens`;
  const uncached = verifierWith(ring, false);
  const candidates: Candidate[] = [
    { name: UNCACHED, fn: rotating(uncached) },
    // The misses' own baseline: 100,000 tokens do not fit the CPU caches as 10,000 do.
    { name: uncachedWide, fn: (i: number) => uncached(tokens[i % MEMORY_ENTRIES]!) },
  ];
  for (const [name, cache, pool] of cases) {
    const verify = verifierWith(ring, cache);
    // Warm: with a slow algorithm the warm-up alone would not get through 10,000 tokens.
    for (let i = 0; i < Math.min(pool, ROTATING); i++) verify(tokens[i]!);
    candidates.push({ name, fn: (i: number) => verify(tokens[i % pool]!) });
  }
  progress(`jwt: measuring ${group}...`);
  const measurements = await compare(candidates, options.measure);
  const rows = toRows(group, measurements, UNCACHED);
  const rate = (name: string) => measurements.find((entry) => entry.name === name)!.opsPerSec;
  const missRatio = rate(cases[3]![0]) / rate(uncachedWide);
  progress(`jwt: ${alg} cache hit rates and heap per entry (${MEMORY_ENTRIES} tokens)...`);
  const rates = cases
    .slice(1, 3)
    .map(([name, cache]) => `${name}: ${percent(hitRate(ring, tokens.slice(0, ROTATING), cache))}`);
  const bytes = await bytesPerEntry(ring, tokens);
  return {
    rows,
    notes: [
      `${alg} cache: hit rate of a cyclic rotation, ${rates.join('; ')}. Misses against ` +
        `${uncachedWide}: ${missRatio.toFixed(2)}x. Heap per remembered token ` +
        `(${MEMORY_ENTRIES} tokens of ${tokens[0]!.length} characters): ${Math.round(bytes)} bytes.`,
    ],
  };
}
