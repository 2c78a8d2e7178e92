import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, isRevocableError, RevocableError } from '../../src/errors/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
}

describe('error codes', () => {
  it('docs/errors.md lists exactly the codes of src/errors/codes.ts, in the same order', () => {
    const text = readFileSync(join(root, 'docs/errors.md'), 'utf8');
    const documented = [...text.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \|/gm)].map((match) => match[1]);
    assert.deepEqual(documented, Object.keys(ERROR_CODES));
  });

  it('every code is ERR_ followed by upper-case words', () => {
    for (const code of Object.keys(ERROR_CODES)) assert.match(code, /^ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
  });

  it('every ERR_ string in the sources is a code from the table', () => {
    // Node.js's own codes, which revocable reads but never raises.
    const codes = new Set([
      ...Object.keys(ERROR_CODES),
      'ERR_MODULE_NOT_FOUND',
      'ERR_ENCODING_INVALID_ENCODED_DATA',
      'ERR_HTTP_REQUEST_TIMEOUT',
    ]);
    for (const file of sourceFiles(join(root, 'src'))) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/['"`](ERR_[A-Z0-9_]+)['"`]/g)) {
        assert.ok(codes.has(match[1]!), `${file}: ${match[1]} is not in src/errors/codes.ts`);
      }
    }
  });

  it('a RevocableError carries its code, its cause, and narrows with isRevocableError', () => {
    const cause = new Error('inner');
    const error = new RevocableError('ERR_JWT_EXPIRED', 'The token has expired.', { cause });
    assert.equal(error.code, 'ERR_JWT_EXPIRED');
    assert.equal(error.cause, cause);
    assert.equal(error.name, 'RevocableError');
    assert.ok(error instanceof Error);
    assert.ok(isRevocableError(error));
    assert.ok(isRevocableError(error, 'ERR_JWT_EXPIRED'));
    assert.ok(!isRevocableError(error, 'ERR_JWT_SIGNATURE'));
    assert.ok(!isRevocableError(new Error('x')));
  });
});
