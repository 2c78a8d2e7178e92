// Three OS processes of one deployment sharing a key ring, for each kind of follower: SQLite with
// polling, PostgreSQL with LISTEN/NOTIFY, Redis with pub/sub. A key rotated in one is used by all;
// the active key retired in another is refused by all, and all sign with the one key that
// replaced it.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { migratePostgresKeyRingStore } from '../../src/stores/postgres/index.js';
import type { SyncTransportKind } from '../../src/sync/index.js';
import { connectSharedRedis, prefixesOn, type SharedRedis } from '../stores/redis-support.js';
import { DATABASE_URL, REDIS_URL, skipIfMissing } from '../support/services.js';
import type { BackendConfig, WorkerConfig } from './key-ring-worker.js';
import { openPostgres, randomName } from './postgres-support.js';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'key-ring-worker.js');
const directory = mkdtempSync(join(tmpdir(), 'revocable-key-ring-processes-'));
const children: ChildProcessWithoutNullStreams[] = [];
// A rotation logs no event, so it reaches the other processes with their next read of the log:
// reads every 50 ms keep the file quick, whichever the transport.
const POLL_INTERVAL = 0.05;

let postgres: Awaited<ReturnType<typeof openPostgres>>;
let redis: SharedRedis;
let prefixes: ReturnType<typeof prefixesOn>;
before(async () => {
  // Both throw in CI when their service does not answer; elsewhere their suite is skipped.
  postgres = await openPostgres();
  redis = await connectSharedRedis();
  prefixes = prefixesOn(redis.client);
});
after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
  await postgres?.cleanup();
  if (redis?.missing === null) await prefixes.dropAll();
  redis?.client.disconnect();
});

interface State {
  active: string | null;
  revision: number;
  states: Record<string, string>;
  transport: SyncTransportKind;
  connected: boolean;
}

/** A worker process and a way to send it one command and await its one-line reply. */
class Worker {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #waiting: Array<(line: string) => void> = [];

