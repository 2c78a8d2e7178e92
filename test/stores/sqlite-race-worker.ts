// Another OS process on the same SQLite file, for the cross-process tests in sqlite-store.test.ts.
// It opens the store, says `ready`, waits for a line on stdin (so both workers start together
// however long each took to load), runs its 25 writes and prints their outcomes as one JSON line.
//   rotate <file> <sid> <expectedHash>: 25 rotations from the same refresh hash
//   append <file> <tag>: 25 revocation events, one append each
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createTokenRevocation } from '../../src/revocation/index.js';
import { createSqliteStore, openSqliteDatabase } from '../../src/stores/sqlite/index.js';

const T = 1_900_000_000;
const randomId = () => randomBytes(16).toString('base64url');

const [mode, file, ...rest] = process.argv.slice(2);
const database = openSqliteDatabase(file ?? '');
const store = createSqliteStore({ database });
process.stdout.write('ready\n');
await once(process.stdin, 'data');
process.stdin.destroy();

const ROUNDS = 25;
let outcomes: string[] = [];
if (mode === 'rotate') {
  const [sid = '', expected = ''] = rest;
  const results = await Promise.all(
    Array.from({ length: ROUNDS }, () =>
      store.rotateRefresh(sid, expected, {
        refreshHash: randomId(),
        previousHash: expected,
        rotatedAt: T + 10,
        spentHashes: [],
        lastSeenAt: T + 10,
        idleExpiresAt: T + 3610,
      }),
    ),
  );
  outcomes = results.map((result) => result.status);
} else if (mode === 'append') {
  const tag = rest[0] ?? '';
  for (let i = 0; i < ROUNDS; i++) {
    const event = createTokenRevocation({ jti: randomId(), exp: T + 600, at: T }, {});
    const id = `${tag}-${String(i).padStart(2, '0')}`;
    await store.appendEvents([{ ...event, id }]);
    outcomes.push(id);
  }
} else {
  throw new Error(`unknown mode ${String(mode)}`);
}
await store.close();
database.close();
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
