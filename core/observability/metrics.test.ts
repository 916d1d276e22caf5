import { describe, expect, it } from 'vitest';
import { createPipelineMetrics, FRESHNESS_BUCKETS, METRIC, MILESTONE_LATENCY_BUCKETS } from './metrics.js';
import { parseMetricsText, sampleValue, samplesOf } from './metrics-testing.js';

async function scrape(metrics: ReturnType<typeof createPipelineMetrics>) {
  return parseMetricsText(await metrics.text());
}

const ACK = new Date('2026-11-27T08:00:10.000Z');

describe('pipeline metrics', () => {
  it('count records, stage outcomes, canonical events and dead letters under the contract names and labels', async () => {
    const metrics = createPipelineMetrics({ processMetrics: false });
    metrics.sourceRecords('transform', 'erp.ErpDemo.dbo.InventoryBalance', 8);
    metrics.sourceRecords('transform', 'erp.ErpDemo.dbo.InventoryBalance', 2);
    metrics.sourceRecords('sink', 'canonical.order.v1', 3);
    metrics.stageRecords('stock_level', 'in', 4);
    metrics.stageRecords('stock_level', 'out', 2);
    metrics.stageRecords('order_view', 'skipped', 0);
    metrics.canonicalEvents('canonical.inventory.v1', 'StockLevelChanged', 2);
    metrics.deadLetter('erp.ErpDemo.dbo.InventoryBalance', 'decode', 'DecodeError');
    metrics.deadLetter('erp.ErpDemo.dbo.InventoryBalance', 'decode', 'DecodeError');
    metrics.deadLetter('canonical.order.v1', 'order_view', 'SinkWriteError');
    metrics.registryCacheLookup('miss');
    metrics.registryCacheLookup('hit');
    metrics.registryCacheLookup('hit');
    metrics.sinkContention('inventory_availability', 3);
    metrics.sinkContention('inventory_availability', 1);

    const samples = await scrape(metrics);
    expect(samplesOf(samples, METRIC.sinkContentionRounds)).toEqual([
      { name: METRIC.sinkContentionRounds, labels: { read_model: 'inventory_availability' }, value: 4 },
    ]);
    expect(samplesOf(samples, METRIC.sourceRecords)).toEqual([
      {
        name: METRIC.sourceRecords,
        labels: { role: 'transform', topic: 'erp.ErpDemo.dbo.InventoryBalance' },
        value: 10,
      },
      { name: METRIC.sourceRecords, labels: { role: 'sink', topic: 'canonical.order.v1' }, value: 3 },
    ]);
    expect(samplesOf(samples, METRIC.stageRecords)).toEqual([
      { name: METRIC.stageRecords, labels: { stage: 'stock_level', outcome: 'in' }, value: 4 },
      { name: METRIC.stageRecords, labels: { stage: 'stock_level', outcome: 'out' }, value: 2 },
      { name: METRIC.stageRecords, labels: { stage: 'order_view', outcome: 'skipped' }, value: 0 },
    ]);
    expect(samplesOf(samples, METRIC.canonicalEvents)).toEqual([
      {
        name: METRIC.canonicalEvents,
        labels: { topic: 'canonical.inventory.v1', event_type: 'StockLevelChanged' },
        value: 2,
      },
    ]);
    expect(samplesOf(samples, METRIC.deadLetters)).toEqual([
      {
        name: METRIC.deadLetters,
        labels: { topic: 'erp.ErpDemo.dbo.InventoryBalance', stage: 'decode', reason: 'DecodeError' },
        value: 2,
      },
      {
        name: METRIC.deadLetters,
        labels: { topic: 'canonical.order.v1', stage: 'order_view', reason: 'SinkWriteError' },
        value: 1,
      },
    ]);
    expect(samplesOf(samples, METRIC.registryCacheRequests)).toEqual([
      { name: METRIC.registryCacheRequests, labels: { result: 'miss' }, value: 1 },
      { name: METRIC.registryCacheRequests, labels: { result: 'hit' }, value: 2 },
    ]);
  });

  it('observe sink writes and per-event freshness, and keep the as-of gauges on the newest applied event', async () => {
    const metrics = createPipelineMetrics({ processMetrics: false });
    metrics.sinkWrite('order_view', 0.02);
    metrics.sinkWrite('order_view', 0.3);
    // Committed 10 s, 4 s and 0.2 s before the acknowledgement.
    metrics.sinkApplied(
      'order_view',
      [
        { sourcePosition: '0000002a:00000100:0001', sourceCommittedAt: ACK.getTime() - 10_000 },
        { sourcePosition: '0000002a:00000300:0001', sourceCommittedAt: ACK.getTime() - 200 },
        { sourcePosition: '0000002a:00000200:0001', sourceCommittedAt: ACK.getTime() - 4_000 },
      ],
      ACK,
    );
    let samples = await scrape(metrics);
    const writes = { read_model: 'order_view' };
    expect(sampleValue(samples, `${METRIC.sinkWriteSeconds}_count`, writes)).toBe(2);
    expect(sampleValue(samples, `${METRIC.sinkWriteSeconds}_sum`, writes)).toBeCloseTo(0.32, 10);
    expect(sampleValue(samples, `${METRIC.sinkWriteSeconds}_bucket`, { ...writes, le: '0.025' })).toBe(1);
    expect(sampleValue(samples, `${METRIC.sinkWriteSeconds}_bucket`, { ...writes, le: '0.5' })).toBe(2);
    expect(sampleValue(samples, `${METRIC.freshnessSeconds}_count`, writes)).toBe(3);
    expect(sampleValue(samples, `${METRIC.freshnessSeconds}_sum`, writes)).toBeCloseTo(14.2, 10);
    expect(
      FRESHNESS_BUCKETS.map((le) =>
        sampleValue(samples, `${METRIC.freshnessSeconds}_bucket`, { ...writes, le: String(le) }),
      ),
    ).toEqual(FRESHNESS_BUCKETS.map((le) => [0.2, 4, 10].filter((seconds) => seconds <= le).length));
    expect(sampleValue(samples, METRIC.readModelFreshnessSeconds, writes)).toBeCloseTo(0.2, 10);
    expect(sampleValue(samples, METRIC.readModelAsOfTimestampSeconds, writes)).toBe((ACK.getTime() - 200) / 1000);
    expect(samplesOf(samples, METRIC.readModelAsOfPositionInfo)).toEqual([
      {
        name: METRIC.readModelAsOfPositionInfo,
        labels: { read_model: 'order_view', position: '0000002a:00000300:0001' },
        value: 1,
      },
    ]);

    // A replayed older batch changes the freshness of the last write but never moves the as-of back.
    const later = new Date(ACK.getTime() + 60_000);
    metrics.sinkApplied(
      'order_view',
      [{ sourcePosition: '0000002a:00000100:0001', sourceCommittedAt: ACK.getTime() - 10_000 }],
      later,
    );
    samples = await scrape(metrics);
    expect(sampleValue(samples, METRIC.readModelFreshnessSeconds, writes)).toBe(70);
    expect(sampleValue(samples, METRIC.readModelAsOfTimestampSeconds, writes)).toBe((ACK.getTime() - 200) / 1000);
    expect(samplesOf(samples, METRIC.readModelAsOfPositionInfo).map((s) => s.labels['position'])).toEqual([
      '0000002a:00000300:0001',
    ]);

    // A newer one moves the position, and the old label set is gone.
    metrics.sinkApplied(
      'order_view',
      [{ sourcePosition: '0000002b:00000001:0001', sourceCommittedAt: later.getTime() - 1_000 }],
      later,
    );
    samples = await scrape(metrics);
    expect(samplesOf(samples, METRIC.readModelAsOfPositionInfo)).toEqual([
      {
        name: METRIC.readModelAsOfPositionInfo,
        labels: { read_model: 'order_view', position: '0000002b:00000001:0001' },
        value: 1,
      },
    ]);
    expect(sampleValue(samples, METRIC.readModelAsOfTimestampSeconds, writes)).toBe((later.getTime() - 1_000) / 1000);
    expect(sampleValue(samples, METRIC.readModelFreshnessSeconds, writes)).toBe(1);
  });

  it('ignore an acknowledged write that covered no events', async () => {
    const metrics = createPipelineMetrics({ processMetrics: false });
    metrics.sinkApplied('inventory_availability', [], ACK);
    const samples = await scrape(metrics);
    expect(samplesOf(samples, METRIC.readModelAsOfPositionInfo)).toEqual([]);
    expect(samplesOf(samples, `${METRIC.freshnessSeconds}_count`)).toEqual([]);
  });

  it('show paused partitions as 1 and resumed ones as 0, and dependencies and readiness as 1 or 0', async () => {
    const metrics = createPipelineMetrics({ processMetrics: false });
    let samples = await scrape(metrics);
    expect(sampleValue(samples, METRIC.ready)).toBe(0);
    metrics.partitionPaused('cdc-sync-sink', 'canonical.order.v1', 0, true);
    metrics.partitionPaused('cdc-sync-sink', 'canonical.order.v1', 1, true);
    metrics.partitionPaused('cdc-sync-sink', 'canonical.order.v1', 1, false);
    metrics.dependencyUp('kafka', true);
    metrics.dependencyUp('mongodb', false);
    metrics.ready(true);
    samples = await scrape(metrics);
    expect(samplesOf(samples, METRIC.pausedPartitions)).toEqual([
      {
        name: METRIC.pausedPartitions,
        labels: { group: 'cdc-sync-sink', topic: 'canonical.order.v1', partition: '0' },
        value: 1,
      },
      {
        name: METRIC.pausedPartitions,
        labels: { group: 'cdc-sync-sink', topic: 'canonical.order.v1', partition: '1' },
        value: 0,
      },
    ]);
    expect(samplesOf(samples, METRIC.dependencyUp).map((s) => [s.labels['dependency'], s.value])).toEqual([
      ['kafka', 1],
      ['mongodb', 0],
    ]);
    expect(sampleValue(samples, METRIC.ready)).toBe(1);
  });

  it('read consumer lag on every scrape, replacing the previous values, and keep them when the reader fails', async () => {
    const metrics = createPipelineMetrics({ processMetrics: false });
    const reads: (() => Promise<{ group: string; topic: string; partition: number; lag: number }[]>)[] = [
      async () => [
        { group: 'g', topic: 't', partition: 0, lag: 5 },
        { group: 'g', topic: 't', partition: 1, lag: 2 },
      ],
      async () => [{ group: 'g', topic: 't', partition: 0, lag: 0 }],
      async () => {
        throw new Error('Kafka did not answer within 3000 ms');
      },
    ];
    metrics.readConsumerLagFrom(() => reads.shift()!());
    const lagOf = async () =>
      samplesOf(await scrape(metrics), METRIC.consumerLag).map((s) => [s.labels['partition'], s.value]);
    expect(await lagOf()).toEqual([
      ['0', 5],
      ['1', 2],
    ]);
    expect(await lagOf()).toEqual([['0', 0]]);
    expect(await lagOf()).toEqual([['0', 0]]);
    expect(reads).toEqual([]);
  });

  it('recompute milestone latencies on every scrape, so the same orders are never counted twice', async () => {
    const metrics = createPipelineMetrics({ processMetrics: false });
    const pairs = [
      { from: 'accepted', to: 'paymentCaptured' },
      { from: 'returnReceived', to: 'refunded' },
    ];
    metrics.readMilestoneLatenciesFrom(
      async () => [
        { from: 'accepted', to: 'paymentCaptured', seconds: 31_509 },
        { from: 'accepted', to: 'paymentCaptured', seconds: 120 },
      ],
      pairs,
    );
    for (let scrapeNo = 0; scrapeNo < 3; scrapeNo++) {
      const samples = await scrape(metrics);
      const paid = { from: 'accepted', to: 'paymentCaptured' };
      expect(sampleValue(samples, `${METRIC.orderMilestoneLatencySeconds}_count`, paid)).toBe(2);
      expect(sampleValue(samples, `${METRIC.orderMilestoneLatencySeconds}_sum`, paid)).toBe(31_629);
      expect(
        MILESTONE_LATENCY_BUCKETS.map((le) =>
          sampleValue(samples, `${METRIC.orderMilestoneLatencySeconds}_bucket`, { ...paid, le: String(le) }),
        ),
      ).toEqual(MILESTONE_LATENCY_BUCKETS.map((le) => [120, 31_509].filter((seconds) => seconds <= le).length));
      // A pair without orders still has its (zero) series.
      const refunded = { from: 'returnReceived', to: 'refunded' };
      expect(sampleValue(samples, `${METRIC.orderMilestoneLatencySeconds}_count`, refunded)).toBe(0);
    }
  });

  it('keep two pipelines in one process apart, each with its own registry', async () => {
    const first = createPipelineMetrics();
    const second = createPipelineMetrics();
    first.sourceRecords('sink', 'canonical.order.v1', 7);
    expect(sampleValue(await scrape(first), METRIC.sourceRecords, { role: 'sink', topic: 'canonical.order.v1' })).toBe(
      7,
    );
    expect(samplesOf(await scrape(second), METRIC.sourceRecords)).toEqual([]);
    expect(first.registry).not.toBe(second.registry);
  });

  it('include the default process metrics with the cdc_sync_ prefix and name the Prometheus text content type', async () => {
    const metrics = createPipelineMetrics();
    const samples = await scrape(metrics);
    expect(samplesOf(samples, 'cdc_sync_process_cpu_user_seconds_total')).toHaveLength(1);
    expect(samplesOf(samples, 'cdc_sync_nodejs_heap_size_total_bytes')).toHaveLength(1);
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
