/**
 * Sessions and stores benchmark: login and refresh operations per second through the session
 * manager on each store (memory, SQLite, PostgreSQL, Redis), against a plain baseline of the same
 * driver doing one insert (login) or one update (refresh) per operation, and the number of store
 * round trips each operation takes, counted at the driver (target: a refresh in at most 2 round
 * trips on PostgreSQL and Redis).
 *
 * Run it after a build (`npx tsc -p tsconfig.json`): `node build/bench/index.js sessions [case
 * filter...]`, or on its own: `node build/bench/sessions.js [case filter...] [--md]`.
 *
 * Stores and services: the driver-backed stores are loaded with a dynamic import of a computed
 * path, so this file compiles and runs whichever of them exist; a missing store, driver or server
 * is skipped with a note. PostgreSQL at DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
 * in a fresh schema `bench_<random>`, dropped with CASCADE at the end; Redis at REDIS_URL (default
 * redis://127.0.0.1:6379) under a random key prefix, whose keys are removed with SCAN + UNLINK at
 * the end (never FLUSHALL); SQLite in a WAL file in a fresh temporary directory, removed at the end.
 *
 * Counting: PostgreSQL, every `query` on every client of the pool (`pool.query` runs on a pooled
 * client, so it is counted once, there); Redis, every write to the ioredis socket (one command, or
 * one whole pipeline, per write; autopipelining off); SQLite, statements executed and transactions
 * (in process: no round trips); memory, nothing to count.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyRing } from '../src/jwt/index.js';
import { createRevocationIndex, type RevocationIndex } from '../src/revocation/index.js';
import { createSessionManager, type SessionManager } from '../src/sessions/index.js';
import { createMemoryStore } from '../src/stores/memory-store.js';
import type { Store } from '../src/stores/types.js';
import {
  type Candidate,
  compare,
  formatMarkdown,
  formatTable,
  type MeasureOptions,
  progress,
  type ResultRow,
  type SuiteOptions,
  type SuiteResult,
} from './harness.js';

export const name = 'sessions';

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'api.example.com';
/** Refresh chains kept in rotation, so no one session's history grows without bound. */
const CHAINS = 64;
const CHAIN_MASK = CHAINS - 1;
/** Distinct subjects logging in. */
const SUBJECTS = 1000;
/** Operations per kind in the counting pass. */
const COUNTED = 100;
/** The payload of the baseline rows: about the size of a session row's variable part. */
const DATA = randomBytes(192).toString('base64url');
const LOGIN_INPUT = {
  device: 'Firefox on Linux',
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  claims: { role: 'user' },
};
/** Async operations are slow: fewer, longer batches than the harness default. */
const SUITE_MEASURE: Required<MeasureOptions> = { warmupMs: 300, batchMs: 200, batches: 8 };

const subjects = Array.from({ length: SUBJECTS }, (_, i) => `user-${i}`);

function wanted(group: string, filter: readonly string[] | undefined): boolean {
  if (filter === undefined || filter.length === 0) return true;
  const lower = group.toLowerCase();
  return filter.some((term) => lower.includes(term.toLowerCase()));
}

function randomId(): string {
  return randomBytes(6).toString('hex');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The plain driver operation a revocable operation is compared with. */
interface Baseline {
  readonly name: string;
  readonly fn: (iteration: number) => unknown;
}

/** How a store's work is counted. */
interface Counting {
  /** `RT`: network round trips; `stmt`: SQL statements executed in process. */
  readonly unit: 'RT' | 'stmt';
  read(): number;
  /** SQLite: transactions run (each adds a BEGIN IMMEDIATE and a COMMIT). */
  readonly transactions?: () => number;
}

/** One store, ready to measure, with its baselines and its way of counting. */
interface Setup {
  readonly label: string;
  readonly store: Store;
  readonly login: Baseline;
  readonly refresh: Baseline;
  readonly counting: Counting | null;
  /** Driver and server versions, for the notes. */
  readonly about: string;
  teardown(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Modules, loaded by computed paths: a store being written elsewhere may not exist yet.

async function load(relative: string): Promise<Record<string, unknown> | string> {
  const specifier = new URL(relative, import.meta.url).href;
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    return `cannot load ${relative} (${message(error)})`;
  }
}

async function loadPackage(specifier: string): Promise<Record<string, unknown> | string> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    return `the ${specifier} package is not installed (${message(error)})`;
  }
}

