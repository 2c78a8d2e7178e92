#!/usr/bin/env node
// Runs every build/test/**/*.test.js (compiled by `pretest`) with node's own test runner. Node 20's
// runner does not expand globs, so the files are listed here. Arguments narrow the run to files
// whose path contains one of them: `npm test -- jwt/verify`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function collect(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...collect(path));
    else if (entry.name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect(join(root, 'build/test'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error('No test files matched.');
  process.exit(1);
}
console.log(`Running ${files.length} test files on Node.js ${process.version}`);
const run = spawnSync(process.execPath, ['--test', ...files.map((file) => relative(root, file))], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
