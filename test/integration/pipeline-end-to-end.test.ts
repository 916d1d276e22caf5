import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS } from '../../core/runner/dead-letter.js';
import { type SourceRecord } from '../../core/runner/ports.js';
import { PIPELINE_VERSION } from '../../core/version.js';
import { type ProduceResult } from '../../devtools/fixtures/producer.js';
import { type RunningPipeline, startPipeline } from '../../ops/pipeline.js';
import { createCanonicalRegistryCodec } from '../../connectors/canonical/registry.js';
import { eachRecord, planOffsetRanges, readOffsetRanges } from '../../connectors/kafka/bounded-reader.js';
import {
  badRecordsFixture,
  ERP_FIXTURES,
  expectedBalance,
  isolatedPipelineConfig,
  kafkaFor,
  pipelineTopics,
  produceFixtures,
  readAvailability,
  readTopic,
  waitCaughtUp,
  waitPipelineCaughtUp,
} from './pipeline-harness.js';
import { dec } from '../../sinks/testing.js';
import { uniqueName } from './services.js';

const config = isolatedPipelineConfig();
const kafka = kafkaFor(config);
const mongo = new MongoClient(config.mongodb.uri);
const sourceTopics = pipelineTopics(config).source;
let produced: ProduceResult[] = [];
let pipeline: RunningPipeline | undefined;

/** Every committed record of a topic up to its end now, key and value as the bytes they are. */
async function readRecords(topic: string): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  const ranges = await planOffsetRanges(kafka, [topic], { kind: 'earliest' });
  await readOffsetRanges(
    kafka,
    ranges,
    { groupId: uniqueName('e2e-bytes-reader') },
    eachRecord((record) => void records.push(record)),
  );
  return records;
}

