import { type Consumer, type Kafka } from 'kafkajs';
import { type BatchConsumer, type PartitionOffset, type SourceRecord } from '../../core/runner/ports.js';
import { classifyKafkaError } from './classify-error.js';

/** Settings for {@link createBatchConsumer}. */
export type BatchConsumerConfig = {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a new group starts; existing groups resume from their committed offsets. */
  readonly fromBeginning: boolean;
  /** Bounds one batch: the most bytes fetched per partition at once. */
  readonly maxBytesPerPartition: number;
};

/** A batch consumer plus a way to commit offsets outside a transaction (the sink role). */
export type KafkaBatchConsumer = BatchConsumer & {
  commitOffset(offset: PartitionOffset): Promise<void>;
};

/**
 * A consumer group member that hands whole per-partition batches to the
 * runner. Auto-commit is off: offsets move only when the runner commits them
 * (in a transaction, or after a durable sink write). It reads committed data
 * only, so aborted transactions are never seen.
 *
 * @see https://kafka.js.org/docs/consuming#a-name-each-batch-a-eachbatch
 */
export function createBatchConsumer(kafka: Kafka, config: BatchConsumerConfig): KafkaBatchConsumer {
  const consumer: Consumer = kafka.consumer({
    groupId: config.groupId,
    readUncommitted: false,
    maxBytesPerPartition: config.maxBytesPerPartition,
  });
  let started = false;

  return {
    async run(handler) {
      await consumer.connect();
      await consumer.subscribe({ topics: [...config.topics], fromBeginning: config.fromBeginning });
      started = true;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
          const records: SourceRecord[] = batch.messages.map((message) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: Object.fromEntries(
              Object.entries(message.headers ?? {}).flatMap(([name, value]) =>
                value === undefined ? [] : [[name, Array.isArray(value) ? value.map(String).join(',') : String(value)]],
              ),
            ),
            timestamp: message.timestamp,
          }));
          const partitions = [{ topic: batch.topic, partitions: [batch.partition] }];
          await handler(
            { topic: batch.topic, partition: batch.partition, records },
            {
              heartbeat,
              isRunning: () => isRunning() && !isStale(),
              pause: () => consumer.pause(partitions),
              resume: () => consumer.resume(partitions),
            },
          );
          const last = records.at(-1);
          if (last !== undefined) resolveOffset(last.offset);
        },
      });
    },
    async stop() {
      // disconnect() lets the in-flight batch finish before leaving the group.
      if (started) await consumer.disconnect();
    },
    async commitOffset(offset) {
      try {
        await consumer.commitOffsets([{ ...offset }]);
      } catch (error: unknown) {
        throw classifyKafkaError(error, { topic: offset.topic, partition: offset.partition });
      }
    },
  };
}
