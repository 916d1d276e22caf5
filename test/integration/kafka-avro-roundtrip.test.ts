import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { services, uniqueName } from './services.js';

const stockSchema = {
  type: 'record',
  name: 'StockProbe',
  namespace: 'test.cdcsync',
  fields: [
    { name: 'sku', type: 'string' },
    { name: 'location', type: 'string' },
    { name: 'onHand', type: { type: 'bytes', logicalType: 'decimal', precision: 18, scale: 3 } },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};

describe('Kafka and the schema registry', () => {
  const { kafkaBrokers, schemaRegistryUrl } = services();
  const kafka = new Kafka({ clientId: 'cdc-sync-test', brokers: [...kafkaBrokers], logLevel: logLevel.NOTHING });
  const registry = new SchemaRegistry({ host: schemaRegistryUrl });
  const admin = kafka.admin();
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: uniqueName('roundtrip') });

  afterAll(async () => {
    await Promise.all([admin.disconnect(), producer.disconnect(), consumer.disconnect()]);
  });

  it('round-trips an Avro value encoded and decoded through the registry', async () => {
    const topic = uniqueName('avro-roundtrip');
    const subject = `${topic}-value`;
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(stockSchema) }, { subject });
    const registered = (await (await fetch(`${schemaRegistryUrl}/subjects/${subject}/versions/latest`)).json()) as {
      id: number;
      version: number;
    };
    expect(registered).toMatchObject({ id, version: 1 });

    // 12.500 as an Avro decimal(18,3) is the unscaled integer 12500 in big-endian two's complement.
    const value = { sku: 'SKU-1001', location: 'WH-EAST', onHand: Buffer.from([0x30, 0xd4]), note: null };
    const encoded = await registry.encode(id, value);
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);

    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'SKU-1001@WH-EAST', value: encoded }] });

    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: Buffer; offset: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No message on ${topic} within 30 s`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve({ key: message.key!.toString(), value: message.value!, offset: message.offset });
        },
      });
    });

    expect(received.key).toBe('SKU-1001@WH-EAST');
    expect(received.offset).toBe('0');
    expect(received.value.readInt32BE(1)).toBe(id);
    expect(await registry.decode(received.value)).toEqual(value);
  });
});
