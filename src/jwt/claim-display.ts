// How the message of an iss or aud refusal shows what the verifier accepts beside what the token
// carried. Only a refused token ever gets here: a verify that passes calls none of it.
//
// The token's side is chosen by whoever sent the token, and the message goes to logs. So it is
// shown as a JSON string of printable ASCII alone: every other character as a \u escape, which can
// end no log line, move no terminal cursor and hide no look-alike letter (a Cyrillic 'а' in 'аpi'
// shows as \u0430). It is cut short, so a token of 8 KB makes no log line of 8 KB, and a value of
// another type is named by its type, never printed. The accepted side is the service's own
// configuration (no secret), escaped the same way so the two compare character for character, and
// never cut: a difference past the cut would be what the reader is looking for.

/** The most characters of a token's value shown, escapes included. @internal */
export const SHOWN_VALUE_LENGTH = 100;
/** The most items of a token's aud array shown. @internal */
export const SHOWN_ITEMS = 4;
/** The most accepted values listed. @internal */
export const SHOWN_ACCEPTED = 8;

/**
 * `value` as a JSON string of printable ASCII, at most `limit` characters between its quotes (an
 * escape is never split), then `... (N characters)` when it was cut. @internal
 */
export function quoted(value: string, limit: number): string {
  let out = '';
  let index = 0;
  for (; index < value.length; index++) {
    const code = value.charCodeAt(index);
    let piece: string;
    if (code === 0x22 /* " */ || code === 0x5c /* \ */) piece = `\\${value.charAt(index)}`;
    else if (code >= 0x20 && code <= 0x7e) piece = value.charAt(index);
    else piece = `\\u${code.toString(16).padStart(4, '0')}`;
    if (out.length + piece.length > limit) break;
    out += piece;
  }
  return index < value.length ? `"${out}"... (${value.length} characters)` : `"${out}"`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (value === undefined) return 'undefined';
  return `a ${typeof value}`;
}

/**
 * A claim value from a token, bounded and escaped: a string quoted and cut short, an array as its
 * first {@link SHOWN_ITEMS} items (a string quoted, anything else by its type) and its length,
 * anything else by its type alone. @internal
 */
export function shownClaim(value: unknown): string {
  if (typeof value === 'string') return quoted(value, SHOWN_VALUE_LENGTH);
  if (!Array.isArray(value)) return typeName(value);
  const shown: string[] = [];
  for (let index = 0; index < value.length && index < SHOWN_ITEMS; index++) {
    const item: unknown = value[index];
    shown.push(typeof item === 'string' ? quoted(item, SHOWN_VALUE_LENGTH) : typeName(item));
  }
  if (value.length > SHOWN_ITEMS) shown.push(`... (${value.length} items)`);
  return `[${shown.join(', ')}]`;
}

/** The accepted values of a verifier: `"a"`, or `one of "a", "b"`. @internal */
export function shownAccepted(accepted: readonly string[]): string {
  const shown = accepted
    .slice(0, SHOWN_ACCEPTED)
    .map((value) => quoted(value, Number.POSITIVE_INFINITY));
  if (accepted.length > SHOWN_ACCEPTED) shown.push(`... (${accepted.length} in all)`);
  return accepted.length === 1 ? (shown[0] as string) : `one of ${shown.join(', ')}`;
}
