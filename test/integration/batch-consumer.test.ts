import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigResourceTypes, type Kafka } from 'kafkajs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordTooLargeError, SourceUnavailableError } from '../../core/errors.js';
import { type OutputRecord } from '../../core/runner/ports.js';
import {
  type BatchConsumerObserver,
  createBatchConsumer,
  type KafkaBatchConsumer,
} from '../../connectors/kafka/batch-consumer.js';
import { createKafkaClient } from '../../connectors/kafka/client.js';
import { createTransactionalOutput } from '../../connectors/kafka/outputs.js';
import { eventually } from './erp-scenario.js';
import { groupProgress, readTopic } from './pipeline-harness.js';
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

  function consumerOf(topic: string, observer?: BatchConsumerObserver): KafkaBatchConsumer {
    consumer = createBatchConsumer(kafka, {
      groupId: uniqueName('batch-consumer-group'),
      topics: [topic],
      fromBeginning: true,
      maxBytesPerPartition: 1_048_576,
      ...(observer === undefined ? {} : { observer }),
    });
    return consumer;
  }

  it('hands over committed records only, and its committed offset reaches the end past markers and aborted records', async () => {
    const topic = await createTopic(kafka, uniqueName('batch-consumer-txn'));
    // Offsets: a1 0, a2 1, commit marker 2; x1 3, x2 4, abort marker 5; b1 6, commit marker 7. The end is 8.
    const producer = kafka.producer({
      transactionalId: uniqueName('batch-consumer-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      for (const [values, outcome] of [
        [['a1', 'a2'], 'commit'],
        [['x1', 'x2'], 'abort'],
        [['b1'], 'commit'],
      ] as const) {
        const transaction = await producer.transaction();
        await transaction.send({ topic, messages: values.map((value) => ({ key: 'k', value })) });
        await (outcome === 'commit' ? transaction.commit() : transaction.abort());
      }
    } finally {
      await producer.disconnect();
    }
    const subject = consumerOf(topic);
    const { groupId } = subject.membership();
    const seen: string[] = [];
    const endOffsets: string[] = [];
    await subject.run(async (batch) => {
      seen.push(...batch.records.map((record) => `${record.offset}:${record.value?.toString()}`));
      endOffsets.push(batch.endOffset!);
      // As the runners do: commit the batch's end offset, past the markers after its last record.
      await subject.commitOffset({ topic, partition: 0, offset: batch.endOffset! });
    });

    const committed = await waitForCommitted(kafka, groupId, topic, '8');

    expect(committed).toEqual({ committed: { [`${topic}[0]`]: '8' }, ends: { [`${topic}[0]`]: '8' } });
    expect(seen).toEqual(['0:a1', '1:a2', '6:b1']);
    expect(endOffsets.at(-1)).toBe('8');
    expect(subject.membership()).toEqual({ groupId, state: 'joined', assignment: { [topic]: [0] } });
  });

  it('reports a partition a handler paused, and resumed when the consumer stops', async () => {
    const topic = await topicWithOneRecord();
    const reports: [string, string, number, boolean][] = [];
    const subject = consumerOf(topic, {
      partitionPaused: (groupId, pausedTopic, partition, paused) =>
        reports.push([groupId, pausedTopic, partition, paused]),
    });
    const { groupId } = subject.membership();
    const handled = new Promise<void>((resolve) => {
      void subject.run(async (_batch, control) => {
        control.pause();
        resolve();
      });
    });
    await handled;

    expect(reports).toEqual([[groupId, topic, 0, true]]);
    await subject.stop();
    expect(reports).toEqual([
      [groupId, topic, 0, true],
      [groupId, topic, 0, false],
    ]);
    expect(subject.membership()).toEqual({ groupId, state: 'stopped', assignment: {} });
  });

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

