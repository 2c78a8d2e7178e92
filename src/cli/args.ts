import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError } from './cli-error.js';
import type { CliIo } from './io.js';

/** One `--option` of a command: how it parses, and the line `--help` shows for it. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** The placeholder shown after a string option, like `FILE`. */
  readonly value?: string;
  readonly required?: boolean;
  /** May be given several times; the values are collected in order. */
  readonly multiple?: boolean;
  readonly help: string;
}

/** A positional argument; every positional of a command is required. */
export interface PositionalSpec {
  readonly name: string;
  readonly help: string;
}

/**
 * A command's options and positionals, the one source for both its parser and its `--help`, so
 * the two cannot drift apart. `-h, --help` is added to every command.
 */
export interface CommandSpec {
  /** The words that name the command: `keys generate`. */
  readonly path: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** A paragraph for the command's own help. */
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly positionals: readonly PositionalSpec[];
  /** What exit status 1 means, for the commands that answer no without failing. */
  readonly rejects?: string;
}

type OptionValue = string | boolean | (string | boolean)[] | undefined;

/** The parsed options and positionals of one command, with typed accessors. */
export class ParsedArgs {
  readonly #values: Readonly<Record<string, OptionValue>>;
  /** The positionals, as many as the spec names. */
  readonly positionals: readonly string[];

  /** Wraps what {@link parseCommandArgs} checked; not meant to be built by hand. */
  constructor(values: Readonly<Record<string, OptionValue>>, positionals: readonly string[]) {
    this.#values = values;
    this.positionals = positionals;
  }

  /** A string option's value, or undefined when it was not given. */
  string(name: string): string | undefined {
    const value = this.#values[name];
    return typeof value === 'string' ? value : undefined;
  }

  /** Whether a boolean option was given. */
  flag(name: string): boolean {
    return this.#values[name] === true;
  }

  /** A string option the spec marks required (its presence was checked while parsing). */
  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw new CliError(`missing --${name}`);
    return value;
  }

  /** Every value of a `multiple` option, in order; empty when it was not given. */
  list(name: string): string[] {
    const value = this.#values[name];
    if (typeof value === 'string') return [value];
    return Array.isArray(value) ? value.filter((item) => typeof item === 'string') : [];
  }

  /** A positional by its index in the spec. */
  positional(index: number): string {
    const value = this.positionals[index];
    if (value === undefined) throw new CliError('missing argument');
    return value;
  }
}

/**
 * Parses a command's arguments with `node:util` `parseArgs` in strict mode, then checks what it
 * does not: required options, options given twice, and the number of positionals. Returns `'help'`
 * when `-h` or `--help` was asked for, even among otherwise bad arguments. Error messages name
 * options, never echo values (a value may be a token or a secret).
 *
 * @example
 * ```ts
 * const parsed = parseCommandArgs(spec, ['--keys', 'ring.json', token]);
 * if (parsed !== 'help') parsed.required('keys');
 * ```
 */
export function parseCommandArgs(spec: CommandSpec, args: readonly string[]): ParsedArgs | 'help' {
  const options: NonNullable<ParseArgsConfig['options']> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, option] of Object.entries(spec.options)) {
    options[name] =
      option.multiple === true ? { type: option.type, multiple: true } : { type: option.type };
  }
  let parsed: ReturnType<typeof strictParse>;
  try {
    parsed = strictParse(args, options);
  } catch (error) {
    if (asksForHelp(args)) return 'help';
    throw new CliError(`${describeParseError(error)}; see revocable ${spec.path} --help`);
  }
  const values = parsed.values as Record<string, OptionValue>;
  if (values.help === true) return 'help';

  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    // An empty value is always a slip (`--iss "$UNSET"`), never a wish for an empty issuer.
    if (token.value === '') throw new CliError(`--${token.name} needs a value`);
    if (spec.options[token.name]?.multiple === true) continue;
    if (seen.has(token.name)) throw new CliError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  for (const [name, option] of Object.entries(spec.options)) {
    if (option.required === true && values[name] === undefined) {
      const placeholder = option.value === undefined ? '' : ` ${option.value}`;
      throw new CliError(`missing --${name}${placeholder}; see revocable ${spec.path} --help`);
    }
  }
  const missing = spec.positionals[parsed.positionals.length];
  if (missing !== undefined) {
    throw new CliError(`missing ${missing.name}; see revocable ${spec.path} --help`);
  }
  if (parsed.positionals.length > spec.positionals.length) {
    throw new CliError(`too many arguments for '${spec.path}'; see revocable ${spec.path} --help`);
  }
  return new ParsedArgs(values, parsed.positionals);
}

function strictParse(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>) {
  return parseArgs({
    args: [...args],
    options,
    strict: true,
    allowPositionals: true,
    tokens: true,
  });
}

function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  const options = end === -1 ? args : args.slice(0, end);
  return options.includes('--help') || options.includes('-h');
}

// parseArgs messages run over several lines and advise things that do not apply here; only the
// option's name is taken from them (it is the name as typed, without any `=value`). Node's codes
// are matched by their ends: quoted `ERR_` strings in src are reserved for revocable's own codes.
function describeParseError(error: unknown): string {
  const code = String((error as { code?: unknown } | null)?.code);
  const message = error instanceof Error ? error.message : '';
  const name = /'(-{1,2}[A-Za-z0-9][A-Za-z0-9-]*)/.exec(message)?.[1];
  const longName = /--[A-Za-z0-9][A-Za-z0-9-]*/.exec(message)?.[0] ?? name;
  if (code.endsWith('PARSE_ARGS_UNKNOWN_OPTION') && name !== undefined) {
    return `unknown option ${name}`;
  }
  if (code.endsWith('PARSE_ARGS_INVALID_OPTION_VALUE') && longName !== undefined) {
    if (message.includes('does not take an argument')) return `${longName} takes no value`;
    if (message.includes('ambiguous')) {
      return `${longName} needs a value (write ${longName}=VALUE for a value that starts with -)`;
    }
    return `${longName} needs a value`;
  }
  return 'invalid arguments';
}

/** A command: its spec, and what it does once its arguments parsed. Returns the exit status. */
export interface Command {
  readonly spec: CommandSpec;
  run(args: ParsedArgs, io: CliIo): number | Promise<number>;
}
