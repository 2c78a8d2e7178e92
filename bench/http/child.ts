/**
 * What the apps of the middleware benchmark share, in their child processes
 * (`node build/bench/http/express-app.js <variant>`, `node build/bench/http/fastify-app.js <variant>`):
 * the variant, the settings read from the environment, revocable's guard with its revocation index
 * (100,000 revocations applied, kept fresh as a follower keeps its own), the Redis client of the
 * peers, the answer of `GET /me`, the ready line and the stop on SIGTERM.
 *
 * The environment (set by bench/http.ts): HTTP_BENCH_ISSUER, HTTP_BENCH_AUDIENCE, HTTP_BENCH_SUB
 * (the subject the no-authentication app answers, the tokens' own); for `revocable`
 * HTTP_BENCH_JWKS (the public keys), HTTP_BENCH_REVOKED (how many revocations to apply) and
 * HTTP_BENCH_REVOKED_SID (one session among them, so the bench can see a revoked token refused);
 * for `redis` HTTP_BENCH_SECRET (HS256), HTTP_BENCH_REDIS_URL and HTTP_BENCH_REDIS_PREFIX (the
 * blocklist: one key per revoked jti); for `redis-asymmetric` the same Redis settings and
 * HTTP_BENCH_PUBLIC_KEY (a PEM: the issuer's public key, as a resource server without the signing
 * secret holds it).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTokenGuard } from '../../src/http/token-guard.js';
import type { TokenGuard } from '../../src/http/types.js';
import { KeyRing } from '../../src/jwt/key-ring.js';
import {
  createSessionRevocation,
  createTokenRevocation,
} from '../../src/revocation/create-event.js';
import { createRevocationIndex } from '../../src/revocation/revocation-index.js';

/**
 * What the app puts in front of `GET /me`: nothing, revocable, or the peer (a JWT middleware and a
 * Redis `GET` per request) verifying with a shared HS256 secret (`redis`) or with the issuer's
 * public key (`redis-asymmetric`).
 */
export type Variant = 'none' | 'revocable' | 'redis' | 'redis-asymmetric';

const VARIANTS: readonly string[] = ['none', 'revocable', 'redis', 'redis-asymmetric'];

/** The line a ready app prints; its first group is the URL. */
export const READY_LINE = 'http bench app listening on';

/** The lifetime every token of the benchmark has at most, in the index's terms. */
export const MAX_ACCESS_TOKEN_LIFETIME = '10m';

export function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    process.stderr.write(`http bench app: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
}

/** The variant named on the command line (exits on anything else). */
export function variantArgument(script: string): Variant {
  const variant = process.argv[2];
  if (variant === undefined || !VARIANTS.includes(variant)) {
    process.stderr.write(`usage: node ${script} ${VARIANTS.join('|')}\n`);
    process.exit(2);
  }
  return variant as Variant;
}

/** The answer of `GET /me` in every app and variant: a small fixed JSON and the subject. */
export function meBody(sub: unknown): { ok: true; sub: unknown } {
  return { ok: true, sub };
}

/**
 * revocable's guard as a resource server has it: the issuer's public keys, a revocation index
 * holding `HTTP_BENCH_REVOKED` live revocations (half token revocations ending within the last
 * minute of a 10-minute lifetime, half session revocations, one of them `HTTP_BENCH_REVOKED_SID`),
 * marked fresh now and every second after, as a follower does on each heartbeat of its feed; a
 * staleness bound of 5 s. Prints how many entries the index holds.
 */
export function revocableGuard(): { guard: TokenGuard; stop: () => void } {
  const keys = KeyRing.fromJSON(JSON.parse(setting('HTTP_BENCH_JWKS')));
  const index = createRevocationIndex({ maxAccessTokenLifetime: MAX_ACCESS_TOKEN_LIFETIME });
  const count = Number(setting('HTTP_BENCH_REVOKED'));
  const revokedSid = setting('HTTP_BENCH_REVOKED_SID');
  const now = Math.floor(Date.now() / 1000);
  const timing = { maxAccessTokenLifetime: MAX_ACCESS_TOKEN_LIFETIME, now: () => now };
  const ids = randomBytes(16 * count);
  for (let i = 0; i < count; i++) {
    const id = i === 1 ? revokedSid : ids.toString('base64url', i * 16, i * 16 + 16);
    index.apply(
      i % 2 === 0
        ? createTokenRevocation({ jti: id, exp: now + 540 + (i % 60), at: now }, timing)
        : createSessionRevocation({ sid: id, at: now }, timing),
    );
  }
  index.markFresh();
  const heartbeat = setInterval(() => index.markFresh(), 1000);
  heartbeat.unref();
  process.stdout.write(`http bench app: the revocation index holds ${index.size} entries\n`);
  const guard = createTokenGuard({
    keys,
    index,
    issuer: setting('HTTP_BENCH_ISSUER'),
    audience: setting('HTTP_BENCH_AUDIENCE'),
    maxStaleness: 5,
  });
  return {
    guard,
    stop: () => {
      clearInterval(heartbeat);
      index.close();
    },
  };
}

/** The peers' blocklist: a Redis client (ioredis, default options) and the key of a jti. */
export function blocklist(): { redis: Redis; key: (jti: string) => string } {
  const redis = new Redis(setting('HTTP_BENCH_REDIS_URL'));
  const prefix = setting('HTTP_BENCH_REDIS_PREFIX');
  return { redis, key: (jti) => `${prefix}${jti}` };
}

/** Prints the ready line, and stops on SIGTERM: `close` then exit. */
export function announce(port: number, close: () => Promise<unknown>): void {
  process.stdout.write(`${READY_LINE} http://127.0.0.1:${port}\n`);
  process.once('SIGTERM', () => {
    void close()
      .catch((error: unknown) => process.stderr.write(`http bench app: ${String(error)}\n`))
      .finally(() => process.exit(0));
  });
}
