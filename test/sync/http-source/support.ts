// What the tests of the HTTP revocation source share: a real auth server run in this process (on
// SQLite in a temporary folder), a fetch that records what the source asked, a node:http server
// the test scripts (for what a real server never sends), and a clean-up list run after each test.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Verifier } from '../../../src/jwt/verify.js';
import {
  createRevocableVerifier,
  createRevocationIndex,
  type RevocationIndex,
} from '../../../src/revocation/index.js';
import { loadServerConfig, type ServerConfig } from '../../../src/server/config/index.js';
import { type RunningServer, startServer } from '../../../src/server/start.js';
import {
  createHttpRevocationSource,
  type HttpRevocationSource,
  type HttpRevocationSourceOptions,
} from '../../../src/sync/index.js';

export const ISSUER = 'https://auth.test';
export const AUDIENCE = 'revocable';

/**
 * Resolves once `condition` holds, checking every few milliseconds; throws after `timeoutMs` (a
 * limit only a broken build reaches) with `what` in the message.
 */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const cleanups: Array<() => unknown> = [];

/** Runs `cleanup` after the current test, whether it passed or not (latest first). */
export function onCleanUp(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

/** For `afterEach`. */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** A new temporary folder, removed after the test. */
export function temporaryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'revocable-http-source-'));
  onCleanUp(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function serverConfig(dataDir: string, port: number): ServerConfig {
  const config = loadServerConfig({
    argv: [
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--data',
      dataDir,
      '--log-level',
      'silent',
      '--issuer',
      ISSUER,
    ],
    env: {},
  });
  if (config === 'help') throw new Error('unexpected help');
  return config;
}

/** A real auth server (`revocable serve`) in this process; restartable on the same port and data. */
export interface AuthServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  running(): RunningServer;
  /** Stops it (graceful: its streams end). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data folder. */
  restart(): Promise<void>;
}

export async function startAuthServer(): Promise<AuthServer> {
  const dataDir = temporaryDir();
  let current: RunningServer | null = await startServer(serverConfig(dataDir, 0), {
    version: '0.0.0-test',
  });
  const port = Number(new URL(current.url).port);
  const server: AuthServer = {
    url: current.url,
    port,
    dataDir,
    running() {
      if (current === null) throw new Error('the auth server is stopped');
      return current;
    },
    async stop() {
      const running = current;
      current = null;
      await running?.close();
    },
    async restart() {
      await server.stop();
      current = await startServer(serverConfig(dataDir, port), { version: '0.0.0-test' });
    },
  };
  onCleanUp(() => server.stop());
  return server;
}

/** Every request the source made: what it asked for and the headers it sent. */
export interface RecordedRequest {
  readonly url: URL;
  readonly headers: Headers;
}

/** A fetch that records each request, then does it; stream requests wait while held. */
export interface RecordingFetch {
  readonly fetch: typeof fetch;
  readonly requests: RecordedRequest[];
  /** From now on, requests for the stream wait (recorded) until `release()`. */
  hold(): void;
  release(): void;
}

export function recordingFetch(): RecordingFetch {
  const requests: RecordedRequest[] = [];
  let gate: Promise<void> | null = null;
  let open = (): void => {};
  const recording: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    requests.push({ url, headers: new Headers(init?.headers) });
    if (gate !== null && url.pathname.endsWith('/stream')) {
      // Held, but not past the source's stop(): fetch then rejects with the abort at once.
      const aborted = new Promise((resolve) =>
        init?.signal?.addEventListener('abort', resolve, { once: true }),
      );
      await Promise.race([gate, aborted]);
    }
    return fetch(input, init);
  };
  return {
    fetch: recording,
    requests,
    hold() {
      gate ??= new Promise((resolve) => {
        open = resolve;
      });
    },
    release() {
      gate = null;
      open();
    },
  };
}

/** The requests for one endpoint (`/revocations`, `/revocations/stream`, `/.well-known/jwks.json`). */
export function requestsTo(requests: readonly RecordedRequest[], path: string): RecordedRequest[] {
  return requests.filter((request) => request.url.pathname === path);
}

/** An index on the system clock, as a resource server has. */
export function resourceIndex(): RevocationIndex {
  return createRevocationIndex({ maxAccessTokenLifetime: '10m' });
}

/**
 * A source on `url`, stopped after the test; errors are collected rather than warned. Short
 * delays by default, so that the tests reconnect quickly.
 */
export function sourceFor(
  url: string,
  options: Partial<HttpRevocationSourceOptions> = {},
): { source: HttpRevocationSource; index: RevocationIndex; errors: unknown[] } {
  const errors: unknown[] = [];
  const index = options.index ?? resourceIndex();
  const source = createHttpRevocationSource({
    url,
    index,
    reconnectDelay: 0.05,
    maxReconnectDelay: 0.2,
    onError: (error) => errors.push(error),
    ...options,
  });
  onCleanUp(() => source.stop());
  return { source, index, errors };
}

/** A verifier as a resource server builds it on the source. */
export function verifierOf(
  source: HttpRevocationSource,
  index: RevocationIndex,
  maxStaleness = 5,
): Verifier {
  return createRevocableVerifier({
    keys: source.keys,
    index,
    issuer: ISSUER,
    audience: AUDIENCE,
    maxStaleness,
  });
}

/** 'ok' when the token verifies, else the code of the error. */
export function outcome(verifier: Verifier, token: string): string {
  try {
    verifier.verify(token);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

/** A node:http server whose answers the test writes. */
export interface ScriptedServer {
  readonly url: string;
  /** The open responses (streams the test writes to). */
  readonly streams: ServerResponse[];
  /** Every request received, in order. */
  readonly requests: IncomingMessage[];
}

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export async function scriptedServer(handler: Handler): Promise<ScriptedServer> {
  const streams: ServerResponse[] = [];
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  onCleanUp(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${port}`, streams, requests };
}

/** Answers JSON. */
export function json(response: ServerResponse, body: unknown, status = 200): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Starts an event stream (and keeps the response, to write to it later). */
export function eventStream(response: ServerResponse): ServerResponse {
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
  response.write('retry: 1000\n\n');
  return response;
}

/** A heartbeat message as the server writes it. */
export function heartbeat(position: number, freshAt = Date.now() / 1000): string {
  return `id: ${position}\nevent: heartbeat\ndata: ${JSON.stringify({ position, freshAt })}\n\n`;
}

/** A revocation message as the server writes it. */
export function revocation(position: number, event: unknown): string {
  return `id: ${position}\nevent: revocation\ndata: ${JSON.stringify(event)}\n\n`;
}

/** The position a stream request resumes after: Last-Event-ID, else after. */
export function resumedAfter(request: IncomingMessage): string | null {
  const header = request.headers['last-event-id'];
  if (typeof header === 'string') return header;
  return new URL(request.url ?? '/', 'http://x').searchParams.get('after');
}
