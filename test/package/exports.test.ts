import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Compiled to build/test/package/, so the repository root is three levels up.
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  bin: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
};

function markdownFiles(): string[] {
  const files = [join(root, 'README.md')];
  const docs = join(root, 'docs');
  if (existsSync(docs)) {
    // design.md is the plan: it names subpaths of parts that have not landed yet.
    for (const name of readdirSync(docs)) {
      if (name.endsWith('.md') && name !== 'design.md') files.push(join(docs, name));
    }
  }
  return files.filter((file) => existsSync(file));
}

describe('package exports', () => {
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    if (typeof target === 'string') continue;
    const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    it(`${specifier} resolves to built code and type declarations`, async () => {
      assert.ok(existsSync(join(root, target.types)), `${target.types} exists (run npm run build)`);
      assert.ok(existsSync(join(root, target.default)), `${target.default} exists`);
      const module = (await import(specifier)) as Record<string, unknown>;
      assert.ok(Object.keys(module).length > 0, `${specifier} exports something`);
    });
  }

  it('every revocable/... subpath that the docs mention is in the exports map', () => {
    const exported = new Set(Object.keys(manifest.exports).map((key) => key.replace(/^\.\/?/, '')));
    for (const file of markdownFiles()) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/['"`]revocable\/([a-z0-9-]+)['"`]/g)) {
        assert.ok(
          exported.has(match[1]!),
          `${file} mentions revocable/${match[1]} which is not exported`,
        );
      }
    }
  });

  it('the bin points at a built file with a node shebang', () => {
    for (const path of Object.values(manifest.bin)) {
      const file = join(root, path);
      assert.ok(existsSync(file), `${path} exists`);
      assert.match(readFileSync(file, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    }
  });
});
