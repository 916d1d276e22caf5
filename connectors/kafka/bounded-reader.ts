import { type Admin, type Consumer, type EachBatchPayload, type Kafka } from 'kafkajs';
import { ConfigError } from '../../core/errors.js';
import { type BatchControl, type RecordBatch, type SourceRecord } from '../../core/runner/ports.js';
import { classifyKafkaError } from './classify-error.js';

/**
 * Reading a fixed range of offsets once, for tools that replay what the
 * pipeline already consumed (`cdc-sync rebuild`): plan the range per
 * partition, then read it with a throwaway consumer group and stop at its
 * end while producers keep appending.
 */

/** Offsets `[start, stop)` of one partition; offsets are decimal strings, as kafkajs gives them. */
export type OffsetRange = {
  readonly topic: string;
  readonly partition: number;
  readonly start: string;
  readonly stop: string;
};

/** Where a range starts: the earliest offset still kept, the first offset at or after a time, or where ranges ended. */
export type RangeStart =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'timestamp'; readonly timestamp: Date }
  | { readonly kind: 'after'; readonly ranges: readonly OffsetRange[] };

/**
 * The ranges from `from` to the current end of every partition of `topics`.
 * The end is each partition's high watermark now; records appended later
 * are not part of the range. A partition that `after` does not name (added
 * since) starts at its earliest offset. Throws a `ConfigError` naming a
 * topic that does not exist, and a retriable `SourceUnavailableError` when
 * Kafka cannot be reached.
 *
 * @see https://kafka.js.org/docs/admin#a-name-fetch-topic-offsets-a-fetch-topic-offsets
 */
export async function planOffsetRanges(
  kafka: Kafka,
  topics: readonly string[],
  from: RangeStart,
): Promise<OffsetRange[]> {
  return withAdmin(kafka, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      // An empty range would look like "no events" and could swap an empty read model in.
      throw new ConfigError(`Topic ${missing.join(', ')} does not exist in Kafka; there is nothing to re-consume`);
    }
    const ranges: OffsetRange[] = [];
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const byTime =
        from.kind === 'timestamp'
          ? new Map(
              (await admin.fetchTopicOffsetsByTimestamp(topic, from.timestamp.getTime())).map((entry) => [
                entry.partition,
                entry.offset,
              ]),
            )
          : undefined;
      for (const end of [...ends].sort((a, b) => a.partition - b.partition)) {
        const previous =
          from.kind === 'after'
            ? from.ranges.find((range) => range.topic === topic && range.partition === end.partition)?.stop
            : undefined;
        const start = byTime?.get(end.partition) ?? previous ?? end.low;
        ranges.push({ topic, partition: end.partition, start: maxOffset(start, end.low), stop: end.high });
      }
    }
    return ranges;
  });
}

/** How far a read has come; `covered` and `total` count offsets, transaction markers included. */
export type RangeProgress = {
  readonly covered: number;
  readonly total: number;
  readonly records: number;
};

/** Settings of {@link readOffsetRanges}. */
export type ReadRangesConfig = {
  /** A consumer group of this read's own; its offsets are set to the starts, and it is deleted afterwards. */
  readonly groupId: string;
  readonly maxBytesPerPartition: number;
  readonly onProgress?: (progress: RangeProgress) => void;
  /** Told when the throwaway group could not be deleted; the read itself succeeded. */
  readonly onCleanupFailure?: (error: unknown) => void;
};

/** What a read handed to the handler. */
export type ReadSummary = {
  readonly ranges: readonly OffsetRange[];
  /** Records handed to the handler: committed ones within the ranges. */
  readonly records: number;
};

/**
 * Reads every range once and hands the records to `handler` in per-partition
 * batches, as the pipeline's consumers do, then leaves and deletes the
 * group. Reads committed data only (`read_committed`): aborted transactions
 * are skipped, and a range ending inside an open transaction waits for it to
 * finish. Records at or past a range's stop are never handed over. Resolves
 * once every partition reached its stop; rejects with the handler's error
 * (nothing more is read after it) or a classified Kafka error.
 *
 * Completion counts offsets, not records: transaction markers take offsets
 * too and never reach a handler, so the position comes from kafkajs' batch
 * instrumentation, which includes them.
 *
 * @see https://kafka.js.org/docs/instrumentation-events
 */
