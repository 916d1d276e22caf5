import { CompressionTypes, type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import { type OutputRecord } from '../../core/runner/ports.js';
import { classifyKafkaError } from './classify-error.js';
import { type Connectable } from './outputs.js';

/** A committed consumer-group offset with its metadata string (Kafka's free-form note per offset commit). */
export type GroupOffset = { readonly partition: number; readonly offset: string; readonly metadata: string | null };

/**
 * Publishes records and commits offsets of several partitions of one topic,
 * each with metadata, for a consumer group in one Kafka transaction: the
 * records become visible to read_committed readers exactly when the offsets
 * move. The group needs no live members; the offsets are a bookmark.
 */
export type BookmarkedOutput = Connectable & {
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
  settings: { readonly transactionalId: string; readonly groupId: string },
): BookmarkedOutput {
  const producer: Producer = kafka.producer({
    transactionalId: settings.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  return {
    connect: async () => {
      try {
        await producer.connect();
      } catch (error: unknown) {
        throw classifyKafkaError(error);
      }
    },
    disconnect: () => producer.disconnect(),
    async commit(records, offsets) {
      const location = { topic: offsets.topic };
      const transaction = await producer.transaction().catch((error: unknown) => {
        throw classifyKafkaError(error, location);
      });
      try {
        if (records.length > 0) {
          await transaction.sendBatch({ topicMessages: byTopic(records), compression: CompressionTypes.None });
        }
        if (offsets.partitions.length > 0) {
          await transaction.sendOffsets({
            consumerGroupId: settings.groupId,
            topics: [
              {
                topic: offsets.topic,
                partitions: offsets.partitions.map(({ partition, offset, metadata }) => ({
                  partition,
                  offset,
                  metadata,
                })),
              },
            ],
          });
        }
        await transaction.commit();
      } catch (error: unknown) {
        await transaction.abort().catch(() => {
          // The broker aborts it on its own after the transaction timeout; the original error matters more.
        });
        throw classifyKafkaError(error, location);
      }
    },
  };
}

/**
 * The committed offsets of a consumer group on a topic, with their metadata;
 * partitions without a committed offset are left out. Throws a retriable
 * `SourceUnavailableError` when Kafka cannot be reached.
 */
export async function fetchGroupOffsets(kafka: Kafka, groupId: string, topic: string): Promise<GroupOffset[]> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (entry?.partitions ?? [])
      .filter(({ offset }) => offset !== '-1')
      .map(({ partition, offset, metadata }) => ({ partition, offset, metadata: metadata ?? null }))
      .sort((a, b) => a.partition - b.partition);
  } catch (error: unknown) {
    throw classifyKafkaError(error, { topic });
  } finally {
    await admin.disconnect();
  }
}

function byTopic(records: readonly OutputRecord[]): { topic: string; messages: Message[] }[] {
  const topics = new Map<string, Message[]>();
  for (const record of records) {
    const messages = topics.get(record.topic) ?? [];
    messages.push({ key: record.key, value: record.value, headers: { ...record.headers } });
    topics.set(record.topic, messages);
  }
  return [...topics.entries()].map(([topic, messages]) => ({ topic, messages }));
}
