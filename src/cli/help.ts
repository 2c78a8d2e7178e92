import type { Command, CommandSpec } from './args.js';

/** A group of commands under one word: `keys`, `token`. */
export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly Command[];
}

function exitStatus(rejects: string | undefined): string[] {
  const lines = ['Exit status:', '  0  success'];
  if (rejects !== undefined) lines.push(`  1  ${rejects}`);
  lines.push('  2  bad usage or bad input (arguments, key file, claims)');
  return lines;
}

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

function wrap(text: string, width = 78): string[] {
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

/**
 * The usage line of a command, made from its spec: required options bare, optional ones in
 * brackets, repeatable ones with `...`.
 *
 * @example
 * ```ts
 * usageLine(spec); // 'revocable keys retire --keys FILE --kid KID [--out FILE]'
 * ```
 */
export function usageLine(spec: CommandSpec): string {
  const parts = ['revocable', spec.path];
  for (const [name, option] of Object.entries(spec.options)) {
    let text = option.value === undefined ? `--${name}` : `--${name} ${option.value}`;
    if (option.required !== true) text = `[${text}]`;
    if (option.multiple === true) text = `${text}...`;
    parts.push(text);
  }
  for (const positional of spec.positionals) parts.push(positional.name);
  return parts.join(' ');
}

/**
 * The full `--help` text of one command.
 *
 * @example
 * ```ts
 * io.stdout(commandHelp(spec));
 * ```
 */
export function commandHelp(spec: CommandSpec): string {
  const options: [string, string][] = Object.entries(spec.options).map(([name, option]) => [
    option.value === undefined ? `--${name}` : `--${name} ${option.value}`,
    option.required === true ? `${option.help} (required)` : option.help,
  ]);
  options.push(['-h, --help', 'Show this help']);
  const lines = [`Usage: ${usageLine(spec)}`, '', ...wrap(spec.description), ''];
  if (spec.positionals.length > 0) {
    lines.push('Arguments:', ...table(spec.positionals.map((p) => [p.name, p.help] as const)), '');
  }
  lines.push('Options:', ...table(options), '', ...exitStatus(spec.rejects));
  return `${lines.join('\n')}\n`;
}

/**
 * The `--help` text of a group: its commands with one line each.
 *
 * @example
 * ```ts
 * io.stdout(groupHelp(keysGroup));
 * ```
 */
export function groupHelp(group: CommandGroup): string {
  const lines = [
    `Usage: revocable ${group.name} <command> [options]`,
    '',
    group.summary,
    '',
    'Commands:',
    ...table(group.commands.map((command) => [command.spec.path, command.spec.summary] as const)),
    '',
    `Run revocable ${group.name} <command> --help for the options of a command.`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The top-level `--help` text: every command of every group.
 *
 * @example
 * ```ts
 * io.stdout(mainHelp(GROUPS));
 * ```
 */
export function mainHelp(groups: readonly CommandGroup[]): string {
  const rows: [string, string][] = [
    ['serve [options]', 'Run the auth server (see revocable serve --help)'],
  ];
  for (const group of groups) {
    for (const command of group.commands) rows.push([command.spec.path, command.spec.summary]);
  }
  rows.push(['demo', 'Walk through signing, verifying, rotating and retiring keys']);
  rows.push(['help [COMMAND]', 'Show the help of a command']);
  const lines = [
    'Usage: revocable <command> [options]',
    '',
    'The auth server, key rings and tokens of revocable: JWT sessions the server can revoke.',
    '',
    'Commands:',
    ...table(rows),
    '',
    'Options:',
    ...table([
      ['-h, --help', 'Show this help'],
      ['--version', 'Print the version'],
    ]),
    '',
    'Run revocable <command> --help for the options of a command.',
    '',
    // npm prints its own banner on stdout, which would end up in the file.
    ...wrap(
      'To capture what a command prints (revocable token sign ... > token.txt), run revocable ' +
        'directly, or npx revocable ... (in a project that depends on revocable, or in a clone of ' +
        'its repository after npm ci), not through an npm script, which adds ' +
        "npm's own lines to the output. npm start runs the auth server (revocable serve).",
    ),
    '',
    ...exitStatus('token verify refused the token, or token decode could not read it'),
  ];
  return `${lines.join('\n')}\n`;
}
