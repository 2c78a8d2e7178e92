// What the end-to-end tests of the middleware share: real processes (an auth server on a port the
// test picks, so that it can be killed and brought back where its followers look for it; resource
// servers running resource-app.ts), the calls a client makes, and a bounded poll that records how
// long each revocation took to reach a resource server.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Answer, CLI, call, temporaryDataDir } from '../../server/server-process.js';
import { freePort } from '../../stores/redis-support.js';

export { freePort };

/** The compiled resource server (build/test/http/e2e/resource-app.js). */
const APP = fileURLToPath(new URL('./resource-app.js', import.meta.url));

/** A process started by these tests that printed the URL it listens on. */
export interface RunningProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Sends a signal (SIGKILL after 5 s if it is still there) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<RunningProcess>();

/** Stops every process these helpers started and that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((started) => started.stop()));
}

function spawnListening(
  label: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<RunningProcess> {
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      REVOCABLE_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not start in 30 s:\n${text}`));
    }, 30_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with ${code} before listening:\n${text}`));
    };
    child.once('exit', onExit);
    const read = () => {
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match === null) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.stdout?.off('data', read);
      const handle: RunningProcess = {
        url: (match[1] as string).replace(/\/$/, ''),
        child,
        output: () => text,
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill(signal);
            const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(kill);
          }
          running.delete(handle);
        },
      };
      running.add(handle);
      resolve(handle);
    };
    child.stdout?.on('data', read);
  });
}

/** What {@link startAuthServer} takes. */
export interface AuthServerOptions {
  /** The port (the same one again after a restart); default a free one. */
  port?: number;
  /** The data directory (the same one again after a restart); default a new temporary one. */
  dataDir?: string;
  env?: Record<string, string>;
  args?: readonly string[];
}

/** A `revocable serve` process, with what it takes to start it again in the same place. */
export interface AuthServer extends RunningProcess {
  readonly port: number;
  readonly dataDir: string;
}

/** Starts `revocable serve` on the given (or a free) port; resolves once it listens. */
export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? temporaryDataDir();
  const args = [
    CLI,
    'serve',
    '--port',
    String(port),
    '--data',
    dataDir,
    '--cookie-secure=false',
    ...(options.args ?? []),
  ];
  const started = await spawnListening('the auth server', args, options.env ?? {});
  return { ...started, port, dataDir };
}

/** How a resource server hears of revocations. */
export type ResourceSource =
  | { readonly kind: 'feed'; readonly authUrl: string }
  | {
      readonly kind: 'cluster';
      readonly databaseUrl: string;
      /** The PostgreSQL the follower and the key ring use (default `databaseUrl`). */
      readonly followDatabaseUrl?: string;
      readonly redisUrl: string;
      readonly keysSecret: string;
      readonly schema: string;
      readonly prefix: string;
      readonly onStale?: 'fail-closed' | 'check-store';
    };

/** What {@link startResourceApp} takes. */
export interface ResourceAppOptions {
  readonly framework: 'express' | 'fastify';
  readonly source: ResourceSource;
  readonly issuer: string;
  readonly audience: string;
  /** Seconds. */
  readonly maxStaleness: number;
}

/** A resource server process (resource-app.ts). */
export interface ResourceApp extends RunningProcess {
  readonly framework: 'express' | 'fastify';
}

/** Starts a resource server; resolves once its index is fresh and it listens. */
export async function startResourceApp(options: ResourceAppOptions): Promise<ResourceApp> {
  const { source } = options;
  const env: Record<string, string> = {
    E2E_FRAMEWORK: options.framework,
    E2E_SOURCE: source.kind,
    E2E_ISSUER: options.issuer,
    E2E_AUDIENCE: options.audience,
    E2E_MAX_STALENESS: String(options.maxStaleness),
  };
  if (source.kind === 'feed') {
    env.E2E_AUTH_URL = source.authUrl;
  } else {
    env.DATABASE_URL = source.databaseUrl;
    env.E2E_FOLLOW_DATABASE_URL = source.followDatabaseUrl ?? source.databaseUrl;
    env.REDIS_URL = source.redisUrl;
    env.REVOCABLE_KEYS_SECRET = source.keysSecret;
    env.E2E_PG_SCHEMA = source.schema;
    env.E2E_REDIS_PREFIX = source.prefix;
    env.E2E_ON_STALE = source.onStale ?? 'fail-closed';
  }
  const started = await spawnListening(`the ${options.framework} resource server`, [APP], env);
  return { ...started, framework: options.framework };
}

