/**
 * JWT benchmark: verify and sign throughput of revocable against fast-jwt (cache off), jose and
 * jsonwebtoken, for HS256, ES256, EdDSA and RS256.
 *
 * Fairness: every library verifies the same pool of 1024 distinct tokens (signed beforehand by
 * revocable), with the same key material in the form that library handles fastest, and with
 * equivalent checks: signature, algorithm pinned, exp, iss and aud required and checked, and the
 * header typ `at+jwt` where the library can check it. Before anything is timed every verifier must
 * accept every token of the pool and refuse a set of bad tokens, so no library is measured doing
 * less than the others.
 *
 * The groups named "cache" (bench/jwt-cache.ts) compare revocable's verifier with and without its
 * `cache` option instead.
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { createSigner as fastSigner, createVerifier as fastVerifier } from 'fast-jwt';
import { importPKCS8, importSPKI, jwtVerify, SignJWT } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import type { Algorithm } from '../src/jwt/algorithms.js';
import {
  createSigner,
  createVerifier,
  type JwtClaims,
  type JwtKey,
  KeyRing,
  signJwt,
} from '../src/jwt/index.js';
import {
  type Candidate,
  compare,
  progress,
  type ResultRow,
  type SuiteOptions,
  type SuiteResult,
  toRows,
} from './harness.js';
import { CACHE_ALGORITHMS, measureCache } from './jwt-cache.js';

export const name = 'jwt';

const ALGORITHMS = ['HS256', 'ES256', 'EdDSA', 'RS256'] as const satisfies readonly Algorithm[];
type BenchAlgorithm = (typeof ALGORITHMS)[number];

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'api.example.com';
const TYP = 'at+jwt';
const POOL = 1024; // a power of two: the pool index is `i & (POOL - 1)`
const MASK = POOL - 1;

const BASELINE = 'fast-jwt';
const JOSE = 'jose (async)';

type Verify = (token: string) => unknown;

/** A library's verify and sign for one algorithm. */
interface Library {
  readonly name: string;
  readonly async: boolean;
  /** Sync: returns the claims or throws. Async: returns a promise (of `claimsOf`'s input). */
  readonly verify: Verify;
  /** Where the claims are in what `verify` resolves to (jose wraps them); identity otherwise. */
  readonly claimsOf?: (result: unknown) => unknown;
  readonly sign: (claims: JwtClaims) => unknown;
}

interface Fixture {
  readonly alg: BenchAlgorithm;
  readonly ring: KeyRing;
  readonly key: JwtKey;
  readonly tokens: readonly string[];
  readonly libraries: readonly Library[];
}

// The claims of one pool token; the signer adds iat, exp, iss, aud and a random jti.
function claimsFor(index: number): JwtClaims {
  return {
    sub: `user-${100000 + index}`,
    sid: randomBytes(16).toString('base64url'),
    role: 'member',
  };
}

/** The claims every library signs in the sign benchmark: realistic, fixed, already complete. */
function fixedClaims(now: number): JwtClaims {
  return {
    sub: 'user-100042',
    sid: 'Wm9vS2VlcGVyU2Vzc2lvbg',
    role: 'member',
    iat: now,
    exp: now + 3600,
    iss: ISSUER,
    aud: AUDIENCE,
    jti: 'dGhpcy1pcy1hLWp0aS0xMjM',
  };
}

