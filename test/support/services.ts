import type { TestContext } from 'node:test';

/** The PostgreSQL the tests use: DATABASE_URL, or the local default. */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The Redis the tests use: REDIS_URL, or the local default. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * What to do when a service the tests need does not answer: in CI it is a failure (CI must start
 * it), on a developer's machine the suite is skipped with the reason.
 */
export function serviceMissing(name: string, error: unknown): string {
  const reason = `${name} is not reachable (${error instanceof Error ? error.message : String(error)})`;
  if (process.env.CI === 'true') throw new Error(`${reason}; CI must start it`);
  return reason;
}

/** Skips a test when a service was found missing outside CI. */
export function skipIfMissing(t: TestContext, missing: string | null): boolean {
  if (missing === null) return false;
  t.skip(missing);
  return true;
}
