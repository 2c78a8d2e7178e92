import { type Command, parseCommandArgs } from './args.js';
import { CliError, EXIT_OK, EXIT_USAGE, formatError } from './cli-error.js';
import { KEY_COMMANDS } from './commands/keys.js';
import { runServe } from './commands/serve.js';
import { TOKEN_COMMANDS } from './commands/token.js';
import { USER_COMMANDS } from './commands/users.js';
import { DEMO_SUMMARY, runDemo } from './demo.js';
import { type CommandGroup, commandHelp, groupHelp, mainHelp } from './help.js';
import type { CliIo } from './io.js';
import { quoteWord } from './values.js';
import { readPackageVersion } from './version.js';

/** Every command group, in the order the main help lists them. */
export const GROUPS: readonly CommandGroup[] = [
  {
    name: 'keys',
    summary: 'Make and change key rings, and publish their public keys.',
    commands: KEY_COMMANDS,
  },
  {
    name: 'token',
    summary: 'Sign, verify and decode tokens.',
    commands: TOKEN_COMMANDS,
  },
  {
    name: 'users',
    summary: "Manage the auth server's users.",
    commands: USER_COMMANDS,
  },
];

function isHelpFlag(word: string | undefined): boolean {
  return word === '--help' || word === '-h';
}

function findGroup(word: string): CommandGroup {
  const group = GROUPS.find((candidate) => candidate.name === word);
  if (group === undefined) {
    throw new CliError(`unknown command ${quoteWord(word)}; see revocable --help`);
  }
  return group;
}

function findCommand(group: CommandGroup, word: string): Command {
  const command = group.commands.find(
    (candidate) => candidate.spec.path === `${group.name} ${word}`,
  );
  if (command === undefined) {
    throw new CliError(
      `unknown command ${quoteWord(word)} for '${group.name}'; see revocable ${group.name} --help`,
    );
  }
  return command;
}

// `revocable help`, `revocable help keys`, `revocable help token sign`.
function helpFor(words: readonly string[]): string {
  const [groupWord, commandWord, extra] = words;
  if (groupWord === undefined) return mainHelp(GROUPS);
  const group = findGroup(groupWord);
  if (commandWord === undefined) return groupHelp(group);
  if (extra !== undefined) throw new CliError('help takes at most a command; see revocable --help');
  return commandHelp(findCommand(group, commandWord).spec);
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) throw new CliError('missing command; see revocable --help');
  if (first === 'help') {
    io.stdout(helpFor(rest));
    return EXIT_OK;
  }
  if (isHelpFlag(first)) {
    io.stdout(mainHelp(GROUPS));
    return EXIT_OK;
  }
  if (first === '--version') {
    if (rest.length > 0) throw new CliError('--version takes no arguments');
    io.stdout(`${readPackageVersion()}\n`);
    return EXIT_OK;
  }
  if (first === 'demo') {
    if (rest.length > 0 && !isHelpFlag(rest[0])) throw new CliError('demo takes no arguments');
    if (isHelpFlag(rest[0])) {
      io.stdout(`Usage: revocable demo\n\n${DEMO_SUMMARY}, on in-memory keys.\n`);
      return EXIT_OK;
    }
    return runDemo(io);
  }
  if (first === 'serve') return runServe(rest, io);
  if (first.startsWith('-')) {
    const name = first.split('=')[0] ?? '';
    const shown = /^--?[A-Za-z][A-Za-z0-9-]{0,31}$/.test(name) ? name : '(not shown)';
    throw new CliError(`unknown option ${shown}; see revocable --help`);
  }
  const group = findGroup(first);
  const [second, ...args] = rest;
  if (isHelpFlag(second)) {
    io.stdout(groupHelp(group));
    return EXIT_OK;
  }
  if (second === undefined || second.startsWith('-')) {
    throw new CliError(`missing ${group.name} command; see revocable ${group.name} --help`);
  }
  const command = findCommand(group, second);
  const parsed = parseCommandArgs(command.spec, args);
  if (parsed === 'help') {
    io.stdout(commandHelp(command.spec));
    return EXIT_OK;
  }
  return command.run(parsed, io);
}

/**
 * Runs the CLI on its arguments (without `node` and the script) and returns the exit status:
 * 0 success, 1 a token refused by `token verify` or unreadable by `token decode` (the code is on
 * stdout), 2 bad usage or bad input (one line on stderr). It never throws and never exits the
 * process, so tests call it in-process.
 *
 * @example
 * ```ts
 * const status = await runCli(['keys', 'generate', '--alg', 'ES256'], createNodeIo());
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    io.stderr(`${formatError(error)}\n`);
    return EXIT_USAGE;
  }
}
