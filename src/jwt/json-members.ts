/**
 * Lists the member names of the top-level object in a JSON text that `JSON.parse` has already
 * accepted, so duplicates can be found: `JSON.parse` silently keeps the last of two equal names,
 * and two parsers that keep different ones read two different headers from one signed token.
 */
export function hasDuplicateTopLevelMember(json: string): boolean {
  const seen = new Set<string>();
  let depth = 0;
  let index = 0;
  const end = json.length;
  while (index < end) {
    const char = json.charCodeAt(index);
    if (char === 0x22 /* " */) {
      const start = index;
      index++;
      let escaped = false;
      while (index < end) {
        const inner = json.charCodeAt(index);
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
      if (depth === 1 && nextSignificant(json, index) === 0x3a /* : */) {
        const raw = json.slice(start, stringEnd + 1);
        // Escapes make "a" and "\u0061" the same name; decode before comparing.
        const name = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (seen.has(name)) return true;
        seen.add(name);
      }
      continue;
    }
    if (char === 0x7b /* { */ || char === 0x5b /* [ */) depth++;
    else if (char === 0x7d /* } */ || char === 0x5d /* ] */) depth--;
    index++;
  }
  return false;
}

function nextSignificant(json: string, from: number): number {
  for (let index = from; index < json.length; index++) {
    const char = json.charCodeAt(index);
    if (char !== 0x20 && char !== 0x09 && char !== 0x0a && char !== 0x0d) return char;
  }
  return -1;
}
