/**
 * A small ops/sec measurer for the benchmarks, shared by every suite.
 *
 * Method: every candidate of a group is warmed up first (which also sizes its batches), then the
 * candidates are timed in interleaved rounds, one batch each per round, the order rotating from
 * round to round, so that drift (GC pressure, CPU frequency, a noisy neighbour) falls on all of
 * them alike. The figure reported is the median batch throughput; the spread is (max - min) /
 * median over the batches. Every result is written to a module-level sink, so V8 cannot drop the
 * work as dead code.
 */

/** One thing to measure. `fn` receives the iteration number (to pick from a pool of inputs). */
export interface Candidate {
  readonly name: string;
  readonly fn: (iteration: number) => unknown;
  /** Await every call (for APIs that return a promise). */
  readonly async?: boolean;
}

/** Timing knobs; the defaults give about 1.5 s per candidate. */
export interface MeasureOptions {
  /** Warm-up time per candidate, in milliseconds (default 250). */
  readonly warmupMs?: number;
  /** Target duration of one timed batch, in milliseconds (default 100). */
  readonly batchMs?: number;
  /** Timed batches per candidate (default 12). */
  readonly batches?: number;
}

/** The timing used when a suite does not say otherwise. */
export const MEASURE_DEFAULTS: Required<MeasureOptions> = {
  warmupMs: 250,
  batchMs: 100,
  batches: 12,
};

/** The method, in one sentence, for the top of a report. */
export function describeMethod(options: MeasureOptions = {}): string {
  const { warmupMs, batchMs, batches } = { ...MEASURE_DEFAULTS, ...options };
  return (
    `Method: per candidate ${warmupMs} ms warm-up, then ${batches} timed batches of ~${batchMs} ms ` +
    'interleaved with the other libraries of the case; ops/s is the median batch, spread is ' +
    '±(max - min) / 2 / median.'
  );
}

/** The outcome of measuring one candidate. */
export interface Measurement {
  readonly name: string;
  /** Median over the timed batches. */
  readonly opsPerSec: number;
  /** (max - min) / median of the batch throughputs. */
  readonly spread: number;
  /** Operations per timed batch. */
  readonly batchSize: number;
  readonly samples: readonly number[];
}

/** One row of a suite's table. */
export interface ResultRow {
  /** What is measured, e.g. `HS256 verify`. */
  readonly group: string;
  readonly library: string;
  readonly opsPerSec: number;
  readonly spread: number;
  /** Throughput relative to the group's baseline library, or null when the group has none. */
  readonly ratio: number | null;
}

/** What a suite's `run()` returns. */
export interface SuiteResult {
  readonly suite: string;
  readonly title: string;
  /** The library every ratio is relative to. */
  readonly baseline: string;
  readonly rows: readonly ResultRow[];
  /** Remarks printed under the table (fairness notes, unsupported combinations...). */
  readonly notes: readonly string[];
  /**
   * A table of its own, printed instead of the ops/s one, for a suite that measures something
   * else (latencies); its cells are already formatted, and the columns after the first are
   * right-aligned.
   */
  readonly table?: { readonly header: readonly string[]; readonly rows: readonly string[][] };
  /**
   * Figures that are not operations per second (latency percentiles), already formatted; printed
   * as they are, in place of the table when there are no rows.
   */
  readonly text?: string;
}

/** Options every suite's `run()` accepts. */
export interface SuiteOptions {
  /** Only groups whose name contains one of these (case-insensitive); empty means all. */
  readonly filter?: readonly string[];
  readonly measure?: MeasureOptions;
}

// The sink: every result lands here. A store to a module-level binding is an observable effect,
// so the optimizing compiler has to keep the call that produced the value.
let sink: unknown;

/** The last value a measured function returned; read it so the sink stays live. */
export function sinkValue(): unknown {
  return sink;
}

const NS_PER_SECOND = 1e9;

function runSync(fn: (iteration: number) => unknown, count: number, offset: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) sink = fn(offset + i);
  return Number(process.hrtime.bigint() - start);
}

async function runAsync(
  fn: (iteration: number) => unknown,
  count: number,
  offset: number,
): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) sink = await fn(offset + i);
  return Number(process.hrtime.bigint() - start);
}

function runBatch(candidate: Candidate, count: number, offset: number): Promise<number> | number {
  return candidate.async === true
    ? runAsync(candidate.fn, count, offset)
    : runSync(candidate.fn, count, offset);
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) throw new Error('median of nothing');
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface Running {
  readonly candidate: Candidate;
  readonly batchSize: number;
  readonly samples: number[];
  offset: number;
}

