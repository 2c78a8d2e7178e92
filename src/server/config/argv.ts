import { closestName, shownName } from '../../lib/suggest.js';
import { SERVER_SETTINGS, type ServerSetting, type SettingName } from './settings.js';

/** What the words after `revocable serve` said: help wanted, values by setting, and problems. */
export interface ParsedArgv {
  readonly help: boolean;
  /** A string, or `true`/`false` for a bare or `--no-` boolean flag. */
  readonly values: ReadonlyMap<SettingName, string | boolean>;
  readonly problems: readonly string[];
}

const FLAGS = new Map(
  SERVER_SETTINGS.flatMap((entry) => (entry.flag === null ? [] : [[entry.flag, entry] as const])),
);
const FLAG_NAMES = [...FLAGS.keys(), 'help'];

// What a secret would be called as a flag (`keys-secret`): recognised, to say why it is not one.
const ENV_ONLY = new Map(
  SERVER_SETTINGS.flatMap((entry) =>
    entry.flag === null
      ? [[entry.name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`), entry] as const]
      : [],
  ),
);

const BOOLEAN_WORD = /^(true|false|1|0|yes|no|on|off)$/i;

// On/off flags (`--x`, `--no-x`, `--x=VALUE`); --trust-proxy reads so too, its value inline.
function isBoolean(entry: ServerSetting): boolean {
  return entry.kind.type === 'boolean' || entry.kind.type === 'proxy';
}

function unknownOption(word: string): string {
  const name = word.replace(/^-+/, '').split('=')[0] ?? '';
  const shown = shownName(name);
  if (shown === null) return 'an unknown option was given; see revocable serve --help';
  const near = closestName(name, FLAG_NAMES);
  const hint = near === null ? '' : ` (did you mean --${near}?)`;
  return `unknown option ${word.startsWith('--') ? '--' : '-'}${shown}${hint}`;
}

/** Whether a word is one of the options, as opposed to a value that starts with `-`. */
function isOption(word: string): boolean {
  if (word === '-h' || word === '--help' || word === '--') return true;
  const name = word.slice(2).split('=')[0] ?? '';
  const positive = name.startsWith('no-') ? name.slice(3) : name;
  return word.startsWith('--') && (FLAGS.has(name) || FLAGS.has(positive) || ENV_ONLY.has(name));
}

// Why `--name` is no option: a secret (env only), `--no-` before a flag that takes a value, or a
// slip (with the closest flag).
function notAnOption(name: string, word: string): string {
  const secret = ENV_ONLY.get(name);
  if (secret !== undefined) {
    return (
      `--${name} is not an option: a command line is visible to every user of the machine ` +
      `(ps); set ${secret.env} in the environment`
    );
  }
  const positive = name.startsWith('no-') ? FLAGS.get(name.slice(3)) : undefined;
  if (positive !== undefined) return `--${name} is not an option: --${positive.flag} is not on/off`;
  return unknownOption(word);
}

/**
 * Reads the words after `revocable serve`. Unlike the other commands (node:util `parseArgs`), it
 * goes on past a bad word so that every problem is reported at once, and it reads the boolean forms
 * `--fingerprint`, `--no-fingerprint` and `--fingerprint=false`. `-h`/`--help` anywhere before
 * `--` asks for help, whatever else is wrong. Values are never echoed: a secret may sit in the
 * wrong place.
 */
export function parseServeArgv(argv: readonly string[]): ParsedArgv {
  const values = new Map<SettingName, string | boolean>();
  const problems: string[] = [];
  const seen = new Set<SettingName>();
  let help = false;
  let extra = 0;
  // A bare boolean flag just before, whose value the user may have written as a separate word.
  let lastBareBoolean: ServerSetting | null = null;

  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const previousBoolean = lastBareBoolean;
    lastBareBoolean = null;
    if (word === '--') {
      extra += argv.length - i - 1;
      break;
    }
    if (word === '-h' || word === '--help') {
      help = true;
      continue;
    }
    if (!word.startsWith('-') || word === '-') {
      if (previousBoolean !== null && BOOLEAN_WORD.test(word)) {
        const flag = previousBoolean.flag;
        const written = `--${flag}=${word.toLowerCase()}`;
        problems.push(`--${flag} takes no separate value: write ${written} (or --no-${flag})`);
      } else if (previousBoolean?.kind.type === 'proxy') {
        const flag = previousBoolean.flag;
        problems.push(
          `--${flag} takes its list after =: write --${flag}=${previousBoolean.placeholder}`,
        );
      } else {
        extra++;
      }
      continue;
    }
    const next = argv[i + 1];
    // An unknown option's value, if it has one, is not a stray argument of its own.
    const skipValue = () => {
      if (!word.includes('=') && next !== undefined && !next.startsWith('-')) i++;
    };
    if (!word.startsWith('--')) {
      problems.push(unknownOption(word));
      skipValue();
      continue;
    }
    const equals = word.indexOf('=');
    const name = equals === -1 ? word.slice(2) : word.slice(2, equals);
    const inline = equals === -1 ? undefined : word.slice(equals + 1);
    let entry = FLAGS.get(name);
    let negated = false;
    if (entry === undefined && name.startsWith('no-')) {
      const positive = FLAGS.get(name.slice(3));
      if (positive !== undefined && isBoolean(positive)) {
        entry = positive;
        negated = true;
      }
    }
    if (entry === undefined) {
      problems.push(notAnOption(name, word));
      skipValue();
      continue;
    }
    const flag = `--${entry.flag}`;
    let value: string | boolean | undefined;
    if (isBoolean(entry)) {
      if (negated && inline !== undefined) problems.push(`--no-${entry.flag} takes no value`);
      else if (inline === '') problems.push(`${flag} needs a value after =`);
      else value = negated ? false : (inline ?? true);
      if (!negated && inline === undefined) lastBareBoolean = entry;
    } else if (inline !== undefined) {
      if (inline === '') problems.push(`${flag} needs a value`);
      else value = inline;
    } else if (next === undefined) {
      problems.push(`${flag} needs a value`);
    } else if (next.startsWith('-') && !/^-\d/.test(next)) {
      problems.push(`${flag} needs a value (write ${flag}=VALUE for a value that starts with -)`);
      // Meant as the value (`--issuer -x`) unless it is an option of its own.
      if (!isOption(next)) i++;
    } else {
      i++;
      // An empty value is a slip (`--issuer "$UNSET"`), never a wish for an empty setting.
      if (next === '') problems.push(`${flag} needs a value`);
      else value = next;
    }
    if (seen.has(entry.name)) {
      problems.push(`${flag} is given more than once`);
      continue;
    }
    seen.add(entry.name);
    if (value !== undefined) values.set(entry.name, value);
  }
  if (extra > 0) {
    problems.push(
      `revocable serve takes options only, not arguments (${extra} extra ${extra === 1 ? 'word' : 'words'}); see revocable serve --help`,
    );
  }
  return { help, values, problems };
}
