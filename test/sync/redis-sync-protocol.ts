// The commands the sync workers (redis-sync-worker.ts) answer over IPC, and the parent's side:
// starting workers, asking them, stopping or killing them. Shared by the tests and the benchmark.
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { SyncHealth } from '../../src/sync/index.js';

/** What a worker is started with (JSON, its one argument). */
export interface WorkerConfig {
  readonly name: string;
  /** The store's Redis and key prefix. */
  readonly storeUrl: string;
  /** The bus's Redis (may be the store's) and channel prefix. */
  readonly busUrl: string;
  readonly prefix: string;
  /** The key ring document every process shares. */
  readonly ring: unknown;
  readonly refreshSecret: string;
  /** Seconds. */
  readonly maxStaleness: number;
  readonly pollInterval: number;
  readonly heartbeatInterval: number;
}

/** The kinds of revocation a worker makes, each with its one argument. */
export type RevocationKind =
  | 'logout'
  | 'logoutAll'
  | 'ban'
  | 'passwordChanged'
  | 'claimsChanged'
  | 'revokeToken'
  | 'revokeEverything'
  | 'retireKey';

export type WorkerRequest =
  | { op: 'login'; sub: string }
  | { op: 'loginMany'; sub: string; count: number }
  | { op: 'revoke'; kind: RevocationKind; arg: string }
  | { op: 'verify'; token: string }
  /** Logs, applies and publishes a ban wave's events (a cut-off and `count` session events). */
  | { op: 'wave'; sub: string; count: number }
  | { op: 'watch'; token: string; revokedAt: number }
  | { op: 'track'; tokens: Record<string, string> }
  /** From now on, note the moment `count` more events have changed the index. */
  | { op: 'expect'; count: number }
  /** The moments the first and the last of them were applied, or null before the last. */
  | { op: 'expected' }
  | { op: 'tracked' }
  | { op: 'publishRaw'; channel: string; text: string }
  | { op: 'listenRaw'; channel: string }
  | { op: 'heardRaw' }
  | { op: 'report' }
  | { op: 'stop' };

/** A verification outcome: 'ok', or the refusal's code (and revocation rule). */
export type Verdict = 'ok' | string;

/** What `report` answers. */
export interface WorkerReport {
  /** Watched tokens accepted more than the bound after their revocation returned. */
  readonly late: readonly { token: string; acceptedAfterMs: number }[];
  /** The longest a watched token was still accepted after its revocation returned (ms). */
  readonly longestAcceptedMs: number;
  readonly checks: number;
  readonly health: SyncHealth;
  readonly errors: readonly string[];
}

/** Epoch milliseconds with sub-millisecond resolution; processes of one machine share it. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'redis-sync-worker.js');

type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** A running worker, seen from the parent. */
export interface Worker {
  readonly name: string;
  readonly process: ChildProcess;
  /** Sends a command and resolves with its answer (rejects with the error's code). */
  ask<T>(request: WorkerRequest): Promise<T>;
  /** Asks it to stop cleanly, and waits for it to exit. */
  stop(): Promise<void>;
  /** SIGKILL, and waits for it to exit. */
  kill(): Promise<void>;
}

/** Starts a worker and resolves once its follower has started (its index is fresh). */
export function startWorker(config: WorkerConfig): Promise<Worker> {
  const child = fork(WORKER, [JSON.stringify(config)], {
    // Warnings (a publish that failed during an outage) are expected; the report has the errors.
    execArgv: ['--no-warnings', '--enable-source-maps'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve(value: unknown): void; reject(e: Error): void }>();
  let next = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', (code, signal) => {
    for (const waiter of pending.values()) {
      waiter.reject(new Error(`worker ${config.name} exited (${code ?? signal})`));
    }
    pending.clear();
  });
  const worker: Worker = {
    name: config.name,
    process: child,
    ask<T>(request: WorkerRequest): Promise<T> {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, request });
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await worker.ask({ op: 'stop' }).catch(() => {});
      await exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    child.on('message', (message: Reply | { ready: true }) => {
      if ('ready' in message) {
        resolve(worker);
        return;
      }
      const waiter = pending.get(message.id);
      if (waiter === undefined) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(message.error));
    });
    child.once('exit', (code) => reject(new Error(`worker ${config.name} exited with ${code}`)));
  });
}

/** Whether a verdict is a refusal for revocation (never for staleness or a bad token). */
export function isRevokedVerdict(verdict: Verdict): boolean {
  return verdict.startsWith('ERR_TOKEN_REVOKED') || verdict === 'ERR_JWT_KEY_RETIRED';
}
