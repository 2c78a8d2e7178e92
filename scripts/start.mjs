#!/usr/bin/env node
// `npm start` runs the CLI's demo; `npm start -- <command> ...` runs any CLI command.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const args = process.argv.slice(2);
const run = spawnSync(process.execPath, [cli, ...(args.length > 0 ? args : ['demo'])], {
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
