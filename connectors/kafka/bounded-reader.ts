import { type Admin, type EachBatchPayload, type Kafka } from 'kafkajs';
import { ConfigError, type RecordLocation, SourceUnavailableError } from '../../core/errors.js';
import { type BatchControl, type RecordBatch, type SourceRecord } from '../../core/runner/ports.js';
import { batchControl, offsetAfterBatch, onFilteredBatch, toSourceRecords } from './batches.js';
import { classifyKafkaError } from './classify-error.js';
import { withAdmin } from './with-admin.js';

/**
 * Reading a fixed range of offsets once, for tools that look at or replay
 * what is already in Kafka (`cdc-sync rebuild`, `cdc-sync dlq`): plan the
 * range per partition (or name it), then read it with a throwaway consumer
 * group, read_committed, and stop at its end while producers keep appending.
 */

/** Offsets `[start, stop)` of one partition; offsets are decimal strings, as kafkajs gives them. */
export type OffsetRange = {
  readonly topic: string;
  readonly partition: number;
  readonly start: string;
  readonly stop: string;
};

/** The offsets of one partition, as a read_committed reader sees them. */
export type PartitionOffsets = {
  readonly partition: number;
  /** The earliest offset still held (retention may have deleted older ones). */
  readonly low: string;
  /** The end: the offset after the last decided record (the last stable offset). */
  readonly high: string;
};

/** Where ranges start: the earliest offset still kept, the first offset at or after a time, or where ranges ended. */
export type RangeStart =
  | { readonly kind: 'earliest' }
  | { readonly kind: 'timestamp'; readonly timestamp: Date }
  | { readonly kind: 'after'; readonly ranges: readonly OffsetRange[] };

/** How far a read has come; `covered` and `total` count offsets, transaction markers included. */
export type RangeProgress = {
  readonly covered: number;
  readonly total: number;
  /** Records handed to the handler so far. */
  readonly records: number;
};

/** Handles one batch of records of one partition, as the pipeline's batch handlers do. */
export type RangeHandler = (batch: RecordBatch, control: BatchControl) => Promise<void>;

