/**
 * The Express app of the middleware benchmark, run as a child process:
 * `node build/bench/http/express-app.js none|revocable|redis`. `GET /me` answers
 * `{ ok: true, sub }` (Express 5 defaults: `res.json`, an ETag, `X-Powered-By`), behind
 *
 * - `none`: nothing (the subject is HTTP_BENCH_SUB, the tokens' own, so the answer is the same);
 * - `revocable`: `revocableExpress(guard).authenticate()`, the guard of bench/http/child.ts;
 * - `redis`: express-jwt 8 (HS256, iss and aud checked; the secret as a KeyObject) with an
 *   `isRevoked` that does one Redis `GET` of the token's jti per request (ioredis, default
 *   options); a hit is a 401;
 * - `redis-asymmetric`: the same with ES256 and the issuer's public key (jsonwebtoken 9, under
 *   express-jwt, has no EdDSA).
 *
 * Settings: see bench/http/child.ts. Prints its URL once ready; SIGTERM stops it.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { expressjwt } from 'express-jwt';
import { revocableExpress } from '../../src/http/express/index.js';
import { announce, blocklist, meBody, revocableGuard, setting, variantArgument } from './child.js';

const variant = variantArgument('express-app.js');
const issuer = setting('HTTP_BENCH_ISSUER');
const audience = setting('HTTP_BENCH_AUDIENCE');

const app = express();
let stop = async (): Promise<void> => {};

if (variant === 'none') {
  const sub = setting('HTTP_BENCH_SUB');
  app.get('/me', (_req: Request, res: Response) => {
    res.json(meBody(sub));
  });
} else if (variant === 'revocable') {
  const { guard, stop: stopGuard } = revocableGuard();
  app.get('/me', revocableExpress(guard).authenticate(), (req: Request, res: Response) => {
    res.json(meBody(req.auth?.sub));
  });
  stop = async () => stopGuard();
} else {
  const { redis, key } = blocklist();
  // A KeyObject either way: given a string, jsonwebtoken 9 tries createPublicKey on it first, on
  // every verify, and that failed parse costs far more than the HMAC (about 0.4 ms a request here).
  const [secret, algorithm]: [KeyObject, 'HS256' | 'ES256'] =
    variant === 'redis'
      ? [createSecretKey(Buffer.from(setting('HTTP_BENCH_SECRET'))), 'HS256']
      : [createPublicKey(setting('HTTP_BENCH_PUBLIC_KEY')), 'ES256'];
  app.get(
    '/me',
    expressjwt({
      secret,
      algorithms: [algorithm],
      issuer,
      audience,
      isRevoked: async (_req, token) => {
        const payload = token?.payload;
        const jti = typeof payload === 'object' && payload !== null ? payload.jti : undefined;
        if (typeof jti !== 'string') return true;
        return (await redis.get(key(jti))) !== null;
      },
    }),
    (req: Request, res: Response) => {
      // express-jwt puts the verified payload where revocable puts its context: req.auth.
      const payload = (req as unknown as { auth?: { sub?: unknown } }).auth;
      res.json(meBody(payload?.sub));
    },
  );
  stop = async () => {
    await redis.quit();
  };
}

// Refusals (express-jwt's UnauthorizedError carries its status) as a small JSON answer.
app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
  const { status, code } = error as { status?: unknown; code?: unknown };
  res
    .status(typeof status === 'number' ? status : 500)
    .json({ error: typeof code === 'string' ? code : 'error' });
});

const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  announce(port, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stop();
  });
});
