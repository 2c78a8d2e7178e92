import { RevocableError } from '../../../errors/revocable-error.js';
import { reasonOf, storeUnavailable } from '../../../stores/internal/driver-errors.js';
import { checkPool } from '../../../stores/postgres/database.js';
import {
  componentVersionRow,
  metForeignTables,
  runVersionedMigration,
} from '../../../stores/postgres/versioned-migration.js';
import type { ServerTableNames } from './postgres-names.js';

/**
 * Versioned migrations of the server's PostgreSQL tables, one component (users, login throttle)
 * at a time, each with its row in `<prefix>server_schema`. Internal: never exported.
 *
 * @example
 * ```ts
 * await migrateComponent(pool, names, { name: 'users', steps, label: 'user store', call });
 * ```
 * @module
 */

/** One component's migration: its name, its steps, and how to name it in messages. */
export interface Component {
  readonly name: string;
  /** Step `i` takes the component's tables from version `i` to `i + 1`; never edited once released. */
  readonly steps: readonly string[];
  /** `user store`, `login throttle`. */
  readonly label: string;
  /** The call that migrates it, as a message shows it. */
  readonly call: string;
}

function tooNew(names: ServerTableNames, component: Component, version: number): RevocableError {
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `The ${component.label} tables in schema "${names.schemaName}" are at version ${version}, ` +
      `newer than this revocable knows (${component.steps.length}): upgrade revocable first.`,
  );
}

/**
 * The error of a statement that met tables missing or of another version: names the migration to
 * run, since a raw `relation ... does not exist` says nothing of revocable's migrations.
 */
export function notMigrated(
  names: ServerTableNames,
  component: Component,
  cause: unknown,
): RevocableError {
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `The ${component.label} tables in schema "${names.schemaName}" (table prefix ` +
      `"${names.prefix}") are missing or not at version ${component.steps.length}: run ` +
      `${component.call} once (at startup or in a deploy step).`,
    { cause },
  );
}

/**
 * Brings one component's tables to its latest version and returns it. Idempotent: tables already
 * current cost one read and no lock. Otherwise every missing step runs in one transaction under
 * the migration lock. Tables of these names that revocable did not make are `ERR_STORE_SCHEMA`;
 * a driver failure (or a missing right to create the schema) `ERR_STORE_UNAVAILABLE`.
 */
export async function migrateComponent(
  pool: unknown,
  names: ServerTableNames,
  component: Component,
): Promise<number> {
  checkPool(pool);
  try {
    return await runVersionedMigration(pool, {
      names,
      row: componentVersionRow(names.components, component.name),
      steps: component.steps,
      tooNew: (version) => tooNew(names, component, version),
      forgiveSchemaRace: true,
    });
  } catch (error) {
    if (metForeignTables(error)) {
      throw new RevocableError(
        'ERR_STORE_SCHEMA',
        `Tables named like the ${component.label}'s exist in schema "${names.schemaName}" but ` +
          `do not have revocable's layout (${reasonOf(error)}): give it another schema or ` +
          'tablePrefix, or remove those tables.',
        { cause: error },
      );
    }
    throw storeUnavailable(`Migrating the PostgreSQL ${component.label}`, error);
  }
}
