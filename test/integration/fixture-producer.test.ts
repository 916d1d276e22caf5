import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { createProduceFixturesCommand } from '../../cli/produce-fixtures-command.js';
import { createConfluentDecoder } from '../../connectors/avro/confluent-decoder.js';
import { createEnvelopeReader } from '../../connectors/debezium/envelope.js';
import { buildSqlServerSchemas } from '../../connectors/debezium/sqlserver-schema.js';
import { expectedEnvelopes } from '../../devtools/fixtures/expected-envelopes.js';
import { type Fixture, parseFixture, readFixtureFile } from '../../devtools/fixtures/fixture-file.js';
import { createFixtureProducer, type FixtureProgress, type ProduceResult } from '../../devtools/fixtures/producer.js';
import { DecodeError } from '../../core/errors.js';
import { services, uniqueName } from './services.js';

const ORDER_LIFECYCLE = 'test/fixtures/erp/order-lifecycle.json';

/** A topic prefix of its own for each run; Avro names allow no hyphens. */
const prefix = (label: string) => uniqueName(label).replace(/-/g, '_');

type Consumed = { topic: string; partition: number; offset: string; key: Buffer | null; value: Buffer | null };

describe('the fixture producer against Kafka and the schema registry', () => {
  const { kafkaBrokers, schemaRegistryUrl } = services();
  const kafka = new Kafka({ clientId: 'cdc-sync-test', brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = createFixtureProducer({ brokers: [...kafkaBrokers], registryUrl: schemaRegistryUrl, partitions: 3 });
  const scratch = mkdtempSync(join(tmpdir(), 'cdc-sync-fixtures-'));

  afterAll(async () => {
    await Promise.all([producer.disconnect(), admin.disconnect()]);
    rmSync(scratch, { recursive: true, force: true });
  });

  /**
   * Reads every record of the topics from the beginning until `count` distinct ones have arrived. A rebalance while
   * the group forms may deliver a record twice; it is kept once, by its location.
   */
  async function consume(topics: readonly string[], count: number): Promise<Consumed[]> {
    const consumer = kafka.consumer({ groupId: uniqueName('fixture-reader') });
    const byLocation = new Map<string, Consumed>();
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`Only ${byLocation.size} of ${count} records arrived within 60 s`)),
          60_000,
        );
        void consumer.run({
          eachMessage: async ({ topic, partition, message }) => {
            const record = { topic, partition, offset: message.offset, key: message.key, value: message.value };
            byLocation.set(`${topic}/${partition}/${message.offset}`, record);
            if (byLocation.size >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return [...byLocation.values()];
  }

  /** Decodes consumed records with the pipeline's decoder and envelope reader, in fixture order. */
  async function decodeInFixtureOrder(fixture: Fixture, result: ProduceResult, consumed: readonly Consumed[]) {
    const decoder = createConfluentDecoder({ registryUrl: schemaRegistryUrl });
    const reader = createEnvelopeReader({ connector: 'sqlserver', topicPrefix: fixture.server });
    const byLocation = new Map(
      consumed.map((record) => [`${record.topic}/${record.partition}/${record.offset}`, record]),
    );
    const decoded = [];
    for (const written of result.records) {
      const record = byLocation.get(`${written.topic}/${written.partition}/${written.offset}`);
      if (record === undefined) throw new Error(`Record ${written.index} is not at ${JSON.stringify(written)}`);
      const location = { topic: record.topic, partition: record.partition, offset: record.offset };
      const key = await decoder.decode(record.key, location);
      const value = record.value === null ? null : await decoder.decode(record.value, location);
      decoded.push({
        index: written.index,
        topic: record.topic,
        result: reader.read({
          ...location,
          key: key.value,
          value: value?.value ?? null,
          valueSchemaName: value?.schemaName,
        }),
      });
    }
    return decoded;
  }

  it('writes order-lifecycle.json so that decoding it yields exactly the fixture’s changes, in order', async () => {
    const fixture = readFixtureFile(ORDER_LIFECYCLE, { server: prefix('fx_order') });
    const progress: FixtureProgress[] = [];
    const result = await producer.produce(fixture, { onProgress: (p) => progress.push(p) });

    const topics = [...new Set(fixture.entries.map((entry) => entry.topic))];
    expect(result.topics.map((topic) => [topic.topic, topic.records, topic.partitions])).toEqual(
      topics.map((topic) => [topic, fixture.entries.filter((entry) => entry.topic === topic).length, 3]),
    );
    expect(progress).toEqual([{ sent: 17, total: 17 }]);
    expect(result.records.map((record) => record.index)).toEqual(fixture.entries.map((entry) => entry.index));

    const consumed = await consume(topics, fixture.entries.length);
    expect(consumed).toHaveLength(fixture.entries.length);
    expect(await decodeInFixtureOrder(fixture, result, consumed)).toStrictEqual(expectedEnvelopes(fixture));

    // Within each partition, Kafka holds the records in fixture order: offsets rise with the fixture index.
    for (const topic of result.topics) {
      for (const { partition, offset } of topic.lastOffsets) {
        const inPartition = result.records.filter((r) => r.topic === topic.topic && r.partition === partition);
        expect(inPartition.map((r) => r.offset)).toEqual(inPartition.map((_, i) => String(i)));
        expect(inPartition.at(-1)?.offset).toBe(offset);
      }
    }
    // Every change to one row shares its key, so it lands on one partition.
    const order = result.records.filter((r) => r.topic.endsWith('.SalesOrderHeader'));
    expect(new Set(order.map((r) => r.partition)).size).toBe(1);
  });

  it('registers Debezium’s key and value schemas under <topic>-key and <topic>-value', async () => {
    const fixture = readFixtureFile(ORDER_LIFECYCLE, { server: prefix('fx_schema') });
    const result = await producer.produce(fixture);
    for (const topic of result.topics) {
      const table = fixture.entries.find((entry) => entry.topic === topic.topic)!.table;
      const latest = async (subject: string) => {
        const response = await fetch(`${schemaRegistryUrl}/subjects/${subject}/versions/latest`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { id: number; schema: string };
        return { id: body.id, schema: JSON.parse(body.schema) as Record<string, unknown> };
      };
      const value = await latest(`${topic.topic}-value`);
      const key = await latest(`${topic.topic}-key`);
      expect(value.id).toBe(topic.valueSchemaId);
      expect(key.id).toBe(topic.keySchemaId);
      expect(value.schema).toMatchObject({
        type: 'record',
        name: 'Envelope',
        namespace: topic.topic,
        'connect.name': `${topic.topic}.Envelope`,
      });
      const fields = value.schema['fields'] as { name: string; type: unknown }[];
      expect(fields.find((f) => f.name === 'before')?.type).toEqual([
        'null',
        expect.objectContaining({ type: 'record', name: 'Value', 'connect.name': `${topic.topic}.Value` }),
      ]);
      expect(fields.find((f) => f.name === 'source')?.type).toMatchObject({
        name: 'Source',
        namespace: 'io.debezium.connector.sqlserver',
        'connect.name': 'io.debezium.connector.sqlserver.Source',
      });
      expect(key.schema).toMatchObject({ name: 'Key', namespace: topic.topic, 'connect.name': `${topic.topic}.Key` });
      // Byte for byte what the builder makes, i.e. what Debezium's AvroConverter registers.
      expect(value.schema).toEqual(buildSqlServerSchemas(table).value);
      expect(key.schema).toEqual(buildSqlServerSchemas(table).key);
    }
  });

  it('writes a tombstone after a delete, and raw bad bytes that the decoder dead-letters', async () => {
    const key = { Sku: 'MUG-STONE-350', LocationCode: 'WH-EAST' };
    const balance = {
      ...key,
      QtyOnHand: '12.500',
      QtyAllocated: '0.000',
      SafetyStock: '5.000',
      LastCountedAt: null,
      ModifiedAt: '2025-11-27T08:00:00.000000000',
    };
    const fixture = parseFixture(
      JSON.stringify({
        server: prefix('fx_dlq'),
        database: 'ErpDemo',
        changes: [
          { table: 'dbo.InventoryBalance', op: 'd', before: balance, transactionId: 'tx-1' },
          { table: 'dbo.InventoryBalance', tombstone: true, key },
          { table: 'dbo.InventoryBalance', rawValueBase64: Buffer.from('not avro').toString('base64'), key },
        ],
      }),
      'inline.json',
    );
    const result = await producer.produce(fixture);
    const topic = fixture.entries[0]!.topic;
    const consumed = await consume([topic], 3);
    const at = (index: number) => {
      const written = result.records[index]!;
      return consumed.find((r) => r.partition === written.partition && r.offset === written.offset)!;
    };

    expect(
      await decodeInFixtureOrder(
        { ...fixture, entries: fixture.entries.slice(0, 2) },
        { ...result, records: result.records.slice(0, 2) },
        consumed,
      ),
    ).toStrictEqual(expectedEnvelopes(fixture));
    expect(at(1).value).toBeNull();
    // The raw record has the row's key, so it sits in the same partition, right after the tombstone.
    expect(at(2).key).toEqual(at(1).key);
    expect(at(2).value).toEqual(Buffer.from('not avro'));
    const decoder = createConfluentDecoder({ registryUrl: schemaRegistryUrl });
    const location = { topic, partition: at(2).partition, offset: at(2).offset };
    const failure = await decoder.decode(at(2).value, location).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DecodeError);
    expect(failure).toMatchObject({
      message: `Bad magic byte 0x6e in record ${topic}[${location.partition}]@${location.offset}`,
      location,
    });
  });

  it('runs as `cdc-sync produce-fixtures`, printing one row per topic', async () => {
    const server = prefix('fx_cli');
    const out: string[] = [];
    const err: string[] = [];
    const command = createProduceFixturesCommand({
      env: {},
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
    });
    await command.parseAsync(
      [
        ORDER_LIFECYCLE,
        '--brokers',
        kafkaBrokers.join(','),
        '--registry',
        schemaRegistryUrl,
        '--partitions',
        '2',
        '--server',
        server,
      ],
      { from: 'user' },
    );
    const rows = out.join('').trimEnd().split('\n');
    expect(rows[0]).toMatch(/^TOPIC\s+RECORDS\s+PARTITIONS\s+LAST OFFSETS$/);
    expect(rows.slice(1).map((row) => row.split(/\s{2,}/).slice(0, 3))).toEqual([
      [`${server}.ErpDemo.dbo.SalesOrderHeader`, '5', '2'],
      [`${server}.ErpDemo.dbo.SalesOrderLine`, '3', '2'],
      [`${server}.ErpDemo.dbo.PaymentTransaction`, '3', '2'],
      [`${server}.ErpDemo.dbo.Shipment`, '2', '2'],
      [`${server}.ErpDemo.dbo.ReturnAuthorization`, '2', '2'],
      [`${server}.ErpDemo.dbo.Refund`, '2', '2'],
    ]);
    expect(err.join('')).toContain('Produced 17 records to 6 topics');
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({ topics: [`${server}.ErpDemo.dbo.Refund`] });
    expect(metadata.topics[0]?.partitions).toHaveLength(2);
  });

  it('runs through cli/main.ts: a table and exit 0, or one clean line and exit 1', () => {
    const cli = (args: string[]) =>
      spawnSync(join('node_modules', '.bin', 'tsx'), ['cli/main.ts', 'produce-fixtures', ...args], {
        encoding: 'utf8',
        env: { ...process.env, KAFKA_BROKERS: kafkaBrokers.join(','), SCHEMA_REGISTRY_URL: schemaRegistryUrl },
      });
    const ok = cli([ORDER_LIFECYCLE, '--server', prefix('fx_spawn')]);
    expect(ok.stderr).toContain('Produced 17 records to 6 topics');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^TOPIC\s+RECORDS\s+PARTITIONS\s+LAST OFFSETS\n/);

    const bad = join(scratch, 'bad.json');
    const lifecycle = JSON.parse(readFileSync(ORDER_LIFECYCLE, 'utf8')) as {
      changes: { after?: Record<string, unknown> }[];
    };
    lifecycle.changes[0]!.after!['OrderTotal'] = 48.23;
    writeFileSync(bad, JSON.stringify(lifecycle));
    const failed = cli([bad]);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toBe(
      `cdc-sync: ${bad} changes[0].after.OrderTotal (dbo.SalesOrderHeader): expected a decimal string with 4 fraction digits such as "12.5000" for money, got 48.23\n`,
    );
  });
});
