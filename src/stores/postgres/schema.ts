/**
 * The PostgreSQL schema, as numbered migrations, for one schema name and table prefix (both
 * checked to be plain identifiers before they reach SQL). A released migration is never edited.
 */
export function migrations(table: (name: string) => string): readonly string[] {
  return [
    `CREATE TABLE ${table('sessions')} (
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
       claims text NOT NULL,
       refresh_hash text NOT NULL,
       previous_hash text,
       rotated_at double precision,
       spent_hashes text[] NOT NULL,
       revoked_at double precision,
       revoked_reason text
     );
     CREATE INDEX ON ${table('sessions')} (sub, created_at);
     CREATE TABLE ${table('subjects')} (
       sub text PRIMARY KEY,
       gen bigint NOT NULL DEFAULT 0,
       banned boolean NOT NULL DEFAULT false,
       banned_at double precision
     );
     CREATE TABLE ${table('log')} (
       seq bigserial PRIMARY KEY,
       id text NOT NULL UNIQUE,
       until double precision NOT NULL,
       body text NOT NULL
     );
     CREATE INDEX ON ${table('log')} (until);`,
  ];
}
