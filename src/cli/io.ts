import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { systemClock } from '../lib/clock.js';

/**
 * Everything the CLI does to the outside world. Commands see only this, so tests run them
 * in-process with a fake and never spawn a process or touch a real terminal.
 */
export interface CliIo {
  /** Writes to standard output; the text carries its own newline. */
  stdout(text: string): void;
  /** Writes to standard error; the text carries its own newline. */
  stderr(text: string): void;
  /** Reads a UTF-8 file; throws the `node:fs` error (with its `code`) when it cannot. */
  readFile(path: string): string;
  /** Writes a file that holds secrets: readable by its owner only (mode 0600). */
  writeSecretFile(path: string, text: string): void;
  /** Whether something exists at `path`. */
  exists(path: string): boolean;
  /** Reads all of standard input as UTF-8. */
  readStdin(): Promise<string>;
  /** The current time in epoch seconds. */
  now(): number;
}

/**
 * The real {@link CliIo}, on `process` and `node:fs`.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2), createNodeIo());
 * ```
 */
export function createNodeIo(): CliIo {
  if (!process.stdout.listeners('error').includes(ignoreClosedPipe)) {
    process.stdout.on('error', ignoreClosedPipe);
  }
  return {
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
    readFile: (path) => readFileSync(path, 'utf8'),
    writeSecretFile,
    exists: existsSync,
    readStdin,
    now: systemClock,
  };
}

// A reader that closes the pipe early (`revocable keys list | head -1`) is not an error of ours;
// without a listener Node would crash with a stack trace.
function ignoreClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPIPE') throw error;
}

// The file is created 0600 under a temporary name and renamed into place: the secret is never
// readable by others, not even for a moment, an existing file's looser mode is not inherited, and
// `--keys ring.json --out ring.json` replaces the ring whole or not at all.
function writeSecretFile(path: string, text: string): void {
  const temporary = join(dirname(path), `.revocable-${process.pid}-${Date.now()}.tmp`);
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks).toString('utf8');
}
