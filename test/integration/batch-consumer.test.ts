import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceUnavailableError } from '../../core/errors.js';
import { createBatchConsumer, type KafkaBatchConsumer } from '../../connectors/kafka/batch-consumer.js';
import { createKafkaClient } from '../../connectors/kafka/client.js';
import { services, uniqueName } from './services.js';

const silent = pino({ level: 'silent' });

describe('the batch consumer against real Kafka', () => {
  const { kafkaBrokers } = services();
  const kafka = createKafkaClient({ brokers: kafkaBrokers, clientId: 'cdc-sync-test' }, silent);
  let consumer: KafkaBatchConsumer | undefined;

  afterEach(async () => {
    await consumer?.stop();
    consumer = undefined;
  });

  async function topicWithOneRecord(): Promise<string> {
    const topic = uniqueName('batch-consumer');
    const admin = kafka.admin();
    const producer = kafka.producer();
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'k', value: 'v' }] });
    } finally {
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    }
    return topic;
  }

  function consumerOf(topic: string): KafkaBatchConsumer {
    consumer = createBatchConsumer(kafka, {
      groupId: uniqueName('batch-consumer-group'),
      topics: [topic],
      fromBeginning: true,
      maxBytesPerPartition: 1_048_576,
    });
    return consumer;
  }

  it('settles halted, with the cause, once kafkajs stops the consumer for good', async () => {
    const topic = await topicWithOneRecord();
    const subject = consumerOf(topic);
    const failure = new TypeError('handler bug');
    await subject.run(async () => {
      throw failure;
    });

    const halted = await subject.halted;
    expect(halted.message).toBe(
      `The consumer of group ${subject.membership().groupId} stopped after an error it does not restart from: handler bug`,
    );
    // kafkajs wraps the handler's error in one of its own; the handler's is further down the chain.
    expect(causeChain(halted)).toContain(failure);
    expect(subject.membership().state).toBe('crashed');
  });

  it('does not settle halted when kafkajs restarts the consumer after a retriable error', async () => {
    const topic = await topicWithOneRecord();
    const subject = consumerOf(topic);
    const offsetsSeen: string[] = [];
    const handled = new Promise<void>((resolve) => {
      void subject.run(async (batch) => {
        offsetsSeen.push(...batch.records.map((record) => record.offset));
        if (offsetsSeen.length === 1) throw new SourceUnavailableError('Registry unreachable for a moment');
        resolve();
      });
    });
    await handled;

    const outcome = await Promise.race([subject.halted, new Promise((resolve) => setTimeout(resolve, 500, 'live'))]);
    expect(outcome).toBe('live');
    // The record came again after the restart: nothing was committed for the failed attempt.
    expect(offsetsSeen).toEqual(['0', '0']);
    expect(subject.membership().state).toBe('joined');
  });
});

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current instanceof Error; current = current.cause) chain.push(current.cause);
  return chain;
}
