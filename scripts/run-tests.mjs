#!/usr/bin/env node
// Runs every build/test/**/*.test.js (compiled by `pretest`), one file at a time, each in its own
// Node.js process with node:test's spec reporter. Arguments narrow the run to files whose path
// contains one of them: `npm test -- jwt/verify`.
//
// Each file runs under a watchdog. On Node.js 20 a test process has twice stopped dead in the
// middle of an RSA test (its main thread blocked, not idle: it answered no signal), and once a CI
// run sat for its whole 90-minute limit that way; the same files pass hundreds of times in a row.
// So a file that has not finished within TEST_FILE_TIMEOUT seconds (default 120; the slowest file
// takes about 10) is examined (its threads' states, their native stacks when gdb is installed,
// and a Node.js diagnostic report of its open handles if its event loop still answers), killed
// with everything it started, and run once more. A file that fails, or hangs twice, fails the
// run; one that hung once and then passed is named in the summary, so the hang is on record.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stripVTControlCharacters } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const MAX_TIMER_MS = 2 ** 31 - 1;
const timeoutSeconds = Number(process.env.TEST_FILE_TIMEOUT ?? 120);
if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
  console.error(
    `TEST_FILE_TIMEOUT must be a positive number of seconds, not ${process.env.TEST_FILE_TIMEOUT}`,
  );
  process.exit(2);
}
const fileTimeoutMs = Math.min(timeoutSeconds * 1000, MAX_TIMER_MS);

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

const reportDir = mkdtempSync(join(tmpdir(), 'revocable-test-reports-'));
let running = null;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (running !== null) killGroup(running, 'SIGKILL');
    process.exit(128 + constants.signals[signal]);
  });
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group has already gone.
  }
}

/** The counts of the spec reporter's closing lines ("ℹ tests 12", "ℹ pass 12", ...). */
function summaryCounts(output) {
  // The reporter colours its output when stderr is a terminal, or under FORCE_COLOR.
  const plain = stripVTControlCharacters(output);
  const counts = {};
  for (const match of plain.matchAll(/^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) {
    counts[match[1]] = Number(match[2]);
  }
  return counts;
}

/** Each thread's name, state (R running, S sleeping, D in the kernel), CPU ticks and wait channel. */
function printThreads(pid) {
  console.log('threads (name, state, CPU ticks, wait channel):');
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const dir = `/proc/${pid}/task/${task}`;
      const stat = readFileSync(`${dir}/stat`, 'utf8');
      // The name is in parentheses and may hold spaces; the fields after it are space-separated.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const name = readFileSync(`${dir}/comm`, 'utf8').trim();
      const ticks = Number(fields[11]) + Number(fields[12]);
      const wchan = existsSync(`${dir}/wchan`) ? readFileSync(`${dir}/wchan`, 'utf8') : '?';
      console.log(`  ${task} ${name} ${fields[0]} ${ticks} ${wchan}`);
    }
  } catch (error) {
    console.log(`  (not readable: ${error.message})`);
  }
}

