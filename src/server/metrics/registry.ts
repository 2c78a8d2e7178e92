import { RevocableError } from '../../errors/revocable-error.js';
import { escapeHelp, formatLabels, formatValue, isLabelName, isMetricName } from './exposition.js';

/** Label values by label name: exactly the metric's label names, each a string. */
export type LabelValues = Readonly<Record<string, string>>;

/** One collected sample: its labels and its value. */
export type Sample = readonly [labels: LabelValues, value: number];

/**
 * Reads a metric's value at render time: one value (a metric without labels), a list of samples,
 * or null for no sample now.
 */
export type Collect = () => number | null | readonly Sample[];

/** A counter: only goes up. */
export interface Counter {
  readonly name: string;
  /** Adds `n` (default 1; finite, not negative) to the series of `labels`. */
  inc(labels?: LabelValues, n?: number): void;
}

/** A gauge: a value that goes up and down. */
export interface Gauge {
  readonly name: string;
  /** Sets the series of `labels` to `value`. */
  set(value: number, labels?: LabelValues): void;
}

/** Options for {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /**
   * Label sets each metric keeps apart (default 1000). Further ones share one series whose every
   * label is `other`: a counter adds into it, a gauge's collected values are summed into it, a
   * gauge's `set` sets it. So a label fed from outside (an error code, a path) cannot grow memory
   * or the scrape without bound.
   */
  maxLabelSets?: number;
  /** Receives what a `collect` function throws; its metric then has no sample (default: ignored). */
  onError?: (error: unknown) => void;
}

/**
 * A registry of metrics, rendered in the Prometheus text exposition format 0.0.4 (see
 * {@link PROMETHEUS_CONTENT_TYPE}). Metrics render in the order they were defined.
 */
export interface MetricsRegistry {
  /**
   * Defines a counter (a name ending in `_total`, by convention). With `collect`, its values are
   * read at render time (a count something else keeps) and `inc` is refused.
   */
  counter(name: string, help: string, labelNames?: readonly string[], collect?: Collect): Counter;
  /** Defines a gauge. With `collect`, its values are read at render time and `set` is refused. */
  gauge(name: string, help: string, labelNames?: readonly string[], collect?: Collect): Gauge;
  /** Every metric in the text format, one line each, ending with a newline. */
  render(): string;
}

/** The label value of the series that takes label sets past the bound. */
export const OVERFLOW_LABEL_VALUE = 'other';

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly labelNames: readonly string[];
  readonly collect: Collect | undefined;
  /** Stored series by the JSON of their label values, in the order of `labelNames`. */
  readonly series: Map<string, { readonly values: readonly string[]; value: number }>;
}

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

