import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI: the tests run the server exactly as `revocable serve` does. */
export const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

/** A real server process on a free port. */
export interface ServerProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** What {@link startServerProcess} takes. */
export interface StartOptions {
  /** The data directory (default: a new temporary one, removed by `removeDataDirs`). */
  dataDir?: string;
  /** Variables added to a clean environment (PATH and HOME are kept). */
  env?: Record<string, string>;
  /** Flags after `serve`. */
  args?: string[];
}

const made: string[] = [];

/** A new temporary data directory, removed by {@link removeDataDirs}. */
export function temporaryDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'revocable-server-'));
  made.push(dir);
  return dir;
}

/** Removes every temporary data directory the tests made. */
export function removeDataDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts `revocable serve --port 0` and resolves once it printed the URL it listens on (it prints
 * it only after the index is fresh and the port is open).
 */
export function startServerProcess(options: StartOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? temporaryDataDir();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    REVOCABLE_LOG_LEVEL: 'warn',
    ...options.env,
  };
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--port',
      '0',
      '--data',
      dataDir,
      '--cookie-secure=false',
      ...(options.args ?? []),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server did not start in 30 s:\n${text}`));
    }, 30_000);
    const read = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout?.off('data', read);
      child.stdout?.on('data', (more: Buffer) => {
        text += more.toString('utf8');
      });
      resolve({
        url: match[1] as string,
        dataDir,
        child,
        output: () => text,
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code} before listening:\n${text}`));
    });
  });
}

/** An answer of the server: status, headers and the body (parsed when JSON). */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever the server answered
  readonly body: any;
}

/** What {@link call} takes besides the method and path. */
export interface CallOptions {
  token?: string;
  json?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  cookies?: string;
}

/** One HTTP request to a server. */
export async function call(
  url: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.cookies !== undefined) headers.cookie = options.cookies;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') {
    parsed = JSON.parse(text);
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Waits until `check` passes, or fails with its last error after `ms`. */
export async function eventually(check: () => Promise<void>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
