#!/usr/bin/env node
// Runs every build/test/**/*.test.js (compiled by `pretest`), one file at a time, each in its own
// Node.js process with node:test's spec reporter. Arguments narrow the run to files whose path
// contains one of them: `npm test -- jwt/verify`.
//
// Each file runs under a watchdog. A CI run once sat for its whole 90-minute limit on a file that
// normally takes a second and never hung again in hundreds of runs. So a file that has not finished
// within TEST_FILE_TIMEOUT seconds (default 300) gets a Node.js diagnostic report (its JavaScript
// stack and its open handles, printed here), is killed with everything it started, and
// is run once more. A file that fails, or hangs twice, fails the run; one that hung once and then
// passed is named in the summary, with its report, so the hang is on record rather than hidden.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const fileTimeoutMs = Number(process.env.TEST_FILE_TIMEOUT ?? 300) * 1000;
if (!Number.isFinite(fileTimeoutMs) || fileTimeoutMs <= 0) {
  console.error(
    `TEST_FILE_TIMEOUT must be a positive number of seconds, not ${process.env.TEST_FILE_TIMEOUT}`,
  );
  process.exit(2);
}

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
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (running !== null) killGroup(running, 'SIGKILL');
    process.exit(130);
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
  const counts = {};
  for (const match of output.matchAll(/^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) {
    counts[match[1]] = Number(match[2]);
  }
  return counts;
}

function printReport(path) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  console.log(`-- diagnostic report ${path}`);
  console.log('JavaScript stack:');
  console.log(`  ${report.javascriptStack?.message ?? '(none)'}`);
  for (const frame of report.javascriptStack?.stack ?? []) console.log(`  ${frame}`);
  const handles = (report.libuv ?? []).filter((handle) => handle.is_active);
  console.log(`active handles (${handles.length}):`);
  for (const handle of handles.slice(0, 40)) {
    const where = [handle.localEndpoint, handle.remoteEndpoint]
      .filter(Boolean)
      .map((endpoint) => `${endpoint.host}:${endpoint.port}`)
      .join(' -> ');
    console.log(`  ${handle.type}${handle.is_referenced ? '' : ' (unref)'} ${where}`);
  }
}

function runFile(file) {
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
    let waitForReport = null;
    let finishReport = null;
    const watchdog = setTimeout(() => {
      timedOut = true;
      console.log(`\n!! ${relative(root, file)} has not finished after ${fileTimeoutMs / 1000} s`);
      const before = new Set(readdirSync(reportDir));
      // An idle process (waiting on a promise, a socket, a timer) answers with a report; one whose
      // event loop is blocked by a busy loop cannot, which tells the two kinds of hang apart.
      killGroup(child, 'SIGUSR2');
      const deadline = Date.now() + 10_000;
      waitForReport = setInterval(() => {
        const fresh = readdirSync(reportDir).filter((name) => !before.has(name));
        if (fresh.length === 0 && Date.now() < deadline) return;
        clearInterval(waitForReport);
        // Give the report a moment to be written out completely.
        finishReport = setTimeout(() => {
          for (const name of fresh) {
            try {
              printReport(join(reportDir, name));
            } catch (error) {
              console.log(`(could not read the report ${name}: ${error.message})`);
            }
          }
          if (fresh.length === 0) {
            console.log('(no diagnostic report within 10 s: the event loop is blocked)');
          }
          killGroup(child, 'SIGKILL');
        }, 500);
      }, 100);
    }, fileTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      clearInterval(waitForReport);
      clearTimeout(finishReport);
      if (timedOut && signal !== 'SIGKILL') {
        console.log('!! it finished on its own while being examined');
      }
      running = null;
      resolve({ code, signal, timedOut, output, ms: Date.now() - started });
    });
  });
}

console.log(`Running ${files.length} test files on Node.js ${process.version}`);
const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
const failed = [];
const hungOnce = [];
const startedAll = Date.now();
for (const file of files) {
  const name = relative(root, file);
  console.log(`\n## ${name}`);
  let result = await runFile(file);
  if (result.timedOut) {
    console.log(`!! running ${name} once more`);
    const retry = await runFile(file);
    if (retry.timedOut) failed.push(`${name} (hung twice)`);
    else hungOnce.push(name);
    result = retry;
  }
  const counts = summaryCounts(result.output);
  for (const key of Object.keys(totals)) totals[key] += counts[key] ?? 0;
  if (!result.timedOut && (result.code !== 0 || counts.tests === undefined)) {
    failed.push(
      `${name} (${result.signal ? `signal ${result.signal}` : `exit code ${result.code}`}, ${counts.fail ?? '?'} failed)`,
    );
  }
  console.log(`## ${name}: ${counts.pass ?? 0}/${counts.tests ?? '?'} passed in ${result.ms} ms`);
}

const seconds = ((Date.now() - startedAll) / 1000).toFixed(1);
console.log(
  `\n# ${files.length} files, ${totals.tests} tests: ${totals.pass} passed, ${totals.fail} failed, ` +
    `${totals.cancelled} cancelled, ${totals.skipped} skipped, ${totals.todo} todo, in ${seconds} s ` +
    `on Node.js ${process.version}`,
);
if (hungOnce.length > 0) {
  console.log(`# hung once, then passed (reports above): ${hungOnce.join(', ')}`);
}
if (failed.length > 0) console.log(`# failed: ${failed.join('; ')}`);
if (existsSync(reportDir) && readdirSync(reportDir).length === 0)
  rmSync(reportDir, { recursive: true });
process.exit(failed.length > 0 ? 1 : 0);
