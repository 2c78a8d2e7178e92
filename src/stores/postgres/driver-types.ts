/**
 * What the PostgreSQL store needs of a pg Pool, written out here so that the declarations of
 * `revocable/postgres` do not import `pg`: without `@types/pg` (and with `skipLibCheck`, the usual
 * setting) an import of a missing module turns into `any`, and `createPostgresStore({ client: 42 })`
 * would type-check. A real `pg.Pool` satisfies these interfaces; a `pg.Client` does not (its
 * `connect()` resolves to nothing, not to a client to release).
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import type { PostgresPool } from 'revocable/postgres';
 * const pool: PostgresPool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * ```
 * @module
 */

/** What a query resolves to: the rows, and how many rows the statement touched. */
export interface PostgresQueryResult {
  rows: unknown[];
  rowCount: number | null;
}

/** A connection checked out of a pool (pg's `PoolClient`), as migrations use it. */
export interface PostgresPoolClient {
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult>;
  /** Gives the connection back; `true` (or an error) destroys it instead. */
  release(destroy?: boolean | Error): void;
}

/**
 * A connection pool (pg's `Pool`): the store sends each statement with `query`, migrations check a
 * connection out with `connect`.
 *
 * @example
 * ```ts
 * const pool: PostgresPool = new pg.Pool();
 * ```
 */
export interface PostgresPool {
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult>;
  connect(): Promise<PostgresPoolClient>;
}

/**
 * A pool that {@link connectPostgres} opened and checked: a `pg.Pool`, typed by what revocable
 * and most applications call on it. The application ends it at shutdown.
 *
 * @example
 * ```ts
 * const pool = await connectPostgres(process.env.DATABASE_URL ?? '');
 * process.on('SIGTERM', () => pool.end());
 * ```
 */
export interface ConnectedPostgresPool extends PostgresPool {
  /** Closes every connection of the pool; the pool cannot be used afterwards. */
  end(): Promise<void>;
}