describe('the pipeline end to end: fixture producer → Kafka → transforms → canonical topics → sinks → MongoDB', () => {
  beforeAll(async () => {
    produced = await produceFixtures(config, [
      ERP_FIXTURES.orderLifecycle,
      ERP_FIXTURES.inventoryBurst,
      badRecordsFixture(),
    ]);
    pipeline = await startPipeline(config, 'all', pino({ level: 'silent' }));
    await waitPipelineCaughtUp(kafka, config);
    await mongo.connect();
  });

  afterAll(async () => {
    await pipeline?.stop();
    await mongo.db(config.mongodb.database).dropDatabase();
    await mongo.close();
  });

  it('commits every source record once, in transactions', async () => {
    const progress = await waitCaughtUp(kafka, config.transform.groupId, sourceTopics);
    const producedPerTopic = Object.fromEntries(
      produced
        .flatMap((result) => result.topics)
        .reduce(
          (counts, topic) => counts.set(topic.topic, (counts.get(topic.topic) ?? 0) + topic.records),
          new Map<string, number>(),
        ),
    );
    expect(progress).toEqual(
      Object.fromEntries(sourceTopics.map((topic) => [`${topic}[0]`, String(producedPerTopic[topic] ?? 0)])),
    );
    expect(producedPerTopic[`${config.source.topicPrefix}.ErpDemo.dbo.InventoryBalance`]).toBe(24);
    expect(pipeline!.counters.snapshot()).toMatchObject({
      'records.dead_lettered.decode': 1,
      'records.dead_lettered.order_header': 1,
      'records.tombstones': 1,
      'stage.stock_level.out': 22,
      'stage.order_header.failed': 1,
    });
  });

  it('dead-letters exactly the bad records, with their original bytes and where they came from', async () => {
    const deadLetters = (await readTopic(kafka, config.topics.deadLetter)).sort((a, b) =>
      a.headers[DEAD_LETTER_HEADERS.topic]!.localeCompare(b.headers[DEAD_LETTER_HEADERS.topic]!),
    );
    const inventoryTopic = `${config.source.topicPrefix}.ErpDemo.dbo.InventoryBalance`;
    const headerTopic = `${config.source.topicPrefix}.ErpDemo.dbo.SalesOrderHeader`;
    const badOffsets = produced[2]!.records.map((r) => r.offset);
    expect(
      deadLetters.map((record) => ({
        topic: record.headers[DEAD_LETTER_HEADERS.topic],
        partition: record.headers[DEAD_LETTER_HEADERS.partition],
        offset: record.headers[DEAD_LETTER_HEADERS.offset],
        stage: record.headers[DEAD_LETTER_HEADERS.stage],
        errorClass: record.headers[DEAD_LETTER_HEADERS.errorClass],
        errorMessage: record.headers[DEAD_LETTER_HEADERS.errorMessage],
      })),
    ).toEqual([
      {
        topic: inventoryTopic,
        partition: '0',
        offset: badOffsets[0],
        stage: 'decode',
        errorClass: 'DecodeError',
        errorMessage: `Bad magic byte 0x6e in record ${inventoryTopic}[0]@${badOffsets[0]}`,
      },
      {
        topic: headerTopic,
        partition: '0',
        offset: badOffsets[1],
        stage: 'order_header',
        errorClass: 'TransformError',
        errorMessage: expect.stringContaining('ZZ'),
      },
    ]);
    // Each dead letter holds the whole original key and value, byte for byte: read both apart from readTopic, which
    // gives keys as text.
    const raw = async (topic: string, offset: string) => {
      const records = await readRecords(topic);
      const original = records.find((record) => record.offset === offset);
      if (original === undefined) throw new Error(`No record at ${topic}[0]@${offset}`);
      return original;
    };
    const [badBytes, badOrder] = await Promise.all([
      raw(inventoryTopic, badOffsets[0]!),
      raw(headerTopic, badOffsets[1]!),
    ]);
    const deadLetterBytes = await readRecords(config.topics.deadLetter);
    const bytesOf = (record: { key: Buffer | null; value: Buffer | null }) => ({
      key: record.key,
      value: record.value,
    });
    const byOrigin = (topic: string) =>
      deadLetterBytes.find((record) => record.headers[DEAD_LETTER_HEADERS.topic] === topic)!;
    expect(deadLetterBytes).toHaveLength(2);
    // The bytes that are not Avro, without a key, as the fixture wrote them.
    expect(bytesOf(badBytes)).toEqual({ key: null, value: Buffer.from('not avro') });
    expect(bytesOf(byOrigin(inventoryTopic))).toEqual(bytesOf(badBytes));
    // The order in an unmapped status: a Confluent-framed Avro key and value.
    expect([badOrder.key?.[0], badOrder.value?.[0]]).toEqual([0, 0]);
    expect(bytesOf(byOrigin(headerTopic))).toEqual(bytesOf(badOrder));
  });

  it('writes canonical events once each, readable read_committed', async () => {
    const codec = createCanonicalRegistryCodec({
      registryUrl: config.schemaRegistry.url,
      topics: { inventory: config.topics.inventory, order: config.topics.order },
    });
    const decoded = [];
    for (const topic of [config.topics.inventory, config.topics.order]) {
      for (const record of await readTopic(kafka, topic)) decoded.push(await codec.decode({ ...record, topic }));
    }
    // 6 snapshot reads, 15 updates and 1 delete of balances; 5 header (the insert, the total raised after placement,
    // 3 status changes), 3 line and 4 status-reached order events.
    expect(decoded.map((event) => event.meta.eventType).sort()).toEqual(
      [
        ...Array<string>(22).fill('StockLevelChanged'),
        'OrderAccepted',
        'OrderHeaderChanged',
        ...Array<string>(3).fill('OrderStatusChanged'),
        ...Array<string>(3).fill('OrderLineChanged'),
        'PaymentCaptured',
        'ShipmentDispatched',
        'ReturnReceived',
        'RefundCompleted',
      ].sort(),
    );
    expect(new Set(decoded.map((event) => event.meta.eventId)).size).toBe(decoded.length);
  });

  it('projects inventory availability per SKU and location, and per SKU', async () => {
    const db = mongo.db(config.mongodb.database);
    const perLocation = await readAvailability(db);
    expect(perLocation).toEqual([
      expectedBalance('COFFEE-ESP-BULK@ST-DOWNTOWN', '28.750', '0.750', '5.000', '23.000'),
      expectedBalance('COFFEE-ESP-BULK@WH-EAST', '250.250', '7.750', '25.000', '217.500'),
      expectedBalance('ROPE-DYN-10MM@ST-DOWNTOWN', '42.000', '0.000', '10.000', '32.000', true),
      expectedBalance('ROPE-DYN-10MM@WH-EAST', '1315.000', '60.000', '200.000', '1055.000'),
      expectedBalance('TSHIRT-ORG-BLK-M@ST-DOWNTOWN', '22.000', '2.000', '6.000', '14.000'),
      expectedBalance('TSHIRT-ORG-BLK-M@WH-EAST', '597.000', '12.000', '50.000', '535.000'),
    ]);
    const bySku = await db
      .collection('inventory_availability_by_sku')
      .find({}, { projection: { totals: 1, locationCount: 1 } })
      .sort({ _id: 1 })
      .toArray();
    expect(bySku).toEqual([
      { _id: 'COFFEE-ESP-BULK', locationCount: 2, totals: totals('279.000', '8.500', '30.000', '240.500') },
      { _id: 'ROPE-DYN-10MM', locationCount: 2, totals: totals('1315.000', '60.000', '200.000', '1055.000') },
      { _id: 'TSHIRT-ORG-BLK-M', locationCount: 2, totals: totals('619.000', '14.000', '56.000', '549.000') },
    ]);
  });

  it("projects the order's whole truth with its milestone timeline", async () => {
    const order = await mongo
      .db(config.mongodb.database)
      .collection('order_view')
      .findOne({ _id: 'SO-100234' as never });
    expect(order).toMatchObject({
      orderNumber: 'SO-100234',
      customerId: 'CUST-0042',
      status: 'SHIPPED',
      deleted: false,
      trackingNumbers: ['00340434161094042557'],
      header: {
        customerId: 'CUST-0042',
        customerEmail: 'ada@example.com',
        channel: 'WEB',
        currency: 'EUR',
        // Raised from 48.2300 by a header update after placement (OrderHeaderChanged).
        orderTotal: dec('64.7300'),
        placedAt: '2025-11-27T09:00:00.0000000+01:00',
      },
      statusInfo: { status: 'SHIPPED', erpStatus: 'SH' },
    });
    expect(
      Object.values(order!['lines'] as object).map(({ lineNo, sku, quantity, unitPrice }) => ({
        lineNo,
        sku,
        quantity,
        unitPrice,
      })),
    ).toEqual([
      { lineNo: 1, sku: 'TSHIRT-ORG-BLK-M', quantity: dec('2.000'), unitPrice: dec('19.9900') },
      { lineNo: 2, sku: 'MUG-STONE-350', quantity: dec('3.000'), unitPrice: dec('8.2500') },
    ]);
    expect(Object.keys(order!['payments'] as object)).toEqual(['4200000000000000002']);
    expect(order!['payments']).toMatchObject({
      '4200000000000000002': {
        amount: dec('64.7300'),
        currency: 'EUR',
        pspReference: 'psp_cap_Q7m1Zt',
        capturedAt: '2025-11-27T17:45:09.0000000+01:00',
      },
    });
    expect(order!['shipments']).toMatchObject({
      '5001': {
        carrier: 'DHL',
        trackingNumber: '00340434161094042557',
        location: 'WH-EAST',
        shippedAt: '2025-11-27T17:45:00.0000000+01:00',
      },
    });
    expect(order!['returns']).toMatchObject({
      'RMA-000871': { reason: 'T-shirt too small', receivedAt: '2025-12-03T10:20:00.0000000+01:00' },
    });
    expect(order!['refunds']).toMatchObject({
      '8001': { amount: dec('19.9900'), rmaNumber: 'RMA-000871', completedAt: '2025-12-03T12:02:00.0000000+01:00' },
    });
    expect(Object.keys(order!['milestones'] as object).sort()).toEqual([
      'accepted',
      'paymentCaptured',
      'refunded',
      'returnReceived',
      'shipped',
    ]);
    expect(order!['_meta']).toMatchObject({ pipelineVersion: PIPELINE_VERSION, correlationId: expect.any(String) });
    expect(await mongo.db(config.mongodb.database).collection('order_view').countDocuments()).toBe(1);
  });
});

function totals(onHand: string, reserved: string, safetyStock: string, available: string) {
  return { onHand: dec(onHand), reserved: dec(reserved), safetyStock: dec(safetyStock), available: dec(available) };
}
