#!/usr/bin/env node
// `npm start` runs the auth server: `revocable serve`, with any flags given after `--`
// (`npm start -- --port 4000`). In this process, so that SIGTERM and Ctrl-C reach the server's
// graceful shutdown directly.
const [node, script, ...flags] = process.argv;
process.argv = [node, script, 'serve', ...flags];
await import('../dist/cli/main.js');
