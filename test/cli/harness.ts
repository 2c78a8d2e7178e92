import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';

/** What one in-process run of the CLI produced. */
export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** The fixed clock of every workspace: 2027-01-15, in epoch seconds. */
export const NOW = 1_800_000_000;

/**
 * An in-memory file system and clock for running the CLI in-process. Files written with `--out`
 * land in `files` and are recorded in `secretFiles`.
 */
export class Workspace {
  readonly files = new Map<string, string>();
  readonly secretFiles = new Set<string>();
  now = NOW;

  /** Runs the CLI with these arguments and nothing on stdin. */
  run(...args: string[]): Promise<CliResult> {
    return this.runWithStdin('', ...args);
  }

  /** Runs the CLI with `stdin` as its standard input. */
  async runWithStdin(stdin: string, ...args: string[]): Promise<CliResult> {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      readFile: (path) => {
        const text = this.files.get(path);
        if (text === undefined) {
          throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
        }
        return text;
      },
      writeSecretFile: (path, text) => {
        this.files.set(path, text);
        this.secretFiles.add(path);
      },
      exists: (path) => this.files.has(path),
      readStdin: async () => stdin,
      now: () => this.now,
    };
    const status = await runCli(args, io);
    return { status, stdout, stderr };
  }

  /** Runs a command that must succeed and returns its stdout. */
  async ok(...args: string[]): Promise<string> {
    const result = await this.run(...args);
    if (result.status !== 0) {
      throw new Error(`revocable ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    }
    return result.stdout;
  }

  /** Generates a ring with `keys generate` and stores it as `path`. */
  async generate(path: string, ...options: string[]): Promise<void> {
    this.files.set(path, await this.ok('keys', 'generate', ...options));
  }

  /** Signs a token with `token sign --keys path` and returns it without the newline. */
  async sign(path: string, ...options: string[]): Promise<string> {
    return (await this.ok('token', 'sign', '--keys', path, ...options)).trimEnd();
  }
}

/** Parses a JSON document the CLI printed. */
export function parseJson(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}
