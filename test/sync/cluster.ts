import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyRing } from '../../src/jwt/index.js';
import { namedUrl, randomName } from './postgres-support.js';
import type { WatchReport, WorkerCommand, WorkerConfig } from './sync-worker.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'sync-worker.js');

type Command = WorkerCommand extends infer C
  ? C extends WorkerCommand
    ? Omit<C, 'id'>
    : never
  : never;

interface Member {
  child: ChildProcess;
  pending: Map<number, { resolve(value: unknown): void; reject(error: Error): void }>;
  /** The application_name of its LISTEN connection. */
  listenName: string;
  /** The application_name of its pool's connections. */
  poolName: string;
}

/** What the cluster shares: the store's schema, the channel, the key ring, the refresh secret. */
export interface ClusterOptions {
  mode: WorkerConfig['mode'];
  schema: string;
  pollInterval: number;
  maxStaleness: number;
  watchEveryMs: number;
}

/** OS processes running sync-worker.js on one store and one channel, driven over IPC. */
export class Cluster {
  readonly ring = KeyRing.generate('HS256');
  readonly channel = randomName('revocable_cluster');
  readonly #secret = randomBytes(32).toString('base64url');
  readonly #members = new Map<string, Member>();
  #next = 1;
  /** Receives the messages workers send unasked (the benchmark's refusals and waves). */
  onNotice: (name: string, message: Record<string, unknown>) => void = () => {};

  constructor(readonly options: ClusterOptions) {}

  get names(): string[] {
    return [...this.#members.keys()];
  }

  /**
   * The application_name of the connection a worker follows by (new at every start): its LISTEN
   * connection, or for polling its pool's connections.
   */
  connectionName(name: string): string {
    const member = this.#member(name);
    return this.options.mode === 'postgres' ? member.listenName : member.poolName;
  }

  /** Starts a worker; resolves once its follower has started (its index is fresh). */
  async start(name: string): Promise<void> {
    const listenName = randomName(`listen_${name}`);
    const poolName = randomName(`pool_${name}`);
    const config: WorkerConfig = {
      name,
      mode: this.options.mode,
      url: namedUrl(poolName),
      listenUrl: namedUrl(listenName),
      schema: this.options.schema,
      channel: this.channel,
      ring: this.ring.toJSON(),
      secret: this.#secret,
      pollInterval: this.options.pollInterval,
      maxStaleness: this.options.maxStaleness,
      watchEveryMs: this.options.watchEveryMs,
    };
    const child = fork(WORKER, [JSON.stringify(config)], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const member: Member = { child, pending: new Map(), listenName, poolName };
    this.#members.set(name, member);
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) =>
        reject(new Error(`worker ${name} exited (${code ?? signal}) before it was ready`));
      child.once('exit', onExit);
      child.on(
        'message',
        (message: {
          ready?: boolean;
          id?: number;
          ok?: boolean;
          value?: unknown;
          error?: string;
          [member: string]: unknown;
        }) => {
          if (message.ready === true) {
            child.off('exit', onExit);
            resolve();
            return;
          }
          if (message.id === undefined) {
            this.onNotice(name, message);
            return;
          }
          const waiting = member.pending.get(message.id);
          if (waiting === undefined) return;
          member.pending.delete(message.id!);
          if (message.ok === true) waiting.resolve(message.value);
          else waiting.reject(new Error(`${name}: ${message.error}`));
        },
      );
    });
    child.on('exit', () => {
      for (const waiting of member.pending.values()) waiting.reject(new Error(`${name} exited`));
      member.pending.clear();
    });
  }

  #member(name: string): Member {
    const member = this.#members.get(name);
    if (member === undefined) throw new Error(`no worker ${name}`);
    return member;
  }

  /** Sends a command and resolves with its answer. */
  request<T = unknown>(name: string, command: Command): Promise<T> {
    const member = this.#member(name);
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      member.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      member.child.send({ ...command, id });
    });
  }

  /** The same command to several workers (default: all). */
  all<T = unknown>(command: Command, names: readonly string[] = this.names): Promise<T[]> {
    return Promise.all(names.map((name) => this.request<T>(name, command)));
  }

  /** Kills a worker with SIGKILL and waits for it to be gone. */
  async kill(name: string): Promise<void> {
    const { child } = this.#member(name);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  /** Disconnects every worker (they stop and exit) and waits for them. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.#members.values()].map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.disconnect();
        await gone;
      }),
    );
  }
}

export type { WatchReport };
