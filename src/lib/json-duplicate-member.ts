import { charCodeAt } from './char-code.js';

/**
 * The first member name given twice in one object of a JSON text, or null when every object's
 * names are distinct. `JSON.parse` keeps the last of two equal names silently, so a text with one
 * means two things: to another parser (or a proxy, or a log) that keeps the first, it names
 * another header, another claims set, another user. Both the verifier (a token's header and
 * claims) and the auth server (a request body) refuse such a text.
 *
 * Runs only on text `JSON.parse` has accepted, so it needs no error handling of its own. It walks
 * the text once with an explicit stack (no recursion: the depth is bounded by the text's length
 * alone) and compares names after unescaping, so `"a"` and `"\u0061"` are the same name; a name
 * without a backslash is compared as it is, without a parse. `topLevelOnly` looks only at the
 * members of the outermost object.
 */
export function duplicateMemberName(json: string, topLevelOnly = false): string | null {
  // One set of names per open object; null for an open array (or an object not looked at).
  const open: (Set<string> | null)[] = [];
  let index = 0;
  const end = json.length;
  while (index < end) {
    const char = charCodeAt(json, index);
    if (char === 0x22 /* " */) {
      const start = index;
      index++;
      let escaped = false;
      while (index < end) {
        const inner = charCodeAt(json, index);
        if (inner === 0x5c /* \ */) {
          escaped = true;
          index += 2;
          continue;
        }
        if (inner === 0x22) break;
        index++;
      }
      const stringEnd = index; // the closing quote
      index++;
      const names = open.length === 0 ? null : open[open.length - 1]!;
      // A string followed by a colon is a member name; any other is a value.
      if (names !== null && nextSignificant(json, index) === 0x3a /* : */) {
        const raw = json.slice(start, stringEnd + 1);
        const name = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (names.has(name)) return name;
        names.add(name);
      }
      continue;
    }
    if (char === 0x7b /* { */) open.push(topLevelOnly && open.length !== 0 ? null : new Set());
    else if (char === 0x5b /* [ */) open.push(null);
    else if (char === 0x7d /* } */ || char === 0x5d /* ] */) open.pop();
    index++;
  }
  return null;
}

function nextSignificant(json: string, from: number): number {
  for (let index = from; index < json.length; index++) {
    const char = charCodeAt(json, index);
    if (char !== 0x20 && char !== 0x09 && char !== 0x0a && char !== 0x0d) return char;
  }
  return -1;
}
