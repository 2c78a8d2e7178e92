import { createServer } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { defaultIssuer, type ServerConfig } from './config/index.js';
import { buildApp } from './http/app.js';
import { DATABASE_FILE } from './runtime/backend.js';
import { openRuntime, type ServerRuntime } from './runtime/runtime.js';

/** A running auth server. */
export interface RunningServer {
  /** Where it listens, like `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly app: FastifyInstance;
  readonly runtime: ServerRuntime;
  /**
   * Graceful shutdown: stops accepting connections, ends the revocation streams, lets the requests
   * in flight finish, then stops following the log and closes the store and the bus. Idempotent.
   */
  close(): Promise<void>;
}

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** The package version, for the OpenAPI document and the startup line. */
  readonly version: string;
  /** Where the startup lines go (default: nowhere). */
  readonly print?: (line: string) => void;
}

/**
 * Starts the auth server: opens the store (creating the database and the key ring on a first
 * start), makes sure the configured admin exists, catches up with the revocation log, and listens.
 */
export async function startServer(
  given: ServerConfig,
  options: StartServerOptions,
): Promise<RunningServer> {
  const print = options.print ?? (() => undefined);
  const config = await withPort(given);
  const runtime = await openRuntime(config);
  let app: FastifyInstance | undefined;
  try {
    if (config.admin !== null) {
      const { user, created } = await runtime.accounts.ensureAdmin(
        config.admin.username,
        config.admin.password,
      );
      print(
        `Admin ${JSON.stringify(user.username)} ${created ? 'created' : 'is ready'} (id ${user.id}).`,
      );
    }
    app = await buildApp(runtime, { version: options.version });
    const server = app;
    // SSE streams never end by themselves: they are ended before the server waits for requests.
    server.addHook('preClose', async () => {
      runtime.feed.close();
    });
    await server.listen({ port: config.port, host: config.host });
    const address = server.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${port}`;
    print(`revocable auth server listening on ${url}`);
    print(
      config.databaseUrl === null
        ? `Storage: SQLite at ${join(config.dataDir, DATABASE_FILE)}`
        : `Storage: PostgreSQL (schema ${config.pgSchema}), bus: ${config.redisUrl === null ? 'PostgreSQL' : 'Redis'}`,
    );
    if (config.admin === null && (await runtime.backend.users.count()) === 0) {
      print(
        'No users yet. Create the first admin with `npx revocable users add <name> --admin` ' +
          '(it reads the password from stdin), or start with REVOCABLE_ADMIN_USER and REVOCABLE_ADMIN_PASSWORD set.',
      );
    }
    let closing: Promise<void> | undefined;
    return {
      url,
      app: server,
      runtime,
      close() {
        closing ??= server.close().then(() => runtime.close());
        return closing;
      },
    };
  } catch (error) {
    await app?.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    throw error;
  }
}

// A free port the system picks for --port 0.
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() =>
        resolve(typeof address === 'object' && address !== null ? address.port : 0),
      );
    });
  });
}

// The default issuer names the port the server listens on, and every token is signed with it
// before the server listens: with --port 0 the port is chosen first, so the issuer is the real one.
// (A cluster's default issuer names the deployment, not a port.)
async function withPort(config: ServerConfig): Promise<ServerConfig> {
  if (config.port !== 0 || config.sources.issuer !== 'default' || config.mode === 'cluster') {
    return config;
  }
  const port = await freePort(config.host);
  return { ...config, port, issuer: defaultIssuer(config.host, port) };
}