function exported<T>(module: Record<string, unknown>, key: string): T | undefined {
  const value = module[key];
  return typeof value === 'function' ? (value as T) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Memory

function memorySetup(): Setup {
  const map = new Map<string, string>();
  const keys = Array.from({ length: 65536 }, (_, i) => `l${i}`);
  for (let k = 0; k < CHAINS; k++) map.set(`r${k}`, DATA);
  return {
    label: 'memory',
    store: createMemoryStore(),
    login: {
      name: 'baseline: Map.set (new key)',
      fn: (i) => {
        // A fresh key every time; the map is emptied every 65,536 keys so it stays small.
        if ((i & 0xffff) === 0) map.clear();
        return map.set(keys[i & 0xffff]!, DATA);
      },
    },
    refresh: {
      name: 'baseline: Map.set (existing key)',
      fn: (i) => map.set(`r${i & CHAIN_MASK}`, DATA),
    },
    counting: null,
    about: 'createMemoryStore()',
    async teardown() {},
  };
}

// ---------------------------------------------------------------------------------------------
// SQLite

interface SqliteStatement {
  run(...params: unknown[]): unknown;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  transaction(fn: (...args: unknown[]) => unknown): unknown;
  pragma(source: string, options?: { simple: boolean }): unknown;
  close(): void;
}
type CreateSqliteStore = (options: { database: SqliteDatabase; tablePrefix?: string }) => Store;
type OpenSqliteDatabase = (path: string) => SqliteDatabase;

const STATEMENT_METHODS = ['run', 'get', 'all', 'iterate'] as const;

/** Counts every statement run through `prepare`d statements and every transaction. */
function countSqlite(database: SqliteDatabase): Counting {
  let statements = 0;
  let transactions = 0;
  const prepare = database.prepare.bind(database);
  database.prepare = (sql: string) => {
    const statement = prepare(sql) as unknown as Record<string, unknown>;
    for (const method of STATEMENT_METHODS) {
      const original = statement[method];
      if (typeof original !== 'function') continue;
      statement[method] = (...args: unknown[]) => {
        statements += 1;
        return (original as (...a: unknown[]) => unknown).apply(statement, args);
      };
    }
    return statement as unknown as SqliteStatement;
  };
  const transaction = database.transaction.bind(database);
  database.transaction = (fn: (...args: unknown[]) => unknown) =>
    transaction((...args: unknown[]) => {
      transactions += 1;
      return fn(...args);
    });
  return { unit: 'stmt', read: () => statements, transactions: () => transactions };
}

async function sqliteSetup(): Promise<Setup | string> {
  const module = await load('../src/stores/sqlite/index.js');
  if (typeof module === 'string') return module;
  const create = exported<CreateSqliteStore>(module, 'createSqliteStore');
  const open = exported<OpenSqliteDatabase>(module, 'openSqliteDatabase');
  if (create === undefined || open === undefined) {
    return 'src/stores/sqlite/index.ts exports no createSqliteStore and openSqliteDatabase';
  }
  const directory = mkdtempSync(join(tmpdir(), 'revocable-bench-'));
  const path = join(directory, 'bench.db');
  let database: SqliteDatabase;
  try {
    database = open(path);
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    return `cannot open a SQLite database (${message(error)})`;
  }
  try {
    // Counting is installed before the store prepares its statements.
    const counting = countSqlite(database);
    const store = create({ database });
    database.exec('CREATE TABLE bench_baseline (id TEXT PRIMARY KEY, data TEXT NOT NULL)');
    const insert = database.prepare('INSERT INTO bench_baseline (id, data) VALUES (?, ?)');
    const update = database.prepare('UPDATE bench_baseline SET data = ? WHERE id = ?');
    for (let k = 0; k < CHAINS; k++) insert.run(`r${k}`, DATA);
    let next = 0;
    const journal = String(database.pragma('journal_mode', { simple: true }));
    const synchronous = String(database.pragma('synchronous', { simple: true }));
    return {
      label: 'SQLite',
      store,
      login: {
        name: 'baseline: prepared INSERT',
        fn: () => insert.run(`l${next++}`, DATA),
      },
      refresh: {
        name: 'baseline: prepared UPDATE',
        fn: (i) => update.run(`${i}${DATA}`, `r${i & CHAIN_MASK}`),
      },
      counting,
      about: `better-sqlite3, a temporary file, journal_mode=${journal}, synchronous=${synchronous} (1 = NORMAL) as openSqliteDatabase sets them`,
      async teardown() {
        await store.close();
        database.close();
        rmSync(directory, { recursive: true, force: true });
      },
    };
  } catch (error) {
    database.close();
    rmSync(directory, { recursive: true, force: true });
    return `the SQLite store failed to start (${message(error)})`;
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

interface PgClient {
  query: (...args: unknown[]) => unknown;
}
interface PgPool {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  on(event: 'connect', listener: (client: PgClient) => void): unknown;
  end(): Promise<void>;
}
type PgPoolConstructor = new (config: Record<string, unknown>) => PgPool;
interface PostgresOptions {
  client: PgPool;
  schema: string;
}
type CreatePostgresStore = (options: PostgresOptions) => Store;
type MigratePostgresStore = (client: PgPool, options: { schema: string }) => Promise<unknown>;

async function postgresSetup(): Promise<Setup | string> {
  const module = await load('../src/stores/postgres/index.js');
  if (typeof module === 'string') return module;
  const create = exported<CreatePostgresStore>(module, 'createPostgresStore');
  const migrate = exported<MigratePostgresStore>(module, 'migratePostgresStore');
  if (create === undefined) return 'src/stores/postgres/index.ts exports no createPostgresStore';
  const pg = await loadPackage('pg');
  if (typeof pg === 'string') return pg;
  const Pool =
    (pg.default as { Pool?: PgPoolConstructor } | undefined)?.Pool ??
    (pg.Pool as PgPoolConstructor | undefined);
  if (Pool === undefined) return 'pg exports no Pool';
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const pool = new Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 3000 });
  // Every query reaches the server through a client: patch each client as the pool creates it.
  let queries = 0;
  pool.on('connect', (client) => {
    const query = client.query.bind(client);
    client.query = (...args: unknown[]) => {
      queries += 1;
      return query(...args);
    };
  });
  const schema = `bench_${randomId()}`;
  let created = false;
  try {
    const version = await pool.query("SELECT current_setting('server_version') AS version");
    const before = queries;
    await pool.query('SELECT 1');
    if (queries - before !== 1) throw new Error('the round-trip counter does not see pool.query');
    const options: PostgresOptions = { client: pool, schema };
    created = true;
    if (migrate !== undefined) await migrate(pool, { schema });
    else await pool.query(`CREATE SCHEMA "${schema}"`);
    const store = create(options);
    const baseline = `"${schema}".bench_baseline`;
    await pool.query(`CREATE TABLE ${baseline} (id text PRIMARY KEY, data text NOT NULL)`);
    for (let k = 0; k < CHAINS; k++) {
      await pool.query(`INSERT INTO ${baseline} (id, data) VALUES ($1, $2)`, [`r${k}`, DATA]);
    }
    const insertSql = `INSERT INTO ${baseline} (id, data) VALUES ($1, $2)`;
    const updateSql = `UPDATE ${baseline} SET data = $2 WHERE id = $1`;
    let next = 0;
    return {
      label: 'PostgreSQL',
      store,
      login: {
        name: 'baseline: pg INSERT',
        fn: () => pool.query(insertSql, [`l${next++}`, DATA]),
      },
      refresh: {
        name: 'baseline: pg UPDATE',
        fn: (i) => pool.query(updateSql, [`r${i & CHAIN_MASK}`, `${i}${DATA}`]),
      },
      counting: { unit: 'RT', read: () => queries },
      about: `pg Pool (max 4) to PostgreSQL ${String(version.rows[0]?.version)} on ${new URL(url).host}, schema ${schema} (dropped at the end)${migrate === undefined ? '' : ', created by migratePostgresStore'}`,
      async teardown() {
        try {
          await store.close();
          await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await pool.end();
        }
      },
    };
  } catch (error) {
    if (created) await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await pool.end().catch(() => {});
    return `no PostgreSQL store at ${url} (${message(error)})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Redis

interface RedisClient {
  connect(): Promise<unknown>;
  hset(key: string, ...fieldsAndValues: string[]): Promise<number>;
  scan(cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
  unlink(...keys: string[]): Promise<number>;
  info(section: string): Promise<string>;
  ping(): Promise<string>;
  quit(): Promise<unknown>;
  disconnect(): void;
  readonly stream?: { write: (...args: unknown[]) => boolean };
}
type RedisConstructor = new (url: string, options: Record<string, unknown>) => RedisClient;
type CreateRedisStore = (options: { client: RedisClient; prefix: string }) => Store;
type MigrateRedisStore = (options: { client: RedisClient; prefix: string }) => Promise<unknown>;

async function removeKeys(client: RedisClient, prefix: string): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [nextCursor, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length > 0) removed += await client.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}

async function redisSetup(): Promise<Setup | string> {
  const module = await load('../src/stores/redis/index.js');
  if (typeof module === 'string') return module;
  const create = exported<CreateRedisStore>(module, 'createRedisStore');
  if (create === undefined) return 'src/stores/redis/index.ts exports no createRedisStore';
  const migrate = exported<MigrateRedisStore>(module, 'migrateRedisStore');
  const ioredis = await loadPackage('ioredis');
  if (typeof ioredis === 'string') return ioredis;
  const Redis = (ioredis.Redis ?? ioredis.default) as RedisConstructor | undefined;
  if (typeof Redis !== 'function') return 'ioredis exports no Redis class';
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const client = new Redis(url, {
    lazyConnect: true,
    enableAutoPipelining: false,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    connectTimeout: 3000,
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    return `no Redis at ${url} (${message(error)})`;
  }
  const prefix = `revocable-bench:${randomId()}:`;
  try {
    // ioredis writes each command (or each whole pipeline) with one stream.write: count those.
    const stream = client.stream;
    if (stream === undefined) throw new Error('the ioredis client has no stream to count on');
    let writes = 0;
    const write = stream.write.bind(stream);
    stream.write = (...args: unknown[]) => {
      writes += 1;
      return write(...args);
    };
    const before = writes;
    await client.ping();
    if (writes - before !== 1) throw new Error('the round-trip counter does not see commands');
    const info = await client.info('server');
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
    if (migrate !== undefined) await migrate({ client, prefix });
    const store = create({ client, prefix });
    for (let k = 0; k < CHAINS; k++) await client.hset(`${prefix}b:r${k}`, 'data', DATA);
    let next = 0;
    return {
      label: 'Redis',
      store,
      login: {
        name: 'baseline: HSET (new key)',
        fn: () => client.hset(`${prefix}b:l${next++}`, 'data', DATA),
      },
      refresh: {
        name: 'baseline: HSET (existing key)',
        fn: (i) => client.hset(`${prefix}b:r${i & CHAIN_MASK}`, 'data', `${i}${DATA}`),
      },
      counting: { unit: 'RT', read: () => writes },
      about: `ioredis (autopipelining off) to Redis ${version} on ${new URL(url).host}, key prefix ${prefix} (keys removed with SCAN + UNLINK at the end)${migrate === undefined ? '' : ', stamped by migrateRedisStore'}`,
      async teardown() {
        try {
          await store.close();
          await removeKeys(client, prefix);
        } finally {
          await client.quit().catch(() => client.disconnect());
        }
      },
    };
  } catch (error) {
    await removeKeys(client, prefix).catch(() => 0);
    client.disconnect();
    return `the Redis store failed to start (${message(error)})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Measuring one store

function makeManager(store: Store, index: RevocationIndex): SessionManager {
  return createSessionManager({
    store,
    refreshSecret: randomBytes(32),
    keys: KeyRing.generate('HS256'),
    index,
    issuer: ISSUER,
    audience: AUDIENCE,
  });
}

async function expectError(work: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await work;
  } catch (error) {
    if ((error as { code?: unknown }).code === code) return;
    throw new Error(`${what}: expected ${code}, got ${message(error)}`);
  }
  throw new Error(`${what}: expected ${code}, got success`);
}

/** The manager on this store must log in, rotate, replay within grace and refuse a forgery. */
async function check(manager: SessionManager, label: string): Promise<void> {
  const first = await manager.login('check-user', LOGIN_INPUT);
  const second = await manager.refresh(first.refreshToken);
  if (second.sid !== first.sid || second.refreshToken === first.refreshToken) {
    throw new Error(`${label}: a refresh did not rotate the refresh token within the session`);
  }
  const replay = await manager.refresh(first.refreshToken);
  if (replay.refreshToken !== second.refreshToken) {
    throw new Error(`${label}: a replay within the grace window did not get the same successor`);
  }
  const third = await manager.refresh(second.refreshToken);
  if (third.sid !== first.sid) throw new Error(`${label}: the session changed on refresh`);
  const forged = `${third.refreshToken.slice(0, -2)}${third.refreshToken.endsWith('AA') ? 'BB' : 'AA'}`;
  await expectError(manager.refresh(forged), 'ERR_REFRESH_INVALID', `${label}: forged token`);
}

interface Counted {
  login: number;
  refresh: number;
  loginBaseline: number;
  refreshBaseline: number;
  loginTransactions?: number;
  refreshTransactions?: number;
}

async function perOp(
  counting: Counting,
  work: (i: number) => unknown,
): Promise<{ count: number; transactions?: number }> {
  const before = counting.read();
  const transactionsBefore = counting.transactions?.() ?? 0;
  for (let i = 0; i < COUNTED; i++) await work(i);
  const count = (counting.read() - before) / COUNTED;
  if (counting.transactions === undefined) return { count };
  return { count, transactions: (counting.transactions() - transactionsBefore) / COUNTED };
}

function formatCount(counting: Counting | null, count: number, transactions?: number): string {
  if (counting === null) return '';
  const figure = Number.isInteger(count) ? String(count) : count.toFixed(2);
  if (counting.unit === 'RT') return ` [${figure} RT/op]`;
  const tx =
    transactions === undefined || transactions === 0
      ? ''
      : ` + ${Number.isInteger(transactions) ? transactions : transactions.toFixed(2)} tx`;
  return ` [${figure} stmt${count === 1 ? '' : 's'}${tx}/op]`;
}

function rowsOf(
  group: string,
  measured: readonly { name: string; opsPerSec: number; spread: number }[],
  labels: readonly string[],
): ResultRow[] {
  const base = measured[1]!.opsPerSec;
  return measured.map((entry, k) => ({
    group,
    library: labels[k]!,
    opsPerSec: entry.opsPerSec,
    spread: entry.spread,
    ratio: base > 0 ? entry.opsPerSec / base : null,
  }));
}

interface StoreOutcome {
  rows: ResultRow[];
  notes: string[];
}

async function measureStore(
  setup: Setup,
  index: RevocationIndex,
  options: SuiteOptions,
  measure: MeasureOptions,
): Promise<StoreOutcome> {
  const { label, counting } = setup;
  const rows: ResultRow[] = [];
  const notes: string[] = [];
  const manager = makeManager(setup.store, index);
  await check(manager, label);

  const chains: string[] = [];
  for (let k = 0; k < CHAINS; k++) {
    chains.push((await manager.login(`chain-${k}`, LOGIN_INPUT)).refreshToken);
  }
  const login = (i: number) => manager.login(subjects[i % SUBJECTS]!, LOGIN_INPUT);
  const refresh = async (i: number) => {
    const k = i & CHAIN_MASK;
    const pair = await manager.refresh(chains[k]!);
    chains[k] = pair.refreshToken;
    return pair;
  };

  let counted: Counted | undefined;
  if (counting !== null) {
    progress(`sessions: counting ${label} work per operation...`);
    const a = await perOp(counting, login);
    const b = await perOp(counting, refresh);
    const c = await perOp(counting, setup.login.fn);
    const d = await perOp(counting, setup.refresh.fn);
    counted = {
      login: a.count,
      refresh: b.count,
      loginBaseline: c.count,
      refreshBaseline: d.count,
      ...(a.transactions === undefined ? {} : { loginTransactions: a.transactions }),
      ...(b.transactions === undefined ? {} : { refreshTransactions: b.transactions }),
    };
  }

  const groups = [
    { kind: 'login', revocable: login, baseline: setup.login },
    { kind: 'refresh', revocable: refresh, baseline: setup.refresh },
  ] as const;
  for (const { kind, revocable, baseline } of groups) {
    const group = `${label} ${kind}`;
    if (!wanted(group, options.filter)) continue;
    progress(`sessions: measuring ${group}...`);
    const candidates: Candidate[] = [
      { name: `revocable ${kind}`, fn: revocable, async: true },
      { name: baseline.name, fn: baseline.fn, async: true },
    ];
    const measured = await compare(candidates, measure);
    const labels =
      counted === undefined
        ? [`revocable ${kind}`, baseline.name]
        : kind === 'login'
          ? [
              `revocable login${formatCount(counting, counted.login, counted.loginTransactions)}`,
              `${baseline.name}${formatCount(counting, counted.loginBaseline)}`,
            ]
          : [
              `revocable refresh${formatCount(counting, counted.refresh, counted.refreshTransactions)}`,
              `${baseline.name}${formatCount(counting, counted.refreshBaseline)}`,
            ];
    rows.push(...rowsOf(group, measured, labels));
  }

  if (counted === undefined) {
    notes.push(`${label}: ${setup.about}; in process, no round trips to count.`);
  } else if (counting?.unit === 'RT') {
    const met = counted.refresh <= 2 ? 'met' : 'NOT met';
    notes.push(
      `${label}: ${setup.about}. Round trips per operation, counted over ${COUNTED} of each: login ${counted.login}, refresh ${counted.refresh} (target at most 2: ${met}); baselines ${counted.loginBaseline} and ${counted.refreshBaseline}.`,
    );
  } else {
    notes.push(
      `${label}: ${setup.about}. In process, no round trips; statements executed per operation, counted over ${COUNTED} of each: login ${counted.login} in ${counted.loginTransactions ?? 0} transaction(s), refresh ${counted.refresh} in ${counted.refreshTransactions ?? 0} transaction(s) (each transaction adds BEGIN IMMEDIATE and COMMIT); baselines ${counted.loginBaseline} and ${counted.refreshBaseline} autocommit statement(s).`,
    );
  }
  return { rows, notes };
}

// ---------------------------------------------------------------------------------------------

const SETUPS: readonly { label: string; setup: () => Setup | Promise<Setup | string> }[] = [
  { label: 'memory', setup: memorySetup },
  { label: 'SQLite', setup: sqliteSetup },
  { label: 'PostgreSQL', setup: postgresSetup },
  { label: 'Redis', setup: redisSetup },
];

/** Runs the sessions and stores suite. */
export async function run(options: SuiteOptions = {}): Promise<SuiteResult> {
  const measure = { ...SUITE_MEASURE, ...options.measure };
  const rows: ResultRow[] = [];
  const notes: string[] = [];
  const index = createRevocationIndex({ maxAccessTokenLifetime: '10m' });
  const started = process.hrtime.bigint();

  for (const { label, setup: prepare } of SETUPS) {
    if (!wanted(`${label} login`, options.filter) && !wanted(`${label} refresh`, options.filter)) {
      continue;
    }
    progress(`sessions: setting up ${label}...`);
    const setup = await prepare();
    if (typeof setup === 'string') {
      notes.push(`${label}: skipped: ${setup}.`);
      continue;
    }
    try {
      const outcome = await measureStore(setup, index, options, measure);
      rows.push(...outcome.rows);
      notes.push(...outcome.notes);
    } catch (error) {
      notes.push(`${label}: failed: ${message(error)}`);
    } finally {
      await setup.teardown();
    }
  }

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  notes.push(
    `Every operation is awaited in sequence (one client, no concurrency). revocable login = manager.login(sub) over ${SUBJECTS} subjects (a new session each time: random sid, refresh token and its SHA-256, one store write, an HS256 access token signed); revocable refresh = manager.refresh(token) round-robin over ${CHAINS} live chains, each presenting its current refresh token (store read, checks, successor HMAC, compare-and-set rotation, a new access token). Baselines: one plain insert of a new ${DATA.length}-character row, or one update of one of ${CHAINS} existing rows, per operation, through the same driver and connection.`,
    `Timing: per candidate ${measure.warmupMs} ms warm-up, then ${measure.batches} batches of ~${measure.batchMs} ms, interleaved with its baseline; ratio = revocable / baseline (the baseline is 1.00x). Suite time ${seconds.toFixed(0)} s.`,
  );
  return {
    suite: name,
    title: 'Sessions and stores: login and refresh per store',
    baseline: 'baseline',
    rows,
    notes,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const result = await run({ filter: args.filter((arg) => !arg.startsWith('--')) });
  console.log(`\n## ${result.title}\n`);
  console.log(args.includes('--md') ? formatMarkdown(result) : formatTable(result));
  console.log('');
  for (const note of result.notes) console.log(`- ${note}`);
}
