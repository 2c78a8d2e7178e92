import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../../src/errors/index.js';
import {
  createMetricsRegistry,
  createServerMetrics,
  type LoginResult,
} from '../../../src/server/metrics/index.js';
import type { SyncHealth } from '../../../src/sync/index.js';
import { parseExposition, sampleValue } from './exposition-parser.js';

function invalidArgument(error: unknown): boolean {
  return isRevocableError(error, 'ERR_INVALID_ARGUMENT');
}

function health(overrides: Partial<SyncHealth> = {}): SyncHealth {
  return {
    transport: 'redis',
    state: 'fresh',
    position: 120,
    head: 125,
    lagEvents: 5,
    lagMs: 42,
    freshAt: 1_900_000_000,
    staleness: 0.5,
    maxStaleness: 5,
    lastHeartbeatAt: 1_900_000_000,
    connected: true,
    eventsApplied: 100,
    eventsReceived: 130,
    reconnects: 2,
    readFailures: 3,
    lastError: null,
    ...overrides,
  };
}

describe('server metrics', () => {
  it('counts logins, refreshes, reuse, revocations, verify failures and requests', () => {
    const metrics = createServerMetrics();
    metrics.login('success');
    metrics.login('success');
    metrics.login('throttled');
    metrics.refresh('reused');
    metrics.reuseDetected();
    metrics.revocation('session');
    metrics.revocation('subject');
    metrics.revocation('subject');
    metrics.verifyFailure('ERR_TOKEN_REVOKED');
    metrics.verifyFailure('ERR_JWT_EXPIRED');
    metrics.verifyFailure('ERR_TOKEN_REVOKED');
    for (const status of [200, 204, 301, 400, 401, 429, 500, 101]) metrics.request(status);
    const parsed = parseExposition(metrics.render());
    assert.equal(sampleValue(parsed, 'revocable_logins_total', { result: 'success' }), 2);
    assert.equal(sampleValue(parsed, 'revocable_logins_total', { result: 'throttled' }), 1);
    // Known label values exist at zero from the start.
    assert.equal(sampleValue(parsed, 'revocable_logins_total', { result: 'banned' }), 0);
    assert.equal(sampleValue(parsed, 'revocable_refreshes_total', { result: 'reused' }), 1);
    assert.equal(sampleValue(parsed, 'revocable_refreshes_total', { result: 'expired' }), 0);
    assert.equal(sampleValue(parsed, 'revocable_refresh_reuse_detected_total'), 1);
    assert.equal(sampleValue(parsed, 'revocable_revocations_total', { kind: 'subject' }), 2);
    assert.equal(sampleValue(parsed, 'revocable_revocations_total', { kind: 'key' }), 0);
    assert.equal(
      sampleValue(parsed, 'revocable_verify_failures_total', { code: 'ERR_TOKEN_REVOKED' }),
      2,
    );
    const requests = (statusClass: string) =>
      sampleValue(parsed, 'revocable_http_requests_total', { status_class: statusClass });
    assert.deepEqual(['1xx', '2xx', '3xx', '4xx', '5xx'].map(requests), [1, 2, 1, 3, 1]);
    for (const [name, metric] of parsed) {
      assert.ok(name.startsWith('revocable_'), name);
      if (metric.type === 'counter') assert.ok(name.endsWith('_total'), name);
    }
  });

  it('turns the follower health into gauges, read at each render', () => {
    let current: SyncHealth | null = health();
    const metrics = createServerMetrics({ syncHealth: () => current });
    let parsed = parseExposition(metrics.render());
    const states = parsed.get('revocable_sync_state')!.samples;
    assert.deepEqual(
      states.map((sample) => [sample.labels.state, sample.value]),
      [
        ['starting', 0],
        ['recovering', 0],
        ['fresh', 1],
        ['stale', 0],
        ['stopped', 0],
      ],
    );
    assert.equal(parsed.get('revocable_sync_state')?.type, 'gauge');
    assert.equal(sampleValue(parsed, 'revocable_sync_lag_events'), 5);
    assert.equal(sampleValue(parsed, 'revocable_sync_lag_seconds'), 0.042);
    assert.equal(sampleValue(parsed, 'revocable_sync_staleness_seconds'), 0.5);
    assert.equal(sampleValue(parsed, 'revocable_sync_reconnects_total'), 2);
    assert.equal(parsed.get('revocable_sync_reconnects_total')?.type, 'counter');
    assert.equal(sampleValue(parsed, 'revocable_sync_read_failures_total'), 3);

    current = health({ state: 'stale', lagMs: null, staleness: Number.POSITIVE_INFINITY });
    parsed = parseExposition(metrics.render());
    assert.equal(sampleValue(parsed, 'revocable_sync_state', { state: 'stale' }), 1);
    assert.equal(sampleValue(parsed, 'revocable_sync_state', { state: 'fresh' }), 0);
    assert.deepEqual(parsed.get('revocable_sync_lag_seconds')?.samples, []);
    assert.equal(sampleValue(parsed, 'revocable_sync_staleness_seconds'), Number.POSITIVE_INFINITY);

    // No follower (one process): the sync metrics are there, without samples.
    current = null;
    parsed = parseExposition(metrics.render());
    for (const name of [
      'revocable_sync_state',
      'revocable_sync_lag_events',
      'revocable_sync_lag_seconds',
      'revocable_sync_staleness_seconds',
      'revocable_sync_reconnects_total',
      'revocable_sync_read_failures_total',
    ]) {
      assert.deepEqual(parsed.get(name)?.samples, [], name);
    }
    assert.deepEqual(
      parseExposition(createServerMetrics().render()).get('revocable_sync_state')?.samples,
      [],
    );
  });

  it('bounds the error codes it counts apart', () => {
    const metrics = createServerMetrics();
    for (let i = 0; i < 1200; i++) metrics.verifyFailure(`ERR_MADE_UP_${i}`);
    const parsed = parseExposition(metrics.render());
    assert.equal(parsed.get('revocable_verify_failures_total')!.samples.length, 1001);
    assert.equal(sampleValue(parsed, 'revocable_verify_failures_total', { code: 'other' }), 200);
  });

  it('lives in a registry the app may share and add to', () => {
    const registry = createMetricsRegistry();
    const metrics = createServerMetrics({ registry });
    registry.counter('app_orders_total', 'Orders.').inc();
    assert.equal(metrics.registry, registry);
    const parsed = parseExposition(metrics.render());
    assert.equal(sampleValue(parsed, 'app_orders_total'), 1);
    assert.throws(() => createServerMetrics({ registry }), invalidArgument);
  });

  it('refuses values outside its types', () => {
    const metrics = createServerMetrics();
    assert.throws(() => metrics.login('maybe' as LoginResult), invalidArgument);
    assert.throws(() => metrics.refresh('later' as never), invalidArgument);
    assert.throws(() => metrics.revocation('device' as never), invalidArgument);
    assert.throws(() => metrics.verifyFailure(3 as unknown as string), invalidArgument);
    for (const status of [99, 600, 200.5, Number.NaN]) {
      assert.throws(() => metrics.request(status), invalidArgument);
    }
    assert.throws(
      () => createServerMetrics({ syncHealth: 3 as unknown as () => null }),
      invalidArgument,
    );
  });
});