/**
 * Creates an empty registry: a tiny Prometheus client with no dependency, for the server's
 * `/metrics`.
 *
 * @example
 * ```ts
 * const registry = createMetricsRegistry();
 * const logins = registry.counter('app_logins_total', 'Logins, by result.', ['result']);
 * logins.inc({ result: 'success' });
 * registry.render(); // '# HELP app_logins_total Logins, by result.\n# TYPE ...'
 * ```
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): MetricsRegistry {
  const maxLabelSets = options.maxLabelSets ?? 1000;
  if (!Number.isSafeInteger(maxLabelSets) || maxLabelSets < 1) {
    throw invalid('maxLabelSets must be a positive integer.');
  }
  const onError = options.onError ?? (() => {});
  const metrics = new Map<string, Metric>();

  function define(
    type: Metric['type'],
    name: string,
    help: string,
    labelNames: readonly string[],
    collect: Collect | undefined,
  ): Metric {
    if (!isMetricName(name)) throw invalid(`${String(name)} is not a valid metric name.`);
    if (metrics.has(name)) throw invalid(`The metric ${name} is already defined.`);
    if (typeof help !== 'string') throw invalid('help must be a string.');
    if (!Array.isArray(labelNames)) throw invalid('labelNames must be an array.');
    for (const label of labelNames) {
      if (!isLabelName(label)) throw invalid(`${String(label)} is not a valid label name.`);
    }
    if (new Set(labelNames).size !== labelNames.length) {
      throw invalid(`The metric ${name} names a label twice.`);
    }
    if (collect !== undefined && typeof collect !== 'function') {
      throw invalid('collect must be a function.');
    }
    const metric: Metric = {
      name,
      help,
      type,
      labelNames: [...labelNames],
      collect,
      series: new Map(),
    };
    metrics.set(name, metric);
    return metric;
  }

  function labelValues(metric: Metric, labels: LabelValues | undefined): string[] {
    const given = labels ?? {};
    if (typeof given !== 'object' || given === null) {
      throw invalid(`The labels of ${metric.name} must be an object.`);
    }
    const keys = Object.keys(given);
    if (
      keys.length !== metric.labelNames.length ||
      keys.some((key) => !metric.labelNames.includes(key))
    ) {
      throw invalid(`${metric.name} takes exactly the labels: ${metric.labelNames.join(', ')}.`);
    }
    return metric.labelNames.map((label) => {
      const value = given[label];
      if (typeof value !== 'string') {
        throw invalid(`The label ${label} of ${metric.name} must be a string.`);
      }
      return value;
    });
  }

  const overflowValues = (metric: Metric): string[] =>
    metric.labelNames.map(() => OVERFLOW_LABEL_VALUE);

  // The series of these label values, or the overflow series once the bound is reached.
  function seriesOf(
    series: Metric['series'],
    metric: Metric,
    values: readonly string[],
  ): { readonly values: readonly string[]; value: number } {
    let key = JSON.stringify(values);
    let found = series.get(key);
    if (found !== undefined) return found;
    if (series.size >= maxLabelSets) {
      const overflow = overflowValues(metric);
      key = JSON.stringify(overflow);
      found = series.get(key);
      if (found !== undefined) return found;
      values = overflow;
    }
    found = { values, value: 0 };
    series.set(key, found);
    return found;
  }

  function refuseCollected(metric: Metric): void {
    if (metric.collect !== undefined) {
      throw invalid(`The metric ${metric.name} is collected at render time; it takes no writes.`);
    }
  }

  function collected(metric: Metric, collect: Collect): Metric['series'] {
    const series: Metric['series'] = new Map();
    let result: ReturnType<Collect>;
    try {
      result = collect();
      if (typeof result === 'number') {
        seriesOf(series, metric, labelValues(metric, undefined)).value = result;
      } else if (result !== null) {
        for (const [labels, value] of result) {
          if (typeof value !== 'number') throw invalid(`A value of ${metric.name} is no number.`);
          // Beyond the bound, values are summed into the overflow series.
          seriesOf(series, metric, labelValues(metric, labels)).value += value;
        }
      }
    } catch (error) {
      onError(error);
      return new Map();
    }
    return series;
  }

  function renderMetric(metric: Metric): string {
    const lines = [`# HELP ${metric.name} ${escapeHelp(metric.help)}`];
    lines.push(`# TYPE ${metric.name} ${metric.type}`);
    const series = metric.collect === undefined ? metric.series : collected(metric, metric.collect);
    // A counter without labels exists from the start: zero until counted.
    if (series.size === 0 && metric.collect === undefined && metric.labelNames.length === 0) {
      lines.push(`${metric.name} 0`);
    }
    for (const { values, value } of series.values()) {
      lines.push(`${metric.name}${formatLabels(metric.labelNames, values)} ${formatValue(value)}`);
    }
    return lines.join('\n');
  }

  return {
    counter(name, help, labelNames = [], collect) {
      const metric = define('counter', name, help, labelNames, collect);
      return {
        name,
        inc(labels, n = 1) {
          refuseCollected(metric);
          if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
            throw invalid(`A counter adds a finite number, not negative (${metric.name}).`);
          }
          seriesOf(metric.series, metric, labelValues(metric, labels)).value += n;
        },
      };
    },

    gauge(name, help, labelNames = [], collect) {
      const metric = define('gauge', name, help, labelNames, collect);
      return {
        name,
        set(value, labels) {
          refuseCollected(metric);
          if (typeof value !== 'number') throw invalid(`A gauge is set to a number (${name}).`);
          seriesOf(metric.series, metric, labelValues(metric, labels)).value = value;
        },
      };
    },

    render() {
      const parts = [...metrics.values()].map(renderMetric);
      return parts.length === 0 ? '' : `${parts.join('\n')}\n`;
    },
  };
}
