import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { marksOf, matches, mismatch } from './printed.js';

// The docs test passes when every example prints what it says; these show that it can fail, so
// that a green run means the documented values were compared.

describe('what the docs examples say they print', () => {
  it('reads markers in source order, with the line of the document', () => {
    const code = [
      "const a = 'x';",
      'console.log(200); // prints: 200',
      '// A remark on a line of its own is prose.',
      "  console.log({ gen: 0 }, 'after'); // prints: { gen: 0 } after",
    ].join('\n');
    assert.deepEqual(marksOf(code, 10), {
      expectations: [
        { line: 11, expected: '200' },
        { line: 13, expected: '{ gen: 0 } after' },
      ],
      problems: [],
    });
  });

  it('refuses a marker it cannot parse, or one that ends no console.log line', () => {
    const code = [
      'console.log(200); // prints 200',
      'console.log(200); // Prints: 200',
      'console.log(200); //prints: 200',
      'console.log(200); // prints:',
      'console.log(200); // → 200',
      'const status = 200; // prints: 200',
      '// prints: 200',
      'console.log(200); // 200',
    ].join('\n');
    const { expectations, problems } = marksOf(code, 1);
    assert.deepEqual(expectations, []);
    assert.deepEqual(
      problems.map((problem) => problem.slice(0, problem.indexOf(':'))),
      ['1', '2', '3', '4', '5', '6', '7', '8'],
    );
  });

  it('does not take a URL in a string for a comment', () => {
    const { problems } = marksOf("console.log('http://127.0.0.1:3000');", 1);
    assert.deepEqual(problems, []);
  });

  it('fails on a wrong value, saying where and what was printed', () => {
    const expectations = [{ line: 31, expected: '{ gen: 0, banned: false }' }];
    const wrong = mismatch('docs/stores.md', expectations, '{ gen: 1, banned: false }\n');
    assert.equal(
      wrong,
      [
        'docs/stores.md:31 says it prints',
        '  { gen: 0, banned: false }',
        'but the example printed',
        '  { gen: 1, banned: false }',
      ].join('\n'),
    );
  });

  it('compares whole lines: a value is not found inside a longer one', () => {
    assert.equal(matches('200', '200'), true);
    assert.equal(matches('200', '2001'), false);
    assert.equal(matches('user-1', "'user-1'"), false);
  });

  it('lets the wildcard stand for a varying part of the line, and nothing more', () => {
    const expected = "200 { user: 'u_...' }";
    assert.equal(matches(expected, "200 { user: 'u_fKOvuX6gmP84GJ_cJTk1Tw' }"), true);
    assert.equal(matches(expected, "200 { user: 'u_' }"), false, 'a wildcard is never empty');
    assert.equal(matches(expected, "401 { user: 'u_x' }"), false);
    assert.equal(matches(expected, "200 { user: 'x_x' }"), false);
    // The rest of the pattern is literal: a dot is a dot.
    assert.equal(matches('1.5', '125'), false);
  });

  it('allows unmarked lines between, and fails when the order differs', () => {
    const expectations = [
      { line: 5, expected: '200' },
      { line: 7, expected: '401' },
    ];
    assert.equal(mismatch('x.md', expectations, 'start\n200\nnoise\n401\n'), undefined);
    const wrong = mismatch('x.md', expectations, '401\n200\n');
    assert.equal(
      wrong,
      [
        'x.md:7 says it prints',
        '  401',
        'but after the line of x.md:5 the example printed',
        '  (nothing)',
        '(a line that matches came earlier: out of order)',
      ].join('\n'),
    );
  });
});
