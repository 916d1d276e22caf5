import { type OpsAdmin } from './ops-admin.js';

/** A consumer group and the topics it consumes. */
export type ConsumerGroupTopics = { readonly groupId: string; readonly topics: readonly string[] };

/** How far one group is behind on one partition. */
export type ConsumerLag = {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset (the next record it will read); undefined while it has committed nothing. */
  readonly committedOffset: string | undefined;
  /** The partition's end: its high watermark as a read_committed reader sees it. */
  readonly endOffset: string;
  /** High watermark minus the committed offset; without a commit, everything retained (high minus low). */
  readonly lag: number;
};

/** Reads the lag of every partition of the groups' topics; see {@link createConsumerLagReader}. */
export type ConsumerLagReader = () => Promise<readonly ConsumerLag[]>;

/**
 * Reads consumer lag as Kafka's own tools do: per partition, the high
 * watermark (`fetchTopicOffsets`) minus the group's committed offset
 * (`fetchOffsets`). A group that has committed nothing for a partition lags
 * by every record still retained there. Each read is one round of admin
 * requests, bounded by `timeoutMs` as a whole; it rejects when Kafka does not
 * answer in time, naming the groups.
 *
 * @see https://kafka.js.org/docs/admin#a-name-fetch-consumer-group-offsets-a-fetch-consumer-group-offsets
 * @see https://kafka.js.org/docs/admin#a-name-fetch-topic-offsets-a-fetch-topic-offsets
 */
export function createConsumerLagReader(
  admin: OpsAdmin,
  groups: readonly ConsumerGroupTopics[],
  timeoutMs: number,
): ConsumerLagReader {
  const what = `Consumer lag of ${groups.map((group) => group.groupId).join(', ')}`;
  return () =>
    admin.use(
      async (client) => {
        const topics = [...new Set(groups.flatMap((group) => group.topics))];
        const ends = new Map(
          await Promise.all(topics.map(async (topic) => [topic, await client.fetchTopicOffsets(topic)] as const)),
        );
        const lags: ConsumerLag[] = [];
        for (const group of groups) {
          for (const entry of await client.fetchOffsets({ groupId: group.groupId, topics: [...group.topics] })) {
            const committed = new Map(entry.partitions.map((p) => [p.partition, BigInt(p.offset)]));
            for (const end of ends.get(entry.topic) ?? []) {
              const offset = committed.get(end.partition) ?? -1n;
              const from = offset < 0n ? BigInt(end.low) : offset;
              const lag = BigInt(end.high) - from;
              lags.push({
                group: group.groupId,
                topic: entry.topic,
                partition: end.partition,
                committedOffset: offset < 0n ? undefined : offset.toString(),
                endOffset: end.high,
                lag: Number(lag < 0n ? 0n : lag),
              });
            }
          }
        }
        return lags;
      },
      timeoutMs,
      what,
    );
}
