// One process of a deployment, as the multi-process sync tests and the benchmark run it: a
// session manager that publishes what it revokes, a follower on the Redis bus and a revocable
// verifier, over a Redis store shared with the other processes. It answers commands over IPC
// (see WorkerRequest) and keeps verifying the revoked tokens it is told of, recording any it
// accepts later than the staleness bound after their revocation.
import { Redis } from 'ioredis';
import { isRevocableError } from '../../src/errors/index.js';
import { KeyRing } from '../../src/jwt/index.js';
import {
  createRevocableVerifier,
  createRevocationIndex,
  createSessionRevocation,
  createSubjectRevocation,
  type RevocationEvent,
  TokenRevokedError,
} from '../../src/revocation/index.js';
import { createSessionManager } from '../../src/sessions/index.js';
import {
  createRedisPublisher,
  createRedisStore,
  createRedisTransport,
} from '../../src/stores/redis/index.js';
import { createLogFollower } from '../../src/sync/index.js';
import {
  preciseNow,
  type RevocationKind,
  type Verdict,
  type WorkerConfig,
  type WorkerReport,
  type WorkerRequest,
} from './redis-sync-protocol.js';

const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig;
const storeClient = new Redis(config.storeUrl, { maxRetriesPerRequest: 2 });
const busClient =
  config.busUrl === config.storeUrl
    ? storeClient
    : new Redis(config.busUrl, { maxRetriesPerRequest: 1 });
// Outages are what some tests are about: the clients report them through the follower.
storeClient.on('error', () => {});
busClient.on('error', () => {});

const store = createRedisStore({ client: storeClient, prefix: config.prefix });
const keys = KeyRing.fromJSON(config.ring);
const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
const errors: string[] = [];
const remember = (error: unknown) => {
  if (errors.length < 200) errors.push(error instanceof Error ? error.message : String(error));
};
const publisher = createRedisPublisher({ client: busClient, prefix: config.prefix });
const manager = createSessionManager({
  store,
  keys,
  index,
  issuer: 'https://auth.test',
  audience: 'api',
  refreshSecret: config.refreshSecret,
  publisher,
});
const follower = createLogFollower({
  store,
  index,
  transport: createRedisTransport({ client: busClient, prefix: config.prefix }),
  pollInterval: config.pollInterval,
  heartbeatInterval: config.heartbeatInterval,
  maxStaleness: config.maxStaleness,
  onError: remember,
});
const verifier = createRevocableVerifier({
  keys,
  index,
  issuer: 'https://auth.test',
  audience: 'api',
  maxStaleness: config.maxStaleness,
});

function verdict(token: string): Verdict {
  try {
    verifier.verify(token);
    return 'ok';
  } catch (error) {
    if (error instanceof TokenRevokedError) return `${error.code}:${error.rule}`;
    if (isRevocableError(error)) return error.code;
    throw error;
  }
}

function claimsOf(token: string): { jti: string; sid: string; sub: string; kid: string } {
  const [header, payload] = token.split('.') as [string, string];
  const { kid } = JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string };
  const { jti, sid, sub } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
    jti: string;
    sid: string;
    sub: string;
  };
  return { jti, sid, sub, kid };
}

// The watch loop: every watched token verified again and again, as requests would.
const boundMs = config.maxStaleness * 1000;
const watched: { token: string; revokedAt: number }[] = [];
const late: { token: string; acceptedAfterMs: number }[] = [];
let longestAcceptedMs = 0;
let checks = 0;
setInterval(() => {
  for (const entry of watched) {
    checks++;
    if (verdict(entry.token) !== 'ok') continue;
    const after = Date.now() - entry.revokedAt;
    if (after > longestAcceptedMs) longestAcceptedMs = after;
    if (after > boundMs) late.push({ token: entry.token, acceptedAfterMs: after });
  }
}, 2);

