import { RevocableError } from '../../errors/revocable-error.js';
import { REVOCATION_KINDS, type RevocationKind } from '../../revocation/events.js';
import type { SyncHealth, SyncState } from '../../sync/types.js';
import { createMetricsRegistry, type MetricsRegistry, type Sample } from './registry.js';

/** How a login ended. */
export type LoginResult = 'success' | 'failed' | 'throttled' | 'banned';
/** How a refresh ended. */
export type RefreshResult = 'success' | 'reused' | 'invalid' | 'revoked' | 'expired';

const LOGIN_RESULTS: readonly LoginResult[] = ['success', 'failed', 'throttled', 'banned'];
const REFRESH_RESULTS: readonly RefreshResult[] = [
  'success',
  'reused',
  'invalid',
  'revoked',
  'expired',
];
const SYNC_STATES: readonly SyncState[] = ['starting', 'recovering', 'fresh', 'stale', 'stopped'];
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Options for {@link createServerMetrics}. */
export interface ServerMetricsOptions {
  /**
   * The health of this process's log follower, read at each render; null (or no function) when
   * there is none (one process), and the `revocable_sync_*` metrics then have no sample.
   */
  syncHealth?: () => SyncHealth | null;
  /** The registry to define the metrics in (default: a new one), e.g. to add the app's own. */
  registry?: MetricsRegistry;
}

/** The auth server's metrics, with a method per thing counted. */
export interface ServerMetrics {
  /** The registry they live in: add more with it; `render()` renders all. */
  readonly registry: MetricsRegistry;
  /** `revocable_logins_total{result}`. */
  login(result: LoginResult): void;
  /** `revocable_refreshes_total{result}`. */
  refresh(result: RefreshResult): void;
  /** `revocable_refresh_reuse_detected_total`: a spent refresh token came back (theft). */
  reuseDetected(): void;
  /** `revocable_revocations_total{kind}`: revocation events this server made. */
  revocation(kind: RevocationKind): void;
  /** `revocable_verify_failures_total{code}`: access tokens refused, by error code. */
  verifyFailure(code: string): void;
  /** `revocable_http_requests_total{status_class}`: requests answered, by class (`2xx`, `4xx`, ...). */
  request(status: number): void;
  /** Every metric, in the Prometheus text format (see `PROMETHEUS_CONTENT_TYPE`). */
  render(): string;
}

function invalid(message: string): RevocableError {
  return new RevocableError('ERR_INVALID_ARGUMENT', message);
}

function oneOf<T extends string>(value: T, allowed: readonly T[], what: string): T {
  if (!allowed.includes(value)) throw invalid(`${what} must be one of ${allowed.join(', ')}.`);
  return value;
}

/**
 * Defines the auth server's metrics (every name starts with `revocable_`; counters end in
 * `_total`). Counters with a known set of labels exist at zero from the start, so a rate over
 * them is defined before the first event. The follower's health becomes gauges read at render
 * time: `revocable_sync_state{state}` (1 for the current state, 0 for the others),
 * `revocable_sync_lag_events`, `revocable_sync_lag_seconds` (from its `lagMs`: Prometheus
 * measures time in seconds; no sample before the first pushed event),
 * `revocable_sync_staleness_seconds` (`+Inf` before the first read), and the counters
 * `revocable_sync_reconnects_total` and `revocable_sync_read_failures_total`.
 *
 * @example
 * ```ts
 * const metrics = createServerMetrics({ syncHealth: () => follower.health() });
 * metrics.login('success');
 * reply.type(PROMETHEUS_CONTENT_TYPE).send(metrics.render());
 * ```
 */
export function createServerMetrics(options: ServerMetricsOptions = {}): ServerMetrics {
  const syncHealth = options.syncHealth;
  if (syncHealth !== undefined && typeof syncHealth !== 'function') {
    throw invalid('syncHealth must be a function.');
  }
  const registry = options.registry ?? createMetricsRegistry();
  const health = (): SyncHealth | null => (syncHealth === undefined ? null : syncHealth());
  const fromHealth = (read: (health: SyncHealth) => number | null) => (): number | null => {
    const current = health();
    return current === null ? null : read(current);
  };

  const logins = registry.counter('revocable_logins_total', 'Logins, by result.', ['result']);
  const refreshes = registry.counter('revocable_refreshes_total', 'Refreshes, by result.', [
    'result',
  ]);
  const reuse = registry.counter(
    'revocable_refresh_reuse_detected_total',
    'Spent refresh tokens presented again: their sessions were revoked as stolen.',
  );
  const revocations = registry.counter(
    'revocable_revocations_total',
    'Revocation events this server made, by kind.',
    ['kind'],
  );
  const verifyFailures = registry.counter(
    'revocable_verify_failures_total',
    'Access tokens refused, by error code.',
    ['code'],
  );
  const responses = registry.counter(
    'revocable_http_requests_total',
    'HTTP requests answered, by status class.',
    ['status_class'],
  );
  registry.gauge(
    'revocable_sync_state',
    'The state of the revocation log follower: 1 for the current one.',
    ['state'],
    () => {
      const current = health();
      if (current === null) return null;
      return SYNC_STATES.map((state): Sample => [{ state }, state === current.state ? 1 : 0]);
    },
  );
  registry.gauge(
    'revocable_sync_lag_events',
    'Events known to be in the revocation log and not applied yet.',
    [],
    fromHealth((current) => current.lagEvents),
  );
  registry.gauge(
    'revocable_sync_lag_seconds',
    'Seconds between the commit of the last pushed revocation and its arrival here.',
    [],
    fromHealth((current) => (current.lagMs === null ? null : current.lagMs / 1000)),
  );
  registry.gauge(
    'revocable_sync_staleness_seconds',
    'Seconds since the last complete read of the revocation log.',
    [],
    fromHealth((current) => current.staleness),
  );
  registry.counter(
    'revocable_sync_reconnects_total',
    'Times the push channel of the follower connected again.',
    [],
    fromHealth((current) => current.reconnects),
  );
  registry.counter(
    'revocable_sync_read_failures_total',
    'Reads of the revocation log that failed.',
    [],
    fromHealth((current) => current.readFailures),
  );

  for (const result of LOGIN_RESULTS) logins.inc({ result }, 0);
  for (const result of REFRESH_RESULTS) refreshes.inc({ result }, 0);
  for (const kind of REVOCATION_KINDS) revocations.inc({ kind }, 0);
  for (const statusClass of STATUS_CLASSES) responses.inc({ status_class: statusClass }, 0);

  return {
    registry,
    login(result) {
      logins.inc({ result: oneOf(result, LOGIN_RESULTS, 'A login result') });
    },
    refresh(result) {
      refreshes.inc({ result: oneOf(result, REFRESH_RESULTS, 'A refresh result') });
    },
    reuseDetected() {
      reuse.inc();
    },
    revocation(kind) {
      revocations.inc({ kind: oneOf(kind, REVOCATION_KINDS, 'A revocation kind') });
    },
    verifyFailure(code) {
      if (typeof code !== 'string') throw invalid('An error code must be a string.');
      verifyFailures.inc({ code });
    },
    request(status) {
      if (!Number.isInteger(status) || status < 100 || status > 599) {
        throw invalid('An HTTP status must be an integer from 100 to 599.');
      }
      responses.inc({ status_class: `${Math.floor(status / 100)}xx` });
    },
    render: () => registry.render(),
  };
}
