import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRevocableError } from '../../../src/errors/index.js';
import {
  createMetricsRegistry,
  OVERFLOW_LABEL_VALUE,
  PROMETHEUS_CONTENT_TYPE,
} from '../../../src/server/metrics/index.js';
import { parseExposition, sampleValue } from './exposition-parser.js';

function invalidArgument(error: unknown): boolean {
  return isRevocableError(error, 'ERR_INVALID_ARGUMENT');
}

describe('metrics registry', () => {
  it('renders counters and gauges in the text format, in the order defined', () => {
    const registry = createMetricsRegistry();
    const requests = registry.counter('app_requests_total', 'Requests, by method.', [
      'method',
      'route',
    ]);
    registry.counter('app_starts_total', 'Starts.');
    const temperature = registry.gauge('app_temperature_celsius', 'Temperature.');
    registry.gauge('app_queue_length', 'Queued jobs, by queue.', ['queue'], () => [
      [{ queue: 'mail' }, 3],
      [{ queue: 'sms' }, 0],
    ]);
    requests.inc({ method: 'GET', route: '/a' });
    requests.inc({ route: '/a', method: 'GET' }, 2.5);
    requests.inc({ method: 'POST', route: '/b' }, 0);
    temperature.set(-4.25);
    const text = registry.render();
    assert.equal(
      text,
      [
        '# HELP app_requests_total Requests, by method.',
        '# TYPE app_requests_total counter',
        'app_requests_total{method="GET",route="/a"} 3.5',
        'app_requests_total{method="POST",route="/b"} 0',
        '# HELP app_starts_total Starts.',
        '# TYPE app_starts_total counter',
        'app_starts_total 0',
        '# HELP app_temperature_celsius Temperature.',
        '# TYPE app_temperature_celsius gauge',
        'app_temperature_celsius -4.25',
        '# HELP app_queue_length Queued jobs, by queue.',
        '# TYPE app_queue_length gauge',
        'app_queue_length{queue="mail"} 3',
        'app_queue_length{queue="sms"} 0',
        '',
      ].join('\n'),
    );
    const parsed = parseExposition(text);
    assert.deepEqual(
      [...parsed.keys()],
      ['app_requests_total', 'app_starts_total', 'app_temperature_celsius', 'app_queue_length'],
    );
    assert.equal(parsed.get('app_requests_total')?.type, 'counter');
    assert.equal(sampleValue(parsed, 'app_requests_total', { method: 'GET', route: '/a' }), 3.5);
    assert.equal(PROMETHEUS_CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(createMetricsRegistry().render(), '');
  });

  it('escapes label values and help, and reads them back as they were', () => {
    const registry = createMetricsRegistry();
    const tricky = ['back\\slash', 'a "quoted" word', 'two\nlines', '\\"\n', 'ünïcödé {}=,', ''];
    const counter = registry.counter('app_things_total', 'Help with \\ and\na newline "kept".', [
      'thing',
    ]);
    for (const value of tricky) counter.inc({ thing: value });
    const text = registry.render();
    assert.ok(text.includes('thing="back\\\\slash"'));
    assert.ok(text.includes('thing="a \\"quoted\\" word"'));
    assert.ok(text.includes('thing="two\\nlines"'));
    assert.ok(text.includes('# HELP app_things_total Help with \\\\ and\\na newline "kept".'));
    const parsed = parseExposition(text);
    assert.equal(parsed.get('app_things_total')?.help, 'Help with \\ and\na newline "kept".');
    assert.deepEqual(
      parsed.get('app_things_total')?.samples.map((sample) => sample.labels.thing),
      tricky,
    );
  });

  it('renders infinities and NaN as Prometheus spells them', () => {
    const registry = createMetricsRegistry();
    const gauge = registry.gauge('app_value', 'A value.', ['which']);
    gauge.set(Number.POSITIVE_INFINITY, { which: 'up' });
    gauge.set(Number.NEGATIVE_INFINITY, { which: 'down' });
    gauge.set(Number.NaN, { which: 'none' });
    gauge.set(1e21, { which: 'big' });
    gauge.set(1e-7, { which: 'small' });
    const text = registry.render();
    assert.ok(text.includes('app_value{which="up"} +Inf\n'));
    assert.ok(text.includes('app_value{which="down"} -Inf\n'));
    assert.ok(text.includes('app_value{which="none"} NaN\n'));
    const parsed = parseExposition(text);
    assert.equal(sampleValue(parsed, 'app_value', { which: 'big' }), 1e21);
    assert.equal(sampleValue(parsed, 'app_value', { which: 'small' }), 1e-7);
  });

  it('keeps at most 1,000 label sets per metric, and counts the rest into one other series', () => {
    const registry = createMetricsRegistry();
    const counter = registry.counter('app_codes_total', 'By code.', ['code', 'kind']);
    for (let i = 0; i < 1500; i++) counter.inc({ code: `c${i}`, kind: 'k' }, 2);
    // A label set seen before the bound is still counted apart.
    counter.inc({ code: 'c7', kind: 'k' });
    const parsed = parseExposition(registry.render());
    const samples = parsed.get('app_codes_total')!.samples;
    assert.equal(samples.length, 1001);
    assert.equal(sampleValue(parsed, 'app_codes_total', { code: 'c7', kind: 'k' }), 3);
    assert.equal(sampleValue(parsed, 'app_codes_total', { code: 'c999', kind: 'k' }), 2);
    assert.equal(sampleValue(parsed, 'app_codes_total', { code: 'c1000', kind: 'k' }), undefined);
    assert.equal(
      sampleValue(parsed, 'app_codes_total', {
        code: OVERFLOW_LABEL_VALUE,
        kind: OVERFLOW_LABEL_VALUE,
      }),
      1000,
    );
    const total = samples.reduce((sum, sample) => sum + sample.value, 0);
    assert.equal(total, 3001);
  });

  it('bounds collected samples the same way, summing the rest', () => {
    const registry = createMetricsRegistry({ maxLabelSets: 3 });
    registry.gauge('app_sizes', 'Sizes.', ['name'], () =>
      Array.from({ length: 6 }, (_, i) => [{ name: `n${i}` }, i] as const),
    );
    const parsed = parseExposition(registry.render());
    assert.equal(parsed.get('app_sizes')!.samples.length, 4);
    assert.equal(sampleValue(parsed, 'app_sizes', { name: 'other' }), 3 + 4 + 5);
  });

  it('reads collected values at each render, and leaves out a metric whose collect fails', () => {
    const errors: unknown[] = [];
    const registry = createMetricsRegistry({ onError: (error) => errors.push(error) });
    let value: number | null = 1;
    registry.gauge('app_now', 'Now.', [], () => value);
    registry.counter('app_seen_total', 'Seen.', [], () => 7);
    registry.gauge('app_broken', 'Broken.', [], () => {
      throw new Error('no value');
    });
    let parsed = parseExposition(registry.render());
    assert.equal(sampleValue(parsed, 'app_now'), 1);
    assert.equal(sampleValue(parsed, 'app_seen_total'), 7);
    assert.deepEqual(parsed.get('app_broken')?.samples, []);
    assert.equal(errors.length, 1);
    value = null;
    parsed = parseExposition(registry.render());
    assert.deepEqual(parsed.get('app_now')?.samples, []);
  });

  it('refuses bad names, labels, values and writes to collected metrics', () => {
    const registry = createMetricsRegistry();
    for (const name of ['', '1abc', 'a-b', 'a b', 'ä', 'a{b}']) {
      assert.throws(() => registry.counter(name, 'x'), invalidArgument, name);
    }
    for (const label of ['', '1a', 'a-b', '__reserved', 'a:b']) {
      assert.throws(
        () => registry.counter(`ok_${label.length}_total`, 'x', [label]),
        invalidArgument,
      );
    }
    assert.throws(() => registry.counter('twice_total', 'x', ['a', 'a']), invalidArgument);
    registry.counter('defined_total', 'x');
    assert.throws(() => registry.gauge('defined_total', 'x'), invalidArgument);
    const counter = registry.counter('c_total', 'x', ['a']);
    assert.throws(() => counter.inc(), invalidArgument);
    assert.throws(() => counter.inc({ b: '1' }), invalidArgument);
    assert.throws(() => counter.inc({ a: '1', b: '2' }), invalidArgument);
    assert.throws(() => counter.inc({ a: 1 as unknown as string }), invalidArgument);
    assert.throws(() => counter.inc({ a: '1' }, -1), invalidArgument);
    assert.throws(() => counter.inc({ a: '1' }, Number.POSITIVE_INFINITY), invalidArgument);
    assert.throws(() => counter.inc({ a: '1' }, Number.NaN), invalidArgument);
    const collected = registry.counter('collected_total', 'x', [], () => 1);
    assert.throws(() => collected.inc(), invalidArgument);
    const gauge = registry.gauge('collected_gauge', 'x', [], () => 1);
    assert.throws(() => gauge.set(2), invalidArgument);
    assert.throws(() => createMetricsRegistry({ maxLabelSets: 0 }), invalidArgument);
    // Nothing of the refused writes shows.
    assert.equal(parseExposition(registry.render()).get('c_total')?.samples.length, 0);
  });
});
