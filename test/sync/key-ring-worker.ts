// One process of a cluster sharing a SQLite file: its session store, its key ring store, a shared
// key ring refreshed by a polling log follower, a session manager and a verifier. It answers the
// test's commands, one JSON line each on stdin, with one JSON line on stdout.
import { createInterface } from 'node:readline';
import { isRevocableError } from '../../src/errors/index.js';
import { createRevocableVerifier, createRevocationIndex } from '../../src/revocation/index.js';
import { createSessionManager } from '../../src/sessions/index.js';
import { createSqliteKeyRingStore, createSqliteStore } from '../../src/stores/sqlite/index.js';
import { createLogFollower, openSharedKeyRing } from '../../src/sync/index.js';
import { openSqliteDatabase } from '../stores/sqlite-support.js';

const [path, refreshSecret] = process.argv.slice(2) as [string, string];
// The key ring secret comes from the environment, as in production.
const database = openSqliteDatabase(path);
const store = createSqliteStore({ database });
const keyRingStore = createSqliteKeyRingStore({ database });
const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
const shared = await openSharedKeyRing({ store: keyRingStore, index, alg: 'ES256' });
const follower = createLogFollower({
  store,
  index,
  pollInterval: 0.05,
  afterRead: shared.refresh,
});
await follower.start();
const manager = createSessionManager({
  store,
  keys: shared,
  index,
  issuer: 'https://auth.test',
  audience: 'api',
  refreshSecret,
});
const verifier = createRevocableVerifier({
  keys: shared.ring,
  index,
  issuer: 'https://auth.test',
  audience: 'api',
});

interface Command {
  op: 'state' | 'login' | 'verify' | 'rotate' | 'retireKey' | 'exit';
  arg?: string;
}

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'state': {
      let active: string | null = null;
      try {
        active = shared.ring.active.kid;
      } catch {
        // No signer for a moment (a retirement applied before its ring reload).
      }
      return {
        active,
        revision: shared.revision,
        states: Object.fromEntries(shared.ring.keys().map((key) => [key.kid, key.state])),
      };
    }
    case 'login':
      return (await manager.login(`user-${process.pid}`)).accessToken;
    case 'verify':
      try {
        verifier.verify(command.arg ?? '');
        return 'ok';
      } catch (error) {
        return isRevocableError(error) ? error.code : String(error);
      }
    case 'rotate':
      return (await shared.rotate()).kid;
    case 'retireKey':
      await manager.retireKey(command.arg ?? '');
      return null;
    case 'exit':
      await follower.stop();
      shared.close();
      database.close();
      return null;
  }
}

const lines = createInterface({ input: process.stdin });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
for await (const line of lines) {
  const command = JSON.parse(line) as Command;
  let reply: unknown;
  try {
    reply = { value: await run(command) };
  } catch (error) {
    reply = { error: isRevocableError(error) ? error.code : String(error) };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
  if (command.op === 'exit') break;
}
lines.close();
