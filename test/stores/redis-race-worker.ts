// A second OS process for the Redis race test: waits for the shared start time, then fires 25
// rotations of the same refresh token at once and prints their outcomes as JSON.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisStore } from '../../src/stores/redis/index.js';

const [url, prefix, sid, expected, startAt] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const client = new Redis(url);
const store = createRedisStore({ client, prefix });
await client.ping();
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
client.disconnect();
