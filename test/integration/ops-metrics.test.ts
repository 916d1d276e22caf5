import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CanonicalEvent } from '../../core/canonical.js';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { METRIC, MILESTONE_LATENCY_BUCKETS } from '../../core/observability/metrics.js';
import {
  type MetricSample,
  parseMetricsText,
  sampleValue,
  samplesOf,
} from '../../core/observability/metrics-testing.js';
import { type RunningPipeline, startPipeline } from '../../ops/pipeline.js';
import { createCanonicalRegistryCodec } from '../../connectors/canonical/registry.js';
import { type ProduceResult } from '../../devtools/fixtures/producer.js';
import { eachRecord, planOffsetRanges, readOffsetRanges } from '../../connectors/kafka/bounded-reader.js';
import { createMilestoneLatencyReader } from '../../ops/read-side/milestone-latency.js';
import { type OrderViewDocument } from '../../sinks/mongo/order-view.js';
import { inventoryAvailability } from '../../sinks/mongo/inventory-availability.js';
import { orderView } from '../../sinks/mongo/order-view.js';
import {
  badRecordsFixture,
  ERP_FIXTURES,
  isolatedPipelineConfig,
  kafkaFor,
  pipelineTopics,
  produceFixtures,
  readTopic,
  waitCaughtUp,
} from './pipeline-harness.js';
import { uniqueName } from './services.js';

// The fixtures of pipeline-end-to-end.test.ts: an order's whole lifecycle, a burst of stock changes, and two records
// no stage can turn into events (bytes that are not Avro, an order in a status the ERP map lacks).
const config = isolatedPipelineConfig();
const kafka = kafkaFor(config);
const mongo = new MongoClient(config.mongodb.uri);
const { source: sourceTopics, canonical: canonicalTopics } = pipelineTopics(config);
const topicOf = (table: string) => sourceTopic(config.source, `dbo.${table}`);
let produced: ProduceResult[] = [];
let transform: RunningPipeline | undefined;
let sink: RunningPipeline | undefined;
/** What each role's /metrics answered once it had caught up. */
let transformMetrics: MetricSample[] = [];
let sinkMetrics: MetricSample[] = [];
const sinkScrapedAt = { before: 0, after: 0 };
const canonical: { topic: string; event: CanonicalEvent }[] = [];

