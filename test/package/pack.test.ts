import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// What a user gets from `npm i revocable`: the tarball `npm pack` makes from a clean build,
// installed into an empty project, with nothing of this repository around it.

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
};
const DRIVERS = ['better-sqlite3', 'pg', 'ioredis'];
// What a user of revocable/express or revocable/fastify has installed already: the framework (and
// for Express its types, which the middleware's declarations name).
const FRAMEWORKS = ['express', '@types/express', 'fastify', 'fastify-plugin'];
const specifiers = Object.keys(manifest.exports)
  .filter((subpath) => subpath !== './package.json')
  .map((subpath) => (subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`));

let work = '';
let tarball = '';
let packed: string[] = [];
let project = '';

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function bin(name: string): string {
  return join(root, 'node_modules/.bin', name);
}

describe('the packed package, installed into an empty project', () => {
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'revocable-pack-'));
    // prepack builds dist afresh, so nothing stale from an old build can ship.
    const report = JSON.parse(
      run('npm', ['pack', '--json', '--pack-destination', work], root),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(work, report[0]!.filename);
    packed = report[0]!.files.map((file) => file.path);
    project = join(work, 'app');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], project);
    // The optional drivers and frameworks, as a user would install them next to revocable.
    for (const driver of [...DRIVERS, ...FRAMEWORKS]) {
      const target = join(project, 'node_modules', driver);
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(join(root, 'node_modules', driver), target, 'dir');
    }
  });

  after(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('ships the built code, its declarations, the docs, the changelog and the licence, and nothing else', () => {
    for (const target of Object.values(manifest.exports)) {
      const paths = typeof target === 'string' ? [target] : [target.types, target.default];
      for (const path of paths) assert.ok(packed.includes(path.slice(2)), `${path} is packed`);
    }
    for (const file of ['README.md', 'CHANGELOG.md', 'LICENSE'])
      assert.ok(packed.includes(file), file);
    assert.ok(packed.includes('docs/errors.md'));
    const stray = packed.filter(
      (path) =>
        !/^(dist\/.+\.(js|d\.ts)|docs\/[a-z0-9-]+\.md|README\.md|CHANGELOG\.md|LICENSE|package\.json)$/.test(
          path,
        ),
    );
    assert.deepEqual(stray, [], 'no source maps, sources, tests or build leftovers');
  });

  it('imports every subpath as ESM', () => {
    const script = specifiers
      .map(
        (specifier) =>
          `{ const m = await import('${specifier}'); if (Object.keys(m).length === 0) throw new Error('${specifier} is empty'); }`,
      )
      .join('\n');
    writeFileSync(join(project, 'imports.mjs'), `${script}\nconsole.log('ok');\n`);
    assert.equal(run(process.execPath, ['imports.mjs'], project).trim(), 'ok');
  });

  it('requires every subpath where Node.js can require ES modules', (t) => {
    if (process.features.require_module !== true) {
      t.skip(`Node.js ${process.version} cannot require ES modules`);
      return;
    }
    const script = specifiers.map((specifier) => `require('${specifier}');`).join('\n');
    writeFileSync(join(project, 'requires.cjs'), `${script}\nconsole.log('ok');\n`);
    const result = spawnSync(process.execPath, ['requires.cjs'], {
      cwd: project,
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'ok');
  });

  it('type-checks a consumer under strict settings without skipLibCheck', () => {
    const imports = specifiers
      .map((specifier, i) => `import * as m${i} from '${specifier}';\nvoid m${i};`)
      .join('\n');
    writeFileSync(join(project, 'consumer.ts'), `${imports}\n`);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: ['consumer.ts'],
      }),
    );
    const result = spawnSync(bin('tsc'), ['-p', project], { cwd: project, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('passes publint', () => {
    const result = spawnSync(bin('publint'), ['run', '--strict', root], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it('passes arethetypeswrong for an ESM-only package', () => {
    const result = spawnSync(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii'], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});
