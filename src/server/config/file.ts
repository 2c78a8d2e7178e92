import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { closestName, shownName } from '../../lib/suggest.js';
import { jsonErrorPlace } from './json-error-place.js';
import { SERVER_SETTINGS, type SettingName, settingOf } from './settings.js';

/** What a configuration file said: its values (JSON, not yet checked) by setting, and problems. */
export interface ReadConfigFile {
  readonly values: ReadonlyMap<SettingName, unknown>;
  readonly problems: readonly string[];
  /** The folder relative paths in the file are resolved against. */
  readonly base: string;
}

const IN_FILE = SERVER_SETTINGS.filter((entry) => entry.inFile).map((entry) => entry.name);

function readError(error: unknown): string {
  const code = String((error as { code?: unknown } | null)?.code);
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return code.startsWith('E') ? code : 'unreadable';
}

function keyProblem(path: string, key: string): string {
  const entry = SERVER_SETTINGS.find((candidate) => candidate.name === key);
  if (entry?.name === 'keysSecret' || entry?.name === 'feedToken') {
    return (
      `${path}: ${key} is not read from a configuration file (files get copied and committed): ` +
      `set ${entry.env} in the environment, from your secret manager`
    );
  }
  if (entry?.name === 'adminUser' || entry?.name === 'adminPassword' || key === 'admin') {
    return (
      `${path}: ${key} is not read from a configuration file (files get copied and committed): ` +
      `set ${settingOf('adminUser').env} and ${settingOf('adminPassword').env} in the environment`
    );
  }
  if (entry !== undefined) return `${path}: ${key} cannot be set in a configuration file`;
  const shown = shownName(key);
  if (shown === null) return `${path}: a key is not a setting of revocable serve`;
  const near = closestName(key, IN_FILE);
  return `${path}: ${shown} is not a setting${near === null ? '' : ` (did you mean ${near}?)`}`;
}

/**
 * Reads a JSON configuration file: an object whose keys are setting names (`port`, `accessTtl`).
 * A key set to `null` counts as absent. Problems name the file and the key; the values are checked
 * later, with the other sources, by the kind of each setting.
 */
export function readConfigFile(path: string, label: string): ReadConfigFile {
  const values = new Map<SettingName, unknown>();
  const problems: string[] = [];
  const base = dirname(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.push(`${label} names ${path}, which cannot be read: ${readError(error)}`);
    return { values, problems, base };
  }
  let document: unknown;
  try {
    document = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    // Not the parser's message: it quotes the text around the error.
    const place = jsonErrorPlace(text.replace(/^\uFEFF/, ''));
    problems.push(`${path} is not valid JSON${place === null ? '' : ` (${place})`}`);
    return { values, problems, base };
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    problems.push(`${path} must hold a JSON object of settings, like {"port": 8080}`);
    return { values, problems, base };
  }
  for (const [key, value] of Object.entries(document)) {
    const name = IN_FILE.find((candidate) => candidate === key);
    if (name === undefined) problems.push(keyProblem(path, key));
    else if (value !== null) values.set(name, value);
  }
  return { values, problems, base };
}