/** Every thread's native stack, if gdb is installed and may attach. */
function printNativeStacks(pid) {
  const gdb = spawnSync(
    'gdb',
    ['-p', String(pid), '-batch', '-nx', '-ex', 'thread apply all bt 30'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (gdb.error !== undefined) {
    console.log(`(no native stacks: ${gdb.error.code ?? gdb.error.message})`);
    return;
  }
  const lines = `${gdb.stdout}`
    .split('\n')
    .filter((line) => /^(Thread |#\d)/.test(line))
    .slice(0, 300);
  console.log('native stacks:');
  for (const line of lines) console.log(`  ${line}`);
}

/** Asks the process for a diagnostic report; one whose event loop is blocked cannot answer. */
async function printReport(child) {
  const before = new Set(readdirSync(reportDir));
  try {
    process.kill(child.pid, 'SIGUSR2');
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  let fresh = [];
  while (fresh.length === 0 && Date.now() < deadline && child.exitCode === null) {
    await sleep(100);
    fresh = readdirSync(reportDir).filter((name) => !before.has(name));
  }
  if (fresh.length === 0) {
    console.log('(no diagnostic report within 10 s: the event loop is blocked)');
    return;
  }
  await sleep(500); // let the report be written out completely
  for (const name of fresh) {
    try {
      const report = JSON.parse(readFileSync(join(reportDir, name), 'utf8'));
      const handles = (report.libuv ?? []).filter(
        (handle) => handle.is_active && handle.is_referenced,
      );
      console.log(`open handles keeping the event loop alive (${handles.length}):`);
      for (const handle of handles.slice(0, 40)) {
        const where = [handle.localEndpoint, handle.remoteEndpoint]
          .filter(Boolean)
          .map((endpoint) => `${endpoint.host}:${endpoint.port}`)
          .join(' -> ');
        console.log(`  ${handle.type} ${where}`);
      }
      console.log(`(the whole report: ${join(reportDir, name)})`);
    } catch (error) {
      console.log(`(could not read the report ${name}: ${error.message})`);
    }
  }
}

async function examine(child, name) {
  console.log(`\n!! ${name} has not finished after ${fileTimeoutMs / 1000} s`);
  printThreads(child.pid);
  printNativeStacks(child.pid);
  await printReport(child);
}

function runFile(file) {
  const name = relative(root, file);
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        '--enable-source-maps',
        '--test-reporter=spec',
        '--report-on-signal',
        '--report-signal=SIGUSR2',
        `--report-directory=${reportDir}`,
        file,
      ],
      // Its own process group, so that killing it also kills what it started (CLI runs, servers).
      { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    running = child;
    let output = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    let timedOut = false;
    const watchdog = setTimeout(async () => {
      timedOut = true;
      await examine(child, name);
      killGroup(child, 'SIGKILL');
    }, fileTimeoutMs);
    let settled = false;
    const settle = (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      killGroup(child, 'SIGKILL'); // anything it started and left behind
      running = null;
      resolve({ code, signal, timedOut, output, ms: Date.now() - started });
    };
    // 'close' waits for stdout to end too; something the file started may hold it open after the
    // file's own process has exited, so 'exit' settles it a little later in any case.
    child.on('close', settle);
    child.on('exit', (code, signal) => {
      setTimeout(() => settle(code, signal), 5000).unref();
    });
  });
}

console.log(`Running ${files.length} test files on Node.js ${process.version}`);
const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
const failed = [];
const hungOnce = [];
const startedAll = Date.now();

function judge(name, result) {
  const counts = summaryCounts(result.output);
  for (const key of Object.keys(totals)) totals[key] += counts[key] ?? 0;
  const passed = !result.timedOut && result.code === 0 && counts.tests !== undefined;
  if (!passed) {
    const how = result.timedOut
      ? 'hung'
      : result.signal
        ? `signal ${result.signal}`
        : `exit code ${result.code}`;
    failed.push(`${name} (${how}, ${counts.fail ?? '?'} failed)`);
  }
  console.log(`## ${name}: ${counts.pass ?? 0}/${counts.tests ?? '?'} passed in ${result.ms} ms`);
  return passed;
}

for (const file of files) {
  const name = relative(root, file);
  console.log(`\n## ${name}`);
  const result = await runFile(file);
  if (!result.timedOut) {
    judge(name, result);
    continue;
  }
  console.log(`!! running ${name} once more`);
  if (judge(name, await runFile(file))) hungOnce.push(name);
}

const seconds = ((Date.now() - startedAll) / 1000).toFixed(1);
console.log(
  `\n# ${files.length} files, ${totals.tests} tests: ${totals.pass} passed, ${totals.fail} failed, ` +
    `${totals.cancelled} cancelled, ${totals.skipped} skipped, ${totals.todo} todo, in ${seconds} s ` +
    `on Node.js ${process.version}`,
);
if (hungOnce.length > 0) {
  console.log(`# hung once, then passed (examined above): ${hungOnce.join(', ')}`);
}
if (failed.length > 0) console.log(`# failed: ${failed.join('; ')}`);
if (readdirSync(reportDir).length === 0) rmSync(reportDir, { recursive: true });
process.exit(failed.length > 0 ? 1 : 0);
