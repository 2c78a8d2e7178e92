import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { type ServerProcess, startServerProcess } from '../server/server-process.js';
import { DATABASE_URL, REDIS_URL } from '../support/services.js';
import { type Marks, marksOf, mismatch } from './printed.js';

// Documentation is code: every TypeScript block of the README and of docs/ is extracted as a
// module of its own, type-checked under the project's strict settings (exactOptionalPropertyTypes
// included) against the package's own exports, then run, and must finish by itself. A block that
// names something it never defines, leaves a client open or waits on a pool fails here.
//
// What an example says it prints is checked too. A line that calls console.log says what it prints
// at its end, as `console.log(status); // prints: 200`: the text after `// prints: ` is exactly the
// line Node.js prints (objects as util.inspect shows them: `{ gen: 0, banned: false }`, strings
// without quotes), except that `...` stands for a run of one or more characters within that line,
// for what varies between runs (an id, a token, a time). A remark goes on a line of its own, never
// after a print. The marked lines must appear in the example's stdout in the order of the source;
// other lines may come between them. A marker that is not at the end of a console.log line, or that
// does not parse, fails the example, so that a typo cannot turn a check off.

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
// Inside the repository, so that `import ... from 'revocable/...'` resolves to this package by
// its own name (Node.js and TypeScript both resolve a package's self-reference).
const work = join(root, 'build', 'doc-examples');
// Long enough for a block that talks to PostgreSQL or Redis, short enough that a block leaving a
// pool or a client open (pg's idle timeout is 10 s) fails instead of passing slowly.
const RUN_TIMEOUT_MS = 8_000;

interface Example {
  readonly source: string;
  readonly line: number;
  readonly code: string;
  readonly name: string;
  readonly marks: Marks;
}

function documents(): string[] {
  const docs = join(root, 'docs');
  return [
    join(root, 'README.md'),
    ...readdirSync(docs)
      .filter((name) => name.endsWith('.md'))
      .map((name) => join(docs, name)),
  ];
}

/** Every ```ts block of a Markdown file, with the line it starts on. */
function examplesOf(file: string): Example[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    const source = file.slice(root.length + 1);
    const code = lines.slice(start, end).join('\n');
    found.push({
      source,
      line: start,
      code,
      name: `${basename(file, '.md').toLowerCase()}-${start}`,
      // `start` is the fence's line, counted from 1: the code begins on the next one.
      marks: marksOf(code, start + 1),
    });
    i = end;
  }
  return found;
}

const examples = documents().flatMap(examplesOf);

// The examples of resource servers (docs/http.md) talk to a real auth server, as they would in an
// application: one runs for them, alone on SQLite, with an admin.
const EXAMPLE_ADMIN = { username: 'root', password: 'an example admin password' };

describe('documentation examples', () => {
  let compiled: { status: number | null; output: string } = { status: null, output: '' };
  let authServer: ServerProcess | undefined;

  before(async () => {
    authServer = await startServerProcess({
      env: {
        REVOCABLE_ADMIN_USER: EXAMPLE_ADMIN.username,
        REVOCABLE_ADMIN_PASSWORD: EXAMPLE_ADMIN.password,
      },
    });
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    for (const example of examples) {
      // A module of its own: top-level await works, and names never clash between blocks.
      writeFileSync(join(work, `${example.name}.ts`), `${example.code}\nexport {};\n`);
    }
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.base.json',
        compilerOptions: { rootDir: '.', outDir: 'js', sourceMap: false, noEmitOnError: false },
        include: ['*.ts'],
      }),
    );
    const tsc = spawnSync(join(root, 'node_modules/.bin/tsc'), ['-p', work], {
      cwd: root,
      encoding: 'utf8',
    });
    compiled = { status: tsc.status, output: tsc.stdout + tsc.stderr };
  });

  after(async () => {
    await authServer?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('finds examples to check, and the compiler ran', () => {
    assert.ok(examples.length > 0);
    // Errors outside the examples (a bad configuration) would otherwise pass every block.
    const elsewhere = compiled.output
      .split('\n')
      .filter(
        (line) => /error TS/.test(line) && !examples.some((e) => line.includes(`${e.name}.ts(`)),
      );
    assert.deepEqual(elsewhere, []);
  });

  for (const example of examples) {
    describe(`${example.source}, the block at line ${example.line}`, () => {
      let stdout: string | undefined;

      it('type-checks strictly', () => {
        const mine = compiled.output
          .split('\n')
          .filter((line) => line.includes(`${example.name}.ts(`))
          .join('\n');
        assert.equal(mine, '', `type errors in ${example.source}:${example.line}\n${mine}`);
      });

      it('runs and exits by itself', () => {
        const result = spawnSync(process.execPath, [join(work, 'js', `${example.name}.js`)], {
          // Each example runs in a folder of its own data (a SQLite file, a key ring) that goes.
          cwd: makeScratch(example.name),
          encoding: 'utf8',
          timeout: RUN_TIMEOUT_MS,
          env: {
            ...process.env,
            DATABASE_URL,
            REDIS_URL,
            REFRESH_SECRET: 'an example refresh secret of 32 bytes or more',
            REVOCABLE_KEYS_SECRET: 'an example key ring secret of 32 bytes or more',
            AUTH_SERVER_URL: authServer?.url ?? '',
            AUTH_ISSUER: `http://localhost:${new URL(authServer?.url ?? 'http://x:1').port}`,
            ADMIN_USER: EXAMPLE_ADMIN.username,
            ADMIN_PASSWORD: EXAMPLE_ADMIN.password,
          },
        });
        assert.equal(
          result.error,
          undefined,
          `${example.source}:${example.line} did not finish within ${RUN_TIMEOUT_MS} ms`,
        );
        assert.equal(
          result.status,
          0,
          `${example.source}:${example.line} failed:\n${result.stdout}\n${result.stderr}`,
        );
        // FORCE_COLOR in the environment would colour what util.inspect prints.
        stdout = stripVTControlCharacters(result.stdout);
      });

      it('prints what it says it prints', () => {
        const { expectations, problems } = example.marks;
        if (problems.length > 0) {
          assert.fail(problems.map((problem) => `${example.source}:${problem}`).join('\n'));
        }
        if (expectations.length === 0) return;
        assert.ok(stdout !== undefined, `${example.source}:${example.line} did not run to the end`);
        const wrong = mismatch(example.source, expectations, stdout);
        if (wrong !== undefined) assert.fail(wrong);
      });
    });
  }
});

function makeScratch(name: string): string {
  const path = join(work, `${name}.run`);
  mkdirSync(path, { recursive: true });
  return path;
}
