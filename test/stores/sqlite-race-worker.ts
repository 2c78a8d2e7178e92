// A second OS process for the SQLite race test: waits for the shared start time, then fires 25
// rotations of the same refresh token at once and prints their outcomes as JSON.
import { randomBytes } from 'node:crypto';
import { createSqliteStore, openSqliteDatabase } from '../../src/stores/sqlite/index.js';

const [file, sid, expected, startAt] = process.argv.slice(2) as [string, string, string, string];
const store = createSqliteStore({ database: openSqliteDatabase(file) });
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