describe('the transactional output against real Kafka', () => {
  const { kafkaBrokers } = services();
  const kafka = createKafkaClient({ brokers: kafkaBrokers, clientId: 'cdc-sync-test' }, silent);

  it('aborts a failed transaction: nothing of it visible read_committed, offsets uncommitted, the next one whole', async () => {
    const good = await createTopic(kafka, uniqueName('outputs-good'));
    const small = await createTopic(kafka, uniqueName('outputs-small'));
    const source = await createTopic(kafka, uniqueName('outputs-source'));
    const groupId = uniqueName('outputs-group');
    const output = createTransactionalOutput(kafka, {
      transactionalId: uniqueName('outputs-tx'),
      consumerGroupId: groupId,
      maxRequestBytes: 1_048_576,
    });
    await output.connect();
    try {
      const event = (topic: string, value: string): OutputRecord => ({ topic, key: 'SO-1', value: Buffer.from(value) });
      // The output reads each topic's limit once. Lowered afterwards, the limit refuses the large record below in the
      // middle of a transaction (the output would not start one for a record it knows cannot fit), and still admits
      // the transaction markers (about 80 bytes) the abort writes.
      await output.commit([event(small, 'first')], { topic: source, partition: 0, offset: '3' });
      await setTopicConfig(kafka, small, { 'max.message.bytes': '200' });

      const failure = await output
        .commit([event(good, 'aborted'), event(small, 'x'.repeat(1000))], { topic: source, partition: 0, offset: '5' })
        .catch((error: unknown) => error);

      // Refused by the broker for good: returned as kafkajs' error, not retried.
      const { name, type, retriable } = failure as Error & { type?: string; retriable?: boolean };
      expect({ name, type, retriable }).toEqual({
        name: 'KafkaJSProtocolError',
        type: 'MESSAGE_TOO_LARGE',
        retriable: false,
      });
      // The record on the good topic was written and aborted: it and the abort marker took offsets 0 and 1. The
      // coordinator writes the markers after the abort returned, so the ends get there a moment later.
      await eventually(async () =>
        expect(await groupProgress(kafka, groupId, [good, small, source])).toEqual({
          committed: { [`${good}[0]`]: '-1', [`${small}[0]`]: '-1', [`${source}[0]`]: '3' },
          ends: { [`${good}[0]`]: '2', [`${small}[0]`]: '3', [`${source}[0]`]: '0' },
        }),
      );
      expect(await readTopic(kafka, good)).toEqual([]);

      // The output goes on: the next transaction commits its records and offsets together. Its record lands on the
      // partition where the aborted one had been appended; the same kafkajs producer would reuse that record's
      // sequence number there, and the broker would drop the new record as a duplicate while the commit succeeded.
      await output.commit([event(good, 'committed')], { topic: source, partition: 0, offset: '7' });

      await eventually(async () =>
        expect((await groupProgress(kafka, groupId, [good, source])).ends[`${good}[0]`]).toBe('4'),
      );
      expect((await readTopic(kafka, good)).map((record) => [record.offset, record.value?.toString()])).toEqual([
        ['2', 'committed'],
      ]);
      expect((await groupProgress(kafka, groupId, [source])).committed).toEqual({ [`${source}[0]`]: '7' });
    } finally {
      await output.disconnect();
    }
  });
});

describe('the transactional output committing batches of several partitions at once', () => {
  const { kafkaBrokers } = services();
  const kafka = createKafkaClient({ brokers: kafkaBrokers, clientId: 'cdc-sync-test' }, silent);

  it('commits the batches that come together in one transaction, and refuses a batch too large alone', async () => {
    const out = await createTopic(kafka, uniqueName('group-commit-out'));
    const small = await createTopic(kafka, uniqueName('group-commit-small'), { 'max.message.bytes': '200' });
    const sources = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((name) => createTopic(kafka, uniqueName(`gc-${name}`))),
    );
    const groupId = uniqueName('group-commit-group');
    const output = createTransactionalOutput(kafka, {
      transactionalId: uniqueName('group-commit-tx'),
      consumerGroupId: groupId,
      maxRequestBytes: 1_048_576,
    });
    await output.connect();
    try {
      const event = (topic: string, value: string): OutputRecord => ({ topic, key: 'k', value: Buffer.from(value) });
      const commits = [
        output.commit([event(out, 'a')], { topic: sources[0]!, partition: 0, offset: '11' }),
        output.commit([event(out, 'b')], { topic: sources[1]!, partition: 0, offset: '12' }),
        output.commit([event(small, 'x'.repeat(1000))], { topic: sources[2]!, partition: 0, offset: '13' }),
        output.commit([event(out, 'c'), event(out, 'd')], { topic: sources[3]!, partition: 0, offset: '14' }),
        output.commit([], { topic: sources[4]!, partition: 0, offset: '15' }),
      ];
      const outcomes = await Promise.allSettled(commits);

      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
        'fulfilled',
      ]);
      expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(RecordTooLargeError);
      // One transaction for the four batches that fit (added in one turn of the event loop), ended by one commit
      // marker: a 0, b 1, c 2, d 3, marker 4.
      await eventually(async () =>
        expect((await groupProgress(kafka, groupId, [out])).ends).toEqual({ [`${out}[0]`]: '5' }),
      );
      expect((await readTopic(kafka, out)).map((record) => [record.offset, record.value?.toString()])).toEqual([
        ['0', 'a'],
        ['1', 'b'],
        ['2', 'c'],
        ['3', 'd'],
      ]);
      // A later batch is a transaction of its own: e 5, marker 6.
      await output.commit([event(out, 'e')], { topic: sources[4]!, partition: 0, offset: '16' });
      await eventually(async () =>
        expect((await groupProgress(kafka, groupId, [out])).ends).toEqual({ [`${out}[0]`]: '7' }),
      );
      expect((await groupProgress(kafka, groupId, sources)).committed).toEqual({
        [`${sources[0]}[0]`]: '11',
        [`${sources[1]}[0]`]: '12',
        [`${sources[2]}[0]`]: '-1',
        [`${sources[3]}[0]`]: '14',
        [`${sources[4]}[0]`]: '16',
      });
    } finally {
      await output.disconnect();
    }
  });
});

/** Creates a topic with one partition and waits for its leader. */
async function setTopicConfig(kafka: Kafka, topic: string, config: Record<string, string>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

async function createTopic(kafka: Kafka, topic: string, config: Record<string, string> = {}): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 1,
          configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
        },
      ],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Polls the group's committed offset until it is `offset`; resolves with the group's progress then. */
async function waitForCommitted(kafka: Kafka, groupId: string, topic: string, offset: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const progress = await groupProgress(kafka, groupId, [topic]);
    if (progress.committed[`${topic}[0]`] === offset || Date.now() > deadline) return progress;
    await sleep(250);
  }
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current instanceof Error; current = current.cause) chain.push(current.cause);
  return chain;
}
