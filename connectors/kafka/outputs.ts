import { setTimeout as sleep } from 'node:timers/promises';
import { CompressionTypes, type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import { type RecordLocation } from '../../core/errors.js';
import {
  type OutputRecord,
  type PartitionOffset,
  type PlainOutput,
  type TransactionalOutput,
} from '../../core/runner/ports.js';
import { createGroupQueue } from '../../core/runner/group-queue.js';
import { type KafkaBatchConsumer } from './batch-consumer.js';
import { classifyKafkaError, isProducerFenced } from './classify-error.js';
import { createProduceLimits, type ProduceLimits } from './produce-limits.js';

/** A producer-backed output that must be connected before use and disconnected at shutdown. */
export type Connectable = { connect(): Promise<void>; disconnect(): Promise<void> };

/**
 * Publishes a batch's outputs and its consumer offsets in one Kafka
 * transaction, so read_committed readers see a batch's events exactly once
 * even when the worker crashes mid-batch. Outputs larger than one produce
 * request takes go in several requests of that transaction (see
 * {@link commitInTransaction}). The transactional id must be stable per
 * worker instance: a restarted worker with the same id fences its
 * predecessor's unfinished transaction. A batch retried after a failed
 * transaction goes out in full (see {@link createTransactionalProducer}).
 *
 * Batches of other partitions whose commit comes while a transaction is
 * under way wait for it, then go together in the next one (a group commit):
 * with partitions handled concurrently, one transaction carries several
 * batches and its round trips are paid once. A failed transaction fails
 * every batch in it, and each is retried on its own. A batch holding a record
 * that fits no request is refused alone, before it joins a transaction.
 *
 * @see https://kafka.js.org/docs/transactions#a-name-offsets-a-sending-offsets
 */
export function createTransactionalOutput(
  kafka: Kafka,
  settings: { readonly transactionalId: string; readonly consumerGroupId: string; readonly maxRequestBytes: number },
): TransactionalOutput & Connectable {
  const producer = createTransactionalProducer(kafka, settings.transactionalId);
  const limits = createProduceLimits(kafka, { maxRequestBytes: settings.maxRequestBytes });
  const queue = createGroupQueue<{ records: readonly OutputRecord[]; offset: PartitionOffset }, void>(
    async (batches) => {
      const ready: (typeof batches)[number][] = [];
      for (const batch of batches) {
        // A record that fits no request is this batch's failure alone.
        await limits.split(batch.item.records).then(() => ready.push(batch), batch.reject);
      }
      if (ready.length === 0) return;
      const offsets = {
        consumerGroupId: settings.consumerGroupId,
        topics: offsetsByTopic(ready.map((batch) => batch.item.offset)),
      };
      const records = ready.flatMap((batch) => batch.item.records);
      await producer.commit(limits, records, offsets, ready[0]!.item.offset).then(
        () => ready.forEach((batch) => batch.resolve()),
        (error: unknown) => ready.forEach((batch) => batch.reject(error)),
      );
    },
  );
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    ensureFits: (record) => limits.ensureFits(record),
    commit: (records, offset) => queue.add({ records, offset }),
  };
}

/** Offsets grouped by topic, as a transaction commits them. */
function offsetsByTopic(offsets: readonly PartitionOffset[]): TransactionOffsets['topics'] {
  return [...groupByTopic(offsets, ({ partition, offset }) => ({ partition, offset }))].map(([topic, partitions]) => ({
    topic,
    partitions,
  }));
}

/** Consumer offsets a transaction commits: partitions of topics, each with an optional metadata string. */
export type TransactionOffsets = {
  readonly consumerGroupId: string;
  readonly topics: readonly {
    readonly topic: string;
    readonly partitions: readonly {
      readonly partition: number;
      readonly offset: string;
      readonly metadata?: string | null;
    }[];
  }[];
};

/** Commits records and consumer offsets in Kafka transactions under one transactional id; see {@link createTransactionalProducer}. */
export type TransactionalProducer = Connectable & {
  /**
   * Produces `records` and commits `offsets` in one transaction, as
   * {@link commitInTransaction} does; throws what it throws.
   */
  commit(
    limits: Pick<ProduceLimits, 'split'>,
    records: readonly OutputRecord[],
    offsets: TransactionOffsets,
    location: RecordLocation,
  ): Promise<void>;
};

/**
 * The transactional producer's retry schedule. A transaction that begins right after the previous one committed finds
 * the coordinator still writing that one's commit markers, and AddPartitionsToTxn answers CONCURRENT_TRANSACTIONS
 * until it is done, a few milliseconds later. kafkajs retries that on its default schedule, whose first retry comes
 * after some 300 ms, so under a steady stream nearly every transaction waited 300 ms (measured on a local broker:
 * 300 ms a transaction, 20 ms with this schedule). The Java producer retries this answer after 20 ms for the same
 * reason. Only the first wait changes: the waits double up to kafkajs' 30 s cap, and an idempotent producer retries
 * without limit, as kafkajs' default for it does (fewer retries may break its exactly-once guarantee).
 *
 * @see https://kafka.js.org/docs/configuration#retry
 */
export const TRANSACTION_RETRY = { initialRetryTime: 10, retries: Number.MAX_SAFE_INTEGER } as const;

/**
 * A producer for Kafka transactions under one transactional id: idempotent,
 * one request in flight. A second producer with the same transactional id
 * fences this one.
 *
 * After a failed transaction the next one goes through a new kafkajs
 * producer, which starts a new producer epoch with fresh sequence numbers
 * (the Java client bumps the epoch after an aborted transaction for the same
 * reason). When a produce request fails on one partition, kafkajs takes back
 * the sequence numbers of every partition in it, also of those the broker had
 * appended; the same producer would then send the retried batch's records
 * there with sequence numbers the broker has seen, and the broker would drop
 * them as duplicates of the aborted ones while the transaction still
 * commits, offsets included: events lost. A producer that was fenced is kept
 * instead (it fails again, and the worker stops): starting over under the
 * same id would fence the newer instance.
 *
 * @see https://kafka.apache.org/documentation/#semantics
 * @see https://kafka.js.org/docs/transactions
 */
