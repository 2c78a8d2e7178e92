import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { duplicateMemberName } from '../../src/lib/json-duplicate-member.js';

/**
 * The oracle: a small recursive-descent reader of JSON that records the names of each object,
 * written apart from the scan it checks (it tokenizes by grammar, not by quotes and colons).
 */
function oracle(json: string, topLevelOnly: boolean): string | null {
  let at = 0;
  let found: string | null = null;
  const space = () => {
    while (at < json.length && ' \t\n\r'.includes(json[at]!)) at++;
  };
  const string = (): string => {
    const start = at;
    at++;
    while (json[at] !== '"') at += json[at] === '\\' ? 2 : 1;
    at++;
    return JSON.parse(json.slice(start, at)) as string;
  };
  const value = (depth: number): void => {
    space();
    const char = json[at];
    if (char === '{') {
      at++;
      const names = new Set<string>();
      space();
      if (json[at] === '}') {
        at++;
        return;
      }
      for (;;) {
        space();
        const name = string();
        if ((!topLevelOnly || depth === 0) && found === null && names.has(name)) found = name;
        names.add(name);
        space();
        at++; // :
        value(depth + 1);
        space();
        if (json[at++] === '}') return;
      }
    }
    if (char === '[') {
      at++;
      space();
      if (json[at] === ']') {
        at++;
        return;
      }
      for (;;) {
        value(depth + 1);
        space();
        if (json[at++] === ']') return;
      }
    }
    if (char === '"') {
      string();
      return;
    }
    while (at < json.length && !',}] \t\n\r'.includes(json[at]!)) at++;
  };
  value(0);
  return found;
}

// Member names from a small alphabet, so that repeats are frequent, some written with escapes.
const name = fc.constantFrom('a', 'b', 'ab', ':', '"', '\\', '{', '}', ',');
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, 1, 'x', 'a', ':', '{"a":1}'),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.array(fc.tuple(name, tie('value')), { maxLength: 4 }).map((pairs) => new Members(pairs)),
  ),
})).value;

/** An object to write, with its names in order, repeats kept. */
class Members {
  constructor(readonly pairs: readonly (readonly [string, unknown])[]) {}
}

/** Writes pairs as an object with every name, repeats kept; escapes some names, spaces around. */
function write(value: unknown, escaped: boolean, spaced: boolean): string {
  const gap = spaced ? ' \n' : '';
  if (value instanceof Members) {
    const members = value.pairs.map(([key, item]) => {
      const written = escaped
        ? `"${[...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`
        : JSON.stringify(key);
      return `${gap}${written}${gap}:${gap}${write(item, !escaped, spaced)}`;
    });
    return `{${members.join(',')}${gap}}`;
  }
  if (Array.isArray(value))
    return `[${value.map((item) => write(item, escaped, spaced)).join(',')}]`;
  return JSON.stringify(value);
}

describe('duplicateMemberName', () => {
  it('names the member given twice in one object, at any depth, escapes decoded', () => {
    assert.equal(duplicateMemberName('{"a":1,"b":2}'), null);
    assert.equal(duplicateMemberName('{"a":1,"a":2}'), 'a');
    assert.equal(duplicateMemberName('{"a":1,"\\u0061":2}'), 'a');
    assert.equal(duplicateMemberName('{"x":{"b":1,"b":2}}'), 'b');
    assert.equal(duplicateMemberName('[{"a":1},{"a":2}]'), null);
    assert.equal(duplicateMemberName('{"a":"a","b":"a"}'), null);
    assert.equal(duplicateMemberName('{"a:":1,"a":2}'), null);
    assert.equal(duplicateMemberName('{"a" : 1 , "a"\n:\t2}'), 'a');
    assert.equal(duplicateMemberName('{"\\"":1,"\\u0022":2}'), '"');
  });

  it('looks only at the outermost object when asked', () => {
    assert.equal(duplicateMemberName('{"x":{"b":1,"b":2}}', true), null);
    assert.equal(duplicateMemberName('{"b":{"c":1},"b":2}', true), 'b');
  });

  it('agrees with a recursive reader on any JSON (fast-check)', () => {
    fc.assert(
      fc.property(json, fc.boolean(), fc.boolean(), fc.boolean(), (value, escaped, spaced, top) => {
        const text = write(value, escaped, spaced);
        JSON.parse(text);
        assert.equal(duplicateMemberName(text, top), oracle(text, top), text);
      }),
      { numRuns: 3000 },
    );
  });
});