async function scrape(pipeline: RunningPipeline | undefined): Promise<MetricSample[]> {
  const response = await fetch(`${pipeline!.opsUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseMetricsText(await response.text());
}

/** The values of a metric by one label, e.g. records per topic. */
function byLabel(samples: readonly MetricSample[], name: string, label: string, labels: Record<string, string> = {}) {
  return Object.fromEntries(samplesOf(samples, name, labels).map((sample) => [sample.labels[label], sample.value]));
}

/** A record's key and value bytes, untouched. */
type RawRecord = { readonly key: Buffer | null; readonly value: Buffer | null };

/**
 * Every record of the topics as raw bytes, as a read_committed reader sees them: a bounded read from the earliest
 * offset to each partition's end when it starts, so it is exact and never stops early on a pause in delivery.
 */
async function readRaw(topics: readonly string[]): Promise<RawRecord[]> {
  const records: RawRecord[] = [];
  const ranges = await planOffsetRanges(kafka, topics, { kind: 'earliest' });
  await readOffsetRanges(
    kafka,
    ranges,
    { groupId: uniqueName(`${config.kafka.clientId}-raw-reader`) },
    eachRecord((record) => void records.push({ key: record.key, value: record.value })),
  );
  return records;
}

/** The schema ids in the Confluent frames of records' keys and values: what a decoder looks up. */
function framedSchemaIds(records: readonly RawRecord[], parts: readonly ('key' | 'value')[]): number[] {
  return records.flatMap((record) =>
    parts.flatMap((part) => {
      const bytes = record[part];
      return bytes !== null && bytes.length >= 5 && bytes[0] === 0 ? [bytes.readUInt32BE(1)] : [];
    }),
  );
}

describe('the ops server /metrics of a real pipeline over a known fixture run', () => {
  beforeAll(async () => {
    produced = await produceFixtures(config, [
      ERP_FIXTURES.orderLifecycle,
      ERP_FIXTURES.inventoryBurst,
      badRecordsFixture(),
    ]);
    // The transform role first, the sink role once every canonical event is committed: the sink then reads each
    // canonical topic in one batch, so its applied and stale counts are exact, not a matter of timing.
    transform = await startPipeline(config, 'transform', pino({ level: 'silent' }));
    await waitCaughtUp(kafka, config.transform.groupId, sourceTopics);
    transformMetrics = await scrape(transform);
    sink = await startPipeline(config, 'sink', pino({ level: 'silent' }));
    // The plain end offsets: the sink's consumer commits past each topic's final transaction marker.
    await waitCaughtUp(kafka, config.sink.groupId, canonicalTopics);
    sinkScrapedAt.before = Date.now();
    sinkMetrics = await scrape(sink);
    sinkScrapedAt.after = Date.now();
    const codec = createCanonicalRegistryCodec({
      registryUrl: config.schemaRegistry.url,
      topics: { inventory: config.topics.inventory, order: config.topics.order },
    });
    for (const topic of canonicalTopics) {
      for (const record of await readTopic(kafka, topic)) {
        canonical.push({ topic, event: await codec.decode({ ...record, topic }) });
      }
    }
    await mongo.connect();
  });

  afterAll(async () => {
    await sink?.stop();
    await transform?.stop();
    await mongo.db(config.mongodb.database).dropDatabase();
    await mongo.close();
  });

  it('counts every consumed source record per topic, once, for the transform role', () => {
    const perTopic = new Map<string, number>();
    for (const { topic, records } of produced.flatMap((result) => result.topics)) {
      perTopic.set(topic, (perTopic.get(topic) ?? 0) + records);
    }
    expect(byLabel(transformMetrics, METRIC.sourceRecords, 'topic', { role: 'transform' })).toEqual({
      [topicOf('InventoryBalance')]: 24,
      [topicOf('SalesOrderHeader')]: 6,
      [topicOf('SalesOrderLine')]: 3,
      [topicOf('PaymentTransaction')]: 3,
      [topicOf('Shipment')]: 2,
      [topicOf('ReturnAuthorization')]: 2,
      [topicOf('Refund')]: 2,
    });
    expect(byLabel(transformMetrics, METRIC.sourceRecords, 'topic')).toEqual(Object.fromEntries(perTopic));
    expect(transform!.counters.get('batches.retried')).toBe(0);
  });

  it('counts records in, events out, skips and failures per transform stage', () => {
    const stage = (name: string) => byLabel(transformMetrics, METRIC.stageRecords, 'outcome', { stage: name });
    // 22 balance changes (the 23rd burst record is a tombstone, the 24th not Avro): 6 reads, 15 updates, 1 delete.
    expect(stage('stock_level')).toEqual({ in: 22, out: 22 });
    // The insert, the total raised after placement and 3 status changes; SO-BAD-1's status ZZ is unknown.
    expect(stage('order_header')).toEqual({ in: 6, out: 5, failed: 1 });
    expect(stage('order_line')).toEqual({ in: 3, out: 3 });
    // Only the capture transaction's insert is a capture; the authorisation and the capture's update are not.
    expect(stage('payment_captured')).toEqual({ in: 3, out: 1, skipped: 2 });
    // Each created row becomes its event; the later update of the same row changes nothing a reader sees.
    expect(stage('shipment_dispatched')).toEqual({ in: 2, out: 1, skipped: 1 });
    expect(stage('return_received')).toEqual({ in: 2, out: 1, skipped: 1 });
    expect(stage('refund_completed')).toEqual({ in: 2, out: 1, skipped: 1 });
  });

  it('counts dead letters per topic of the record, stage and error class', () => {
    expect(
      samplesOf(transformMetrics, METRIC.deadLetters)
        .map(({ labels, value }) => ({
          topic: labels['topic']!,
          stage: labels['stage'],
          reason: labels['reason'],
          value,
        }))
        .sort((a, b) => a.topic.localeCompare(b.topic)),
    ).toEqual([
      { topic: topicOf('InventoryBalance'), stage: 'decode', reason: 'DecodeError', value: 1 },
      { topic: topicOf('SalesOrderHeader'), stage: 'order_header', reason: 'TransformError', value: 1 },
    ]);
    expect(samplesOf(sinkMetrics, METRIC.deadLetters)).toEqual([]);
  });

  it('counts canonical events per topic and type, as the canonical topics hold them', () => {
    const held = new Map<string, number>();
    for (const { topic, event } of canonical) {
      const key = `${topic} ${event.meta.eventType}`;
      held.set(key, (held.get(key) ?? 0) + 1);
    }
    const counted = Object.fromEntries(
      samplesOf(transformMetrics, METRIC.canonicalEvents).map(({ labels, value }) => [
        `${labels['topic']} ${labels['event_type']}`,
        value,
      ]),
    );
    expect(counted).toEqual({
      [`${config.topics.inventory} StockLevelChanged`]: 22,
      [`${config.topics.order} OrderAccepted`]: 1,
      [`${config.topics.order} OrderHeaderChanged`]: 1,
      [`${config.topics.order} OrderStatusChanged`]: 3,
      [`${config.topics.order} OrderLineChanged`]: 3,
      [`${config.topics.order} PaymentCaptured`]: 1,
      [`${config.topics.order} ShipmentDispatched`]: 1,
      [`${config.topics.order} ReturnReceived`]: 1,
      [`${config.topics.order} RefundCompleted`]: 1,
    });
    expect(counted).toEqual(Object.fromEntries(held));
  });

  it('counts events handed to each sink, applied, stale and rejected, and records per canonical topic', () => {
    expect(byLabel(sinkMetrics, METRIC.sourceRecords, 'topic', { role: 'sink' })).toEqual({
      [config.topics.inventory]: 22,
      [config.topics.order]: 12,
    });
    // One batch of 22 events on 6 locations: the newest event per location is applied, the 16 older ones are stale.
    expect(byLabel(sinkMetrics, METRIC.stageRecords, 'outcome', { stage: inventoryAvailability.name })).toEqual({
      in: 22,
      out: 6,
      skipped: 16,
      failed: 0,
    });
    // One batch of 12 events on one order. Applied: the newest header (of OrderAccepted and OrderHeaderChanged),
    // the newest of 3 status changes, lines 1 and 2 (line 2 twice), the payment, shipment, return and refund.
    expect(byLabel(sinkMetrics, METRIC.stageRecords, 'outcome', { stage: orderView.name })).toEqual({
      in: 12,
      out: 8,
      skipped: 4,
      failed: 0,
    });
    expect(sink!.counters.snapshot()).toMatchObject({
      'sink.inventory_availability.applied': 6,
      'sink.inventory_availability.stale': 16,
      'sink.order_view.applied': 8,
      'sink.order_view.stale': 4,
      'batches.committed': 2,
    });
    expect(sink!.counters.get('batches.retried')).toBe(0);
  });

  it('observes one write per sink batch and the freshness of every applied event', () => {
    for (const [readModel, events] of [
      [inventoryAvailability.name, 22],
      [orderView.name, 12],
    ] as const) {
      const labels = { read_model: readModel };
      expect(sampleValue(sinkMetrics, `${METRIC.sinkWriteSeconds}_count`, labels)).toBe(1);
      expect(sampleValue(sinkMetrics, `${METRIC.freshnessSeconds}_count`, labels)).toBe(events);
    }
  });

  it('reports each read model as of its newest applied source position and commit time', () => {
    for (const [readModel, input] of [
      [inventoryAvailability.name, inventoryAvailability.input],
      [orderView.name, orderView.input],
    ] as const) {
      const events = canonical
        .map(({ event }) => event.meta)
        .filter((meta) => (input as readonly string[]).includes(meta.eventType));
      const newest = events.reduce((a, b) => (b.sourcePosition > a.sourcePosition ? b : a));
      const newestCommit = Math.max(...events.map((meta) => meta.sourceCommittedAt));
      expect(samplesOf(sinkMetrics, METRIC.readModelAsOfPositionInfo, { read_model: readModel })).toEqual([
        {
          name: METRIC.readModelAsOfPositionInfo,
          labels: { read_model: readModel, position: newest.sourcePosition },
          value: 1,
        },
      ]);
      expect(sampleValue(sinkMetrics, METRIC.readModelAsOfTimestampSeconds, { read_model: readModel })).toBe(
        newestCommit / 1000,
      );
      // The fixtures were committed in 2025: the newest write is as stale as the fixture is old.
      const freshness = sampleValue(sinkMetrics, METRIC.readModelFreshnessSeconds, { read_model: readModel })!;
      expect(freshness).toBeGreaterThan((sinkScrapedAt.before - newestCommit) / 1000 - 300);
      expect(freshness).toBeLessThanOrEqual((sinkScrapedAt.after - newestCommit) / 1000);
    }
    // The newest fixture position of the order lifecycle is the refund's update, the last change of the fixture.
    const refundPositions = canonical
      .filter(({ event }) => event.meta.eventType === 'RefundCompleted')
      .map(({ event }) => event.meta.sourcePosition);
    expect(
      samplesOf(sinkMetrics, METRIC.readModelAsOfPositionInfo, { read_model: orderView.name })[0]!.labels['position'],
    ).toBe(refundPositions[0]);
  });

  it('shows no consumer lag once each group has caught up, on every partition', () => {
    expect(samplesOf(transformMetrics, METRIC.consumerLag).map(({ labels, value }) => ({ ...labels, value }))).toEqual(
      sourceTopics.map((topic) => ({ group: config.transform.groupId, topic, partition: '0', value: 0 })),
    );
    expect(samplesOf(sinkMetrics, METRIC.consumerLag).map(({ labels, value }) => ({ ...labels, value }))).toEqual(
      canonicalTopics.map((topic) => ({ group: config.sink.groupId, topic, partition: '0', value: 0 })),
    );
  });

  it('counts schema cache hits and misses: one registry request per schema id, every other lookup a hit', async () => {
    const sourceLookups = framedSchemaIds(await readRaw(sourceTopics), ['key', 'value']);
    // 42 records: 41 framed keys (the raw record has none) and 40 framed values (the tombstone has none, the raw
    // record's is not Avro), over 7 tables with a key and a value schema each.
    expect(sourceLookups).toHaveLength(81);
    expect(new Set(sourceLookups).size).toBe(14);
    expect(byLabel(transformMetrics, METRIC.registryCacheRequests, 'result')).toEqual({ miss: 14, hit: 81 - 14 });
    // The sink role registers nothing, so it asks the registry once for each canonical topic's writer schema.
    const canonicalLookups = framedSchemaIds(await readRaw(canonicalTopics), ['value']);
    expect(canonicalLookups).toHaveLength(34);
    expect(new Set(canonicalLookups).size).toBe(2);
    expect(byLabel(sinkMetrics, METRIC.registryCacheRequests, 'result')).toEqual({ miss: 2, hit: 32 });
  });

  it('computes order milestone latencies from the order view, the same on every scrape', async () => {
    // SO-100234: placed 09:00, paid 17:45:09, shipped 17:45:00 (before the capture: 0 s), returned 10:20, refunded 12:02.
    const expected = [
      { from: 'accepted', to: 'paymentCaptured', seconds: 31_509 },
      { from: 'paymentCaptured', to: 'shipped', seconds: 0 },
      { from: 'returnReceived', to: 'refunded', seconds: 6_120 },
    ];
    const ordersWithBoth = async (from: string, to: string) =>
      mongo
        .db(config.mongodb.database)
        .collection('order_view')
        .countDocuments({ [`milestones.${from}`]: { $exists: true }, [`milestones.${to}`]: { $exists: true } });
    for (const samples of [sinkMetrics, await scrape(sink), await scrape(sink)]) {
      for (const { from, to, seconds } of expected) {
        const labels = { from, to };
        expect(sampleValue(samples, `${METRIC.orderMilestoneLatencySeconds}_count`, labels)).toBe(1);
        expect(sampleValue(samples, `${METRIC.orderMilestoneLatencySeconds}_count`, labels)).toBe(
          await ordersWithBoth(from, to),
        );
        expect(sampleValue(samples, `${METRIC.orderMilestoneLatencySeconds}_sum`, labels)).toBe(seconds);
        expect(
          sampleValue(samples, `${METRIC.orderMilestoneLatencySeconds}_bucket`, {
            ...labels,
            le: String(MILESTONE_LATENCY_BUCKETS.find((le) => seconds <= le)),
          }),
        ).toBe(1);
      }
    }
    expect(samplesOf(transformMetrics, `${METRIC.orderMilestoneLatencySeconds}_count`)).toEqual([]);
  });

  it('reports every dependency up, the process ready, and no paused partition', () => {
    expect(byLabel(transformMetrics, METRIC.dependencyUp, 'dependency')).toEqual({ kafka: 1, schema_registry: 1 });
    expect(byLabel(sinkMetrics, METRIC.dependencyUp, 'dependency')).toEqual({
      kafka: 1,
      schema_registry: 1,
      mongodb: 1,
    });
    expect(sampleValue(transformMetrics, METRIC.ready)).toBe(1);
    expect(sampleValue(sinkMetrics, METRIC.ready)).toBe(1);
    expect([...transformMetrics, ...sinkMetrics].filter((s) => s.name === METRIC.pausedPartitions)).toEqual([]);
    expect(samplesOf(sinkMetrics, 'cdc_sync_process_resident_memory_bytes')).toHaveLength(1);
  });
});

describe('the milestone latency reader on the MongoDB-wire server', () => {
  const db = mongo.db(`${config.mongodb.database}_latency`);
  const orders = db.collection<OrderViewDocument>('order_view');
  const paid = (id: string, minutes: number) =>
    ({
      _id: id,
      milestones: {
        accepted: { at: '2025-11-27T09:00:00Z' },
        paymentCaptured: { at: `2025-11-27T09:${String(minutes).padStart(2, '0')}:00Z` },
      },
    }) as unknown as OrderViewDocument;

  beforeAll(async () => {
    await mongo.connect();
    await orders.insertMany([
      paid('SO-1', 10),
      paid('SO-2', 20),
      paid('SO-3', 30),
      { _id: 'SO-4', milestones: { accepted: { at: '2025-11-27T09:00:00Z' } } } as unknown as OrderViewDocument,
    ]);
  });

  afterAll(async () => {
    await db.dropDatabase();
  });

  it('reads every order that reached a measured milestone, projected onto its times', async () => {
    const result = await createMilestoneLatencyReader(orders)();
    expect(result.truncated).toBe(false);
    expect(result.orders).toBe(3);
    expect(result.latencies.map((latency) => latency.seconds).sort((a, b) => a - b)).toEqual([600, 1200, 1800]);
  });

  it('stops at maxDocuments and says so', async () => {
    const result = await createMilestoneLatencyReader(orders, { maxDocuments: 2, batchSize: 1 })();
    expect(result).toMatchObject({ orders: 2, truncated: true });
    expect(result.latencies).toHaveLength(2);
  });

  it('serves a result younger than maxAgeMs again, and reads afresh after that', async () => {
    let now = 0;
    const read = createMilestoneLatencyReader(orders, { maxAgeMs: 1_000, now: () => now });
    expect((await read()).orders).toBe(3);
    await orders.insertOne(paid('SO-5', 40));
    now = 999;
    expect((await read()).orders).toBe(3);
    now = 1_000;
    expect((await read()).orders).toBe(4);
  });
});
