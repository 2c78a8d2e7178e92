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
  const { sessions, subjects, log, logState, epoch, epochEnds, index } = tables;
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
    // Version 2 (issue 12). revokeAll as an epoch: `epoch` holds the current one, each session the
    // one it was created in, and `epoch_ends` when each past epoch ended, so ending every session
    // writes two rows whatever their number (see statements.ts). The column's constant default
    // makes ADD COLUMN instant (no table rewrite), and every existing session belongs to epoch 0.
    //
    // The log gets `digest`, the SHA-256 of the event's UTF-8 text, and a unique index on (id,
    // digest): an append of an event already logged meets that index and is skipped (ON CONFLICT),
    // while the same id with other contents meets the unique constraint on id alone and fails
    // (nothing of its statement is written). A digest rather than the text itself, because an
    // event's text can exceed what a B-tree entry holds.
    `ALTER TABLE ${sessions} ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
     CREATE TABLE ${epoch} (
       id integer PRIMARY KEY CHECK (id = 1),
       epoch bigint NOT NULL
     );
     INSERT INTO ${epoch} (id, epoch) VALUES (1, 0);
     CREATE TABLE ${epochEnds} (
       epoch bigint PRIMARY KEY,
       ended_at double precision NOT NULL
     );
     ALTER TABLE ${log} ADD COLUMN digest bytea;
     UPDATE ${log} SET digest = sha256(convert_to(body, 'UTF8'));
     ALTER TABLE ${log} ALTER COLUMN digest SET NOT NULL;
     CREATE UNIQUE INDEX ${index('log_event')} ON ${log} (id, digest);`,
  ];
}

/** The schema version this code reads and writes: the number of migration steps. */
export const POSTGRES_SCHEMA_VERSION = migrationSteps(tableNames()).length;
