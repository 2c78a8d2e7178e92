// A second OS process for the PostgreSQL race test: waits for the shared start time, then fires
// 25 rotations of the same refresh token at once and prints their outcomes as JSON.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresStore } from '../../src/stores/postgres/index.js';

const [url, schema, sid, expected, startAt] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const pool = new pg.Pool({ connectionString: url, max: 25 });
const store = createPostgresStore({ client: pool, schema });
await Promise.all(Array.from({ length: 10 }, () => pool.query('SELECT 1')));
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const at = 1_900_000_010;
const outcomes = await Promise.all(
  Array.from({ length: 25 }, () =>
    store.rotateRefresh(sid, expected, {
      refreshHash: randomBytes(16).toString('base64url'),
      previousHash: expected,
      rotatedAt: at,
      spentHashes: [],
      lastSeenAt: at,
      idleExpiresAt: at + 3600,
    }),
  ),
);
process.stdout.write(JSON.stringify(outcomes.map((outcome) => outcome.status)));
await pool.end();
