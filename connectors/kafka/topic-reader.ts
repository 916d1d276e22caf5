import { randomUUID } from 'node:crypto';
import { type Admin, type Consumer, type Kafka, type KafkaMessage } from 'kafkajs';
import { ConfigError, SourceUnavailableError } from '../../core/errors.js';
import { type SourceRecord } from '../../core/runner/ports.js';
import { classifyKafkaError } from './classify-error.js';

/** The offsets of one partition, as a read_committed reader sees them. */
export type PartitionOffsets = {
  readonly partition: number;
  /** The earliest offset still held (retention may have deleted older ones). */
  readonly low: string;
  /** The end: the offset after the last committed record (the last stable offset). */
  readonly high: string;
};

/** One partition's share of a bounded read: offsets `start` (inclusive) to `end` (exclusive). */
export type PartitionRange = { readonly partition: number; readonly start: string; readonly end: string };

/** How far a bounded read got: offsets covered out of all offsets in its ranges (records and transaction markers). */
export type ReadProgress = { readonly covered: number; readonly total: number; readonly records: number };

/** What {@link readTopicRange} reads. */
export type TopicReadOptions = {
  readonly topic: string;
  /** Start offset per partition; partitions not listed start at their earliest offset. */
  readonly from?: Readonly<Record<number, string>>;
  /** End offset (exclusive) per partition; partitions not listed end at their end offset taken at the start. */
  readonly to?: Readonly<Record<number, string>>;
  /** Read only these partitions. Default: all. */
  readonly partitions?: readonly number[];
  /** Called for each record in the ranges, in offset order per partition, awaited before the next. */
  readonly onRecord: (record: SourceRecord) => void | Promise<void>;
  readonly onProgress?: (progress: ReadProgress) => void;
  /** Fail when the read makes no progress for this long. Default 30 s. */
  readonly idleTimeoutMs?: number;
  /** Prefix of the throwaway consumer group. Default `cdc-sync-reader`. */
  readonly groupPrefix?: string;
};

/**
 * The low and end offsets of each partition of a topic, or `undefined` when
 * the topic does not exist. The end is the last stable offset, where a
 * read_committed reader stops. Throws a retriable `SourceUnavailableError`
 * when Kafka cannot be reached.
 */
export async function topicOffsets(kafka: Kafka, topic: string): Promise<PartitionOffsets[] | undefined> {
  return withAdmin(kafka, async (admin) => {
    if (!(await admin.listTopics()).includes(topic)) return undefined;
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets
      .map(({ partition, low, high }) => ({ partition, low, high }))
      .sort((a, b) => a.partition - b.partition);
  });
}

/**
 * Reads a bounded slice of a topic, read_committed, and returns the ranges
 * it read. Each partition is read from its start (`from`, never before the
 * earliest offset still held) up to its end (`to`, or the end offset taken
 * when the read starts, so the read terminates however fast the topic grows).
 *
 * Reads with a fresh consumer group of its own, positioned with the admin
 * API and deleted afterwards, so no other group's offsets move. Transaction
 * markers and aborted records count towards reaching the end but are never
 * handed out. Throws a `ConfigError` for a topic that does not exist, a
 * retriable `SourceUnavailableError` when Kafka cannot be reached or the read
 * makes no progress for `idleTimeoutMs`, and whatever `onRecord` throws.
 */
export async function readTopicRange(kafka: Kafka, options: TopicReadOptions): Promise<PartitionRange[]> {
  const { topic } = options;
  const offsets = await topicOffsets(kafka, topic);
  if (offsets === undefined) throw new ConfigError(`Topic ${topic} does not exist`);
  const wanted = options.partitions === undefined ? undefined : new Set(options.partitions);
  for (const partition of wanted ?? []) {
    if (!offsets.some((p) => p.partition === partition)) {
      throw new ConfigError(
        `Topic ${topic} has no partition ${partition}; it has ${offsets.map((p) => p.partition).join(', ')}`,
      );
    }
  }
  const ranges = offsets
    .filter((p) => wanted === undefined || wanted.has(p.partition))
    .map(({ partition, low, high }) => {
      const start = maxOffset(low, options.from?.[partition] ?? low);
      const end = minOffset(high, options.to?.[partition] ?? high);
      return { partition, start, end: maxOffset(start, end) };
    });
  const total = ranges.reduce((sum, r) => sum + Number(BigInt(r.end) - BigInt(r.start)), 0);
  options.onProgress?.({ covered: 0, total, records: 0 });
  if (total === 0) return ranges;

  const groupId = `${options.groupPrefix ?? 'cdc-sync-reader'}-${randomUUID()}`;
  await withAdmin(kafka, (admin) =>
    admin.setOffsets({
      groupId,
      topic,
      // Partitions outside the read start at their end, so the consumer does not fetch them.
      partitions: offsets.map(({ partition, high }) => ({
        partition,
        offset: ranges.find((r) => r.partition === partition)?.start ?? high,
      })),
    }),
  );
  try {
    await consumeRanges(kafka, groupId, ranges, total, options);
  } finally {
    await withAdmin(kafka, (admin) => admin.deleteGroups([groupId])).catch(() => {
      // An empty group expires on its own after offsets.retention.minutes; nothing depends on deleting it now.
    });
  }
  return ranges;
}

