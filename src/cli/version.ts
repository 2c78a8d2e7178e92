import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './cli-error.js';

/**
 * The version in revocable's own package.json, found by walking up from this module: it sits two
 * levels up from `dist/cli/` when installed, three from `build/src/cli/` in the test build. The
 * name is checked so that an application's package.json is never taken for ours.
 *
 * @example
 * ```ts
 * readPackageVersion(); // '0.1.0'
 * ```
 */
export function readPackageVersion(from: string = import.meta.url): string {
  let directory = dirname(fileURLToPath(from));
  for (;;) {
    const version = versionIn(join(directory, 'package.json'));
    if (version !== undefined) return version;
    const parent = dirname(directory);
    if (parent === directory) throw new CliError('cannot find the package.json of revocable');
    directory = parent;
  }
}

function versionIn(path: string): string | undefined {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  const { name, version } = (manifest ?? {}) as { name?: unknown; version?: unknown };
  return name === 'revocable' && typeof version === 'string' ? version : undefined;
}
