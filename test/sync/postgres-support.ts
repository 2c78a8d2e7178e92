import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migratePostgresStore } from '../../src/stores/postgres/index.js';
import { DATABASE_URL, serviceMissing } from '../support/services.js';

export { DATABASE_URL };

/** Waits until `condition` holds, checking every few milliseconds; fails past `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A random name, so that runs sharing the database never meet. */
export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/**
 * The shared pool of a test file, whether PostgreSQL answers (null) or why not, and fresh
 * schemas that are dropped at `cleanup`.
 */
export async function openPostgres() {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
  let missing: string | null = null;
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    missing = serviceMissing('PostgreSQL', error);
  }
  const schemas: string[] = [];
  return {
    pool,
    missing,
    async newSchema(): Promise<string> {
      const schema = randomName('revocable_test');
      schemas.push(schema);
      await migratePostgresStore(pool, { schema });
      return schema;
    },
    async cleanup(): Promise<void> {
      if (missing === null) {
        for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
      await pool.end();
    },
  };
}

/** The connection string with an application_name, to find that connection's backend. */
export function namedUrl(name: string): string {
  const url = new URL(DATABASE_URL);
  url.searchParams.set('application_name', name);
  return url.toString();
}

/** Terminates every backend with that application_name; returns how many. */
export async function terminate(pool: pg.Pool, applicationName: string): Promise<number> {
  const { rows } = await pool.query<{ done: boolean }>(
    'SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1',
    [applicationName],
  );
  return rows.filter((row) => row.done).length;
}