/** Settings of {@link readOffsetRanges}. */
export type ReadRangesConfig = {
  /** A consumer group of this read's own; it commits nothing and is deleted afterwards. */
  readonly groupId: string;
  /** Bounds one batch: the most bytes fetched per partition at once. Default kafkajs' 1 MiB. */
  readonly maxBytesPerPartition?: number;
  /**
   * Fail when Kafka delivers nothing for this long while ranges are still
   * open; time spent in the handler does not count. Default 30 s.
   */
  readonly idleTimeoutMs?: number;
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
 * How long one fetch may wait for data at the broker. kafkajs' default of
 * 5 s is made for consumers that never stop; a bounded read ends while a
 * fetch is waiting, and leaving the group waits for that fetch to return.
 */
const FETCH_WAIT_MS = 100;

/** Default of {@link ReadRangesConfig.idleTimeoutMs}. */
export const IDLE_TIMEOUT_MS = 30_000;

/**
 * The low and end offsets of each partition of a topic, sorted by partition,
 * or `undefined` when the topic does not exist. The end is the last stable
 * offset, where a read_committed reader stops. Throws a retriable
 * `SourceUnavailableError` when Kafka cannot be reached.
 *
 * @see https://kafka.js.org/docs/admin#a-name-fetch-topic-offsets-a-fetch-topic-offsets
 */
export async function topicOffsets(kafka: Kafka, topic: string): Promise<PartitionOffsets[] | undefined> {
  return withAdmin(
    kafka,
    async (admin) => ((await admin.listTopics()).includes(topic) ? partitionOffsets(admin, topic) : undefined),
    { topic },
  );
}

/**
 * The ranges from `from` to the current end of every partition of `topics`.
 * The end is each partition's last stable offset now; records appended later
 * are not part of the range. A partition that `after` does not name (added
 * since) starts at its earliest offset. Throws a `ConfigError` naming a
 * topic that does not exist, and a retriable `SourceUnavailableError` when
 * Kafka cannot be reached.
 *
 * @see https://kafka.js.org/docs/admin#a-name-fetch-topic-offsets-by-timestamp-a-fetch-topic-offsets-by-timestamp
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
      // Reading a missing topic as empty would look like "no records", e.g. swap an empty read model in.
      throw new ConfigError(
        missing.length === 1
          ? `Topic ${missing[0]} does not exist in Kafka`
          : `Topics ${missing.join(', ')} do not exist in Kafka`,
      );
    }
    const ranges: OffsetRange[] = [];
    for (const topic of topics) {
      ranges.push(...planRanges(topic, await partitionOffsets(admin, topic), await startsOf(admin, topic, from)));
    }
    return ranges;
  });
}

/**
 * The ranges of `topic` from `starts` (by partition) to each partition's
 * `high`, given offsets fetched already. A start below `low` (deleted by
 * retention) moves up to it; a partition without a start starts at `low`; a
 * start past `high` makes an empty range at that start. Pure.
 */
export function planRanges(
  topic: string,
  offsets: readonly PartitionOffsets[],
  starts: ReadonlyMap<number, string>,
): OffsetRange[] {
  return offsets.map(({ partition, low, high }) => {
    const start = maxOffset(low, starts.get(partition) ?? low);
    return { topic, partition, start, stop: maxOffset(start, high) };
  });
}

/**
 * Reads every range once and hands its records to `handler` in
 * per-partition batches, as the pipeline's consumers do, then leaves and
 * deletes the group. Reads committed data only (`read_committed`): aborted
 * transactions are skipped. Records outside the ranges are never handed
 * over, and none twice. Resolves once every partition reached its stop;
 * rejects with the handler's error (nothing more is read after it), a
 * classified Kafka error, or a retriable `SourceUnavailableError` when Kafka
 * delivers nothing for `idleTimeoutMs`.
 *
 * Completion counts offsets, not records: transaction markers take offsets
 * too and never reach a handler, so a partition's position comes from the
 * batch's last offset, and from kafkajs' report of batches holding only
 * markers or aborted records.
 *
 * The group starts each partition at its range's start by seeking when it
 * joins (before the first fetch), rather than committing start offsets with
 * the admin API beforehand: kafkajs' `setOffsets` runs a consumer of its own
 * that waits a whole fetch wait (5 s) before it returns.
 *
 * @see https://kafka.js.org/docs/consuming#a-name-seek-a-seek
 * @see https://kafka.js.org/docs/instrumentation-events
 */
export async function readOffsetRanges(
  kafka: Kafka,
  ranges: readonly OffsetRange[],
  config: ReadRangesConfig,
  handler: RangeHandler,
): Promise<ReadSummary> {
  const tracker = createRangeTracker(ranges);
  const report = () => config.onProgress?.(tracker.progress());
  report();
  if (tracker.done()) return { ranges, records: 0 };

  const topics = [...new Set(ranges.map((range) => range.topic))];
  const location: RecordLocation = topics.length === 1 ? { topic: topics[0]! } : {};
  const idleTimeoutMs = config.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const consumer = kafka.consumer({
    groupId: config.groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: FETCH_WAIT_MS,
    ...(config.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: config.maxBytesPerPartition }),
  });
  const outcome = createOutcome();
  let lastActivity = Date.now();
  let inHandler = false;
  const pauseOne = (topic: string, partition: number) => consumer.pause([{ topic, partitions: [partition] }]);
  const covered = (topic: string, partition: number, next: string) => {
    lastActivity = Date.now();
    if (outcome.settled()) return;
    if (tracker.cover(topic, partition, next)) pauseOne(topic, partition);
    report();
    if (tracker.done()) outcome.resolve();
  };

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    // Emitted before the first fetch of each generation: a rejoin continues where this read got to.
    for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
      for (const partition of partitions) {
        const position = tracker.position(topic, partition);
        if (position !== undefined) consumer.seek({ topic, partition, offset: position });
        if (!tracker.isOpen(topic, partition)) pauseOne(topic, partition);
      }
    }
  });
  onFilteredBatch(consumer, ({ topic, partition, next }) => covered(topic, partition, next));
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    // kafkajs restarts the consumer after a retriable crash; the idle timeout catches one that never recovers.
    if (!payload.restart) outcome.reject(classifyKafkaError(payload.error, location));
  });
  const idle = setInterval(
    () => {
      if (inHandler || Date.now() - lastActivity < idleTimeoutMs) return;
      outcome.reject(
        new SourceUnavailableError(
          `Reading ${topics.join(', ')} made no progress for ${formatDuration(idleTimeoutMs)}; ` +
            `still open: ${tracker.open().join(', ')}`,
          location,
        ),
      );
    },
    Math.min(1000, idleTimeoutMs),
  );

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    lastActivity = Date.now();
    if (outcome.settled() || !tracker.isOpen(batch.topic, batch.partition)) {
      pauseOne(batch.topic, batch.partition);
      return;
    }
    const records = tracker.due(toSourceRecords(batch));
    if (records.length > 0) {
      inHandler = true;
      try {
        await handler(
          { topic: batch.topic, partition: batch.partition, records },
          batchControl(consumer, payload, { alsoRunning: () => !outcome.settled() }),
        );
      } catch (error: unknown) {
        // The handler's failure ends the read; kafkajs would only retry the batch.
        outcome.reject(error);
        return;
      } finally {
        inHandler = false;
        lastActivity = Date.now();
      }
      tracker.handed(records.length);
    }
    covered(batch.topic, batch.partition, offsetAfterBatch(batch));
  }

  try {
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatch });
    await outcome.promise;
  } catch (error: unknown) {
    throw classifyKafkaError(error, location);
  } finally {
    clearInterval(idle);
    await consumer.disconnect().catch(() => undefined);
    await withAdmin(kafka, (admin) => deleteGroup(admin, config.groupId)).catch((error: unknown) =>
      config.onCleanupFailure?.(error),
    );
  }
  return { ranges, records: tracker.progress().records };
}