export async function readOffsetRanges(
  kafka: Kafka,
  ranges: readonly OffsetRange[],
  config: ReadRangesConfig,
  handler: (batch: RecordBatch, control: BatchControl) => Promise<void>,
): Promise<ReadSummary> {
  const positions = new Map(ranges.map((range) => [keyOf(range.topic, range.partition), BigInt(range.start)]));
  const byKey = new Map(ranges.map((range) => [keyOf(range.topic, range.partition), range]));
  const total = ranges.reduce((sum, range) => sum + span(range.start, range.stop), 0);
  let records = 0;
  const remaining = new Set(
    ranges.filter((range) => BigInt(range.start) < BigInt(range.stop)).map((r) => keyOf(r.topic, r.partition)),
  );
  const progress = () => ({
    covered: ranges.reduce(
      (sum, range) =>
        sum + span(range.start, minOffset(positions.get(keyOf(range.topic, range.partition))!, range.stop)),
      0,
    ),
    total,
    records,
  });
  config.onProgress?.(progress());
  if (remaining.size === 0) return { ranges, records };

  const topics = [...new Set(ranges.map((range) => range.topic))];
  await withAdmin(kafka, async (admin) => {
    for (const topic of topics) {
      const partitions = ranges
        .filter((range) => range.topic === topic)
        .map((range) => ({ partition: range.partition, offset: range.start }));
      await admin.setOffsets({ groupId: config.groupId, topic, partitions });
    }
  });

  const consumer: Consumer = kafka.consumer({
    groupId: config.groupId,
    readUncommitted: false,
    maxBytesPerPartition: config.maxBytesPerPartition,
  });
  let settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // Awaited below; a failure before that point must not count as unhandled meanwhile.
  finished.catch(() => undefined);
  let failed = false;
  const fail = (error: unknown) => {
    failed = true;
    settle!.reject(error);
  };
  const pauseOne = (topic: string, partition: number) => consumer.pause([{ topic, partitions: [partition] }]);

  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const key = keyOf(payload.topic, payload.partition);
    const range = byKey.get(key);
    if (failed || range === undefined) return;
    const next = BigInt(payload.lastOffset) + 1n;
    if (next > positions.get(key)!) positions.set(key, next);
    if (positions.get(key)! >= BigInt(range.stop) && remaining.delete(key)) pauseOne(payload.topic, payload.partition);
    config.onProgress?.(progress());
    if (remaining.size === 0) settle!.resolve();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) fail(classifyKafkaError(payload.error));
  });

  async function eachBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    const key = keyOf(batch.topic, batch.partition);
    const range = byKey.get(key);
    if (failed || range === undefined || !remaining.has(key)) {
      pauseOne(batch.topic, batch.partition);
      return;
    }
    const stop = BigInt(range.stop);
    const within: SourceRecord[] = batch.messages
      .filter((message) => BigInt(message.offset) < stop)
      .map((message) => ({
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
    if (within.length > 0) {
      const partitions = [{ topic: batch.topic, partitions: [batch.partition] }];
      try {
        await handler(
          { topic: batch.topic, partition: batch.partition, records: within },
          {
            heartbeat,
            isRunning: () => isRunning() && !isStale() && !failed,
            pause: () => consumer.pause(partitions),
            resume: () => consumer.resume(partitions),
          },
        );
      } catch (error: unknown) {
        pauseOne(batch.topic, batch.partition);
        fail(error);
        return;
      }
      records += within.length;
    }
    // Resolving the last record also resolves a transaction marker behind it, so the next fetch moves past both.
    const last = batch.messages.at(-1);
    if (last !== undefined) resolveOffset(last.offset);
  }

  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch });
    await finished;
  } catch (error: unknown) {
    throw classifyKafkaError(error);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await withAdmin(kafka, (admin) => admin.deleteGroups([config.groupId])).catch((error: unknown) =>
      config.onCleanupFailure?.(error),
    );
  }
  return { ranges, records };
}

/** `topic[partition]`, as people and the tests write it. */
function keyOf(topic: string, partition: number): string {
  return `${topic}[${partition}]`;
}

function span(start: string | bigint, stop: string | bigint): number {
  const length = BigInt(stop) - BigInt(start);
  return length > 0n ? Number(length) : 0;
}

function maxOffset(a: string, b: string): string {
  return BigInt(a) >= BigInt(b) ? a : b;
}

function minOffset(a: bigint, b: string): bigint {
  return a <= BigInt(b) ? a : BigInt(b);
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
