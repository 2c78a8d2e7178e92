import { type TableNames, tableNames } from './names.js';

/**
 * The schema as numbered steps: step `i` takes the tables from version `i` to `i + 1`. A released
 * step is never edited; a change is a new step, so every database reaches the same shape by the
 * same path.
 *
 * Why these types: times are `double precision`, which keeps a JavaScript number exactly (the
 * server prints the shortest text that reads back as the same double, unless `extra_float_digits`
 * was set below 1). Claims are `jsonb`, so that they can be queried (`claims->>'role'`); jsonb
 * does not keep key order, which no reader relies on. The log keeps each event's JSON text as
 * written (`body`), with `until` copied into a column for the index. `seq` is a bigserial: a
 * position is never handed out twice, and `log_state` remembers the highest position a prune has
 * deleted, so the log's position never goes back even when every event has been pruned.
 */
export function migrationSteps(tables: TableNames): readonly string[] {
  const { sessions, subjects, log, logState, index } = tables;
  return [
    `CREATE TABLE ${sessions} (
       sid text PRIMARY KEY,
       sub text NOT NULL,
       created_at double precision NOT NULL,
       last_seen_at double precision NOT NULL,
       idle_expires_at double precision NOT NULL,
       absolute_expires_at double precision NOT NULL,
       auth_time double precision NOT NULL,
       device text,
       ip text,
       user_agent text,
       claims jsonb NOT NULL,
       refresh_hash text NOT NULL,
       previous_hash text,
       rotated_at double precision,
       spent_hashes text[] NOT NULL,
       revoked_at double precision,
       revoked_reason text
     );
     CREATE INDEX ${index('sessions_sub')} ON ${sessions} (sub, created_at);
     CREATE TABLE ${subjects} (
       sub text PRIMARY KEY,
       gen bigint NOT NULL DEFAULT 0,
       banned boolean NOT NULL DEFAULT false,
       banned_at double precision
     );
     CREATE TABLE ${log} (
       seq bigserial PRIMARY KEY,
       id text NOT NULL UNIQUE,
       until double precision NOT NULL,
       body text NOT NULL
     );
     CREATE INDEX ${index('log_until')} ON ${log} (until);
     CREATE TABLE ${logState} (
       id integer PRIMARY KEY CHECK (id = 1),
       pruned_through bigint NOT NULL
     );
     INSERT INTO ${logState} (id, pruned_through) VALUES (1, 0);`,
  ];
}

/** The schema version this code reads and writes: the number of migration steps. */
export const POSTGRES_SCHEMA_VERSION = migrationSteps(tableNames()).length;
