import { defaultText, rangeText, SERVER_SETTINGS, type ServerSetting } from './settings.js';

/** One line for the list of commands in `revocable --help`. */
export const SERVE_SUMMARY = 'Run the auth server (login, refresh, logout, revocation over HTTP)';

const DESCRIPTION =
  'Runs the revocable auth server. Without a database URL it keeps users, sessions and keys in ' +
  'SQLite under the data folder, for one process; with DATABASE_URL (PostgreSQL, and optionally ' +
  'REDIS_URL) any number of processes share them as a cluster. It listens on 127.0.0.1, ' +
  'reachable from this machine only; in a container, use --host 0.0.0.0. Every setting is ' +
  'checked at start, and every problem is reported at once.';

const NOTES = [
  'Each setting is taken from its flag, else its environment variable, else the configuration ' +
    'file (--config or REVOCABLE_CONFIG), else its default. In the file, null means the default, ' +
    'and a relative data folder is relative to the file.',
  'Durations: seconds, or a number with s, m, h or d (10m, 7d). Booleans: --flag, --no-flag or ' +
    '--flag=VALUE; in variables true/false, 1/0, yes/no or on/off; in a file, JSON true or false.',
  'Secrets are read from the environment only: a command line is visible to every user of the ' +
    'machine (ps), and configuration files get copied and committed.',
];

const WIDTH = 100;
const LEFT = 30;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** The flag as the help writes it: `--port N`, `--[no-]fingerprint`, or the variable alone. */
function leftColumn(entry: ServerSetting): string {
  if (entry.flag === null) return entry.env;
  if (entry.kind.type === 'boolean') return `--[no-]${entry.flag}`;
  if (entry.kind.type === 'proxy') return `--[no-]${entry.flag}[=${entry.placeholder}]`;
  return `--${entry.flag} ${entry.placeholder}`;
}

/** Where else the setting is read from, its range and its default. */
function details(entry: ServerSetting): string {
  const parts: string[] = [];
  if (entry.flag !== null) parts.push(`env ${entry.env}`);
  if (entry.inFile) parts.push(`file key ${entry.name}`);
  const range = rangeText(entry.kind);
  if (range !== null) parts.push(range);
  parts.push(`default ${defaultText(entry)}`);
  return `(${parts.join('; ')})`;
}

function rows(entries: readonly ServerSetting[]): string[] {
  const indent = ' '.repeat(LEFT + 4);
  const lines: string[] = [];
  for (const entry of entries) {
    const left = leftColumn(entry);
    const right = wrap(`${entry.help} ${details(entry)}`, WIDTH - LEFT - 4);
    const [first = '', ...rest] = right;
    // A name longer than its column takes a line of its own.
    if (left.length > LEFT) lines.push(`  ${left}`, `${indent}${first}`);
    else lines.push(`  ${left.padEnd(LEFT)}  ${first}`);
    for (const line of rest) lines.push(`${indent}${line}`);
  }
  return lines;
}

/**
 * The `--help` text of `revocable serve`, made from the settings table: every flag with its
 * variable, configuration-file key, range and default, then the variables that are never flags.
 *
 * @example
 * ```ts
 * if (loadServerConfig({ argv, env: process.env }) === 'help') io.stdout(serveHelp());
 * ```
 */
export function serveHelp(): string {
  const flags = SERVER_SETTINGS.filter((entry) => entry.flag !== null);
  const envOnly = SERVER_SETTINGS.filter((entry) => entry.flag === null);
  const lines = [
    'Usage: revocable serve [options]',
    '',
    ...wrap(DESCRIPTION, WIDTH - 2),
    '',
    'Options:',
    ...rows(flags),
    `  ${'-h, --help'.padEnd(LEFT)}  Show this help`,
    '',
    'Environment only:',
    ...rows(envOnly),
    '',
    ...NOTES.flatMap((note) => [...wrap(note, WIDTH - 2), '']),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}