/** A GET with a bearer token. */
export function get(url: string, path: string, token?: string): Promise<Answer> {
  return call(url, 'GET', path, token === undefined ? {} : { token });
}

/** Asserts a 200 answer; resolves to its body. */
export async function ok<T = Record<string, unknown>>(answer: Promise<Answer>): Promise<T> {
  const { status, body } = await answer;
  assert.equal(status, 200, JSON.stringify(body));
  return body as T;
}

/** Asserts an error answer of the middleware: its status and code, and a message. */
export function assertError(answer: Answer, status: number, code: string, where = ''): void {
  assert.equal(answer.status, status, `${where} ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body?.error, code, `${where} ${JSON.stringify(answer.body)}`);
  assert.equal(typeof answer.body?.message, 'string', where);
}

/** Asserts that every app accepts the token on `path` (default `/me`). */
export async function acceptedBy(
  apps: readonly ResourceApp[],
  token: string,
  path = '/me',
): Promise<void> {
  for (const app of apps) {
    const answer = await get(app.url, path, token);
    assert.equal(answer.status, 200, `${app.framework} ${path}: ${JSON.stringify(answer.body)}`);
  }
}

/** Asserts that the app refuses the token as revoked (401 ERR_TOKEN_REVOKED, with its challenge). */
export async function revokedBy(app: ResourceApp, token: string, path = '/me'): Promise<void> {
  const answer = await get(app.url, path, token);
  assertError(answer, 401, 'ERR_TOKEN_REVOKED', `${app.framework} ${path}`);
  assert.equal(
    answer.headers.get('www-authenticate'),
    'Bearer realm="revocable", error="invalid_token", error_description="ERR_TOKEN_REVOKED"',
  );
}

/** One observed delay: from the answer of a change to the first poll that saw it. */
export interface Latency {
  readonly what: string;
  /** A revocation reaching a resource server, or another change observed (a cut, a restart). */
  readonly kind: 'revocation' | 'other';
  readonly ms: number;
  readonly polls: number;
}

/** Every delay recorded by {@link within} in this test file. */
export const latencies: Latency[] = [];

/**
 * Polls `check` every 10 ms until it passes, for at most `boundMs` (a check that started within
 * the bound counts), and records how long it took from the call: call it right after the answer
 * of the change. Fails with the check's last error past the bound.
 */
export async function within(
  what: string,
  boundMs: number,
  check: () => Promise<void>,
  kind: Latency['kind'] = 'other',
): Promise<Latency> {
  const start = performance.now();
  for (let polls = 1; ; polls++) {
    const attempt = performance.now();
    try {
      await check();
      const latency = { what, kind, ms: performance.now() - start, polls };
      latencies.push(latency);
      return latency;
    } catch (error) {
      if (attempt - start > boundMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** Polls until every app refuses the token as revoked, each within `boundMs`; records each. */
export async function refusedWithin(
  what: string,
  apps: readonly ResourceApp[],
  boundMs: number,
  token: string,
): Promise<void> {
  await Promise.all(
    apps.map((app) =>
      within(`${what} (${app.framework})`, boundMs, () => revokedBy(app, token), 'revocation'),
    ),
  );
}

/** The recorded latencies, as lines for the test log: the revocations' summed up, then each. */
export function describeLatencies(title: string): string {
  const fixed = (ms: number | undefined) => `${(ms ?? 0).toFixed(1)} ms`;
  const sorted = latencies
    .filter((entry) => entry.kind === 'revocation')
    .map((entry) => entry.ms)
    .sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const summary =
    sorted.length === 0
      ? `${title}: no revocation observed`
      : `${title}: ${sorted.length} observations, median ${fixed(at(0.5))}, ` +
        `p90 ${fixed(at(0.9))}, max ${fixed(sorted[sorted.length - 1])}`;
  const line = (entry: Latency) =>
    `  ${entry.what}: ${fixed(entry.ms)} (${entry.polls} poll${entry.polls > 1 ? 's' : ''})`;
  const others = latencies.filter((entry) => entry.kind === 'other');
  return [
    summary,
    ...latencies.filter((entry) => entry.kind === 'revocation').map(line),
    ...(others.length === 0 ? [] : ['other changes observed:', ...others.map(line)]),
  ].join('\n');
}
