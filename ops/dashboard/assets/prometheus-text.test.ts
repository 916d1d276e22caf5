import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { matchingSamples, parsePrometheusText, type Sample, sumSamples } from './prometheus-text.js';

const exposition = [
  '# HELP cdc_sync_stage_records_total Records per stage and outcome',
  '# TYPE cdc_sync_stage_records_total counter',
  'cdc_sync_stage_records_total{stage="stock_level",outcome="in"} 24',
  'cdc_sync_stage_records_total{stage="stock_level",outcome="out"} 22',
  'cdc_sync_stage_records_total{stage="order_header",outcome="failed"} 1',
  '',
  '# TYPE cdc_sync_ready gauge',
  'cdc_sync_ready 1',
  '# a free-form comment is ignored',
  '# TYPE cdc_sync_sink_write_seconds histogram',
  'cdc_sync_sink_write_seconds_bucket{read_model="order_view",le="0.5"} 3',
  'cdc_sync_sink_write_seconds_bucket{read_model="order_view",le="+Inf"} 4',
  'cdc_sync_sink_write_seconds_sum{read_model="order_view"} 1.25e0',
  'cdc_sync_sink_write_seconds_count{read_model="order_view"} 4 1764230400000',
].join('\n');

describe('parsePrometheusText', () => {
  it('reads samples, types and help in text order', () => {
    const scrape = parsePrometheusText(exposition);
    expect(scrape.types).toEqual({
      cdc_sync_stage_records_total: 'counter',
      cdc_sync_ready: 'gauge',
      cdc_sync_sink_write_seconds: 'histogram',
    });
    expect(scrape.help).toEqual({ cdc_sync_stage_records_total: 'Records per stage and outcome' });
    expect(scrape.samples).toEqual<Sample[]>([
      sample('cdc_sync_stage_records_total', { stage: 'stock_level', outcome: 'in' }, 24),
      sample('cdc_sync_stage_records_total', { stage: 'stock_level', outcome: 'out' }, 22),
      sample('cdc_sync_stage_records_total', { stage: 'order_header', outcome: 'failed' }, 1),
      sample('cdc_sync_ready', {}, 1),
      sample('cdc_sync_sink_write_seconds_bucket', { read_model: 'order_view', le: '0.5' }, 3),
      sample('cdc_sync_sink_write_seconds_bucket', { read_model: 'order_view', le: '+Inf' }, 4),
      sample('cdc_sync_sink_write_seconds_sum', { read_model: 'order_view' }, 1.25),
      { ...sample('cdc_sync_sink_write_seconds_count', { read_model: 'order_view' }, 4), timestampMs: 1764230400000 },
    ]);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Nan', Number.NaN],
    ['+Inf', Number.POSITIVE_INFINITY],
    ['inf', Number.POSITIVE_INFINITY],
    ['+Infinity', Number.POSITIVE_INFINITY],
    ['-Inf', Number.NEGATIVE_INFINITY],
    ['-infinity', Number.NEGATIVE_INFINITY],
    ['-0.5', -0.5],
    ['1e3', 1000],
    ['.25', 0.25],
    ['7.', 7],
  ])('reads the value %s', (text, value) => {
    expect(parsePrometheusText(`m ${text}`).samples[0]!.value).toBe(value);
  });

  it('unescapes label values and help text, and accepts blanks, CRLF and a trailing comma', () => {
    const scrape = parsePrometheusText(
      '# HELP m A \\\\ and a line\\nbreak\r\nm{ a = "q\\"uote" , b="back\\\\slash\\nnew" , } 2\r\n',
    );
    expect(scrape.help).toEqual({ m: 'A \\ and a line\nbreak' });
    expect(scrape.samples).toEqual([sample('m', { a: 'q"uote', b: 'back\\slash\nnew' }, 2)]);
  });

  it.each([
    ['{a="1"} 2', 'Malformed metrics line 1 "{a=\\"1\\"} 2": expected a metric name'],
    ['m{a="1" 2', 'Malformed metrics line 1 "m{a=\\"1\\" 2": expected "," or "}" after label a'],
    ['m{a=1} 2', 'Malformed metrics line 1 "m{a=1} 2": expected a quoted value for label a'],
    ['m{a="1} 2', 'Malformed metrics line 1 "m{a=\\"1} 2": unterminated value of label a'],
    ['m{a="\\t"} 2', 'Malformed metrics line 1 "m{a=\\"\\\\t\\"} 2": invalid escape \\t in label a'],
    ['m{a="1",a="2"} 2', 'Malformed metrics line 1 "m{a=\\"1\\",a=\\"2\\"} 2": label a appears twice'],
    ['m{1a="1"} 2', 'Malformed metrics line 1 "m{1a=\\"1\\"} 2": expected a label name or "}" at column 3'],
    ['m', 'Malformed metrics line 1 "m": expected a space and a value after m'],
    ['m twelve', 'Malformed metrics line 1 "m twelve": invalid value "twelve"'],
    ['m 1 1.5', 'Malformed metrics line 1 "m 1 1.5": invalid timestamp "1.5"'],
    ['m 1 2 3', 'Malformed metrics line 1 "m 1 2 3": unexpected "3" after the timestamp'],
    ['# TYPE m meter', 'Malformed metrics line 1 "# TYPE m meter": unknown metric type "meter" for m'],
    ['# HELP 1m x', 'Malformed metrics line 1 "# HELP 1m x": invalid metric name "1m" in # HELP'],
  ])('rejects %j, naming the line', (line, message) => {
    expect(() => parsePrometheusText(line)).toThrow(message);
  });

  it('counts lines from 1, blank ones included', () => {
    expect(() => parsePrometheusText('a 1\n\nb{x} 2')).toThrow(/^Malformed metrics line 3 /);
  });

  it('reads what prom-client writes, escapes and histograms included', async () => {
    const registry = new Registry();
    const counter = new Counter({
      name: 'cdc_sync_dead_letters_total',
      help: 'Dead letters by "topic", stage \\ reason',
      labelNames: ['topic', 'stage', 'reason'],
      registers: [registry],
    });
    counter.inc({ topic: 'erp.ErpDemo.dbo."Odd"', stage: 'decode', reason: 'line\nbreak \\ slash' }, 3);
    counter.inc({ topic: 'erp.ErpDemo.dbo.Refund', stage: 'refund_completed', reason: 'TransformError' });
    const gauge = new Gauge({ name: 'cdc_sync_ready', help: 'Ready', registers: [registry] });
    gauge.set(1);
    // Node's event-loop lag gauges are NaN before their first sample; prom-client writes that as `Nan`.
    new Gauge({ name: 'cdc_sync_lag_mean_seconds', help: 'Not sampled yet', registers: [registry] }).set(Number.NaN);
    const histogram = new Histogram({
      name: 'cdc_sync_freshness_seconds',
      help: 'Freshness',
      labelNames: ['read_model'],
      buckets: [0.5, 2],
      registers: [registry],
    });
    histogram.observe({ read_model: 'order_view' }, 1);
    histogram.observe({ read_model: 'order_view' }, 0.25);

    const scrape = parsePrometheusText(await registry.metrics());

    expect(scrape.types).toEqual({
      cdc_sync_dead_letters_total: 'counter',
      cdc_sync_ready: 'gauge',
      cdc_sync_lag_mean_seconds: 'gauge',
      cdc_sync_freshness_seconds: 'histogram',
    });
    expect(sumSamples(scrape.samples, 'cdc_sync_lag_mean_seconds')).toBeNaN();
    expect(scrape.help['cdc_sync_dead_letters_total']).toBe('Dead letters by "topic", stage \\ reason');
    expect(matchingSamples(scrape.samples, 'cdc_sync_dead_letters_total')).toEqual([
      sample(
        'cdc_sync_dead_letters_total',
        { topic: 'erp.ErpDemo.dbo."Odd"', stage: 'decode', reason: 'line\nbreak \\ slash' },
        3,
      ),
      sample(
        'cdc_sync_dead_letters_total',
        { topic: 'erp.ErpDemo.dbo.Refund', stage: 'refund_completed', reason: 'TransformError' },
        1,
      ),
    ]);
    expect(sumSamples(scrape.samples, 'cdc_sync_ready')).toBe(1);
    expect(matchingSamples(scrape.samples, 'cdc_sync_freshness_seconds_bucket').map((s) => s.value)).toEqual([1, 2, 2]);
    expect(sumSamples(scrape.samples, 'cdc_sync_freshness_seconds_sum', { read_model: 'order_view' })).toBe(1.25);
    expect(sumSamples(scrape.samples, 'cdc_sync_freshness_seconds_count', { read_model: 'order_view' })).toBe(2);
  });
});

describe('matchingSamples and sumSamples', () => {
  const { samples } = parsePrometheusText(exposition);

  it.each([
    [{}, 47],
    [{ stage: 'stock_level' }, 46],
    [{ outcome: ['out', 'failed'] }, 23],
    [{ stage: 'stock_level', outcome: 'in' }, 24],
  ])('sums the samples matching %j', (matchers, total) => {
    expect(sumSamples(samples, 'cdc_sync_stage_records_total', matchers)).toBe(total);
  });

  it('answers undefined, not 0, when nothing matches', () => {
    expect(sumSamples(samples, 'cdc_sync_stage_records_total', { stage: 'refund_completed' })).toBeUndefined();
    expect(sumSamples(samples, 'cdc_sync_consumer_lag')).toBeUndefined();
    // A sample without the label does not match a matcher for it.
    expect(matchingSamples(samples, 'cdc_sync_ready', { role: 'sink' })).toEqual([]);
  });
});

function sample(name: string, labels: Record<string, string>, value: number): Sample {
  return { name, labels, value, timestampMs: undefined };
}
