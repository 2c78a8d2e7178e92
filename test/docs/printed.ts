// What the documentation's examples say they print, and whether a run printed it. The convention
// is described once, in examples.test.ts.

/** Stands for any run of one or more characters of a printed line (an id, a token, a time). */
export const WILDCARD = '...';

export interface Expectation {
  /** The line of the document that holds the marker. */
  readonly line: number;
  readonly expected: string;
}

export interface Marks {
  readonly expectations: readonly Expectation[];
  /** Markers that would check nothing as written; each starts with its line of the document. */
  readonly problems: readonly string[];
}

// Loose on purpose: anything that looks meant as a marker must parse as one, or a typo would
// silently turn its check off.
const MARKER_LIKE = /(?:^|\s)\/\/\s*(?:prints?\b|→|=>)/i;
const MARKER = /^\s*\/\/ prints: (\S.*)$/;
const CONSOLE_LOG = /\bconsole\.log\(/;
const COMMENT = /(?:^|\s)\/\//;

/** The marked lines of an example whose first line of code is line `firstLine` of its document. */
export function marksOf(code: string, firstLine: number): Marks {
  const expectations: Expectation[] = [];
  const problems: string[] = [];
  code.split('\n').forEach((text, index) => {
    const line = firstLine + index;
    const at = text.search(MARKER_LIKE);
    if (at === -1) {
      // A remark after a print reads as what it prints, yet nothing would check it.
      if (CONSOLE_LOG.test(text) && COMMENT.test(text)) {
        problems.push(
          `${line}: a comment after console.log(...) must be "// prints: <what it prints>"; ` +
            'put a remark on a line of its own',
        );
      }
      return;
    }
    const expected = MARKER.exec(text.slice(at))?.[1];
    if (expected === undefined) {
      problems.push(`${line}: write the marker as "// prints: <what it prints>"`);
    } else if (!CONSOLE_LOG.test(text.slice(0, at))) {
      problems.push(`${line}: a marker must end a line that calls console.log(...)`);
    } else {
      expectations.push({ line, expected });
    }
  });
  return { expectations, problems };
}

/** Whether one printed line is the expected one, each wildcard standing for what varies. */
export function matches(expected: string, printed: string): boolean {
  const pattern = expected
    .split(WILDCARD)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.+');
  return new RegExp(`^${pattern}$`).test(printed);
}

/**
 * Why `stdout` does not hold the expected lines in their order, or undefined if it does. Other
 * lines may come between them: an example may print more than it marks.
 */
export function mismatch(
  source: string,
  expectations: readonly Expectation[],
  stdout: string,
): string | undefined {
  const printed = stdout.split('\n');
  if (printed.at(-1) === '') printed.pop();
  let next = 0;
  let previous: Expectation | undefined;
  for (const expectation of expectations) {
    // The earliest match leaves the most lines for the expectations after it.
    const found = printed.findIndex((text, i) => i >= next && matches(expectation.expected, text));
    if (found === -1) {
      const rest = printed.slice(next);
      const earlier = printed.slice(0, next).some((text) => matches(expectation.expected, text));
      return [
        `${source}:${expectation.line} says it prints`,
        `  ${expectation.expected}`,
        previous === undefined
          ? 'but the example printed'
          : `but after the line of ${source}:${previous.line} the example printed`,
        ...(rest.length === 0 ? ['  (nothing)'] : rest.map((text) => `  ${text}`)),
        ...(earlier ? ['(a line that matches came earlier: out of order)'] : []),
      ].join('\n');
    }
    next = found + 1;
    previous = expectation;
  }
  return undefined;
}
