import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { REVOKE_EVERYTHING_REASON, type SessionRecord } from '../../src/stores/index.js';
import { createSqliteStore, openSqliteDatabase } from '../../src/stores/sqlite/index.js';
import { createIn, makeSession, T0 } from './contract.js';

const directory = mkdtempSync(join(tmpdir(), 'revocable-sqlite-processes-'));
after(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
function freshFile(): string {
  files += 1;
  return join(directory, `store-${files}.db`);
}

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'sqlite-race-worker.js');

/** Runs one worker per argument list, starts them together, and returns what each printed. */
async function runWorkers(argumentLists: string[][]): Promise<string[][]> {
  const ready = new Map<unknown, () => void>();
  const children = argumentLists.map((args) =>
    spawn(process.execPath, [WORKER, ...args], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const outputs = children.map(
    (child) =>
      new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (text === 'ready\n') ready.get(child)?.();
        });
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve(text) : reject(new Error(`worker exited with ${code}`)),
        );
      }),
  );
  await Promise.all(
    children.map((child) => new Promise<void>((resolve) => ready.set(child, resolve))),
  );
  for (const child of children) child.stdin.end('go\n');
  const texts = await Promise.all(outputs);
  return texts.map((text) => JSON.parse(text.split('\n')[1] ?? '') as string[]);
}

describe('two processes on one sqlite file', () => {
  it('lets exactly one of 50 rotations from two processes win', { timeout: 60_000 }, async () => {
    const file = freshFile();
    const database = openSqliteDatabase(file);
    const store = createSqliteStore({ database });
    const session: SessionRecord = makeSession();
    await createIn(store, session);
    const outcomes = (
      await runWorkers([0, 1].map(() => ['rotate', file, session.sid, session.refreshHash]))
    ).flat();
    assert.equal(outcomes.length, 50);
    assert.equal(outcomes.filter((status) => status === 'rotated').length, 1);
    assert.ok(outcomes.every((status) => status === 'rotated' || status === 'stale'));
    const read = await store.getSession(session.sid);
    assert.equal(read?.previousHash, session.refreshHash);
    assert.notEqual(read?.refreshHash, session.refreshHash);
    database.close();
  });

  it('gives appends from two processes distinct positions in commit order', {
    timeout: 60_000,
  }, async () => {
    const file = freshFile();
    const database = openSqliteDatabase(file);
    const store = createSqliteStore({ database });
    const [a = [], b = []] = await runWorkers([
      ['append', file, 'a'],
      ['append', file, 'b'],
    ]);
    const read = await store.readEvents(0, 100);
    assert.equal(read.length, 50);
    for (let i = 1; i < read.length; i++) assert.ok(read[i]!.seq > read[i - 1]!.seq);
    const ids = read.map((stored) => stored.event.id);
    assert.deepEqual(
      ids.filter((id) => id.startsWith('a-')),
      a,
    );
    assert.deepEqual(
      ids.filter((id) => id.startsWith('b-')),
      b,
    );
    assert.equal((await store.liveEvents(T0)).position, read.at(-1)?.seq);
    database.close();
  });

  it('lets no rotation under the old generation win once another process bumped it', {
    timeout: 60_000,
  }, async () => {
    const file = freshFile();
    const database = openSqliteDatabase(file);
    const store = createSqliteStore({ database });
    const session = makeSession();
    await createIn(store, session);
    const [[chain = ''] = [], bump = []] = await runWorkers([
      ['chain', file, `${session.sid}:${session.refreshHash}`],
      ['bump', file, session.sid, session.sub],
    ]);
    assert.deepEqual(bump, ['bumped:1']);
    // The rotator followed its chain under generation 0 until it was refused: the refusal is the
    // bump's, and every rotation it was told succeeded is the one the session holds.
    const [rotations, refusal, hash] = chain.split(':');
    assert.equal(refusal, 'changed');
    assert.ok(Number(rotations) >= 1);
    const read = await store.getSession(session.sid);
    assert.equal(read?.refreshHash, hash);
    assert.equal(read?.gen, 1);
    assert.deepEqual(read?.claims, { role: 'bumped' });
    database.close();
  });

  it('ends every session that existed, against rotations from another process', {
    timeout: 60_000,
  }, async () => {
    const file = freshFile();
    const database = openSqliteDatabase(file);
    const store = createSqliteStore({ database });
    const sessions: SessionRecord[] = Array.from({ length: 20 }, () => makeSession());
    for (const session of sessions) await createIn(store, session);
    const at = T0 + 30;
    const [chains = [], [emergency = ''] = []] = await runWorkers([
      ['chain', file, ...sessions.map((session) => `${session.sid}:${session.refreshHash}`)],
      ['revoke-all', file, sessions[0]!.sid, String(at)],
    ]);
    assert.equal(chains.length, sessions.length);
    for (const [i, session] of sessions.entries()) {
      const [, refusal, hash] = (chains[i] ?? '').split(':');
      // No rotation won after the emergency, and none that won before it was lost.
      assert.equal(refusal, 'revoked');
      const read = await store.getSession(session.sid);
      assert.equal(read?.refreshHash, hash);
      assert.equal(read?.revokedAt, at);
      assert.equal(read?.revokedReason, REVOKE_EVERYTHING_REASON);
      assert.deepEqual(await store.listSessions(session.sub), []);
    }
    assert.ok(Number(chains[0]?.split(':')[0]) >= 1);
    // The login that came after it lives.
    const [outcome, laterSid = ''] = emergency.split(':');
    assert.equal(outcome, 'revoked-all');
    assert.equal((await store.getSession(laterSid))?.revokedAt, null);
    assert.deepEqual(
      (await store.readEvents(0, 10)).map((stored) => stored.event.id),
      ['emergency'],
    );
    database.close();
  });
});
