// What the sync tests share: waiting for a condition (never a fixed sleep), with a generous limit
// that only a broken build reaches, and redis-server processes of their own to stop and restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from '../stores/redis-support.js';

/** Resolves once `condition` holds; throws after `timeoutMs` with `what` in the message. */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: did not happen within ${timeoutMs} ms`);
    await sleep(5);
  }
}

/** A redis-server of a test's own, that it may stop and start again on the same port. */
export interface OwnRedis {
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty; resolves once it answers. */
  restart(): Promise<void>;
}

/**
 * Starts `redis-server` on a free loopback port without persistence; null when there is no
 * redis-server here (the caller skips, or fails under CI).
 */
export async function startOwnRedis(): Promise<OwnRedis | null> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  async function start(): Promise<boolean> {
    const spawned = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore', cwd: tmpdir() },
    );
    const ok = await Promise.race([
      once(spawned, 'spawn').then(() => true),
      once(spawned, 'error').then(() => false),
    ]);
    if (!ok) return false;
    child = spawned;
    const probe = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: null,
    });
    probe.on('error', () => {});
    try {
      await waitUntil(`redis-server on port ${port} answers`, async () => {
        try {
          if (probe.status !== 'ready') await probe.connect();
          return (await probe.ping()) === 'PONG';
        } catch {
          probe.disconnect();
          return false;
        }
      });
      return true;
    } finally {
      probe.disconnect();
    }
  }

  async function stop(): Promise<void> {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGTERM');
    await exited;
  }

  if (!(await start())) return null;
  return {
    url,
    port,
    stop,
    async restart() {
      await stop();
      if (!(await start())) throw new Error('redis-server did not start again');
    },
  };
}
