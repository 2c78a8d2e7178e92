import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Environment,
  loadServerConfig,
  type ServerConfig,
  ServerConfigError,
} from '../../../src/server/config/index.js';

/** A working folder of its own for each test that reads files or resolves paths. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'revocable-config-'));
}

/** Writes a configuration file (an object as JSON, or text as is) and returns its path. */
export function writeConfig(dir: string, content: unknown, name = 'revocable.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** Loads a configuration that must be valid, and not a request for help. */
export function load(argv: readonly string[] = [], env: Environment = {}, cwd?: string) {
  const config = loadServerConfig(cwd === undefined ? { argv, env } : { argv, env, cwd });
  assert.notEqual(config, 'help');
  return config as ServerConfig;
}

/** The error of a configuration that must be refused. */
export function refuse(
  argv: readonly string[] = [],
  env: Environment = {},
  cwd?: string,
): ServerConfigError {
  try {
    loadServerConfig(cwd === undefined ? { argv, env } : { argv, env, cwd });
  } catch (error) {
    assert.ok(error instanceof ServerConfigError, String(error));
    return error;
  }
  assert.fail('the configuration was accepted');
}

/** The problems of a configuration that must be refused with exactly one of them. */
export function oneProblem(argv: readonly string[] = [], env: Environment = {}, cwd?: string) {
  const { problems } = refuse(argv, env, cwd);
  assert.equal(problems.length, 1, problems.join('\n'));
  return problems[0]!;
}

/** A secret long enough for REVOCABLE_KEYS_SECRET, easy to find in any output. */
export const SECRET = 'CANARY-keys-secret-0123456789abcdefghij';

/** What cluster mode needs besides its URL. */
export const CLUSTER_ENV = {
  REVOCABLE_KEYS_SECRET: SECRET,
  REVOCABLE_ISSUER: 'https://auth.example.com',
};