/** A {@link RangeHandler} that calls `onRecord` for each record in turn, awaiting each. */
export function eachRecord(onRecord: (record: SourceRecord) => void | Promise<void>): RangeHandler {
  return async (batch) => {
    for (const record of batch.records) await onRecord(record);
  };
}

/** Where a bounded read stands, per partition; see {@link createRangeTracker}. */
export type RangeTracker = {
  /** Whether the partition is part of the read and not at its stop yet. */
  isOpen(topic: string, partition: number): boolean;
  /** The first offset not covered yet (the stop once complete); `undefined` for a partition outside the read. */
  position(topic: string, partition: number): string | undefined;
  /** The records still due: at or after their partition's position and before its stop, in the given order. */
  due(records: readonly SourceRecord[]): SourceRecord[];
  /** Counts records handed to the handler. */
  handed(count: number): void;
  /** Marks the offsets before `next` covered; true when this completed the partition's range. */
  cover(topic: string, partition: number, next: string): boolean;
  progress(): RangeProgress;
  done(): boolean;
  /** `topic[partition]@position` of each range still open. */
  open(): string[];
};

/**
 * Tracks the positions of a read over `ranges`: each starts at its range's
 * start, only moves forward, and stops at its range's stop. Pure. Throws a
 * `TypeError` when a partition has two ranges.
 */