export function createTransactionalProducer(kafka: Kafka, transactionalId: string): TransactionalProducer {
  const create = () =>
    kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: TRANSACTION_RETRY,
    });
  let producer = create();
  let state: 'disconnected' | 'connected' | 'replace' = 'disconnected';
  return {
    async connect() {
      await producer.connect();
      state = 'connected';
    },
    disconnect: () => producer.disconnect(),
    async commit(limits, records, offsets, location) {
      if (state === 'replace') {
        const failed = producer;
        producer = create();
        state = 'disconnected';
        await failed.disconnect().catch(() => {
          // Its connections are dropped either way; the new producer matters.
        });
      }
      if (state === 'disconnected') {
        try {
          await producer.connect();
        } catch (error: unknown) {
          throw classifyKafkaError(error, location);
        }
        state = 'connected';
      }
      try {
        await commitInTransaction(producer, limits, records, offsets, location);
      } catch (error: unknown) {
        if (!isProducerFenced(error)) state = 'replace';
        throw error;
      }
    },
  };
}

/**
 * Produces `records` and commits `offsets` for their group in one Kafka
 * transaction (no offsets: records only). The records go in as many produce
 * requests as `limits` need, in order, all inside the transaction: readers
 * see all of them or none, exactly as with one request. Throws a
 * `RecordTooLargeError` before the transaction starts when a record
 * fits no request. On failure the transaction is aborted and the classified
 * error, naming `location`, is thrown.
 *
 * @see https://kafka.js.org/docs/transactions#a-name-offsets-a-sending-offsets
 */
export async function commitInTransaction(
  producer: Producer,
  limits: Pick<ProduceLimits, 'split'>,
  records: readonly OutputRecord[],
  offsets: TransactionOffsets,
  location: RecordLocation,
): Promise<void> {
  const requests = await limits.split(records);
  const transaction = await producer.transaction().catch((error: unknown) => {
    throw classifyKafkaError(error, location);
  });
  try {
    for (const request of requests) {
      // Uncompressed, so that the bytes the limits counted are the bytes the broker checks.
      await transaction.sendBatch({ topicMessages: byTopic(request), compression: CompressionTypes.None });
    }
    if (offsets.topics.some((topic) => topic.partitions.length > 0)) {
      await whileCoordinatorBusy(() =>
        transaction.sendOffsets({
          consumerGroupId: offsets.consumerGroupId,
          topics: offsets.topics.map(({ topic, partitions }) => ({
            topic,
            partitions: partitions.map((partition) => ({ ...partition })),
          })),
        }),
      );
    }
    await transaction.commit();
  } catch (error: unknown) {
    await transaction.abort().catch(() => {
      // The broker aborts it on its own after the transaction timeout; the original error matters more.
    });
    throw classifyKafkaError(error, location);
  }
}

/**
 * Runs `request` again while the transaction coordinator answers CONCURRENT_TRANSACTIONS (it is still writing the
 * previous transaction's commit markers), waiting as {@link TRANSACTION_RETRY} says, at most `attempts` times in all.
 * kafkajs retries that answer for AddPartitionsToTxn, a transaction's first produce, but not for AddOffsetsToTxn: a
 * transaction that produced nothing (every change of its batch skipped) and began right after the previous commit
 * failed, and its batch waited out the runner's backoff with a new producer.
 */
export async function whileCoordinatorBusy<T>(request: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error: unknown) {
      if (attempt >= attempts || (error as { readonly type?: unknown }).type !== 'CONCURRENT_TRANSACTIONS') throw error;
      await sleep(TRANSACTION_RETRY.initialRetryTime * 2 ** (attempt - 1));
    }
  }
}

/**
 * Plain, acknowledged producing (acks from all in-sync replicas) and plain
 * offset commits, for the sink role: there the durable write is MongoDB's,
 * and the offset follows it. Records go in as many produce requests as the
 * broker's limits need, in order; a record that fits no request throws a
 * `RecordTooLargeError`.
 */
export function createPlainOutput(
  kafka: Kafka,
  consumer: KafkaBatchConsumer,
  settings: { readonly maxRequestBytes: number },
): PlainOutput & Connectable {
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const limits = createProduceLimits(kafka, settings);
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    async send(records) {
      for (const request of await limits.split(records)) {
        try {
          await producer.sendBatch({ topicMessages: byTopic(request), acks: -1, compression: CompressionTypes.None });
        } catch (error: unknown) {
          throw classifyKafkaError(error);
        }
      }
    },
    commitOffset: (offset) => consumer.commitOffset(offset),
  };
}

function byTopic(records: readonly OutputRecord[]): { topic: string; messages: Message[] }[] {
  return [
    ...groupByTopic(records, (record): Message => ({
      key: record.key,
      value: record.value,
      headers: { ...record.headers },
    })),
  ].map(([topic, messages]) => ({ topic, messages }));
}

/** `items` as `toValue` makes them, grouped by topic in the order topics first appear. */
function groupByTopic<T extends { readonly topic: string }, V>(
  items: readonly T[],
  toValue: (item: T) => V,
): Map<string, V[]> {
  const topics = new Map<string, V[]>();
  for (const item of items) {
    const values = topics.get(item.topic) ?? [];
    values.push(toValue(item));
    topics.set(item.topic, values);
  }
  return topics;
}
