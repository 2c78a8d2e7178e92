import { RevocableError } from '../errors/revocable-error.js';
import { charCodeAt } from '../lib/char-code.js';
import { duplicateMemberName } from '../lib/json-duplicate-member.js';

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
 * createVerifier({ keys, issuer, audience, payloadChecks: { duplicateMembers: false, maxDepth: 10 } });
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
   * Refuse a `sub`, `sid` or `jti` that is empty, longer than 256 characters, not well-formed
   * UTF-16 (a lone surrogate) or holds a control character (`ERR_JWT_CLAIM_INVALID`). Default true.
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
 * (cheap: a claims set is small and mostly flat) and counts characters of the text with native
 * searches; only when the counts cannot decide is the text scanned in JavaScript.
 */
export function checkPayloadStructure(
  text: string,
  claims: Record<string, unknown>,
  rules: PayloadRules,
): void {
  walk(claims, rules);
  if (!rules.duplicateMembers) return;
  // Both counts below need a text without a backslash: then every '"' delimits a string, and a
  // string's text is its parsed value. Escapes (rare in claims) go to the exact scan, which decodes
  // names, so "a" and "\u0061" are found to be one name.
  if (text.indexOf('\\') === -1) {
    if (namesBeforeColons(text) === walkedNames) return;
    if (quotes(text) === 2 * (walkedNames + walkedStrings)) return;
  }
  if (duplicateMemberName(text) !== null) throw malformed('The payload repeats a member name.');
}

/**
 * An upper bound on the member names in a text without a backslash, or -1 when it has none to
 * give. Each member has one colon outside strings, right after its name's closing quote or after
 * whitespace; a colon inside a string can follow a quote only if it opens the string. So once no
 * colon follows whitespace, the colons that follow a quote are at least the members, and when they
 * are no more than the names JSON.parse kept, no name was dropped as a repeat. A colon in a string
 * value ("https://...") follows no quote and costs nothing: one native search per colon.
 */
function namesBeforeColons(text: string): number {
  let count = 0;
  for (let at = text.indexOf(':'); at !== -1; at = text.indexOf(':', at + 1)) {
    const before = charCodeAt(text, at - 1);
    if (before === 0x22 /* " */) count++;
    else if (before === 0x20 || before === 0x09 || before === 0x0a || before === 0x0d) return -1;
  }
  return count;
}

/**
 * The strings in a text without a backslash, counted by their quotes, matched against the member
 * names and string values JSON.parse kept: a name it dropped as a repeat is a string too many.
 * Decides what {@link namesBeforeColons} cannot (whitespace before a colon); one native search per
 * quote.
 */
function quotes(text: string): number {
  let count = 0;
  for (let at = text.indexOf('"'); at !== -1; at = text.indexOf('"', at + 1)) count++;
  return count;
}

// What the last walk counted: member names, and string values. Module state rather than a
// returned object, so that a verify allocates nothing for it; walk is synchronous.
let walkedNames = 0;
let walkedStrings = 0;

/**
 * Walks the parsed payload, refusing what is too deep and (if the rules say so) `__proto__` and
 * `constructor` members, and counts its member names and string values. An explicit stack, not
 * recursion: with `maxDepth: Infinity`, nesting is bounded only by the token's length.
 */
function walk(claims: Record<string, unknown>, rules: PayloadRules): void {
  const { maxDepth, prototypeMembers } = rules;
  let names = 0;
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
        names++;
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
    if (pending === null || pending.length === 0) break;
    depth = pending.pop() as number;
    value = pending.pop();
  }
  walkedNames = names;
  walkedStrings = strings;
}

/**
 * Whether no string in a payload's text can hold a lone surrogate or a control character, so the
 * checks of `sub`, `sid` and `jti` can be skipped: without a backslash there is no escape, JSON
 * refuses raw C0 controls, and Node's decoder never yields a lone surrogate; when every byte became
 * one character there is no C1 control (two bytes each in UTF-8); that leaves DEL.
 */
export function isPlainText(text: string, byteLength: number): boolean {
  return byteLength === text.length && text.indexOf('\\') === -1 && text.indexOf('\u007f') === -1;
}

function tooDeep(maxDepth: number): RevocableError {
  return malformed(`The payload nests deeper than ${maxDepth} levels.`);
}
