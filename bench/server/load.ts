/**
 * The load generator of the server benchmark: autocannon, in the bench process, against a server
 * in a child process. One run is a warm-up followed by the measured run with the same settings;
 * the figures are the measured run's, with the CPU time the server and the client used during it.
 */

import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { machineCpuSeconds, type ServerProcess } from './processes.js';

/** What one measured run gave. */
export interface LoadResult {
  /** 2xx answers per second over the run. */
  readonly rps: number;
  /** (max - min) / mean of the per-second request counts. */
  readonly spread: number;
  /**
   * Latency percentiles of the 2xx answers, milliseconds, to 10 µs (autocannon's own histogram
   * keeps whole milliseconds).
   */
  readonly p50: number;
  readonly p99: number;
  readonly ok: number;
  readonly non2xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  /** Seconds measured. */
  readonly seconds: number;
  /** Server CPU seconds per wall second during the run (1 = one core busy); null when unknown. */
  readonly serverCores: number | null;
  /** The same for the bench process (autocannon and whatever the request hooks do). */
  readonly clientCores: number;
  /**
   * The rest of the machine's busy CPU during the run, in cores: the databases a server talks to,
   * and anything else running on the machine; null when unknown.
   */
  readonly otherCores: number | null;
  /** The status codes seen, and how often. */
  readonly statuses: Readonly<Record<string, number>>;
}

/** What is asked of one run. */
export interface LoadSpec {
  readonly connections: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly method?: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Per-request set-up and answer hooks (for a pool of tokens, or chains of refresh tokens). */
  readonly setupRequest?: (request: autocannon.Request) => autocannon.Request;
  readonly onResponse?: (status: number, body: string) => void;
}

let active: autocannon.Instance | null = null;
let aborted = false;

/** Stops the run under way (on SIGINT), and every later one at once. */
export function abortLoad(): void {
  aborted = true;
  active?.stop();
}

// Latencies in 10 µs buckets, up to 10 s (the last bucket takes anything longer).
const BUCKETS_PER_MS = 100;
const BUCKETS = 10_000 * BUCKETS_PER_MS;

/** A latency histogram with 10 µs buckets. */
class Latencies {
  readonly #counts = new Uint32Array(BUCKETS + 1);
  #total = 0;
  record(ms: number): void {
    this.#counts[Math.min(BUCKETS, Math.round(ms * BUCKETS_PER_MS))]! += 1;
    this.#total += 1;
  }
  percentile(p: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#total));
    let seen = 0;
    for (let bucket = 0; bucket <= BUCKETS; bucket++) {
      seen += this.#counts[bucket]!;
      if (seen >= rank) return bucket / BUCKETS_PER_MS;
    }
    return BUCKETS / BUCKETS_PER_MS;
  }
}

function fire(
  url: string,
  spec: LoadSpec,
  seconds: number,
  latencies?: Latencies,
): Promise<autocannon.Result> {
  if (aborted) return Promise.reject(new Error('interrupted'));
  const request: autocannon.Request = {
    method: spec.method ?? 'GET',
    path: spec.path,
    ...(spec.headers === undefined ? {} : { headers: spec.headers }),
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.setupRequest === undefined ? {} : { setupRequest: spec.setupRequest }),
    ...(spec.onResponse === undefined
      ? {}
      : { onResponse: (status: number, body: string) => spec.onResponse!(status, body) }),
  };
  return new Promise((resolve, reject) => {
    active = autocannon(
      {
        url,
        connections: spec.connections,
        pipelining: 1,
        duration: seconds,
        requests: [request],
        // The same request on every connection, built once unless a hook rebuilds it.
        timeout: 30,
      },
      (error: unknown, result: autocannon.Result) => {
        active = null;
        if (aborted) reject(new Error('interrupted'));
        else if (error !== null && error !== undefined) reject(error);
        else resolve(result);
      },
    );
    if (latencies !== undefined) {
      active.on('response', (_client, status, _bytes, ms) => {
        if (status >= 200 && status < 300) latencies.record(ms);
      });
    }
  });
}

/** A warm-up run, then the measured one. */
export async function measureLoad(server: ServerProcess, spec: LoadSpec): Promise<LoadResult> {
  if (spec.warmupSeconds > 0) await fire(server.url, spec, spec.warmupSeconds);
  const machineBefore = machineCpuSeconds();
  const serverBefore = server.cpuSeconds();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const latencies = new Latencies();
  const result = await fire(server.url, spec, spec.seconds, latencies);
  const wall = (performance.now() - started) / 1000;
  const serverAfter = server.cpuSeconds();
  const client = process.cpuUsage(clientBefore);
  const machineAfter = machineCpuSeconds();
  const ok = result['2xx'];
  const seconds = result.duration > 0 ? result.duration : spec.seconds;
  const statuses: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
    statuses[code] = stats.count ?? 0;
  }
  const mean = result.requests.mean;
  const serverCores =
    serverBefore === null || serverAfter === null ? null : (serverAfter - serverBefore) / wall;
  const clientCores = (client.user + client.system) / 1e6 / wall;
  let otherCores: number | null = null;
  if (machineBefore !== null && machineAfter !== null && serverCores !== null) {
    const total = machineAfter.total - machineBefore.total;
    const busy = machineAfter.busy - machineBefore.busy;
    // Busy share of the machine's CPU time, in cores, less the server and the client.
    if (total > 0)
      otherCores = Math.max(0, (busy / total) * cpus().length - serverCores - clientCores);
  }
  return {
    rps: ok / seconds,
    spread: mean > 0 ? (result.requests.max - result.requests.min) / mean : 0,
    p50: latencies.percentile(50),
    p99: latencies.percentile(99),
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    seconds,
    serverCores,
    clientCores,
    otherCores,
    statuses,
  };
}
