/**
 * The SQLite schema, as numbered migrations. A migration is never edited once released: a change
 * is a new entry, so every database reaches the same shape by the same steps.
 */
export function migrations(prefix: string): readonly string[] {
  return [
    `CREATE TABLE ${prefix}sessions (
       sid TEXT PRIMARY KEY,
       sub TEXT NOT NULL,
       created_at REAL NOT NULL,
       last_seen_at REAL NOT NULL,
       idle_expires_at REAL NOT NULL,
       absolute_expires_at REAL NOT NULL,
       auth_time REAL NOT NULL,
       device TEXT,
       ip TEXT,
       user_agent TEXT,
       claims TEXT NOT NULL,
       refresh_hash TEXT NOT NULL,
       previous_hash TEXT,
       rotated_at REAL,
       spent_hashes TEXT NOT NULL,
       revoked_at REAL,
       revoked_reason TEXT
     ) STRICT;
     CREATE INDEX ${prefix}sessions_sub ON ${prefix}sessions (sub, created_at);
     CREATE TABLE ${prefix}subjects (
       sub TEXT PRIMARY KEY,
       gen INTEGER NOT NULL DEFAULT 0,
       banned INTEGER NOT NULL DEFAULT 0,
       banned_at REAL
     ) STRICT;
     CREATE TABLE ${prefix}log (
       seq INTEGER PRIMARY KEY AUTOINCREMENT,
       id TEXT NOT NULL UNIQUE,
       until REAL NOT NULL,
       body TEXT NOT NULL
     ) STRICT;
     CREATE INDEX ${prefix}log_until ON ${prefix}log (until);`,
  ];
}
