import { RevocableError } from '../errors/revocable-error.js';
import { hasDuplicateMember } from './json-members.js';

/** The deepest nesting a payload may have by default: the claims object itself is level 1. */
export const DEFAULT_MAX_PAYLOAD_DEPTH = 8;

/**
 * The payload rules of a verifier, each on by default. Every token revocable signs meets all of
 * them; turn one off only where tokens from another issuer need it, and only that one. See the
 * "Strict payloads" section of `docs/jwt.md` for what each rule guards against.
 *
 * @example
 * ```ts
 * // An issuer whose payloads repeat a member name, and nest claims ten levels deep.
 * createVerifier({ keys, payloadChecks: { duplicateMembers: false, maxDepth: 10 } });
 * ```
 */
export interface PayloadChecks {
  /** Refuse a payload whose bytes are not valid UTF-8 (`ERR_JWT_MALFORMED`). Default true. */
  readonly utf8?: boolean;
  /** Refuse a member name repeated in any object, at any depth (`ERR_JWT_MALFORMED`). Default true. */
  readonly duplicateMembers?: boolean;
  /** Refuse members named `__proto__` or `constructor`, at any depth (`ERR_JWT_MALFORMED`). Default true. */
  readonly prototypeMembers?: boolean;
  /**
   * Refuse a `sub`, `sid` or `jti` that is not well-formed UTF-16 (a lone surrogate) or holds a
   * control character (`ERR_JWT_CLAIM_INVALID`). Default true.
   */
  readonly identifierClaims?: boolean;
  /**
   * The deepest nesting of objects and arrays, the claims object being level 1
   * (`ERR_JWT_MALFORMED` past it). Default {@link DEFAULT_MAX_PAYLOAD_DEPTH}; `Infinity` for none.
   */
  readonly maxDepth?: number;
}

/** {@link PayloadChecks} with the defaults filled in. @internal */
export interface PayloadRules {
  readonly utf8: boolean;
  readonly duplicateMembers: boolean;
  readonly prototypeMembers: boolean;
  readonly identifierClaims: boolean;
  readonly maxDepth: number;
  /** Whether the parsed payload has to be walked at all. */
  readonly structure: boolean;
}

const FLAGS = ['utf8', 'duplicateMembers', 'prototypeMembers', 'identifierClaims'] as const;

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

/** Checks the `payloadChecks` option and fills in its defaults. @internal */
export function resolvePayloadChecks(option: unknown): PayloadRules {
  if (option === undefined) option = {};
  if (typeof option !== 'object' || option === null) {
    throw invalid('payloadChecks must be an object.');
  }
  const given = option as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    // A misspelt rule would silently stay on; say so instead.
    if (name !== 'maxDepth' && !(FLAGS as readonly string[]).includes(name)) {
      throw invalid(`payloadChecks has no rule named ${name}.`);
    }
  }
  const flag = (name: (typeof FLAGS)[number]): boolean => {
    const value = given[name] ?? true;
    if (typeof value !== 'boolean') throw invalid(`payloadChecks.${name} must be a boolean.`);
    return value;
  };
  const maxDepth = given.maxDepth ?? DEFAULT_MAX_PAYLOAD_DEPTH;
  if (
    typeof maxDepth !== 'number' ||
    !(maxDepth === Number.POSITIVE_INFINITY || (Number.isInteger(maxDepth) && maxDepth >= 1))
  ) {
    throw invalid('payloadChecks.maxDepth must be a positive integer or Infinity.');
  }
  const duplicateMembers = flag('duplicateMembers');
  const prototypeMembers = flag('prototypeMembers');
  return {
    utf8: flag('utf8'),
    duplicateMembers,
    prototypeMembers,
    identifierClaims: flag('identifierClaims'),
    maxDepth,
    structure: duplicateMembers || prototypeMembers || maxDepth !== Number.POSITIVE_INFINITY,
  };
}

function malformed(message: string): RevocableError {
  return new RevocableError('ERR_JWT_MALFORMED', message);
}

/**
 * Checks the structure of a parsed payload against its JSON text: nesting depth, `__proto__` and
 * `constructor` members, repeated member names. Runs on every verify, so it walks the parsed value
 * (cheap: a claims set is small and mostly flat) rather than scanning the text, and scans the text
 * in JavaScript only when the counting below cannot decide.
 */
export function checkPayloadStructure(
  text: string,
  claims: Record<string, unknown>,
  rules: PayloadRules,
): void {
  const strings = walk(claims, rules);
  if (!rules.duplicateMembers) return;
  // Without a backslash, every '"' in the text delimits a string, so the text holds quotes / 2
  // strings: its member names and its string values. The parsed value holds as many exactly when
  // no name was repeated; a repeated one is dropped by JSON.parse with its value. Counting quotes
  // is one native search per quote; escapes (rare in claims) need the exact scan, which decodes
  // names, so "a" and "\u0061" are found to be one name.
  if (text.indexOf('\\') === -1 && quotes(text) === 2 * strings) return;
  if (hasDuplicateMember(text, false)) throw malformed('The payload repeats a member name.');
}

function quotes(text: string): number {
  let count = 0;
  for (let at = text.indexOf('"'); at !== -1; at = text.indexOf('"', at + 1)) count++;
  return count;
}

/**
 * Walks the parsed payload, refusing what is too deep and (if the rules say so) `__proto__` and
 * `constructor` members; returns how many strings it holds, member names and string values. An
 * explicit stack, not recursion: with `maxDepth: Infinity`, nesting is bounded only by the token's
 * length.
 */
function walk(claims: Record<string, unknown>, rules: PayloadRules): number {
  const { maxDepth, prototypeMembers } = rules;
  let strings = 0;
  // Nested values waiting to be walked, each followed by its depth.
  let pending: unknown[] | null = null;
  let value: unknown = claims;
  let depth = 1;
  for (;;) {
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length; index++) {
        const item: unknown = value[index];
        if (typeof item === 'string') strings++;
        else if (typeof item === 'object' && item !== null) {
          if (depth === maxDepth) throw tooDeep(maxDepth);
          if (pending === null) pending = [];
          pending.push(item, depth + 1);
        }
      }
    } else {
      const object = value as Record<string, unknown>;
      // Own names only: what JSON.parse made. A name JSON.parse read as __proto__ is an own data
      // member, which a later copy or merge into another object would turn into its prototype.
      for (const name of Object.keys(object)) {
        strings++;
        if (prototypeMembers && (name === '__proto__' || name === 'constructor')) {
          throw malformed(`The payload has a member named ${name}.`);
        }
        const item = object[name];
        if (typeof item === 'string') strings++;
        else if (typeof item === 'object' && item !== null) {
          if (depth === maxDepth) throw tooDeep(maxDepth);
          if (pending === null) pending = [];
          pending.push(item, depth + 1);
        }
      }
    }
    if (pending === null || pending.length === 0) return strings;
    depth = pending.pop() as number;
    value = pending.pop();
  }
}

function tooDeep(maxDepth: number): RevocableError {
  return malformed(`The payload nests deeper than ${maxDepth} levels.`);
}
