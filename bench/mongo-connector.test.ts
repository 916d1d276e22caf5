import { Long } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { type ProducedRecord } from '../devtools/fixtures/producer.js';
import {
  countRefusedRecords,
  MONGO_SINK_CONNECTOR,
  mongoSinkConnectorConfig,
  nanosOf,
  RDBMS_HANDLER,
  sentinels,
} from './mongo-connector.js';
import { createWorkloadGenerator, toFixture } from './workload.js';

describe('the MongoDB Kafka connector run', () => {
  it('configures the sink connector with the RDBMS handler and the stack’s Apicurio converters', () => {
    const config = mongoSinkConnectorConfig({
      topics: ['b.ErpDemo.dbo.InventoryBalance', 'b.ErpDemo.dbo.Refund'],
      mongoUri: 'mongodb://127.0.0.1:27017/',
      database: 'b_connector',
      registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
    });
    expect(config).toMatchObject({
      'connector.class': MONGO_SINK_CONNECTOR,
      'change.data.capture.handler': RDBMS_HANDLER,
      topics: 'b.ErpDemo.dbo.InventoryBalance,b.ErpDemo.dbo.Refund',
      database: 'b_connector',
      'key.converter': 'io.apicurio.registry.utils.converter.AvroConverter',
      'value.converter.apicurio.registry.as-confluent': 'true',
      'value.converter.apicurio.registry.url': 'http://127.0.0.1:8081/apis/registry/v2',
    });
  });

  it.each([
    { datetime2: '2025-11-27T08:00:00.000000000', nanos: 1_764_230_400_000_000_000n },
    { datetime2: '2025-11-27T08:00:00.123456700', nanos: 1_764_230_400_123_456_700n },
    { datetime2: '1970-01-01T00:00:01.000000001', nanos: 1_000_000_001n },
  ])('reads DATETIME2 $datetime2 as NanoTimestamp $nanos', ({ datetime2, nanos }) => {
    expect(nanosOf(datetime2)).toBe(nanos);
  });

  it('takes the last record of each topic partition as the document that shows the connector is done', () => {
    const generator = createWorkloadGenerator({ events: 300, inventoryKeys: 20 });
    const fixture = toFixture(generator.take(300), 'b', 'the test');
    const records: ProducedRecord[] = fixture.entries.map((entry) => ({
      index: entry.index,
      topic: entry.topic,
      partition: entry.index % 2,
      offset: String(entry.index),
    }));
    const found = sentinels(fixture, records);
    expect(found.length).toBe(new Set(records.map((r) => `${r.topic}/${r.partition}`)).size);
    const last = fixture.entries.at(-1)!;
    if (last.kind !== 'change') throw new Error('expected a change');
    const sentinel = found.find((s) => s.collection === last.topic && s.id['Sku'] === last.change.after!['Sku']);
    expect(sentinel).toEqual({
      collection: 'b.ErpDemo.dbo.InventoryBalance',
      id: { Sku: last.change.after!['Sku'], LocationCode: last.change.after!['LocationCode'] },
      modifiedAtNanos: nanosOf(String(last.change.after!['ModifiedAt'])),
    });
    const payment = found.find((s) => s.collection.endsWith('PaymentTransaction'));
    expect(payment?.id['PaymentId']).toBeInstanceOf(Long);
  });

  it('counts the records the connector logged as not written, for its own connector only', () => {
    const log = [
      '[2026-12-07 12:18:25,598] ERROR [run1|task-0] Failed to put into the sink the following records: [SinkRecord{kafkaOffset=113} ConnectRecord{…}] (com.mongodb.kafka.connect.sink.MongoSinkTask)',
      '[2026-12-07 12:18:25,599] ERROR [run1|task-0] Failed to put into the sink the following records: [SinkRecord{kafkaOffset=114} …, SinkRecord{kafkaOffset=115} …]',
      '[2026-12-07 12:18:25,600] ERROR [other|task-0] Failed to put into the sink the following records: [SinkRecord{kafkaOffset=1} …]',
      '[2026-12-07 12:18:25,601] ERROR [run1|task-0] Failed to put into the sink some records, see log entries below for the details',
    ].join('\n');
    expect(countRefusedRecords(log, 'run1')).toBe(3);
    expect(countRefusedRecords(log, 'run2')).toBe(0);
  });
});
