import { type Kafka } from 'kafkajs';
import { type OutputRecord } from '../../core/runner/ports.js';
import { classifyKafkaError } from './classify-error.js';
import { type Connectable, createTransactionalProducer } from './outputs.js';
import { createProduceLimits } from './produce-limits.js';
import { withAdmin } from './with-admin.js';

/** A committed consumer-group offset with its metadata string (Kafka's free-form note per offset commit). */
export type GroupOffset = { readonly partition: number; readonly offset: string; readonly metadata: string | null };

/**
 * Publishes records and commits offsets of several partitions of one topic,
 * each with metadata, for a consumer group in one Kafka transaction: the
 * records become visible to read_committed readers exactly when the offsets
 * move. The group needs no live members; the offsets are a bookmark.
 */
export type BookmarkedOutput = Connectable & {
  /** Rejects with a `RecordTooLargeError` for a record no produce request takes (see `ProduceLimits.ensureFits`). */
  ensureFits(record: OutputRecord): Promise<void>;
  commit(
    records: readonly OutputRecord[],
    offsets: { readonly topic: string; readonly partitions: readonly GroupOffset[] },
  ): Promise<void>;
};

/**
 * Creates a {@link BookmarkedOutput}. A second process with the same
 * transactional id fences this one, so two runs never commit at once.
 *
 * @see https://kafka.js.org/docs/transactions#a-name-offsets-a-sending-offsets
 */
export function createBookmarkedOutput(
  kafka: Kafka,
  settings: { readonly transactionalId: string; readonly groupId: string; readonly maxRequestBytes: number },
): BookmarkedOutput {
  const producer = createTransactionalProducer(kafka, settings.transactionalId);
  const limits = createProduceLimits(kafka, { maxRequestBytes: settings.maxRequestBytes });
  return {
    connect: async () => {
      try {
        await producer.connect();
      } catch (error: unknown) {
        throw classifyKafkaError(error);
      }
    },
    disconnect: () => producer.disconnect(),
    ensureFits: (record) => limits.ensureFits(record),
    commit: (records, offsets) =>
      producer.commit(
        limits,
        records,
        { consumerGroupId: settings.groupId, topics: [{ topic: offsets.topic, partitions: offsets.partitions }] },
        { topic: offsets.topic },
      ),
  };
}

/**
 * The committed offsets of a consumer group on a topic, with their metadata;
 * partitions without a committed offset are left out. Throws a retriable
 * `SourceUnavailableError` when Kafka cannot be reached.
 */
export async function fetchGroupOffsets(kafka: Kafka, groupId: string, topic: string): Promise<GroupOffset[]> {
  return withAdmin(
    kafka,
    async (admin) => {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (entry?.partitions ?? [])
        .filter(({ offset }) => offset !== '-1')
        .map(({ partition, offset, metadata }) => ({ partition, offset, metadata: metadata ?? null }))
        .sort((a, b) => a.partition - b.partition);
    },
    { topic },
  );
}
