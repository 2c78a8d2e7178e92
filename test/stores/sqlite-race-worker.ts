// Another OS process on the same SQLite file, for the cross-process tests in sqlite-store.test.ts.
// It opens the store, says `ready`, waits for a line on stdin (so both workers start together
// however long each took to load), runs its writes and prints their outcomes as one JSON line.
//   rotate <file> <sid> <expectedHash>: 25 rotations from the same refresh hash
//   append <file> <tag>: 25 revocation events, one append each
//   chain <file> <sid>:<hash> ...: rotates each session along its chain under generation 0, round
//     robin, until each is refused; prints `<rotations>:<refusal>:<last hash>` per session
//   bump <file> <sid> <sub>: once the session has rotated, bumps the subject's generation with new
//     claims; prints `bumped:<generation>`
//   revoke-all <file> <sid> <at>: once the session has rotated, revokes everything at <at> with one
//     global event, then logs a new session in; prints `revoked-all:<new sid>`
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGlobalRevocation, createTokenRevocation } from '../../src/revocation/index.js';
import { createSqliteStore, openSqliteDatabase } from '../../src/stores/sqlite/index.js';
import type { RefreshRotation, Store } from '../../src/stores/types.js';

const T = 1_900_000_000;
const randomId = () => randomBytes(16).toString('base64url');
// A bound on the rotation loop, so a broken store fails the test instead of hanging it. A time,
// not a count: a fast process ran 20,000 rotations before the other one, slowed by a busy machine,
// had made its change, and the chains ended unrefused.
const ROTATE_FOR_MS = 30_000;

function rotation(previousHash: string): RefreshRotation {
  return {
    refreshHash: randomId(),
    previousHash,
    rotatedAt: T + 10,
    spentHashes: [],
    lastSeenAt: T + 10,
    idleExpiresAt: T + 3610,
    ip: null,
    userAgent: null,
  };
}

// Polls through this process's own connection until the other process's first rotation commits.
async function untilRotated(store: Store, sid: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if ((await store.getSession(sid))?.previousHash != null) return;
    await sleep(1);
  }
  throw new Error(`session ${sid} never rotated`);
}

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
    Array.from({ length: ROUNDS }, () => store.rotateRefresh(sid, expected, 0, rotation(expected))),
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
} else if (mode === 'chain') {
  const chains = rest.map((pair) => {
    const [sid = '', hash = ''] = pair.split(':');
    return { sid, hash, rotations: 0, refusal: '' };
  });
  const deadline = Date.now() + ROTATE_FOR_MS;
  for (let i = 0; Date.now() < deadline && chains.some((chain) => chain.refusal === ''); i++) {
    const chain = chains[i % chains.length]!;
    if (chain.refusal !== '') continue;
    const next = rotation(chain.hash);
    const outcome = await store.rotateRefresh(chain.sid, chain.hash, 0, next);
    if (outcome.status === 'rotated' && outcome.gen === 0) {
      chain.hash = next.refreshHash;
      chain.rotations += 1;
    } else {
      chain.refusal = outcome.status === 'rotated' ? `rotated-${outcome.gen}` : outcome.status;
    }
  }
  outcomes = chains.map((chain) => `${chain.rotations}:${chain.refusal}:${chain.hash}`);
} else if (mode === 'bump') {
  const [sid = '', sub = ''] = rest;
  await untilRotated(store, sid);
  outcomes = [`bumped:${await store.bumpGeneration(sub, { role: 'bumped' })}`];
} else if (mode === 'revoke-all') {
  const [sid = '', at = ''] = rest;
  await untilRotated(store, sid);
  const event = {
    ...createGlobalRevocation({ at: Number(at) }, { maxAccessTokenLifetime: 600 }),
    id: 'emergency',
  };
  await store.revokeAll(Number(at), [event]);
  const { gen } = await store.getSubject('after-the-emergency');
  const later = {
    sid: randomId(),
    sub: 'after-the-emergency',
    createdAt: T + 20,
    lastSeenAt: T + 20,
    idleExpiresAt: T + 3620,
    absoluteExpiresAt: T + 86_420,
    authTime: T + 20,
    device: null,
    ip: null,
    userAgent: null,
    claims: {},
    refreshHash: randomId(),
    previousHash: null,
    rotatedAt: null,
    spentHashes: [],
    revokedAt: null,
    revokedReason: null,
  };
  const created = await store.createSession(later, gen);
  outcomes = [created.created ? `revoked-all:${later.sid}` : `refused:${created.reason}`];
} else {
  throw new Error(`unknown mode ${String(mode)}`);
}
await store.close();
database.close();
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
