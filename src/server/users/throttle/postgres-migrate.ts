import type { PostgresPool } from '../../../stores/postgres/driver-types.js';
import { type Component, migrateComponent } from '../internal/postgres-migrate.js';
import { type ServerTableNames, serverTableNames } from '../internal/postgres-names.js';

/** Options for {@link migratePostgresLoginThrottle}: the same names as the throttle's. */
export interface MigratePostgresLoginThrottleOptions {
  /** The schema of the table (default `revocable`), created if missing. */
  schema?: string;
  /** Prefix of the table names (default `revocable_`). */
  tablePrefix?: string;
}

/**
 * The login throttle component: one table of counters, `key` (`a:<account>` or `ip:<network>`),
 * the failures counted and when the window ends (epoch seconds), with an index on the end for
 * the sweep of ended windows. Step `i` takes the table from version `i` to `i + 1`.
 */
export function throttleComponent(names: ServerTableNames): Component {
  return {
    name: 'login_throttle',
    label: 'login throttle',
    call: `migratePostgresLoginThrottle(pool, { schema: '${names.schemaName}', tablePrefix: '${names.prefix}' })`,
    steps: [
      `CREATE TABLE ${names.throttle} (
         key text PRIMARY KEY,
         count integer NOT NULL,
         window_end double precision NOT NULL
       );
       CREATE INDEX ${names.index('login_throttle_end')} ON ${names.throttle} (window_end);`,
    ],
  };
}

/**
 * Creates or upgrades the login throttle's table (versioned as the `login_throttle` row of
 * `<prefix>server_schema`, under the same advisory lock as every other migration of the schema)
 * and returns its version. Idempotent; run it at startup or in a deploy step.
 *
 * @example
 * ```ts
 * await migratePostgresLoginThrottle(pool);
 * const throttle = createPostgresLoginThrottle({ client: pool });
 * ```
 */
export async function migratePostgresLoginThrottle(
  client: PostgresPool,
  options: MigratePostgresLoginThrottleOptions = {},
): Promise<number> {
  const names = serverTableNames(options);
  return migrateComponent(client, names, throttleComponent(names));
}