function pem(value: string | Buffer): string {
  return typeof value === 'string' ? value : value.toString('utf8');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

async function joseKeys(
  alg: BenchAlgorithm,
  key: JwtKey,
): Promise<{ verifyKey: webcrypto.CryptoKey; signKey: webcrypto.CryptoKey }> {
  if (alg === 'HS256') {
    // A CryptoKey, not a Uint8Array: jose imports a raw secret again on every call.
    const raw = key.verifyKey.export();
    const params = { name: 'HMAC', hash: 'SHA-256' };
    return {
      verifyKey: await webcrypto.subtle.importKey('raw', raw, params, false, ['verify']),
      signKey: await webcrypto.subtle.importKey('raw', raw, params, false, ['sign']),
    };
  }
  const signKey = key.signKey!;
  return {
    verifyKey: await importSPKI(pem(key.verifyKey.export({ type: 'spki', format: 'pem' })), alg),
    signKey: await importPKCS8(pem(signKey.export({ type: 'pkcs8', format: 'pem' })), alg),
  };
}

async function setUp(alg: BenchAlgorithm): Promise<Fixture> {
  const ring = KeyRing.generate(alg);
  const key = ring.active;
  const signKey = key.signKey!;
  const signer = createSigner({ keys: ring, issuer: ISSUER, audience: AUDIENCE, ttl: 3600 });
  const tokens: string[] = [];
  for (let i = 0; i < POOL; i++) tokens.push(signer.sign(claimsFor(i)));

  const libraries: Library[] = [];

  // revocable: the verifier enforces typ at+jwt by default, and exp, iss and aud.
  const revocable = createVerifier({ keys: ring, issuer: ISSUER, audience: AUDIENCE });
  libraries.push({
    name: 'revocable',
    async: false,
    verify: revocable.verify,
    sign: (claims) => signJwt(claims, key),
  });

  // fast-jwt: a raw secret for HMAC, PEM strings otherwise (it accepts strings and buffers only).
  // requiredClaims makes exp, iss and aud mandatory, as revocable does; checkTyp checks typ.
  const isHmac = alg === 'HS256';
  const fastVerifyKey = isHmac
    ? key.verifyKey.export()
    : pem(key.verifyKey.export({ type: 'spki', format: 'pem' }));
  const fastSignKey = isHmac
    ? signKey.export()
    : pem(signKey.export({ type: 'pkcs8', format: 'pem' }));
  const fastVerify = fastVerifier({
    key: fastVerifyKey,
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    requiredClaims: ['exp', 'iss', 'aud'],
    checkTyp: TYP,
    cache: false,
  });
  const fastSign = fastSigner({
    key: fastSignKey,
    algorithm: alg,
    kid: key.kid,
    header: { alg, typ: TYP },
  });
  libraries.push({
    name: BASELINE,
    async: false,
    verify: (token) => fastVerify(token),
    sign: (claims) => fastSign(claims),
  });

  // jose: CryptoKeys (its native form); jwtVerify and SignJWT.sign are async.
  const jose = await joseKeys(alg, key);
  const joseOptions = {
    issuer: ISSUER,
    audience: AUDIENCE,
    typ: TYP,
    algorithms: [alg],
    requiredClaims: ['exp'],
  };
  const joseHeader = { alg, typ: TYP, kid: key.kid };
  libraries.push({
    name: JOSE,
    async: true,
    // The promise itself, not wrapped in another async function, so jose pays for nothing extra.
    verify: (token) => jwtVerify(token, jose.verifyKey, joseOptions),
    claimsOf: (result) => (isObject(result) ? result.payload : undefined),
    sign: (claims) => new SignJWT(claims).setProtectedHeader(joseHeader).sign(jose.signKey),
  });

  // jsonwebtoken: KeyObjects (it turns anything else into one on every call). It has no typ check
  // and no way to require exp; it does not implement EdDSA.
  if (alg !== 'EdDSA') {
    const verifyOptions = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE };
    const signOptions = { algorithm: alg, keyid: key.kid, header: { alg, typ: TYP } };
    libraries.push({
      name: 'jsonwebtoken',
      async: false,
      verify: (token) => jsonwebtoken.verify(token, key.verifyKey, verifyOptions),
      sign: (claims) => jsonwebtoken.sign(claims, signKey, signOptions),
    });
  }

  return { alg, ring, key, tokens, libraries };
}

async function accepts(library: Library, token: string): Promise<boolean> {
  try {
    const result: unknown = await library.verify(token);
    const claims = library.claimsOf === undefined ? result : library.claimsOf(result);
    return isObject(claims) && claims.iss === ISSUER && typeof claims.sub === 'string';
  } catch {
    return false;
  }
}

/**
 * Proves every verifier does the work: it accepts the whole pool and refuses a forged signature,
 * a wrong issuer, a wrong audience, an expired token, and (where it checks them) a wrong typ and
 * a missing exp. Also proves each library's signed token verifies with revocable.
 */
