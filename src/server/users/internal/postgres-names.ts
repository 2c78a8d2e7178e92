import { invalidArgument } from '../../../stores/internal/validate.js';
import { tableNames as storeTableNames } from '../../../stores/postgres/names.js';

/**
 * Where the server's own PostgreSQL tables (users, login throttle) live, as quoted identifiers.
 * Internal: never exported from the package.
 *
 * @example
 * ```ts
 * const names = serverTableNames({ schema: 'auth' }); // names.users === '"auth"."revocable_users"'
 * ```
 * @module
 */

/** The schema of the server's tables when none is given. */
export const DEFAULT_SERVER_SCHEMA = 'revocable';

/** The quoted names of the server's tables under one schema and prefix. */
export interface ServerTableNames {
  /** The schema, quoted. */
  readonly schema: string;
  /** The schema's name as PostgreSQL stores it. */
  readonly schemaName: string;
  /** The table prefix, unquoted. */
  readonly prefix: string;
  /** One row per component (`users`, `login_throttle`) and the version its tables are at. */
  readonly components: string;
  readonly users: string;
  /** The name PostgreSQL gives the users' primary key constraint (unquoted). */
  readonly usersPrimaryKey: string;
  readonly throttle: string;
  /** The unqualified, quoted name of an index. */
  index(name: string): string;
  /** The second key of the migration lock: the session store's, for the same schema and prefix. */
  readonly lockKey: number;
}

export interface ServerNameOptions {
  schema?: string | undefined;
  tablePrefix?: string | undefined;
}

/**
 * Checks the schema and prefix by the session store's rules (lowercase letters, digits and
 * underscores, pasted into SQL since identifiers cannot be bound) and returns the quoted names.
 */
export function serverTableNames(options: ServerNameOptions): ServerTableNames {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('options must be an object.');
  }
  const schema = options.schema === undefined ? DEFAULT_SERVER_SCHEMA : options.schema;
  const store = storeTableNames({ schema, tablePrefix: options.tablePrefix });
  const { prefix } = store;
  const table = (name: string) => `${store.schema}."${prefix}${name}"`;
  return {
    schema: store.schema,
    schemaName: store.schemaName,
    prefix,
    components: table('server_schema'),
    users: table('users'),
    usersPrimaryKey: `${prefix}users_pkey`,
    throttle: table('login_throttle'),
    index: (name) => `"${prefix}${name}"`,
    lockKey: store.lockKey,
  };
}
