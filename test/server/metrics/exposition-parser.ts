// Reads the Prometheus text format back, strictly, line by line: what the tests check the
// registry's output against. It follows the 0.0.4 text format: `# HELP` and `# TYPE` once per
// metric and before its samples, every sample of a metric together, label values in double
// quotes with \\, \" and \n escapes, and a newline after the last line.
import assert from 'node:assert/strict';

export interface ParsedSample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface ParsedMetric {
  readonly help: string;
  readonly type: string;
  readonly samples: ParsedSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE = new RegExp(`^(${NAME})(\\{.*\\})? (\\S+)$`);

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  assert.match(text, /^-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$/, `a sample value: ${text}`);
  return Number(text);
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 1; // past '{'
  while (text[i] !== '}') {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0];
    assert.ok(name !== undefined, `a label name in ${text}`);
    i += name.length;
    assert.equal(text.slice(i, i + 2), '="', `="  after ${name} in ${text}`);
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      assert.ok(c !== undefined, `an unterminated value in ${text}`);
      assert.notEqual(c, '\n');
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const escaped = text[i++];
        assert.ok(escaped === '\\' || escaped === '"' || escaped === 'n', `an escape in ${text}`);
        value += escaped === 'n' ? '\n' : escaped;
      } else {
        value += c;
      }
    }
    assert.ok(!Object.hasOwn(labels, name), `${name} twice in ${text}`);
    labels[name] = value;
    if (text[i] === ',') i++;
    else assert.equal(text[i], '}', `, or } in ${text}`);
  }
  assert.equal(i, text.length - 1, `nothing after } in ${text}`);
  return labels;
}

/** The metrics of a text exposition, by name; throws on anything malformed. */
export function parseExposition(text: string): Map<string, ParsedMetric> {
  const metrics = new Map<string, ParsedMetric>();
  if (text === '') return metrics;
  assert.ok(text.endsWith('\n'), 'the last line ends with a newline');
  let name: string | null = null;
  let help = '';
  let metric: ParsedMetric | null = null;
  for (const line of text.slice(0, -1).split('\n')) {
    const helpLine = HELP.exec(line);
    if (helpLine !== null) {
      const next = helpLine[1]!;
      assert.ok(!metrics.has(next) && name !== next, `one HELP for ${next}`);
      name = next;
      help = unescapeHelp(helpLine[2]!);
      metric = null;
      continue;
    }
    const typeLine = TYPE.exec(line);
    if (typeLine !== null) {
      assert.ok(name === typeLine[1] && metric === null, `TYPE after HELP: ${line}`);
      metric = { help, type: typeLine[2]!, samples: [] };
      metrics.set(name, metric);
      continue;
    }
    const sample = SAMPLE.exec(line);
    assert.ok(sample !== null, `a sample line: ${JSON.stringify(line)}`);
    assert.ok(metric !== null && name === sample[1], `${sample[1]} under its TYPE`);
    const labels = sample[2] === undefined ? {} : parseLabels(sample[2]);
    const key = JSON.stringify(labels);
    assert.ok(
      metric.samples.every((other) => JSON.stringify(other.labels) !== key),
      `one sample per label set: ${line}`,
    );
    metric.samples.push({ labels, value: parseValue(sample[3]!) });
  }
  return metrics;
}

/** The value of the sample of `name` with exactly `labels`, or undefined. */
export function sampleValue(
  metrics: Map<string, ParsedMetric>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const key = JSON.stringify(Object.entries(labels).sort());
  return metrics
    .get(name)
    ?.samples.find((sample) => JSON.stringify(Object.entries(sample.labels).sort()) === key)?.value;
}
