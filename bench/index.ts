/**
 * Runs the benchmark suites: `npm run bench`, or after a build
 * `node build/bench/index.js [suite] [case filter...] [--md]`, e.g.
 * `node build/bench/index.js jwt "HS256 verify"`. `--md` also prints each table in Markdown.
 *
 * A suite is a module exporting `run(options): Promise<SuiteResult>`; add one with one line below.
 */
import { cpus } from 'node:os';
import {
  describeMethod,
  formatMarkdown,
  formatTable,
  type SuiteOptions,
  type SuiteResult,
  sinkValue,
} from './harness.js';

type Suite = { run(options?: SuiteOptions): Promise<SuiteResult> };

const SUITES: Readonly<Record<string, () => Promise<Suite>>> = {
  jwt: () => import('./jwt.js'),
  revocation: () => import('./revocation.js'),
  sessions: () => import('./sessions.js'),
  'sync-redis': () => import('./sync-redis.js'),
  'sync-postgres': () => import('./sync-postgres.js'),
  server: () => import('./server.js'),
  http: () => import('./http.js'),
};

function usage(): never {
  process.stderr.write(
    `usage: node build/bench/index.js [${Object.keys(SUITES).join('|')}] [case filter...] [--md]\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const markdown = args.includes('--md');
  const positional = args.filter((arg) => !arg.startsWith('--'));
  if (args.includes('--help')) usage();
  const [first, ...rest] = positional;
  let names: string[];
  let filter: string[];
  if (first === undefined) {
    names = Object.keys(SUITES);
    filter = [];
  } else if (Object.hasOwn(SUITES, first)) {
    names = [first];
    filter = rest;
  } else {
    process.stderr.write(`unknown suite: ${first}\n`);
    usage();
  }

  const cpu = cpus();
  console.log(
    `revocable benchmarks, ${new Date().toISOString()}, Node.js ${process.version}, ` +
      `${cpu[0]?.model ?? 'unknown CPU'} (${cpu.length} logical CPUs), ${process.platform}/${process.arch}`,
  );
  console.log(describeMethod());
  for (const suiteName of names) {
    const load = SUITES[suiteName]!;
    const suite = await load();
    const result = await suite.run({ filter });
    console.log(`\n## ${result.title}\n`);
    if (result.rows.length > 0 || result.text === undefined) console.log(formatTable(result));
    if (result.text !== undefined) console.log(result.text);
    if (result.notes.length > 0) {
      console.log('');
      for (const note of result.notes) console.log(`- ${note}`);
    }
    if (markdown && result.rows.length > 0) console.log(`\n${formatMarkdown(result)}`);
  }
  // Keeps the harness's result sink observable to the end of the run.
  if (sinkValue() === SUITES) console.log('');
}

await main();
