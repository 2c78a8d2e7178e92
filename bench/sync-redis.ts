/**
 * Redis sync benchmark: how long a revocation takes to reach other processes.
 *
 * Four OS processes (the sync test workers, `test/sync/redis-sync-worker.ts`), each with a session
 * manager publishing on the Redis bus, a follower and a revocable verifier, share one Redis store
 * and bus. Then:
 *
 * - propagation: 1,000 logouts, made one after another, each by the next process in turn; for each,
 *   every other process notes the moment its verifier first refuses the session's access token
 *   (checked in the index's apply listener, so the moment is the first one a request could be
 *   refused). Latency = that moment minus the moment the revoking `logout()` returned, both read
 *   from `performance.timeOrigin + performance.now()` (one machine, one clock). It can be
 *   negative: the manager publishes before it returns, and a subscriber may apply the event before
 *   the revoking process resumes.
 * - floor: in the same run, 1,000 raw PUBLISHes of a 200-byte message from one process, from the
 *   publish's reply to each other process's `message` event: Redis pub/sub and the event loops,
 *   nothing of revocable.
 * - ban wave: the 100,001 events a ban of a subject with 100,000 sessions makes (its cut-off and
 *   one session event per session), logged in chunks, applied and published by one process; per
 *   process, the time from the start to the moment it has applied all of them. (Made directly,
 *   not by `ban()`, so the figure is the bus's and the followers', without the 100,000 logins
 *   a real ban would first need; the store's own 150,000-sid revocation is tested in
 *   test/stores/redis-writes.test.ts.)
 *
 * Redis: a redis-server of its own on a free port (no persistence), so other users of a shared
 * server neither slow it nor see its keys; BENCH_REDIS_URL uses that server instead (under a
 * random prefix, removed at the end).
 *
 * Run it after a build (`npx tsc -p tsconfig.json`): `node build/bench/index.js sync-redis`.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { KeyRing } from '../src/jwt/index.js';
import { startWorker, type Worker, type WorkerConfig } from '../test/sync/redis-sync-protocol.js';
import { type OwnRedis, startOwnRedis, waitUntil } from '../test/sync/sync-support.js';
import { progress, type SuiteOptions, type SuiteResult } from './harness.js';

const PROCESSES = 4;
const REVOCATIONS = 1000;
const WAVE = 100_000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, rank)]!;
}

function ms(value: number): string {
  return value.toFixed(2);
}

function row(name: string, samples: number[]): string[] {
  const sorted = [...samples].sort((a, b) => a - b);
  return [
    name,
    String(sorted.length),
    ms(percentile(sorted, 50)),
    ms(percentile(sorted, 99)),
    ms(sorted[sorted.length - 1] ?? Number.NaN),
  ];
}

async function removeKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  client.disconnect();
}

export async function run(_options: SuiteOptions = {}): Promise<SuiteResult> {
  let own: OwnRedis | null = null;
  let url = process.env.BENCH_REDIS_URL;
  if (url === undefined) {
    own = await startOwnRedis();
    if (own === null) throw new Error('redis-server cannot be started: set BENCH_REDIS_URL');
    url = own.url;
  }
  const prefix = `revocable-bench:${randomBytes(6).toString('hex')}:`;
  const config: WorkerConfig = {
    name: 'w',
    storeUrl: url,
    busUrl: url,
    prefix,
    ring: KeyRing.generate('HS256').toJSON(),
    refreshSecret: randomBytes(32).toString('base64url'),
    // The defaults: the log is read every second, the bound is 5 seconds.
    maxStaleness: 5,
    pollInterval: 1,
    heartbeatInterval: 1,
  };
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < PROCESSES; i++)
      workers.push(await startWorker({ ...config, name: `w${i}` }));
    progress(`sync-redis: ${PROCESSES} processes up; ${REVOCATIONS} logins`);

    // Propagation.
    const logins: { sid: string; accessToken: string }[] = [];
    for (let i = 0; i < REVOCATIONS; i++) {
      logins.push(await workers[i % PROCESSES]!.ask({ op: 'login', sub: `bench-${i}` }));
    }
    const tokens = Object.fromEntries(logins.map((login) => [login.sid, login.accessToken]));
    await Promise.all(workers.map((worker) => worker.ask({ op: 'track', tokens })));
    progress(`sync-redis: ${REVOCATIONS} logouts`);
    const returned: number[] = [];
    for (let i = 0; i < REVOCATIONS; i++) {
      const reply = await workers[i % PROCESSES]!.ask<{ returnedAt: number }>({
        op: 'revoke',
        kind: 'logout',
        arg: logins[i]!.sid,
      });
      returned.push(reply.returnedAt);
    }
    type Tracked = { refusedAt: Record<string, number>; pending: number };
    let tracked: Tracked[] = [];
    await waitUntil('every process refused every token', async () => {
      tracked = await Promise.all(workers.map((worker) => worker.ask<Tracked>({ op: 'tracked' })));
      return tracked.every((entry) => entry.pending === 0);
    });
    const propagation: number[] = [];
    for (let i = 0; i < REVOCATIONS; i++) {
      for (let w = 0; w < PROCESSES; w++) {
        if (w === i % PROCESSES) continue; // the revoking process applied it before returning
        const at = tracked[w]!.refusedAt[logins[i]!.sid];
        if (at === undefined) throw new Error(`w${w} never refused token ${i}`);
        propagation.push(at - returned[i]!);
      }
    }

    // Floor: raw pub/sub between the same processes.
    const channel = `${prefix}floor`;
    await Promise.all(workers.slice(1).map((worker) => worker.ask({ op: 'listenRaw', channel })));
    const text = 'x'.repeat(200);
    const sent: number[] = [];
    for (let i = 0; i < REVOCATIONS; i++) {
      sent.push(await workers[0]!.ask<number>({ op: 'publishRaw', channel, text }));
    }
    const floor: number[] = [];
    const heard: number[][] = workers.slice(1).map(() => []);
    await waitUntil('every raw message heard', async () => {
      for (const [i, worker] of workers.slice(1).entries()) {
        heard[i]!.push(...(await worker.ask<number[]>({ op: 'heardRaw' })));
      }
      return heard.every((list) => list.length >= REVOCATIONS);
    });
    for (const list of heard) for (let i = 0; i < REVOCATIONS; i++) floor.push(list[i]! - sent[i]!);

    // Ban wave.
    const sub = 'bench-wave';
    await Promise.all(workers.map((worker) => worker.ask({ op: 'expect', count: WAVE + 1 })));
    progress('sync-redis: ban wave');
    const ban = await workers[0]!.ask<{ startedAt: number; returnedAt: number }>({
      op: 'wave',
      sub,
      count: WAVE,
    });
    let done: ({ first: number; last: number } | null)[] = [];
    await waitUntil(
      'every process applied the wave',
      async () => {
        done = await Promise.all(
          workers.map((worker) =>
            worker.ask<{ first: number; last: number } | null>({ op: 'expected' }),
          ),
        );
        return done.every((at) => at !== null);
      },
      120_000,
    );

    const rows = [
      row(`propagation, ${REVOCATIONS} logouts x ${PROCESSES - 1} other processes`, propagation),
      row(`floor: raw PUBLISH to subscriber, x ${PROCESSES - 1}`, floor),
    ];
    const waveRows = done.map((at, w) => [
      `ban wave applied in w${w}${w === 0 ? ' (the banning process)' : ''}`,
      String(WAVE + 1),
      ms(at!.last - at!.first),
      ms(at!.last - ban.startedAt),
      ms(at!.last - ban.returnedAt),
    ]);
    const before = propagation.filter((value) => value <= 0).length;
    return {
      suite: 'sync-redis',
      title: `Redis sync: propagation to ${PROCESSES - 1} other processes, floor, ban wave`,
      baseline: 'floor',
      rows: [],
      table: {
        header: ['case', 'samples', 'p50 ms', 'p99 ms', 'max ms'],
        rows: [
          ...rows,
          [
            'ban wave: ms until the last event applied',
            'events',
            'from first',
            'from start',
            'from return',
          ],
          ...waveRows,
        ],
      },
      notes: [
        `Latency from the revoking call's return to the other process's first refusal; ${before} of ${propagation.length} were refused before the call returned (negative).`,
        `Ban wave: the events ban() makes for a subject with ${WAVE.toLocaleString('en-US')} sessions (its cut-off and one session event each), appended to the log in chunks of 5,000, applied and published by w0 in ${ms(ban.returnedAt - ban.startedAt)} ms; made directly rather than by logging in 100,000 sessions first, so the figure is the bus's and the followers'.`,
        own === null
          ? `Redis at BENCH_REDIS_URL.`
          : 'Redis: a redis-server of its own, no persistence.',
      ],
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
    if (own !== null) await own.stop();
    else await removeKeys(url, prefix);
  }
}

// Run on its own: node build/bench/sync-redis.js
if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatTable } = await import('./harness.js');
  const result = await run();
  console.log(formatTable(result));
  for (const note of result.notes) console.log(`- ${note}`);
}
