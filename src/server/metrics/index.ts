/**
 * Metrics of the auth server in the Prometheus text format: a tiny registry with no dependency,
 * and the server's own metrics on it.
 *
 * @module
 */
export { PROMETHEUS_CONTENT_TYPE } from './exposition.js';
export {
  type Collect,
  type Counter,
  createMetricsRegistry,
  type Gauge,
  type LabelValues,
  type MetricsRegistry,
  type MetricsRegistryOptions,
  OVERFLOW_LABEL_VALUE,
  type Sample,
} from './registry.js';
export {
  createServerMetrics,
  type LoginResult,
  type RefreshResult,
  type ServerMetrics,
  type ServerMetricsOptions,
} from './server-metrics.js';