  constructor(config: WorkerConfig, secret: string) {
    this.#child = spawn(process.execPath, [WORKER, JSON.stringify(config)], {
      env: { ...process.env, REVOCABLE_KEYS_SECRET: secret },
    });
    children.push(this.#child);
    this.#child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    this.#lines = createInterface({ input: this.#child.stdout });
    this.#lines.on('line', (line) => this.#waiting.shift()?.(line));
  }

  #next(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // 'close' comes once the worker's stdout is read to its end, so a reply it wrote just before
      // exiting still arrives; 'exit' may come first.
      const onClose = (code: number | null) => reject(new Error(`the worker exited with ${code}`));
      this.#child.once('close', onClose);
      this.#waiting.push((line) => {
        this.#child.off('close', onClose);
        resolve(JSON.parse(line));
      });
    });
  }

  async ready(): Promise<void> {
    assert.deepEqual(await this.#next(), { ready: true });
  }

  async send(op: string, arg?: string): Promise<unknown> {
    const reply = this.#next();
    this.#child.stdin.write(`${JSON.stringify({ op, arg })}\n`);
    const answer = (await reply) as { value?: unknown; error?: string };
    if (answer.error !== undefined) throw new Error(`${op} failed in a worker: ${answer.error}`);
    return answer.value;
  }

  state(): Promise<State> {
    return this.send('state') as Promise<State>;
  }

  /** Tells the worker to close everything and waits for it to end by itself (10 s at most). */
  async exit(): Promise<void> {
    const exited = this.#child.exitCode === null ? once(this.#child, 'exit') : Promise.resolve([]);
    await this.send('exit');
    const timeout = AbortSignal.timeout(10_000);
    const outcome = await Promise.race([
      exited.then(() => 'exited'),
      once(timeout, 'abort').then(() => 'still running'),
    ]);
    // Still running: something the worker opened holds its event loop.
    assert.equal(outcome, 'exited', 'the worker ends once it has closed everything');
    assert.equal(this.#child.exitCode, 0);
  }
}

/** Asks every worker for its state until all satisfy `condition` (10 s at most). */
async function waitForAll(
  workers: readonly Worker[],
  condition: (state: State) => boolean,
  what: string,
): Promise<State[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const states = await Promise.all(workers.map((worker) => worker.state()));
    if (states.every(condition)) return states;
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what}: ${JSON.stringify(states)}`);
    await sleep(20);
  }
}

async function crossVerify(workers: readonly Worker[], tokens: readonly string[]) {
  return Promise.all(
    workers.map((worker) => Promise.all(tokens.map((token) => worker.send('verify', token)))),
  );
}

function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'));
  return header.kid as string;
}

/**
 * Three processes start together on one empty backend and must end with one ring; a rotation in
 * one reaches all; the active key retired through another's session manager is refused by all,
 * and all sign with, and accept, the one key that replaced it.
 */
async function rotateAndRetire(backend: BackendConfig, transport: SyncTransportKind) {
  const secret = randomBytes(32).toString('base64');
  const config: WorkerConfig = {
    ...backend,
    refreshSecret: randomBytes(32).toString('hex'),
    pollInterval: POLL_INTERVAL,
  };
  const workers = [0, 1, 2].map(() => new Worker(config, secret));
  await Promise.all(workers.map((worker) => worker.ready()));
  // A push follower is connected once its subscription is confirmed, which may come after start.
  const start = await waitForAll(
    workers,
    (state) => state.transport === transport && state.connected === (transport !== 'polling'),
    `the ${transport} follower to be in place`,
  );
  const first = start[0]!.active;
  assert.ok(first !== null);
  for (const state of start) assert.equal(state.active, first);

  // A rotation in one process: every process signs with the new key after its next read.
  const rotated = (await workers[0]!.send('rotate')) as string;
  assert.notEqual(rotated, first);
  await waitForAll(workers, (state) => state.active === rotated, 'the rotation to arrive');
  const tokens = (await Promise.all(workers.map((worker) => worker.send('login')))) as string[];
  for (const token of tokens) assert.equal(kidOf(token), rotated);
  for (const row of await crossVerify(workers, tokens)) assert.deepEqual(row, ['ok', 'ok', 'ok']);

  // The active key retired through one process's session manager: refused everywhere, and every
  // process signs with the one key that replaced it.
  await workers[1]!.send('retireKey', rotated);
  const after = await waitForAll(
    workers,
    (state) =>
      state.states[rotated] === 'retired' && state.active !== null && state.active !== rotated,
    'the retirement to arrive',
  );
  const replacement = after[0]!.active;
  for (const state of after) assert.equal(state.active, replacement);
  for (const row of await crossVerify(workers, tokens)) {
    for (const outcome of row)
      assert.ok(
        ['ERR_JWT_KEY_RETIRED', 'ERR_TOKEN_REVOKED:key'].includes(outcome as string),
        String(outcome),
      );
  }
  const fresh = (await Promise.all(workers.map((worker) => worker.send('login')))) as string[];
  for (const token of fresh) assert.equal(kidOf(token), replacement);
  for (const row of await crossVerify(workers, fresh)) assert.deepEqual(row, ['ok', 'ok', 'ok']);

  await Promise.all(workers.map((worker) => worker.exit()));
}

const SCENARIO = 'one rotation reaches all; a retirement through retireKey is refused by all';

describe('a key ring shared by three processes on one SQLite file, polling', () => {
  it(SCENARIO, async () => {
    const path = join(directory, 'cluster.db');
    await rotateAndRetire({ backend: 'sqlite', path }, 'polling');
  });
});

describe('a key ring shared by three processes on PostgreSQL, LISTEN/NOTIFY', () => {
  it(SCENARIO, async (t) => {
    if (skipIfMissing(t, postgres.missing)) return;
    // The session store's tables come with the schema; the key ring's are migrated apart.
    const schema = await postgres.newSchema();
    await migratePostgresKeyRingStore(postgres.pool, { schema });
    const channel = randomName('revocable_test');
    await rotateAndRetire({ backend: 'postgres', url: DATABASE_URL, schema, channel }, 'postgres');
  });
});

describe('a key ring shared by three processes on Redis, pub/sub', () => {
  it(SCENARIO, async (t) => {
    if (skipIfMissing(t, redis.missing)) return;
    const prefix = prefixes.freshPrefix();
    await rotateAndRetire({ backend: 'redis', url: REDIS_URL, prefix }, 'redis');
  });
});
