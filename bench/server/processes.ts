/**
 * The server processes of the server benchmark: each runs in a child process of its own (the
 * load generator stays in the bench process), is ready once it prints its URL, and is stopped with
 * SIGTERM (SIGKILL after a grace period). Their CPU time is read from `/proc/<pid>/stat`, which
 * counts every thread of the process (argon2id's worker threads included).
 *
 * Every child started here is also killed when the bench process exits, whatever the path out.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A server process, ready to take requests. */
export interface ServerProcess {
  readonly name: string;
  /** Where it listens, like `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly pid: number;
  /** CPU seconds used so far (user + system, all threads); null where `/proc` is missing. */
  cpuSeconds(): number | null;
  /** The end of what it printed (stdout and stderr), for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** How to start one. */
export interface StartOptions {
  readonly name: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** The line that says it is ready; its first group is the URL. */
  readonly ready: RegExp;
  readonly timeoutMs?: number;
}

const OUTPUT_LIMIT = 16_384;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = 100;
    }
    if (!Number.isFinite(ticksPerSecond) || ticksPerSecond <= 0) ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** CPU seconds of a process (user + system, every thread), or null when unknown. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: the fields are after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 (utime) and 15 (stime) of proc(5), counted from 3 (state) here.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / clockTicks() : null;
  } catch {
    return null;
  }
}

/**
 * Waits until a server is idle (under 5% of a core over half a second), at most `maxMs`: what it
 * does after it starts listening (a snapshot written, the heap settling) stays out of the runs.
 */
export async function settle(server: ServerProcess, maxMs = 10_000): Promise<void> {
  const until = Date.now() + maxMs;
  let before = server.cpuSeconds();
  while (before !== null && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = server.cpuSeconds();
    if (after === null || after - before < 0.025) return;
    before = after;
  }
}

/** CPU time of the whole machine so far, in seconds: busy (not idle nor waiting) and total. */
export function machineCpuSeconds(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guests are in user).
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (ticks.length < 8 || ticks.some((value) => !Number.isFinite(value))) return null;
    const total = ticks.reduce((sum, value) => sum + value, 0);
    const idle = ticks[3]! + ticks[4]!;
    return { busy: (total - idle) / clockTicks(), total: total / clockTicks() };
  } catch {
    return null;
  }
}

/** Starts `node <args>` and waits for its ready line. */
export function startProcess(options: StartOptions): Promise<ServerProcess> {
  installExitHook();
  const child = spawn(process.execPath, [...options.args], {
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      running.delete(child);
      resolve();
    });
  });
  const record = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_LIMIT * 2) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stderr!.on('data', record);

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitedPromise;
      clearTimeout(timer);
    })();
    return stopping;
  };

  return new Promise<ServerProcess>((resolve, reject) => {
    let pending = '';
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop(2000).then(() =>
        reject(new Error(`${options.name}: ${why}\n${output.trim().slice(-2000)}`)),
      );
    };
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    child.once('error', (error) => fail(`cannot start (${error.message})`));
    child.once('exit', (code, signal) => fail(`exited before it was ready (${signal ?? code})`));
    child.stdout!.on('data', (chunk: Buffer) => {
      record(chunk);
      if (settled) return;
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const match = options.ready.exec(line);
        if (match?.[1] === undefined) continue;
        settled = true;
        clearTimeout(timer);
        const pid = child.pid!;
        resolve({
          name: options.name,
          url: match[1],
          pid,
          cpuSeconds: () => processCpuSeconds(pid),
          output: () => output,
          stop,
        });
        return;
      }
    });
  });
}