async function warmUp(candidate: Candidate, warmupMs: number, batchMs: number): Promise<Running> {
  const budget = warmupMs * 1e6;
  let spent = 0;
  let count = 8;
  let offset = 0;
  let rate = 0;
  while (spent < budget) {
    const elapsed = await runBatch(candidate, count, offset);
    offset += count;
    spent += elapsed;
    rate = (count * NS_PER_SECOND) / Math.max(elapsed, 1);
    // Grow the batch until one takes a tenth of the warm-up, so timer overhead is negligible.
    if (elapsed < budget / 10) count *= 2;
  }
  const batchSize = Math.max(1, Math.round((rate * batchMs) / 1000));
  return { candidate, batchSize, samples: [], offset };
}

/**
 * Measures several candidates against each other: warm-up, then interleaved timed batches.
 *
 * @example
 * ```ts
 * const [a, b] = await compare([{ name: 'a', fn: (i) => f(i) }, { name: 'b', fn: (i) => g(i) }]);
 * ```
 */
export async function compare(
  candidates: readonly Candidate[],
  options: MeasureOptions = {},
): Promise<Measurement[]> {
  const warmupMs = options.warmupMs ?? MEASURE_DEFAULTS.warmupMs;
  const batchMs = options.batchMs ?? MEASURE_DEFAULTS.batchMs;
  const batches = options.batches ?? MEASURE_DEFAULTS.batches;
  const running: Running[] = [];
  for (const candidate of candidates) running.push(await warmUp(candidate, warmupMs, batchMs));
  for (let round = 0; round < batches; round++) {
    for (let k = 0; k < running.length; k++) {
      const entry = running[(round + k) % running.length]!;
      const elapsed = await runBatch(entry.candidate, entry.batchSize, entry.offset);
      entry.offset += entry.batchSize;
      entry.samples.push((entry.batchSize * NS_PER_SECOND) / Math.max(elapsed, 1));
    }
  }
  return running.map(({ candidate, batchSize, samples }) => {
    const mid = median(samples);
    return {
      name: candidate.name,
      opsPerSec: mid,
      spread: (Math.max(...samples) - Math.min(...samples)) / mid,
      batchSize,
      samples,
    };
  });
}

/** Measures one candidate on its own. */
export async function measure(
  candidate: Candidate,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const [result] = await compare([candidate], options);
  return result!;
}

/** `value / baseline`, or null when there is no baseline. */
export function ratio(value: number, baseline: number | undefined): number | null {
  return baseline === undefined || baseline <= 0 ? null : value / baseline;
}

/** Rows for one group, each with its ratio to the baseline library's throughput. */
export function toRows(
  group: string,
  measurements: readonly Measurement[],
  baseline: string,
): ResultRow[] {
  const base = measurements.find((entry) => entry.name === baseline)?.opsPerSec;
  return measurements.map((entry) => ({
    group,
    library: entry.name,
    opsPerSec: entry.opsPerSec,
    spread: entry.spread,
    ratio: ratio(entry.opsPerSec, base),
  }));
}

/** `1234567.8` as `1,234,568`. */
export function formatOps(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A ratio as `1.03x`, or `-`. */
export function formatRatio(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(2)}x`;
}

function formatSpread(value: number): string {
  return `±${((value * 100) / 2).toFixed(1)}%`;
}

function cells(row: ResultRow): string[] {
  return [
    row.group,
    row.library,
    formatOps(row.opsPerSec),
    formatSpread(row.spread),
    formatRatio(row.ratio),
  ];
}

/** A plain-text table: case, library, ops/s, spread, ratio to the baseline. */
export function formatTable(result: SuiteResult): string {
  const own = result.table;
  const header = own?.header ?? ['case', 'library', 'ops/s', 'spread', `vs ${result.baseline}`];
  const body = own?.rows ?? result.rows.map(cells);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((line) => line[column]!.length)),
  );
  const numeric =
    own === undefined ? [false, false, true, true, true] : header.map((_, i) => i > 0);
  const render = (line: readonly string[]) =>
    line
      .map((cell, column) =>
        numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  const lines = [render(header), widths.map((width) => '-'.repeat(width)).join('  ')];
  let previous: string | undefined;
  for (const [index, line] of body.entries()) {
    const group = own === undefined ? result.rows[index]!.group : '';
    if (previous !== undefined && group !== previous) lines.push('');
    previous = group;
    lines.push(render(line));
  }
  return lines.join('\n');
}

/** The same table in Markdown. */
export function formatMarkdown(result: SuiteResult): string {
  if (result.table !== undefined) {
    const { header, rows } = result.table;
    return [
      `| ${header.join(' | ')} |`,
      `| --- | ${header
        .slice(1)
        .map(() => '---:')
        .join(' | ')} |`,
      ...rows.map((row) => `| ${row.join(' | ')} |`),
    ].join('\n');
  }
  const lines = [
    `| case | library | ops/s | spread | vs ${result.baseline} |`,
    '| --- | --- | ---: | ---: | ---: |',
  ];
  for (const row of result.rows) lines.push(`| ${cells(row).join(' | ')} |`);
  return lines.join('\n');
}

/** Progress lines go to stderr so stdout holds only the results. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}
