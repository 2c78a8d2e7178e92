import { charCodeAt } from '../lib/char-code.js';

/**
 * Finds repeated member names in a JSON text that `JSON.parse` has already accepted: `JSON.parse`
 * silently keeps the last of two equal names, and two parsers that keep different ones read two
 * different headers or claims sets from one signed token. `topLevelOnly` looks only at the members
 * of the outermost object; otherwise every object at every depth is checked.
 */
export function hasDuplicateMember(json: string, topLevelOnly: boolean): boolean {
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
      if (names !== null && nextSignificant(json, index) === 0x3a /* : */) {
        const raw = json.slice(start, stringEnd + 1);
        // Escapes make "a" and "\u0061" the same name; decode before comparing.
        const name = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (names.has(name)) return true;
        names.add(name);
      }
      continue;
    }
    if (char === 0x7b /* { */) open.push(topLevelOnly && open.length !== 0 ? null : new Set());
    else if (char === 0x5b /* [ */) open.push(null);
    else if (char === 0x7d /* } */ || char === 0x5d /* ] */) open.pop();
    index++;
  }
  return false;
}

function nextSignificant(json: string, from: number): number {
  for (let index = from; index < json.length; index++) {
    const char = charCodeAt(json, index);
    if (char !== 0x20 && char !== 0x09 && char !== 0x0a && char !== 0x0d) return char;
  }
  return -1;
}
