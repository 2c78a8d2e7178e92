// One process of a deployment, for the multi-process tests and the benchmark: a session manager
// with a revocation follower (the PostgreSQL transport, or polling) and a revocable verifier on a
// shared PostgreSQL store, answering its parent's commands over IPC. It also keeps verifying the
// tokens it is told to watch, every few milliseconds, and remembers when each was last accepted
// and first refused, so that the parent can check that no revoked token was accepted later than
// the staleness bound after its revocation, whatever happened in between.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { isRevocableError } from '../../src/errors/index.js';
import { KeyRing } from '../../src/jwt/index.js';
import { createRevocableVerifier, createRevocationIndex } from '../../src/revocation/index.js';
import { createSessionManager } from '../../src/sessions/index.js';
import {
  createPostgresPublisher,
  createPostgresStore,
  createPostgresTransport,
} from '../../src/stores/postgres/index.js';
import { createLogFollower } from '../../src/sync/index.js';

/** What the parent gives a worker (as JSON in argv[2]). */
export interface WorkerConfig {
  name: string;
  mode: 'postgres' | 'polling';
  url: string;
  /** The LISTEN connection's URL (with an application_name the parent can find it by). */
  listenUrl: string;
  schema: string;
  channel: string;
  ring: unknown;
  secret: string;
  pollInterval: number;
  maxStaleness: number;
  /** How often watched tokens are verified, in milliseconds (0: only when an event is applied). */
  watchEveryMs: number;
}

/** A command from the parent; `id` pairs it with its answer. */
export type WorkerCommand =
  | { id: number; cmd: 'login'; sub: string }
  | { id: number; cmd: 'revoke'; op: string; args: unknown[] }
  | { id: number; cmd: 'verify'; token: string }
  | { id: number; cmd: 'watch'; label: string; token: string; notify?: boolean }
  | { id: number; cmd: 'wave'; prefix: string; count: number }
  | { id: number; cmd: 'report' }
  | { id: number; cmd: 'health' }
  | { id: number; cmd: 'catchUp' };

/** What a worker knows of one watched token (times are epoch milliseconds, fractional). */
export interface WatchReport {
  label: string;
  lastAcceptedAt: number | null;
  firstRefusedAt: number | null;
  refusedWith: string | null;
  acceptedAfterRefusal: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
// Wall-clock milliseconds with sub-millisecond resolution, comparable between processes of one
// machine (Date.now() alone has a 1 ms step).
const clock = () => performance.timeOrigin + performance.now();

const pool = new pg.Pool({ connectionString: config.url, max: 5 });
pool.on('error', () => {
  // An idle connection cut (pg_terminate_backend): the pool drops it and opens another.
});
const store = createPostgresStore({ client: pool, schema: config.schema });
// No clock skew: a token issued in the second after a global cut-off lives, so the tests can log
// in again right after revokeEverything (all processes share this machine's clock).
const index = createRevocationIndex({ maxAccessTokenLifetime: '10m', clockSkew: 0 });
const keys = KeyRing.fromJSON(config.ring);
const manager = createSessionManager({
  store,
  keys,
  index,
  issuer: 'https://auth.test',
  audience: 'api',
  refreshSecret: config.secret,
  ...(config.mode === 'postgres'
    ? { publisher: createPostgresPublisher({ pool, channel: config.channel }) }
    : {}),
});
const verifier = createRevocableVerifier({
  keys,
  index,
  issuer: 'https://auth.test',
  audience: 'api',
  maxStaleness: config.maxStaleness,
});
const follower = createLogFollower({
  store,
  index,
  ...(config.mode === 'postgres'
    ? {
        transport: createPostgresTransport({
          connectionString: config.listenUrl,
          channel: config.channel,
          onError: () => {},
        }),
      }
    : {}),
  pollInterval: config.pollInterval,
  maxStaleness: config.maxStaleness,
  heartbeatInterval: 0.5,
  onError: () => {
    // Faults are what the tests cause; the parent judges by outcomes, not by warnings.
  },
});

function outcome(token: string): string {
  try {
    verifier.verify(token);
    return 'ok';
  } catch (error) {
    return isRevocableError(error) ? error.code : String(error);
  }
}

interface Watch extends WatchReport {
  token: string;
  /** Tell the parent of the first refusal at once, and stop watching (the benchmark). */
  notify: boolean;
}
const watches = new Map<string, Watch>();

function check(watch: Watch): void {
  const result = outcome(watch.token);
  const at = clock();
  if (result === 'ok') {
    watch.lastAcceptedAt = at;
    if (watch.firstRefusedAt !== null) watch.acceptedAfterRefusal++;
  } else if (watch.firstRefusedAt === null) {
    watch.firstRefusedAt = at;
    watch.refusedWith = result;
    if (watch.notify) {
      watches.delete(watch.label);
      process.send?.({ refused: watch.label, at, with: result });
    }
  }
}

function checkAll(): void {
  for (const watch of watches.values()) check(watch);
}

// An applied event is checked against the watched tokens straight after it lands (a microtask
// later, once the index has finished applying), so a refusal is timed to the moment it happens.
let queued = false;
// The benchmark's ban wave: session events whose sid starts with a prefix, counted until all came.
let wave: { prefix: string; count: number; seen: number } | null = null;
index.onApply((event) => {
  if (wave !== null && event.kind === 'session' && event.target.startsWith(wave.prefix)) {
    if (++wave.seen === wave.count) {
      process.send?.({ waveDone: wave.prefix, at: clock() });
      wave = null;
    }
  }
  if (watches.size === 0) return;
  if (queued) return;
  queued = true;
  queueMicrotask(() => {
    queued = false;
    checkAll();
  });
});
if (config.watchEveryMs > 0) setInterval(checkAll, config.watchEveryMs);

type Handler = (command: WorkerCommand) => unknown;
const handlers: Record<WorkerCommand['cmd'], Handler> = {
  login: (c) => manager.login((c as { sub: string }).sub),
  revoke: async (c) => {
    const { op, args } = c as { op: string; args: unknown[] };
    const startedAt = clock();
    const method = (manager as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
      op
    ];
    if (typeof method !== 'function') throw new Error(`no such operation: ${op}`);
    await method.apply(manager, args);
    return { startedAt, returnedAt: clock() };
  },
  verify: (c) => outcome((c as { token: string }).token),
  watch: (c) => {
    const { label, token, notify } = c as { label: string; token: string; notify?: boolean };
    const watch: Watch = {
      label,
      token,
      notify: notify === true,
      lastAcceptedAt: null,
      firstRefusedAt: null,
      refusedWith: null,
      acceptedAfterRefusal: 0,
    };
    watches.set(label, watch);
    check(watch);
    return null;
  },
  wave: (c) => {
    const { prefix, count } = c as { prefix: string; count: number };
    wave = { prefix, count, seen: 0 };
    return null;
  },
  report: () =>
    [...watches.values()].map(
      ({ token: _token, notify: _notify, ...report }): WatchReport => ({ ...report }),
    ),
  health: () => follower.health(),
  catchUp: () => follower.catchUp(),
};

process.on('message', async (command: WorkerCommand) => {
  try {
    const value = await handlers[command.cmd](command);
    process.send?.({ id: command.id, ok: true, value: value ?? null });
  } catch (error) {
    process.send?.({
      id: command.id,
      ok: false,
      error: isRevocableError(error) ? error.code : String(error),
    });
  }
});

process.on('disconnect', async () => {
  await follower.stop();
  await pool.end();
  process.exit(0);
});

await follower.start();
process.send?.({ ready: true, name: config.name });
