/**
 * Revocation propagation benchmark on PostgreSQL: four worker processes (test/sync/sync-worker.ts:
 * a session manager, a follower and a revocable verifier each) share one store. Each revocation
 * (`revokeToken`, one event) is made by one worker in turn; the three others are watching the
 * token, and each reports the moment its verifier first refuses it (checked straight after every
 * event its index applies). Latency = that moment minus the moment the revoking call returned,
 * both on this machine's clock (`performance.timeOrigin + performance.now()`). It can be below
 * zero: NOTIFY reaches the listeners at the commit, before the revoker has read the answer.
 *
 * Measured for the PostgreSQL follower (LISTEN/NOTIFY; the log read every second besides) and the
 * polling follower (the log read every 50 ms, no bus). The floor is raw `pg_notify` to a plain pg
 * listener in this process, from the NOTIFY statement's return, in the same run. Then a ban wave:
 * a subject with 100,000 sessions is banned by one worker, and each other worker reports when its
 * index has applied all 100,000 session events (the publisher pokes; the followers read the log).
 *
 * Run after a build (`npx tsc -p tsconfig.json`): `node build/bench/index.js sync-postgres`, or
 * `node build/bench/sync-postgres.js [revocations]`. PostgreSQL at DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/test), in fresh schemas dropped at the end.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { TokenPair } from '../src/sessions/index.js';
import { Cluster } from '../test/sync/cluster.js';
import { DATABASE_URL, openPostgres, randomName } from '../test/sync/postgres-support.js';
import type { SuiteOptions, SuiteResult } from './harness.js';

export const name = 'sync-postgres';

const WORKERS = ['w1', 'w2', 'w3', 'w4'];
const WAVE = 100_000;
const clock = () => performance.timeOrigin + performance.now();

interface Stats {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly min: number;
}

function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1]!,
    min: sorted[0]!,
  };
}

const ms = (value: number) => value.toFixed(2);

async function floor(
  pool: pg.Pool,
  samples: number,
): Promise<{ fromReturn: Stats; fromCall: Stats }> {
  const channel = randomName('bench_floor');
  const listener = new pg.Client({ connectionString: DATABASE_URL });
  await listener.connect();
  await listener.query(`LISTEN "${channel}"`);
  const fromReturn: number[] = [];
  const fromCall: number[] = [];
  for (let i = 0; i < samples; i++) {
    const heard = new Promise<number>((resolve) =>
      listener.once('notification', () => resolve(clock())),
    );
    const start = clock();
    await pool.query('SELECT pg_notify($1, $2)', [channel, String(i)]);
    const returned = clock();
    const at = await heard;
    fromReturn.push(at - returned);
    fromCall.push(at - start);
  }
  await listener.end();
  return { fromReturn: stats(fromReturn), fromCall: stats(fromCall) };
}

interface ModeResult {
  readonly latency: Stats;
  readonly call: Stats;
  readonly wave: Stats;
  readonly banMs: number;
}

async function runMode(
  db: Awaited<ReturnType<typeof openPostgres>>,
  mode: 'postgres' | 'polling',
  pollInterval: number,
  revocations: number,
): Promise<ModeResult> {
  const schema = await db.newSchema();
  const cluster = new Cluster({ mode, schema, pollInterval, maxStaleness: 30, watchEveryMs: 0 });
  const waiting = new Map<string, (at: number) => void>();
  cluster.onNotice = (_name, message) => {
    const key =
      typeof message.refused === 'string'
        ? `${_name}:${message.refused}`
        : `${_name}:wave:${String(message.waveDone)}`;
    waiting.get(key)?.(message.at as number);
    waiting.delete(key);
  };
  const expect = (worker: string, label: string) =>
    new Promise<number>((resolve) => waiting.set(`${worker}:${label}`, resolve));
  try {
    await Promise.all(WORKERS.map((worker) => cluster.start(worker)));
    const tokens: TokenPair[] = [];
    for (let i = 0; i < revocations; i += 50) {
      const batch = Array.from({ length: Math.min(50, revocations - i) }, (_, k) =>
        cluster.request<TokenPair>(WORKERS[(i + k) % WORKERS.length]!, {
          cmd: 'login',
          sub: `bench-${i + k}`,
        }),
      );
      tokens.push(...(await Promise.all(batch)));
    }
    const latency: number[] = [];
    const call: number[] = [];
    for (let i = 0; i < revocations; i++) {
      const revoker = WORKERS[i % WORKERS.length]!;
      const watchers = WORKERS.filter((worker) => worker !== revoker);
      const label = `r${i}`;
      const token = tokens[i]!;
      await cluster.all({ cmd: 'watch', label, token: token.accessToken, notify: true }, watchers);
      const heard = watchers.map((worker) => expect(worker, label));
      const done = await cluster.request<{ startedAt: number; returnedAt: number }>(revoker, {
        cmd: 'revoke',
        op: 'revokeToken',
        args: [token.jti],
      });
      call.push(done.returnedAt - done.startedAt);
      for (const at of await Promise.all(heard)) latency.push(at - done.returnedAt);
    }

    // The ban wave: 100,000 live sessions of one subject, written straight into the table.
    await db.pool.query(
      `INSERT INTO "${schema}"."revocable_sessions"
         (sid, sub, created_at, last_seen_at, idle_expires_at, absolute_expires_at, auth_time,
          claims, refresh_hash, spent_hashes)
       SELECT 'wave-' || lpad(n::text, 17, '0'), 'wave', $1::float8, $1::float8, $1::float8 + 86400,
              $1::float8 + 86400, $1::float8,
              '{}'::jsonb, md5(n::text), '{}'::text[]
       FROM generate_series(1, $2::int) AS n`,
      [Date.now() / 1000, WAVE],
    );
    const [revoker, ...watchers] = WORKERS as [string, ...string[]];
    await cluster.all({ cmd: 'wave', prefix: 'wave-', count: WAVE }, watchers);
    const applied = watchers.map((worker) => expect(worker, 'wave:wave-'));
    const banned = await cluster.request<{ startedAt: number; returnedAt: number }>(revoker, {
      cmd: 'revoke',
      op: 'ban',
      args: ['wave'],
    });
    const wave = (await Promise.all(applied)).map((at) => at - banned.returnedAt);
    return {
      latency: stats(latency),
      call: stats(call),
      wave: stats(wave),
      banMs: banned.returnedAt - banned.startedAt,
    };
  } finally {
    await cluster.stop();
  }
}

/** Runs the benchmark; the figures are in `text` (latencies, not operations per second). */
export async function run(
  options: SuiteOptions & { revocations?: number } = {},
): Promise<SuiteResult> {
  const revocations = options.revocations ?? 1000;
  const db = await openPostgres();
  const result = {
    suite: name,
    title: 'Revocation propagation on PostgreSQL',
    baseline: '',
    rows: [],
  };
  if (db.missing !== null) {
    await db.cleanup();
    return { ...result, notes: [`skipped: ${db.missing}`] };
  }
  try {
    const pgFloor = await floor(db.pool, revocations);
    const modes = [
      [
        'PostgreSQL LISTEN/NOTIFY (log read every 1 s)',
        await runMode(db, 'postgres', 1, revocations),
      ],
      ['polling every 50 ms', await runMode(db, 'polling', 0.05, revocations)],
    ] as const;
    const lines = [
      `${revocations} revocations (revokeToken), ${WORKERS.length} processes, 3 watchers each: ` +
        `${revocations * 3} samples per follower; milliseconds.`,
      '',
      '| follower | p50 | p99 | max | revoking call p50 / p99 |',
      '| --- | ---: | ---: | ---: | ---: |',
      `| floor: raw pg_notify -> listener, from the NOTIFY's return | ${ms(pgFloor.fromReturn.p50)} | ${ms(pgFloor.fromReturn.p99)} | ${ms(pgFloor.fromReturn.max)} | |`,
      `| floor: raw pg_notify -> listener, from the NOTIFY's call | ${ms(pgFloor.fromCall.p50)} | ${ms(pgFloor.fromCall.p99)} | ${ms(pgFloor.fromCall.max)} | |`,
      ...modes.map(
        ([title, r]) =>
          `| ${title} | ${ms(r.latency.p50)} | ${ms(r.latency.p99)} | ${ms(r.latency.max)} | ${ms(r.call.p50)} / ${ms(r.call.p99)} |`,
      ),
      '',
      `Ban wave: one subject with ${WAVE.toLocaleString('en-US')} sessions banned by one process; ` +
        "the time from the ban call's return until each other process has applied every session event:",
      '',
      '| follower | ban call | slowest process | fastest process |',
      '| --- | ---: | ---: | ---: |',
      ...modes.map(
        ([title, r]) => `| ${title} | ${ms(r.banMs)} | ${ms(r.wave.max)} | ${ms(r.wave.min)} |`,
      ),
    ];
    return { ...result, notes: [], text: lines.join('\n') };
  } finally {
    await db.cleanup();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const count = Number(process.argv[2] ?? 1000);
  const result = await run({ revocations: count });
  console.log(`## ${result.title}\n`);
  if (result.text !== undefined) console.log(result.text);
  for (const note of result.notes) console.log(`- ${note}`);
}
