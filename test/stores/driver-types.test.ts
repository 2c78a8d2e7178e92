// The public declarations of the SQL and Redis subpaths describe driver clients structurally, so
// that they hold without @types/pg or @types/better-sqlite3. Three checks: the compile-time cases
// below (type-checked with every driver's types installed: a real Pool and Database are accepted,
// a pg.Client or anything else is refused), the emitted .d.ts reachable from each entry point
// import no driver, and a consumer project with no driver types at all still refuses `42`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createPostgresStore, migratePostgresStore } from '../../src/stores/postgres/index.js';
import { createSqliteStore, migrateSqliteStore } from '../../src/stores/sqlite/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

// Never called: tsc checks it, and each @ts-expect-error fails the type-check if its line
// compiles.
export function compileTimeCases(): void {
  const pool = new pg.Pool();
  createPostgresStore({ client: pool });
  void migratePostgresStore(pool, { schema: 'auth' });
  const database = new Database(':memory:');
  createSqliteStore({ database });
  migrateSqliteStore(database);

  // @ts-expect-error a number is not a pool
  createPostgresStore({ client: 42 });
  // @ts-expect-error an empty object is not a pool
  createPostgresStore({ client: {} });
  // @ts-expect-error one Client cannot keep concurrent calls apart: a Pool is needed
  createPostgresStore({ client: new pg.Client() });
  // @ts-expect-error a client checked out of a pool is not a pool either
  void pool.connect().then((connection) => createPostgresStore({ client: connection }));
  // @ts-expect-error a number is not a pool
  void migratePostgresStore(42);
  // @ts-expect-error a number is not a database
  createSqliteStore({ database: 42 });
  // @ts-expect-error an empty object is not a database
  createSqliteStore({ database: {} });
  // @ts-expect-error a path is not a database
  migrateSqliteStore('revocable.db');
}

/** Every .d.ts reachable from `entry` through relative imports and re-exports. */
function reachableDeclarations(entry: string): Map<string, string> {
  const found = new Map<string, string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (found.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    found.set(file, text);
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      pending.push(resolve(dirname(file), match[1]!.replace(/\.js$/, '.d.ts')));
    }
  }
  return found;
}

const ENTRIES = ['stores/postgres', 'stores/sqlite', 'stores/redis', 'stores', 'errors'];

describe('driver types in the public declarations', () => {
  it('no declaration reachable from a store entry point imports pg or better-sqlite3', () => {
    for (const entry of ENTRIES) {
      const index = join(root, 'dist', entry, 'index.d.ts');
      assert.ok(existsSync(index), `${index} exists (run npm run build)`);
      const files = reachableDeclarations(index);
      assert.ok(files.size > 1, `${entry} reaches its declarations`);
      for (const [file, text] of files) {
        // Only import statements, not the pg examples in TSDoc comments.
        const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
        assert.doesNotMatch(code, /['"](pg|better-sqlite3|@types\/[^'"]+)['"]/, file);
      }
    }
  });

  it('a consumer without @types/pg or @types/better-sqlite3 type-checks, and still refuses 42', {
    timeout: 60_000,
  }, () => {
    // A project outside this repository, with revocable, ioredis and @types/node in its
    // node_modules and no other driver types anywhere above it. preserveSymlinks keeps tsc from
    // walking from revocable's real path into this repository's node_modules.
    const project = mkdtempSync(join(tmpdir(), 'revocable-consumer-'));
    try {
      const modules = join(project, 'node_modules');
      mkdirSync(join(modules, 'revocable'), { recursive: true });
      mkdirSync(join(modules, '@types'));
      symlinkSync(join(root, 'dist'), join(modules, 'revocable', 'dist'));
      symlinkSync(join(root, 'package.json'), join(modules, 'revocable', 'package.json'));
      // What `npm install ioredis` and `npm install -D @types/node` bring along with them.
      for (const name of ['ioredis', 'denque', 'redis-errors', '@types/node', 'undici-types']) {
        symlinkSync(join(root, 'node_modules', name), join(modules, name));
      }
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            preserveSymlinks: true,
            types: ['node'],
          },
          files: ['consumer.ts'],
        }),
      );
      writeFileSync(join(project, 'package.json'), '{"type":"module"}');
      writeFileSync(
        join(project, 'consumer.ts'),
        [
          "import { connectPostgres, createPostgresStore } from 'revocable/postgres';",
          "import { createSqliteStore, openSqliteDatabase } from 'revocable/sqlite';",
          "import { connectRedis, createRedisStore } from 'revocable/redis';",
          'export async function start() {',
          "  const pool = await connectPostgres('postgres://localhost/app');",
          '  createPostgresStore({ client: pool });',
          "  createSqliteStore({ database: openSqliteDatabase('app.db') });",
          "  createRedisStore({ client: await connectRedis('redis://localhost') });",
          '  // @ts-expect-error a number is not a pool',
          '  createPostgresStore({ client: 42 });',
          '  // @ts-expect-error an empty object is not a database',
          '  createSqliteStore({ database: {} });',
          '}',
          '',
        ].join('\n'),
      );
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const result = spawnSync(process.execPath, [tsc, '-p', project], { encoding: 'utf8' });
      assert.equal(result.status, 0, `tsc: ${result.stdout}${result.stderr}`);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