async function checkFixture(fixture: Fixture): Promise<void> {
  const { alg, key, tokens, libraries, ring } = fixture;
  const now = Math.floor(Date.now() / 1000);
  const base = { sub: 'user-1', iat: now, exp: now + 600, iss: ISSUER, aud: AUDIENCE, jti: 'x' };
  const sample = tokens[0]!;
  const dot = sample.lastIndexOf('.');
  const sig = sample.slice(dot + 1);
  const flipped = `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
  const bad: { what: string; token: string; skip?: readonly string[] }[] = [
    { what: 'forged signature', token: `${sample.slice(0, dot)}.${flipped}` },
    { what: 'wrong issuer', token: signJwt({ ...base, iss: 'https://evil.example' }, key) },
    { what: 'wrong audience', token: signJwt({ ...base, aud: 'other-api' }, key) },
    { what: 'expired', token: signJwt({ ...base, iat: now - 7200, exp: now - 3600 }, key) },
    {
      what: 'wrong typ',
      token: signJwt(base, key, { typ: 'JWT' }),
      skip: ['jsonwebtoken'],
    },
    {
      what: 'no exp',
      token: signJwt({ sub: 'user-1', iat: now, iss: ISSUER, aud: AUDIENCE }, key),
      skip: ['jsonwebtoken'],
    },
  ];
  const reference = createVerifier({ keys: ring, issuer: ISSUER, audience: AUDIENCE });
  const signed = fixedClaims(now);
  for (const library of libraries) {
    for (const token of tokens) {
      if (!(await accepts(library, token))) {
        throw new Error(`${library.name} refuses a valid ${alg} token of the pool.`);
      }
    }
    for (const { what, token, skip } of bad) {
      if (skip?.includes(library.name)) continue;
      if (await accepts(library, token)) {
        throw new Error(`${library.name} accepts a ${alg} token with a ${what}.`);
      }
    }
    const token: unknown = await library.sign(signed);
    if (typeof token !== 'string') throw new Error(`${library.name} did not sign a string.`);
    const header = reference.verifyJwt(token).header;
    if (header.typ !== TYP || header.kid !== key.kid) {
      throw new Error(`${library.name} signed a ${alg} header without typ ${TYP} and the kid.`);
    }
  }
}

function wanted(group: string, filter: readonly string[] | undefined): boolean {
  if (filter === undefined || filter.length === 0) return true;
  const lower = group.toLowerCase();
  return filter.some((term) => lower.includes(term.toLowerCase()));
}

/** Runs the JWT suite. */
export async function run(options: SuiteOptions = {}): Promise<SuiteResult> {
  const rows: ResultRow[] = [];
  const cacheNotes: string[] = [];
  const groups = ALGORITHMS.flatMap((alg) => [`${alg} verify`, `${alg} sign`]);
  const algorithms = ALGORITHMS.filter((alg) =>
    groups.some((group) => group.startsWith(`${alg} `) && wanted(group, options.filter)),
  );
  for (const alg of algorithms) {
    progress(`jwt: preparing ${alg} (${POOL} tokens, acceptance checks)...`);
    const fixture = await setUp(alg);
    await checkFixture(fixture);
    const tokens = fixture.tokens;
    const verifyGroup = `${alg} verify`;
    if (wanted(verifyGroup, options.filter)) {
      progress(`jwt: measuring ${verifyGroup}...`);
      const candidates: Candidate[] = fixture.libraries.map((library) => {
        const verify = library.verify;
        return {
          name: library.name,
          async: library.async,
          fn: (i: number) => verify(tokens[i & MASK]!),
        };
      });
      rows.push(...toRows(verifyGroup, await compare(candidates, options.measure), BASELINE));
    }
    const signGroup = `${alg} sign`;
    if (wanted(signGroup, options.filter)) {
      progress(`jwt: measuring ${signGroup}...`);
      const claims = fixedClaims(Math.floor(Date.now() / 1000));
      const candidates: Candidate[] = fixture.libraries.map((library) => {
        const sign = library.sign;
        return { name: library.name, async: library.async, fn: () => sign(claims) };
      });
      rows.push(...toRows(signGroup, await compare(candidates, options.measure), BASELINE));
    }
  }
  for (const alg of CACHE_ALGORITHMS) {
    if (!wanted(`${alg} verify cache`, options.filter)) continue;
    const cache = await measureCache(alg, options);
    rows.push(...cache.rows);
    cacheNotes.push(...cache.notes);
  }
  return {
    suite: name,
    title: 'JWT verify and sign throughput',
    baseline: BASELINE,
    rows,
    notes: [
      `Verify: a rotating pool of ${POOL} distinct tokens signed by revocable (typ at+jwt, kid; claims sub, sid, jti, iat, exp, iss, aud, role), checked by every library before timing.`,
      'Checks: signature with the algorithm pinned; exp, iss, aud required and checked; typ at+jwt (revocable, fast-jwt checkTyp, jose typ). jsonwebtoken cannot check typ nor require exp.',
      'fast-jwt: cache off; key as a raw secret (HS256) or a PEM string. jose: CryptoKeys. jsonwebtoken: KeyObjects.',
      'jose is async: every jwtVerify and SignJWT.sign call is awaited, which its figures include.',
      'jsonwebtoken does not implement EdDSA.',
      'Sign: every library signs the same complete claims set with the same key and header {alg, typ, kid}; revocable through signJwt.',
      'Cache groups: revocable alone, with the ratio against its own verifier without the cache (not fast-jwt); tokens with the session claims (iss, aud, sub, sid, jti, iat, exp, auth_time, sgen, role), rotated cyclically.',
      ...cacheNotes,
    ],
  };
}
