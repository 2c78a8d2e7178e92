import { RevocableError } from '../../errors/revocable-error.js';
import { sqlState } from './database.js';
import type { PostgresPool } from './driver-types.js';
import type { TableNames } from './names.js';
import { POSTGRES_SCHEMA_VERSION } from './schema.js';
import { readVersion as readVersionRow, singleVersionRow } from './versioned-migration.js';

// What a statement of this code meets on tables of an older version (a missing table, column or
// function) or on tables changed by hand.
const SCHEMA_STATES = new Set(['42P01', '3F000', '42703', '42883']);

/** Whether a driver error says the tables do not have the shape the statements expect. */
export function isSchemaState(error: unknown): boolean {
  return SCHEMA_STATES.has(sqlState(error) ?? '');
}

/** The version the tables are at, read without any lock; undefined when never migrated. */
export function readVersion(pool: PostgresPool, tables: TableNames): Promise<number | undefined> {
  return readVersionRow(pool, singleVersionRow(tables.version));
}

export function tooNew(tables: TableNames, version: number): RevocableError {
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `The ${tables.version} table is at version ${version}, newer than this revocable knows ` +
      `(${POSTGRES_SCHEMA_VERSION}): upgrade revocable before using these tables.`,
  );
}

// The call to make, with the store's own names, so that the message can be pasted as it is.
function migrateCall(tables: TableNames): string {
  return `migratePostgresStore(pool, { schema: '${tables.schemaName}', tablePrefix: '${tables.prefix}' })`;
}

/**
 * The error for tables that are not at this code's version: never created (`found` undefined),
 * older, or newer. Names the migration to run, since a raw `relation ... does not exist` says
 * nothing of revocable's explicit migrations.
 */
export function schemaError(tables: TableNames, found: number | undefined, cause?: unknown) {
  if (found !== undefined && found > POSTGRES_SCHEMA_VERSION) return tooNew(tables, found);
  const state =
    found === undefined
      ? `The revocable tables do not exist in schema "${tables.schemaName}" (table prefix "${tables.prefix}")`
      : found === POSTGRES_SCHEMA_VERSION
        ? `The revocable tables in schema "${tables.schemaName}" (table prefix "${tables.prefix}") are at version ${found} but do not have its shape (changed by hand?)`
        : `The revocable tables in schema "${tables.schemaName}" (table prefix "${tables.prefix}") are at version ${found}; this revocable needs version ${POSTGRES_SCHEMA_VERSION}`;
  return new RevocableError(
    'ERR_STORE_SCHEMA',
    `${state}: run ${migrateCall(tables)} once (at startup or in a deploy step) before using the store.`,
    cause === undefined ? undefined : { cause },
  );
}
