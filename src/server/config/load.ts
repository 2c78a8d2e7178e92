import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { parseServeArgv } from './argv.js';
import { type Environment, readEnvironment } from './env.js';
import { ServerConfigError } from './error.js';
import { readConfigFile } from './file.js';
import { redactedConfig } from './redact.js';
import { type GivenValues, Resolver, resolveConfig } from './resolve.js';
import type { ServerConfig } from './types.js';

/** What {@link loadServerConfig} reads. */
export interface LoadServerConfigOptions {
  /** The words after `revocable serve`. */
  readonly argv: readonly string[];
  /** The environment, usually `process.env`. */
  readonly env: Environment;
  /** The folder relative paths are resolved against (default: `process.cwd()`). */
  readonly cwd?: string;
}

// Frozen, with toJSON and util.inspect forms that hide the secrets: a configuration logged whole
// by mistake (`logger.info({ config })`, `console.log(config)`) shows `***` instead.
function seal(config: ServerConfig): ServerConfig {
  const sealed = { ...config, audience: Object.freeze([...config.audience]) };
  Object.defineProperties(sealed, {
    toJSON: { value: () => redactedConfig(sealed) },
    [inspect.custom]: { value: () => redactedConfig(sealed) },
  });
  return Object.freeze(sealed);
}

/**
 * Reads the configuration of `revocable serve` from its flags, the environment, an optional JSON
 * file and the defaults, in that order of precedence, and checks all of it before anything
 * starts. Returns `'help'` when `-h` or `--help` was given (print {@link serveHelp}), whatever
 * else is wrong. Otherwise every problem found, in flags, variables, file and between settings,
 * is thrown at once as one {@link ServerConfigError} (`ERR_SERVER_CONFIG`), one line each.
 *
 * @example
 * ```ts
 * const config = loadServerConfig({ argv: process.argv.slice(3), env: process.env });
 * if (config === 'help') process.stdout.write(serveHelp());
 * else logger.info(describeConfig(config));
 * ```
 */
export function loadServerConfig(options: LoadServerConfigOptions): ServerConfig | 'help' {
  const cwd = resolve(options.cwd ?? process.cwd());
  const argv = parseServeArgv(options.argv);
  if (argv.help) return 'help';
  const environment = readEnvironment(options.env);
  const problems = [...argv.problems, ...environment.problems];
  const given: GivenValues = { flags: argv.values, env: environment.values, file: null, cwd };

  // The file's own name comes from a flag or a variable only; its problems, if any, are reported
  // with the other settings' below.
  const early = new Resolver(given);
  const path = early.text('configFile');
  let file: GivenValues['file'] = null;
  if (path !== null && early.valid('configFile')) {
    const read = readConfigFile(path, early.label('configFile'));
    problems.push(...read.problems);
    file = { path, base: read.base, values: read.values };
  }

  const resolved = resolveConfig({ ...given, file });
  problems.push(...resolved.problems);
  if (problems.length > 0) throw new ServerConfigError(problems);
  return seal(resolved.config);
}