export function createRangeTracker(ranges: readonly OffsetRange[]): RangeTracker {
  const entries = new Map<string, { readonly start: bigint; readonly stop: bigint; position: bigint }>();
  for (const range of ranges) {
    const key = keyOf(range.topic, range.partition);
    if (entries.has(key)) throw new TypeError(`Partition ${key} has more than one range`);
    const start = BigInt(range.start);
    entries.set(key, { start, stop: BigInt(range.stop), position: start });
  }
  let records = 0;
  const isOpen = (topic: string, partition: number) => {
    const entry = entries.get(keyOf(topic, partition));
    return entry !== undefined && entry.position < entry.stop;
  };
  return {
    isOpen,
    position: (topic, partition) => entries.get(keyOf(topic, partition))?.position.toString(),
    due: (records) =>
      records.filter((record) => {
        const entry = entries.get(keyOf(record.topic, record.partition));
        const offset = BigInt(record.offset);
        return entry !== undefined && offset >= entry.position && offset < entry.stop;
      }),
    handed: (count) => void (records += count),
    cover(topic, partition, next) {
      const entry = entries.get(keyOf(topic, partition));
      if (entry === undefined || entry.position >= entry.stop) return false;
      const offset = BigInt(next);
      if (offset <= entry.position) return false;
      entry.position = offset < entry.stop ? offset : entry.stop;
      return entry.position === entry.stop;
    },
    progress: () => {
      let covered = 0n;
      let total = 0n;
      for (const { start, stop, position } of entries.values()) {
        if (stop <= start) continue;
        covered += position - start;
        total += stop - start;
      }
      return { covered: Number(covered), total: Number(total), records };
    },
    done: () => [...entries.values()].every((entry) => entry.position >= entry.stop),
    open: () =>
      [...entries].filter(([, entry]) => entry.position < entry.stop).map(([key, entry]) => `${key}@${entry.position}`),
  };
}

async function partitionOffsets(admin: Admin, topic: string): Promise<PartitionOffsets[]> {
  return (await admin.fetchTopicOffsets(topic))
    .map(({ partition, low, high }) => ({ partition, low, high }))
    .sort((a, b) => a.partition - b.partition);
}

/** The start offset per partition that `from` names for `topic`; partitions left out start at their earliest. */
async function startsOf(admin: Admin, topic: string, from: RangeStart): Promise<Map<number, string>> {
  switch (from.kind) {
    case 'earliest':
      return new Map();
    case 'timestamp':
      return new Map(
        (await admin.fetchTopicOffsetsByTimestamp(topic, from.timestamp.getTime())).map((entry) => [
          entry.partition,
          entry.offset,
        ]),
      );
    case 'after':
      return new Map(
        from.ranges.filter((range) => range.topic === topic).map((range) => [range.partition, range.stop]),
      );
  }
}

/**
 * Deletes a throwaway group. A group that never committed an offset may be
 * gone already once its last member left; that counts as deleted.
 */
async function deleteGroup(admin: Admin, groupId: string): Promise<void> {
  try {
    await admin.deleteGroups([groupId]);
  } catch (error: unknown) {
    const groups = (error as { groups?: readonly { error?: { type?: string } }[] }).groups;
    if (groups?.every((group) => group.error?.type === 'GROUP_ID_NOT_FOUND') !== true) throw error;
  }
}

/** How the read ends: resolved once, or rejected with the first error. */
function createOutcome() {
  let state: 'open' | 'settled' = 'open';
  let settle: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // Awaited once the consumer runs; an error before that must not count as unhandled meanwhile.
  promise.catch(() => undefined);
  return {
    promise,
    settled: () => state === 'settled',
    resolve: () => {
      if (state === 'settled') return;
      state = 'settled';
      settle!.resolve();
    },
    reject: (error: unknown) => {
      if (state === 'settled') return;
      state = 'settled';
      settle!.reject(error);
    },
  };
}

/** `30 s`, or `1500 ms` for what whole seconds do not say exactly. */
function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** `topic[partition]`, as people and the tests write it. */
function keyOf(topic: string, partition: number): string {
  return `${topic}[${partition}]`;
}

function maxOffset(a: string, b: string): string {
  return BigInt(a) >= BigInt(b) ? a : b;
}
