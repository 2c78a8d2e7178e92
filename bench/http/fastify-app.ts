/**
 * The Fastify app of the middleware benchmark, run as a child process:
 * `node build/bench/http/fastify-app.js none|revocable|redis`. `GET /me` answers
 * `{ ok: true, sub }` (an async handler returning the object, no response schema), behind
 *
 * - `none`: nothing (the subject is HTTP_BENCH_SUB, the tokens' own, so the answer is the same);
 * - `revocable`: the `revocablePlugin` with the guard of bench/http/child.ts, and
 *   `fastify.revocable.authenticate()` as the route's onRequest hook;
 * - `redis`: @fastify/jwt 10 (HS256, iss and aud checked) and an onRequest hook that calls
 *   `request.jwtVerify()` then does one Redis `GET` of the token's jti (ioredis, default options);
 *   a hit is a 401;
 * - `redis-asymmetric`: the same with EdDSA and the issuer's public key (revocable's own kind of
 *   token).
 *
 * Settings: see bench/http/child.ts. Prints its URL once ready; SIGTERM stops it.
 */
import fastifyJwt from '@fastify/jwt';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { revocablePlugin } from '../../src/http/fastify/index.js';
import { announce, blocklist, meBody, revocableGuard, setting, variantArgument } from './child.js';

interface Claims {
  readonly sub?: unknown;
  readonly jti?: unknown;
}

const variant = variantArgument('fastify-app.js');
const issuer = setting('HTTP_BENCH_ISSUER');
const audience = setting('HTTP_BENCH_AUDIENCE');

const app = Fastify({ logger: false });
let stop = async (): Promise<void> => {};

if (variant === 'none') {
  const sub = setting('HTTP_BENCH_SUB');
  app.get('/me', async () => meBody(sub));
} else if (variant === 'revocable') {
  const { guard, stop: stopGuard } = revocableGuard();
  await app.register(revocablePlugin, { guard });
  app.get('/me', { onRequest: app.revocable.authenticate() }, async (request) =>
    meBody(request.auth?.sub),
  );
  stop = async () => stopGuard();
} else {
  const { redis, key } = blocklist();
  await app.register(
    fastifyJwt,
    variant === 'redis'
      ? {
          secret: setting('HTTP_BENCH_SECRET'),
          verify: { algorithms: ['HS256'], allowedIss: issuer, allowedAud: audience },
        }
      : {
          // Verifying only: the private half is never given to a resource server.
          secret: { public: setting('HTTP_BENCH_PUBLIC_KEY') },
          verify: { algorithms: ['EdDSA'], allowedIss: issuer, allowedAud: audience },
        },
  );
  const authenticate = async (
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> => {
    let claims: Claims;
    try {
      claims = await request.jwtVerify<Claims>();
    } catch {
      return reply.code(401).send({ error: 'ERR_TOKEN_INVALID' });
    }
    if (typeof claims.jti !== 'string' || (await redis.get(key(claims.jti))) !== null) {
      return reply.code(401).send({ error: 'ERR_TOKEN_REVOKED' });
    }
    return undefined;
  };
  app.get('/me', { onRequest: authenticate }, async (request) =>
    meBody((request.user as Claims).sub),
  );
  stop = async () => {
    await redis.quit();
  };
}

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
announce(typeof address === 'object' && address !== null ? address.port : 0, async () => {
  await app.close();
  await stop();
});