// The benchmark's probes: for each tracked jti, the moment this process first refused its token.
const tracked = new Map<string, string>();
const refusedAt: Record<string, number> = {};
index.onApply((event) => {
  const key = event.kind === 'token' || event.kind === 'session' ? event.target : null;
  if (key === null) return;
  const token = tracked.get(key);
  if (token === undefined) return;
  // The event is applied: the very next verify refuses, and this one proves it.
  if (verdict(token) !== 'ok') refusedAt[key] = preciseNow();
  tracked.delete(key);
});
let expecting = Number.POSITIVE_INFINITY;
let expectedAt: { first: number; last: number } | null = null;
let firstAt = 0;
index.onApply(() => {
  expecting--;
  if (firstAt === 0) firstAt = preciseNow();
  if (expecting === 0) expectedAt = { first: firstAt, last: preciseNow() };
});
const heard: number[] = [];
const listener = busClient.duplicate();
listener.on('error', () => {});
listener.on('message', () => heard.push(preciseNow()));

async function revoke(kind: RevocationKind, arg: string): Promise<void> {
  switch (kind) {
    case 'logout':
      await manager.logout(arg);
      return;
    case 'logoutAll':
      await manager.logoutAll(arg);
      return;
    case 'ban':
      await manager.ban(arg);
      return;
    case 'passwordChanged':
      await manager.passwordChanged(arg);
      return;
    case 'claimsChanged':
      await manager.claimsChanged(arg, { role: 'reader' });
      return;
    case 'revokeToken':
      await manager.revokeToken(arg);
      return;
    case 'revokeEverything':
      await manager.revokeEverything();
      return;
    case 'retireKey':
      await manager.retireKey(arg);
      return;
  }
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.op) {
    case 'login': {
      const pair = await manager.login(request.sub);
      return { ...pair, ...claimsOf(pair.accessToken) };
    }
    case 'loginMany': {
      const tokens: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (next < request.count) {
            next++;
            tokens.push((await manager.login(request.sub)).accessToken);
          }
        }),
      );
      return tokens.length;
    }
    case 'revoke': {
      const startedAt = preciseNow();
      await revoke(request.kind, request.arg);
      return { startedAt, returnedAt: preciseNow() };
    }
    case 'wave': {
      // What ban() of a subject with `count` sessions logs and publishes, made directly: the Redis
      // store cannot yet end that many sessions in one call (see the benchmark's notes).
      const startedAt = preciseNow();
      const timing = {
        maxAccessTokenLifetime: index.maxAccessTokenLifetime,
        clockSkew: index.clockSkew,
      };
      const events: RevocationEvent[] = [
        createSubjectRevocation({ sub: request.sub, gen: 1 }, timing),
      ];
      for (let i = 0; i < request.count; i++) {
        events.push(createSessionRevocation({ sid: `${request.sub}-${i}` }, timing));
      }
      for (let i = 0; i < events.length; i += 5000) {
        await store.appendEvents(events.slice(i, i + 5000));
      }
      for (const event of events) index.apply(event);
      await publisher.publish(events);
      return { startedAt, returnedAt: preciseNow() };
    }
    case 'verify':
      return verdict(request.token);
    case 'watch':
      watched.push({ token: request.token, revokedAt: request.revokedAt });
      return null;
    case 'track':
      for (const [jti, token] of Object.entries(request.tokens)) tracked.set(jti, token);
      return null;
    case 'expect':
      expecting = request.count;
      expectedAt = null;
      firstAt = 0;
      return null;
    case 'expected':
      return expectedAt;
    case 'tracked':
      return { refusedAt, pending: tracked.size, applied: follower.health().eventsApplied };
    case 'publishRaw': {
      await busClient.publish(request.channel, request.text);
      return preciseNow();
    }
    case 'listenRaw':
      await listener.subscribe(request.channel);
      return null;
    case 'heardRaw':
      return heard.splice(0);
    case 'report':
      return {
        late,
        longestAcceptedMs,
        checks,
        health: follower.health(),
        errors,
      } satisfies WorkerReport;
    case 'stop':
      await follower.stop();
      listener.disconnect();
      storeClient.disconnect();
      if (busClient !== storeClient) busClient.disconnect();
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (message: { id: number; request: WorkerRequest }) => {
  handle(message.request).then(
    (value) => process.send?.({ id: message.id, ok: true, value }),
    (error: unknown) =>
      process.send?.({
        id: message.id,
        ok: false,
        error: isRevocableError(error) ? error.code : String(error),
      }),
  );
});

await follower.start();
process.send?.({ ready: true, name: config.name });
