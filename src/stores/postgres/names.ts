import { invalidArgument } from '../internal/validate.js';

/** The schema of the tables when none is given. */
export const DEFAULT_SCHEMA = 'public';
/** The table prefix when none is given. */
export const DEFAULT_TABLE_PREFIX = 'revocable_';

// PostgreSQL truncates identifiers past 63 bytes; the longest name made here is the prefix plus
// `sessions_sub` (12 characters), so a prefix of 40 leaves room to spare.
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const PREFIX_PATTERN = /^(?:[a-z_][a-z0-9_]{0,39})?$/;

/** Where one store's tables live, as quoted SQL identifiers ready to paste into statements. */
export interface TableNames {
  /** The schema, quoted: `"public"`. */
  readonly schema: string;
  /** The schema's name as PostgreSQL stores it (for catalog lookups). */
  readonly schemaName: string;
  /** The table prefix, unquoted (for messages). */
  readonly prefix: string;
  /** The one-row table of the schema version. */
  readonly version: string;
  readonly sessions: string;
  readonly subjects: string;
  readonly log: string;
  /** The one-row table of the highest log position a prune has deleted. */
  readonly logState: string;
  /** The one-row table of the current epoch (how many times `revokeAll` ran). */
  readonly epoch: string;
  /** When each past epoch was ended by a `revokeAll`: one row per emergency. */
  readonly epochEnds: string;
  /**
   * The name (unquoted, as the driver reports it) of the log's unique constraint on the event id
   * alone: an append that violates it brings an id the log holds with other contents.
   */
  readonly logIdConstraint: string;
  /** The unqualified, quoted name of an index: `"revocable_sessions_sub"`. */
  index(name: string): string;
  /**
   * The second key of this store's advisory locks (the first says which lock): a 32-bit hash of
   * the schema and prefix, so stores in other schemas of the same database rarely wait on these.
   */
  readonly lockKey: number;
}

export interface NameOptions {
  schema?: string | undefined;
  tablePrefix?: string | undefined;
}

// FNV-1a, 32 bits, as a signed integer (the type of pg_advisory_xact_lock's two-key form).
function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/**
 * Checks a schema name and a table prefix and returns the quoted names. Identifiers cannot be
 * bound as parameters, so they are pasted into SQL: only lowercase letters, digits and underscores
 * pass (lowercase, so that the names are the same quoted or not, e.g. in psql), and a schema may
 * not start with `pg_`, which PostgreSQL reserves.
 */
export function tableNames(options: NameOptions = {}): TableNames {
  // Only an absent option takes the default: a null is a mistake, not a choice.
  const schema = options.schema === undefined ? DEFAULT_SCHEMA : options.schema;
  const prefix = options.tablePrefix === undefined ? DEFAULT_TABLE_PREFIX : options.tablePrefix;
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema) || schema.startsWith('pg_')) {
    throw invalidArgument(
      'schema must be 1 to 63 lowercase letters, digits and underscores, not starting with a digit or pg_.',
    );
  }
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw invalidArgument(
      'tablePrefix must be at most 40 lowercase letters, digits and underscores, not starting with a digit.',
    );
  }
  const table = (name: string) => `"${schema}"."${prefix}${name}"`;
  return {
    schema: `"${schema}"`,
    schemaName: schema,
    prefix,
    version: table('schema_version'),
    sessions: table('sessions'),
    subjects: table('subjects'),
    log: table('log'),
    logState: table('log_state'),
    epoch: table('epoch'),
    epochEnds: table('epoch_ends'),
    // The name PostgreSQL gave the UNIQUE constraint of step 1 (`<table>_<column>_key`).
    logIdConstraint: `${prefix}log_id_key`,
    index: (name) => `"${prefix}${name}"`,
    lockKey: hash32(`${schema}.${prefix}`),
  };
}

/** The first key of the advisory lock that migrations take ('revm'). */
export const MIGRATION_LOCK = 0x7265766d;
/** The first key of the advisory lock that log appends take ('reva'). */
export const APPEND_LOCK = 0x72657661;
/**
 * The first key of the advisory lock around the epoch ('reve'): `revokeAll` takes it exclusive,
 * every call that checks the epoch takes it shared.
 */
export const EPOCH_LOCK = 0x72657665;
