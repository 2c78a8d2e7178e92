// The Prometheus text exposition format, version 0.0.4: names, escaping and numbers.

/** The content type of {@link MetricsRegistry.render}'s output, for the `/metrics` route. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Whether `name` is a valid metric name. */
export function isMetricName(name: unknown): name is string {
  return typeof name === 'string' && METRIC_NAME.test(name);
}

/** Whether `name` is a valid label name; names starting with `__` are Prometheus's own. */
export function isLabelName(name: unknown): name is string {
  return typeof name === 'string' && LABEL_NAME.test(name) && !name.startsWith('__');
}

/** A `# HELP` text: backslash and newline escaped (quotes stay as they are there). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value between its quotes: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value: Go's float syntax, which Prometheus parses (`+Inf`, `-Inf`, `NaN`). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** `{a="x",b="y"}`, or nothing for no labels. */
export function formatLabels(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return '';
  const pairs = names.map((name, i) => `${name}="${escapeLabelValue(values[i]!)}"`);
  return `{${pairs.join(',')}}`;
}