async function consumeRanges(
  kafka: Kafka,
  groupId: string,
  ranges: readonly PartitionRange[],
  total: number,
  options: TopicReadOptions,
): Promise<void> {
  const { topic } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const byPartition = new Map(ranges.map((range) => [range.partition, range]));
  /** The next offset to read per partition still open. */
  const positions = new Map(
    ranges.filter((r) => BigInt(r.start) < BigInt(r.end)).map((r) => [r.partition, BigInt(r.start)]),
  );
  let records = 0;
  let lastProgressAt = Date.now();
  let settle: (error?: unknown) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    settle = (error?: unknown) => (error === undefined ? resolve() : reject(error));
  });

  const consumer: Consumer = kafka.consumer({ groupId, readUncommitted: false, allowAutoTopicCreation: false });
  const covered = () =>
    ranges.reduce((sum, r) => {
      const position = positions.get(r.partition);
      return sum + Number((position ?? BigInt(r.end)) - BigInt(r.start));
    }, 0);
  const advance = (partition: number, lastOffset: string) => {
    const position = positions.get(partition);
    const range = byPartition.get(partition);
    if (position === undefined || range === undefined) return;
    const next = BigInt(lastOffset) + 1n;
    if (next <= position) return;
    lastProgressAt = Date.now();
    if (next >= BigInt(range.end)) {
      positions.delete(partition);
      consumer.pause([{ topic, partitions: [partition] }]);
    } else {
      positions.set(partition, next);
    }
    options.onProgress?.({ covered: covered(), total, records });
    if (positions.size === 0) settle();
  };

  // Batches of only transaction markers or aborted records never reach eachBatch; this event reports them too.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic) advance(payload.partition, payload.lastOffset);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    // kafkajs restarts the consumer after a retriable crash; the idle timeout catches one that never recovers.
    if (!payload.restart) settle(classifyKafkaError(payload.error, { topic }));
  });
  const idle = setInterval(
    () => {
      if (Date.now() - lastProgressAt < idleTimeoutMs) return;
      const stuck = [...positions].map(([partition, position]) => `${partition}@${position}`).join(', ');
      settle(
        new SourceUnavailableError(
          `Reading ${topic} made no progress for ${Math.round(idleTimeoutMs / 1000)} s; still open: partition@offset ${stuck}`,
          { topic },
        ),
      );
    },
    Math.min(1000, idleTimeoutMs),
  );

  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const range = byPartition.get(batch.partition);
        if (range === undefined || !positions.has(batch.partition)) return;
        try {
          for (const message of batch.messages) {
            const offset = BigInt(message.offset);
            if (offset < BigInt(range.start) || offset >= BigInt(range.end)) continue;
            records++;
            await options.onRecord(toSourceRecord(topic, batch.partition, message));
          }
        } catch (error: unknown) {
          // The caller's failure ends the read; kafkajs would only retry the batch.
          positions.clear();
          consumer.pause([{ topic, partitions: [...byPartition.keys()] }]);
          settle(error);
          return;
        }
        advance(batch.partition, batch.lastOffset());
      },
    });
    lastProgressAt = Date.now();
    await finished;
  } catch (error: unknown) {
    throw classifyKafkaError(error, { topic });
  } finally {
    clearInterval(idle);
    await consumer.disconnect().catch(() => {});
  }
}

/** A consumed kafkajs message as the runner's {@link SourceRecord}; repeated headers are joined with commas. */
export function toSourceRecord(topic: string, partition: number, message: KafkaMessage): SourceRecord {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: Object.fromEntries(
      Object.entries(message.headers ?? {}).flatMap(([name, value]) =>
        value === undefined ? [] : [[name, Array.isArray(value) ? value.map(String).join(',') : String(value)]],
      ),
    ),
    timestamp: message.timestamp,
  };
}

async function withAdmin<T>(kafka: Kafka, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await work(admin);
  } catch (error: unknown) {
    throw classifyKafkaError(error);
  } finally {
    await admin.disconnect();
  }
}

function maxOffset(a: string, b: string): string {
  return BigInt(a) >= BigInt(b) ? a : b;
}

function minOffset(a: string, b: string): string {
  return BigInt(a) <= BigInt(b) ? a : b;
}
