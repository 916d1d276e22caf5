import { type Batch, type Consumer, type EachBatchPayload, type KafkaMessage } from 'kafkajs';
import { type BatchControl, type SourceRecord } from '../../core/runner/ports.js';

/**
 * What the pipeline's batch consumer and the bounded range reader both do
 * with kafkajs batches: turn messages into the runner's records, hand the
 * runner its controls, and account for the offsets no handler ever sees,
 * transaction markers and aborted records (a read_committed consumer skips
 * them, yet they take offsets).
 *
 * @see https://kafka.apache.org/documentation/#controlbatch
 */

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

/** The records of a batch, in offset order; kafkajs has already dropped transaction markers and aborted records. */
export function toSourceRecords(batch: Pick<Batch, 'topic' | 'partition' | 'messages'>): SourceRecord[] {
  return batch.messages.map((message) => toSourceRecord(batch.topic, batch.partition, message));
}

/**
 * The offset after everything a batch covered: past its last record and the
 * transaction markers or aborted records behind it (`lastOffset()` counts
 * those; the records do not).
 */
export function offsetAfterBatch(batch: Pick<Batch, 'lastOffset'>): string {
  return offsetAfter(batch.lastOffset());
}

/** The offset after `offset`. */
export function offsetAfter(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/** A batch that held nothing but transaction markers or aborted records; it never reaches `eachBatch`. */
export type FilteredBatch = {
  readonly topic: string;
  readonly partition: number;
  /** The offset after the batch's last marker or aborted record. */
  readonly next: string;
};

/**
 * Calls `listener` for every fetched batch that held only transaction
 * markers or aborted records. kafkajs hands such a batch to no handler and
 * reports it only in its END_BATCH_PROCESS event, with batchSize 0 and
 * firstOffset set (a batch that was really empty has no firstOffset). Without
 * this a reader would never learn that those offsets were passed.
 *
 * @see https://kafka.js.org/docs/instrumentation-events
 */
export function onFilteredBatch(consumer: Consumer, listener: (batch: FilteredBatch) => void): void {
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const filtered = filteredBatchOf(payload);
    if (filtered !== undefined) listener(filtered);
  });
}

/** The {@link FilteredBatch} an END_BATCH_PROCESS payload reports, or `undefined` when it reports anything else. */
export function filteredBatchOf(payload: {
  readonly topic: string;
  readonly partition: number;
  readonly batchSize: number;
  readonly firstOffset: string | null | undefined;
  readonly lastOffset: string;
}): FilteredBatch | undefined {
  if (payload.batchSize !== 0 || payload.firstOffset === null || payload.firstOffset === undefined) return undefined;
  return { topic: payload.topic, partition: payload.partition, next: offsetAfter(payload.lastOffset) };
}

/**
 * The runner's controls over one kafkajs batch: heartbeats, whether the
 * consumer still runs (and the batch is not stale after a seek, and
 * `alsoRunning` holds), the signal that abandons the batch (`abandoned`;
 * none by default), and pausing or resuming the batch's partition, reported
 * to `onPause`.
 */
export function batchControl(
  consumer: Consumer,
  payload: Pick<EachBatchPayload, 'batch' | 'heartbeat' | 'isRunning' | 'isStale'>,
  options: {
    readonly alsoRunning?: () => boolean;
    readonly abandoned?: AbortSignal;
    readonly onPause?: (paused: boolean) => void;
  } = {},
): BatchControl {
  const partitions = [{ topic: payload.batch.topic, partitions: [payload.batch.partition] }];
  return {
    heartbeat: payload.heartbeat,
    isRunning: () => payload.isRunning() && !payload.isStale() && (options.alsoRunning?.() ?? true),
    abandoned: options.abandoned ?? new AbortController().signal,
    pause: () => {
      consumer.pause(partitions);
      options.onPause?.(true);
    },
    resume: () => {
      consumer.resume(partitions);
      options.onPause?.(false);
    },
  };
}
