import {
  loadServerConfig,
  type ServerConfig,
  ServerConfigError,
  serveHelp,
} from '../../server/config/index.js';
import { CliError, EXIT_OK, EXIT_USAGE } from '../cli-error.js';
import type { CliIo } from '../io.js';
import { readPackageVersion } from '../version.js';

// The server's packages are optional peers of the library: a user who only verifies tokens does
// not install Fastify. Loaded here, at `serve`, with a message that says what to install.
const SERVER_PACKAGES = ['fastify', '@fastify/cookie', '@fastify/swagger', '@node-rs/argon2'];

async function loadServer(): Promise<typeof import('../../server/start.js')> {
  try {
    return await import('../../server/start.js');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : '';
    const missing = SERVER_PACKAGES.find((name) => message.includes(`'${name}'`));
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && missing !== undefined) {
      throw new CliError(
        `the server needs packages that are not installed (${missing} first): npm install ${SERVER_PACKAGES.join(' ')}`,
      );
    }
    throw error;
  }
}

/**
 * How long a shutdown may take. The server finishes the requests in flight, then closes the store
 * and the bus; a request waiting on a database that stopped answering (a stalled connection, which
 * no error ends) would hold that for ever, and a process that does not stop is one a supervisor
 * cannot replace. Past this the process exits anyway, with status 1.
 */
export const SHUTDOWN_TIMEOUT_SECONDS = 10;
const EXIT_SHUTDOWN_TIMEOUT = 1;

/** Waits for SIGTERM or SIGINT: how a service manager, a container runtime or Ctrl-C stops it. */
function untilStopped(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(signal);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/** `revocable serve [options]`: runs until SIGTERM or SIGINT, then shuts down gracefully. */
export async function runServe(argv: readonly string[], io: CliIo): Promise<number> {
  let config: ServerConfig | 'help';
  try {
    config = loadServerConfig({ argv: [...argv], env: process.env, cwd: process.cwd() });
  } catch (error) {
    if (!(error instanceof ServerConfigError)) throw error;
    // One line per problem, as the configuration reported them, rather than folded into one.
    io.stderr(
      `revocable serve: ${error.problems.length === 1 ? 'a setting is' : 'settings are'} wrong:\n`,
    );
    for (const problem of error.problems) io.stderr(`  ${problem}\n`);
    io.stderr('See revocable serve --help.\n');
    return EXIT_USAGE;
  }
  if (config === 'help') {
    io.stdout(serveHelp());
    return EXIT_OK;
  }
  const { startServer } = await loadServer();
  const server = await startServer(config, {
    version: readPackageVersion(),
    print: (line) => io.stdout(`${line}\n`),
  });
  const signal = await untilStopped();
  io.stdout(`${signal}: finishing the requests in flight, then stopping.\n`);
  // Unreferenced: a shutdown that ends in time lets the process exit without waiting for it.
  setTimeout(() => {
    io.stderr(
      `revocable serve: not stopped after ${SHUTDOWN_TIMEOUT_SECONDS} s (a request in flight, PostgreSQL or Redis is not answering): exiting now.\n`,
    );
    process.exit(EXIT_SHUTDOWN_TIMEOUT);
  }, SHUTDOWN_TIMEOUT_SECONDS * 1000).unref();
  await server.close();
  return EXIT_OK;
}
