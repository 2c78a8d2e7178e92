// A resource server as an application would write one, run as a process of its own by the
// end-to-end tests of the HTTP middleware (test/http/e2e). Configured by environment variables:
//
//   E2E_FRAMEWORK      express | fastify
//   E2E_SOURCE         feed (connectToAuthServer: the auth server's HTTP feed and JWKS)
//                      cluster (the cluster's own pieces: its PostgreSQL store and sealed key ring,
//                      its Redis bus, followed by createLogFollower)
//   E2E_ISSUER, E2E_AUDIENCE, E2E_MAX_STALENESS (seconds)
//   feed:    E2E_AUTH_URL
//   cluster: DATABASE_URL (the store the guard asks), E2E_FOLLOW_DATABASE_URL (the store the
//            follower and the key ring read; default DATABASE_URL), REDIS_URL,
//            REVOCABLE_KEYS_SECRET, E2E_PG_SCHEMA, E2E_REDIS_PREFIX,
//            E2E_ON_STALE (fail-closed | check-store)
//
// It listens on a free loopback port and prints `resource server listening on <url>` once its
// index is fresh. Routes: GET /me (any valid token), GET /admin (role admin), GET /scoped (scope
// write), GET /recent (authenticated at most 2 s ago), POST /pay (checkStore; cluster only), and
// GET /health (the revocation source's health, unauthenticated). SIGTERM stops it cleanly.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import fastify from 'fastify';
import { revocableExpress } from '../../../src/http/express/index.js';
import { revocablePlugin } from '../../../src/http/fastify/index.js';
import {
  type AuthContext,
  connectToAuthServer,
  createTokenGuard,
  type GuardStalePolicy,
  type RouteRequirements,
  type TokenGuard,
} from '../../../src/http/index.js';
import { createRevocationIndex } from '../../../src/revocation/index.js';
import {
  connectPostgres,
  createPostgresKeyRingStore,
  createPostgresStore,
} from '../../../src/stores/postgres/index.js';
import { connectRedis, createRedisTransport } from '../../../src/stores/redis/index.js';
import type { SyncHealth } from '../../../src/sync/index.js';
import { createLogFollower, openSharedKeyRing } from '../../../src/sync/index.js';

function setting(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') throw new Error(`resource app: ${name} is not set`);
  return value;
}

function report(error: unknown): void {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`resource app: ${text}\n`);
}

/** What the app was built on: a guard, the health of its revocation source, and its shutdown. */
interface Source {
  readonly guard: TokenGuard;
  readonly checkStore: boolean;
  health(): SyncHealth;
  close(): Promise<void>;
}

const issuer = setting('E2E_ISSUER');
const audience = setting('E2E_AUDIENCE');
const maxStaleness = Number(setting('E2E_MAX_STALENESS', '5'));

async function feedSource(): Promise<Source> {
  const auth = await connectToAuthServer({
    url: setting('E2E_AUTH_URL'),
    issuer,
    audience,
    maxStaleness,
    cookie: false,
    onError: report,
  });
  return {
    guard: auth.guard,
    checkStore: false,
    health: () => auth.source.health(),
    close: () => auth.stop(),
  };
}

async function clusterSource(): Promise<Source> {
  const schema = setting('E2E_PG_SCHEMA');
  const onStale = setting('E2E_ON_STALE', 'fail-closed') as GuardStalePolicy;
  const databaseUrl = setting('DATABASE_URL');
  // The follower and the key ring on one pool, the guard's store reads on another: the tests cut
  // the first (through a proxy) to make the index stale while the store still answers.
  const followPool = await connectPostgres(setting('E2E_FOLLOW_DATABASE_URL', databaseUrl), {
    max: 3,
    connectTimeoutMs: 2000,
  });
  const storePool = await connectPostgres(databaseUrl, { max: 3, connectTimeoutMs: 2000 });
  const redis = await connectRedis(setting('REDIS_URL'), { connectTimeoutMs: 2000 });
  const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
  const shared = await openSharedKeyRing({
    store: createPostgresKeyRingStore({ client: followPool, schema }),
    secret: setting('REVOCABLE_KEYS_SECRET'),
    index,
    onError: report,
  });
  const follower = createLogFollower({
    store: createPostgresStore({ client: followPool, schema }),
    index,
    transport: createRedisTransport({ client: redis, prefix: setting('E2E_REDIS_PREFIX') }),
    maxStaleness,
    afterRead: () => shared.refresh(),
    onError: report,
  });
  await follower.start();
  const guard = createTokenGuard({
    keys: shared.ring,
    index,
    issuer,
    audience,
    maxStaleness,
    onStale,
    store: createPostgresStore({ client: storePool, schema }),
    ...(onStale === 'check-store' ? { follower } : {}),
    refreshKeys: () => shared.refresh(),
    cookie: false,
  });
  return {
    guard,
    checkStore: true,
    health: () => follower.health(),
    async close() {
      await follower.stop();
      shared.close();
      redis.disconnect();
      await Promise.all([followPool.end(), storePool.end()]);
    },
  };
}

/** The routes of the app and what each demands. */
const ROUTES: readonly { method: 'GET' | 'POST'; path: string; route?: RouteRequirements }[] = [
  { method: 'GET', path: '/me' },
  { method: 'GET', path: '/admin', route: { roles: ['admin'] } },
  { method: 'GET', path: '/scoped', route: { scopes: ['write'] } },
  { method: 'GET', path: '/recent', route: { maxAge: 2 } },
  { method: 'POST', path: '/pay', route: { checkStore: true } },
];

function who(auth: AuthContext | null | undefined) {
  return {
    sub: auth?.sub,
    sid: auth?.sid,
    roles: auth?.roles,
    scopes: auth?.scopes,
    via: auth?.via,
  };
}

async function serveExpress(source: Source): Promise<{ url: string; close(): Promise<void> }> {
  const auth = revocableExpress(source.guard);
  const app = express();
  for (const { method, path, route } of ROUTES) {
    if (route?.checkStore === true && !source.checkStore) continue;
    const handler = (req: Request, res: Response) => {
      res.json({ framework: 'express', ...who(req.auth) });
    };
    if (method === 'GET') app.get(path, auth.authenticate(route), handler);
    else app.post(path, auth.authenticate(route), handler);
  }
  app.get('/health', (_req, res) => {
    res.json(source.health());
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serveFastify(source: Source): Promise<{ url: string; close(): Promise<void> }> {
  const app = fastify({ logger: false });
  await app.register(revocablePlugin, { guard: source.guard });
  for (const { method, path, route } of ROUTES) {
    if (route?.checkStore === true && !source.checkStore) continue;
    app.route({
      method,
      url: path,
      onRequest: app.revocable.authenticate(route),
      handler: async (request) => ({ framework: 'fastify', ...who(request.auth) }),
    });
  }
  app.get('/health', async () => source.health());
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

const framework = setting('E2E_FRAMEWORK');
const kind = setting('E2E_SOURCE');
const source = kind === 'cluster' ? await clusterSource() : await feedSource();
const server = framework === 'fastify' ? await serveFastify(source) : await serveExpress(source);
process.stdout.write(`resource server listening on ${server.url}\n`);

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  // A connection the tests cut may make a close wait for ever: the process ends regardless.
  setTimeout(() => process.exit(0), 3000).unref();
  void (async () => {
    try {
      await server.close();
      await source.close();
    } catch (error) {
      report(error);
    }
    process.exit(0);
  })();
});
