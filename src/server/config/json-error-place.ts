class Stop extends Error {
  readonly offset: number;

  constructor(offset: number) {
    super('invalid JSON');
    this.offset = offset;
  }
}

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const ESCAPES = 'bfnrt"\\/';

/**
 * Where a JSON text first goes wrong, as `line L, column C` (1-based), or null when no error is
 * found. `JSON.parse` says where only in some Node.js versions, and quotes the text around the
 * error, which must not be shown (a configuration file may hold what it should not); so the text
 * is scanned again here, only after `JSON.parse` failed.
 *
 * @example
 * ```ts
 * jsonErrorPlace('{\n  "port": x\n}'); // 'line 2, column 11'
 * ```
 */
export function jsonErrorPlace(text: string): string | null {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const expect = (char: string) => {
    space();
    if (text[i] !== char) throw new Stop(i);
    i++;
  };
  const string = () => {
    if (text[i] !== '"') throw new Stop(i);
    i++;
    for (;;) {
      const char = text[i];
      if (char === undefined || char < ' ') throw new Stop(i);
      i++;
      if (char === '"') return;
      if (char !== '\\') continue;
      if (ESCAPES.includes(text[i] ?? 'x')) i++;
      else if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
      else throw new Stop(i);
    }
  };
  const members = (close: string, member: () => void) => {
    i++;
    space();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      space();
      if (text[i] !== ',') break;
      i++;
    }
    expect(close);
  };
  const literal = () => {
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) throw new Stop(i);
    i = NUMBER.lastIndex;
  };
  const value = (): void => {
    space();
    const char = text[i];
    if (char === '{') {
      members('}', () => {
        space();
        string();
        expect(':');
        value();
      });
    } else if (char === '[') members(']', value);
    else if (char === '"') string();
    else literal();
  };
  try {
    value();
    space();
    if (i < text.length) throw new Stop(i);
    return null;
  } catch (error) {
    // Nesting deeper than the stack allows: no place to give, but no reason to fail either.
    if (!(error instanceof Stop)) return null;
    const before = text.slice(0, error.offset).split('\n');
    return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
  }
}
