import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'key-ring-worker.js');
const directory = mkdtempSync(join(tmpdir(), 'revocable-key-ring-processes-'));
const children: ChildProcessWithoutNullStreams[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

interface State {
  active: string | null;
  revision: number;
  states: Record<string, string>;
}

/** A worker process and a way to send it one command and await its one-line reply. */
class Worker {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #waiting: Array<(line: string) => void> = [];

  constructor(path: string, secret: string) {
    this.#child = spawn(process.execPath, [WORKER, path, randomBytes(32).toString('hex')], {
      env: { ...process.env, REVOCABLE_KEYS_SECRET: secret },
    });
    children.push(this.#child);
    this.#child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    this.#lines = createInterface({ input: this.#child.stdout });
    this.#lines.on('line', (line) => this.#waiting.shift()?.(line));
  }

  #next(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the worker exited with ${code}`));
      this.#child.once('exit', onExit);
      this.#waiting.push((line) => {
        this.#child.off('exit', onExit);
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

describe('a key ring shared by three processes on one SQLite file', () => {
  it('one rotation reaches all; a retirement through retireKey is refused by all', async () => {
    const path = join(directory, 'cluster.db');
    const secret = randomBytes(32).toString('base64');
    // All three start together on an empty file: they must end with one ring.
    const workers = [0, 1, 2].map(() => new Worker(path, secret));
    await Promise.all(workers.map((worker) => worker.ready()));
    const start = await Promise.all(workers.map((worker) => worker.state()));
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
          ['ERR_JWT_KEY_RETIRED', 'ERR_TOKEN_REVOKED'].includes(outcome as string),
          String(outcome),
        );
    }
    const fresh = (await Promise.all(workers.map((worker) => worker.send('login')))) as string[];
    for (const token of fresh) assert.equal(kidOf(token), replacement);
    for (const row of await crossVerify(workers, fresh)) assert.deepEqual(row, ['ok', 'ok', 'ok']);

    await Promise.all(workers.map((worker) => worker.send('exit')));
  });
});
