import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { isRevocableError } from '../../../src/errors/index.js';
import type { PasswordHasher } from '../../../src/server/users/index.js';
import { DATABASE_URL, serviceMissing } from '../../support/services.js';

/** An assert.rejects / assert.throws matcher for a RevocableError of one code. */
export function expectCode(code: string) {
  return (error: unknown) => {
    assert.ok(isRevocableError(error), `expected a RevocableError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

/** A directory of SQLite files for one test file, removed by `remove`. */
export function sqliteFiles() {
  const directory = mkdtempSync(join(tmpdir(), 'revocable-users-'));
  let files = 0;
  return {
    fresh(): string {
      files += 1;
      return join(directory, `users-${files}.db`);
    },
    remove(): void {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A random lowercase name, for schemas and table prefixes. */
export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * The PostgreSQL of a test file: its pool, why it is missing (null: reachable), fresh schema
 * names (nothing created: the code under test creates them) and their removal.
 */
export async function openPostgres() {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
  let missing: string | null = null;
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    missing = serviceMissing('PostgreSQL', error);
  }
  const schemas = new Set<string>();
  return {
    pool,
    missing,
    newSchema(): string {
      const schema = randomName('revocable_users_test');
      schemas.add(schema);
      return schema;
    },
    async dropSchema(schema: string): Promise<void> {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      schemas.delete(schema);
    },
    async cleanup(): Promise<void> {
      if (missing === null) {
        for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
      await pool.end();
    },
  };
}

/** A settable clock in epoch seconds. */
export function testClock(start = 1_900_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

/**
 * A password hasher without argon2's cost, that records every call: `verify` is true when the
 * hash is `fake:` and the password.
 */
export function countingHasher() {
  const calls = { hash: [] as string[], verify: [] as { hash: string; password: string }[] };
  const hasher: PasswordHasher = {
    async hash(password) {
      calls.hash.push(password);
      return `fake:${password}`;
    },
    async verify(hash, password) {
      calls.verify.push({ hash, password });
      return hash === `fake:${password}`;
    },
  };
  return { hasher, calls };
}
