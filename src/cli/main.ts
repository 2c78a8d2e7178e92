#!/usr/bin/env node
/**
 * The `revocable` command: `node dist/cli/main.js <command>`, or `revocable <command>` once
 * installed. All the work is in {@link runCli}; this file only binds it to the real process.
 *
 * @module
 */
import { createNodeIo } from './io.js';
import { runCli } from './run.js';

// exitCode rather than process.exit(): output still buffered for a pipe is written before the end.
process.exitCode = await runCli(process.argv.slice(2), createNodeIo());
