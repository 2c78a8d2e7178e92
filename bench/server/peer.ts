/**
 * The peers of the server benchmark, each run as a child process:
 * `node build/bench/server/peer.js jwt|redis`.
 *
 * - `jwt` (peer A): a minimal Fastify app with `@fastify/jwt` (HS256); `GET /auth/me` calls
 *   `request.jwtVerify()` (signature, `exp`, `iss`, `aud`) and answers the claims. No revocation.
 * - `redis` (peer B): the same, plus the usual blocklist check: one Redis `GET <prefix><jti>` per
 *   request (ioredis, default options) before answering; a hit is a 401.
 *
 * Settings come from the environment: PEER_JWT_SECRET, PEER_ISSUER, PEER_AUDIENCE, and for
 * `redis` PEER_REDIS_URL and PEER_REDIS_PREFIX. Prints `peer listening on <url>` once ready;
 * SIGTERM closes it.
 */
import fastifyJwt from '@fastify/jwt';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

interface Claims {
  readonly jti?: unknown;
  readonly [name: string]: unknown;
}

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    process.stderr.write(`peer: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
}

const mode = process.argv[2];
if (mode !== 'jwt' && mode !== 'redis') {
  process.stderr.write('usage: node peer.js jwt|redis\n');
  process.exit(2);
}

const secret = setting('PEER_JWT_SECRET');
const issuer = setting('PEER_ISSUER');
const audience = setting('PEER_AUDIENCE');
const redis = mode === 'redis' ? new Redis(setting('PEER_REDIS_URL')) : null;
const prefix = mode === 'redis' ? setting('PEER_REDIS_PREFIX') : '';

const app = Fastify({ logger: false });
await app.register(fastifyJwt, {
  secret,
  verify: { algorithms: ['HS256'], allowedIss: issuer, allowedAud: audience },
});

app.get('/auth/me', async (request, reply) => {
  let claims: Claims;
  try {
    claims = await request.jwtVerify<Claims>();
  } catch {
    return reply.code(401).send({ error: 'ERR_TOKEN_INVALID' });
  }
  if (redis !== null) {
    if (typeof claims.jti !== 'string') return reply.code(401).send({ error: 'ERR_TOKEN_INVALID' });
    const revoked = await redis.get(`${prefix}${claims.jti}`);
    if (revoked !== null) return reply.code(401).send({ error: 'ERR_TOKEN_REVOKED' });
  }
  return claims;
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const port = typeof address === 'object' && address !== null ? address.port : 0;
process.stdout.write(`peer listening on http://127.0.0.1:${port}\n`);

process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => redis?.quit())
    .finally(() => process.exit(0));
});
