import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { jsonErrorPlace } from '../../../src/server/config/json-error-place.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('jsonErrorPlace', () => {
  it('gives the line and column of the first error', () => {
    assert.equal(jsonErrorPlace('{\n  "port": x\n}'), 'line 2, column 11');
    assert.equal(jsonErrorPlace('{"a": 1,}'), 'line 1, column 9');
    assert.equal(jsonErrorPlace('{"a": 1'), 'line 1, column 8');
    assert.equal(jsonErrorPlace('{"a": "\n"}'), 'line 1, column 8');
    assert.equal(jsonErrorPlace('{} {}'), 'line 1, column 4');
    assert.equal(jsonErrorPlace(''), 'line 1, column 1');
    assert.equal(jsonErrorPlace('[01]'), 'line 1, column 3');
    assert.equal(jsonErrorPlace('"\\x"'), 'line 1, column 3');
  });

  it('finds an error exactly when JSON.parse does', () => {
    fc.assert(
      fc.property(fc.json(), (text) => jsonErrorPlace(text) === null),
      { numRuns: 300 },
    );
    const edited = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.constantFrom(
          '{',
          '}',
          '[',
          ']',
          ',',
          ':',
          '"',
          '\\',
          'x',
          '-',
          '.',
          'e',
          ' ',
          '\n',
          '0',
        ),
      )
      .map(([text, at, char]) => {
        const place = at % (text.length + 1);
        return text.slice(0, place) + char + text.slice(place);
      });
    fc.assert(
      fc.property(
        fc.oneof(edited, fc.string()),
        (text) => (jsonErrorPlace(text) === null) === parses(text),
      ),
      { numRuns: 2000 },
    );
  });

  it('gives no place, and does not throw, for nesting deeper than the stack', () => {
    assert.equal(jsonErrorPlace('['.repeat(200000)), null);
  });
});
