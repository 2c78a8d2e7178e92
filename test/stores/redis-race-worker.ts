// Another OS process on the same Redis, for the cross-process tests in redis-store.test.ts. It
// connects, says `ready`, waits for a start time on stdin (both workers then start at the same
// instant however long each took to load), fires its calls all at once and prints one JSON line.
//   rotate <url> <prefix> <sid> <hash>: 25 rotations of one session from the same refresh hash;
//     prints their statuses
//   rotate-each <url> <prefix> <json [sid, hash][]>: one rotation per session; prints
//     [status, new hash] per session
//   revoke-each <url> <prefix> <json [sid, hash][]>: one revocation (with its event) per
//     session; prints the sids each revoked
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { createSessionRevocation } from '../../src/revocation/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';

const T = 1_900_000_000;
const randomId = () => randomBytes(16).toString('base64url');
const rotation = (expected: string, refreshHash = randomId()) => ({
  refreshHash,
  previousHash: expected,
  rotatedAt: T + 10,
  spentHashes: [],
  lastSeenAt: T + 10,
  idleExpiresAt: T + 3610,
  ip: null,
  userAgent: null,
});

const [mode, url, prefix = '', ...rest] = process.argv.slice(2);
const client = new Redis(url ?? '', { maxRetriesPerRequest: 1 });
const store = createRedisStore({ client, prefix });
await client.ping();
process.stdout.write('ready\n');
const [line] = (await once(process.stdin, 'data')) as [Buffer];
process.stdin.destroy();
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(String(line)) - Date.now())));

let output: unknown;
if (mode === 'rotate') {
  const [sid = '', expected = ''] = rest;
  const outcomes = await Promise.all(
    Array.from({ length: 25 }, () => store.rotateRefresh(sid, expected, 0, rotation(expected))),
  );
  output = outcomes.map((outcome) => outcome.status);
} else if (mode === 'rotate-each' || mode === 'revoke-each') {
  const sessions = JSON.parse(rest[0] ?? '[]') as [string, string][];
  output = await Promise.all(
    sessions.map(async ([sid, expected]) => {
      if (mode === 'revoke-each') {
        const event = createSessionRevocation({ sid, at: T + 1 }, { maxAccessTokenLifetime: 600 });
        return store.revokeSessions([sid], T + 1, 'logout', [event]);
      }
      const next = rotation(expected);
      return [(await store.rotateRefresh(sid, expected, 0, next)).status, next.refreshHash];
    }),
  );
} else {
  throw new Error(`unknown mode ${String(mode)}`);
}
await store.close();
client.disconnect();
process.stdout.write(`${JSON.stringify(output)}\n`);
