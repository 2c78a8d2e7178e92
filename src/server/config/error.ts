import { RevocableError } from '../../errors/revocable-error.js';

/**
 * The server's settings are wrong: `problems` has one line per bad value, each naming the flag,
 * variable or file key it came from and what is expected (never a secret's value). The message is
 * a heading and the same lines, one per line, so that they can be printed as they are.
 *
 * @example
 * ```ts
 * try {
 *   loadServerConfig({ argv, env: process.env });
 * } catch (error) {
 *   if (error instanceof ServerConfigError) for (const line of error.problems) console.error(line);
 * }
 * ```
 */
export class ServerConfigError extends RevocableError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    const lines = problems.map((problem) => `  ${problem}`);
    super('ERR_SERVER_CONFIG', [`The server configuration has ${count}:`, ...lines].join('\n'));
    this.problems = Object.freeze([...problems]);
  }

  override get name(): string {
    return 'ServerConfigError';
  }
}
