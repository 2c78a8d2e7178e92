import { charCodeAt } from '../../lib/char-code.js';

/**
 * Finds a member name given twice in one object of a JSON text. JSON.parse keeps the last one
 * silently, so `{"username":"alice","username":"bob"}` would mean "bob" here and, to a proxy or a
 * log that keeps the first, "alice": a request must mean one thing to everyone who reads it (as
 * a form parameter given twice is refused on the /oauth routes, RFC 6749 section 3.1).
 *
 * Runs only on text JSON.parse has accepted, so it needs no error handling of its own. It walks
 * the text once with an explicit stack (no recursion: depth is bounded by the body limit alone)
 * and compares names after unescaping, so `"a"` and `"\u0061"` are the same name.
 *
 * @returns the repeated name, or null when every object's names are distinct.
 */
export function duplicateMemberName(json: string): string | null {
  // One entry per open container: the names seen so far for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  // Whether the next string of the innermost object is a member name.
  let expectName = false;
  let i = 0;
  while (i < json.length) {
    const ch = charCodeAt(json, i);
    if (ch === 0x22 /* " */) {
      const start = i;
      i += 1;
      while (charCodeAt(json, i) !== 0x22) i += charCodeAt(json, i) === 0x5c /* \ */ ? 2 : 1;
      i += 1;
      const names = stack[stack.length - 1];
      if (expectName && names !== undefined && names !== null) {
        const name = JSON.parse(json.slice(start, i)) as string;
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
      continue;
    }
    if (ch === 0x7b /* { */) {
      stack.push(new Set());
      expectName = true;
    } else if (ch === 0x5b /* [ */) {
      stack.push(null);
      expectName = false;
    } else if (ch === 0x7d /* } */ || ch === 0x5d /* ] */) {
      stack.pop();
      expectName = false;
    } else if (ch === 0x2c /* , */) {
      expectName = stack[stack.length - 1] instanceof Set;
    }
    i += 1;
  }
  return null;
}
