import { type ChangeEvent } from '../envelope.js';

/**
 * The runner's view of Kafka. `connectors/kafka/` implements these ports with
 * kafkajs; the runner in this folder owns what happens around them: batching,
 * retries with backoff, pausing, dead-lettering and offset commits.
 */

/** One consumed record, bytes untouched. */
export type SourceRecord = {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Kafka record timestamp, epoch milliseconds as a string. */
  readonly timestamp: string;
};

/** A record to produce. */
export type OutputRecord = {
  readonly topic: string;
  readonly key: Buffer | string | null;
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, string>>;
};

/** The offset to commit for a partition: the offset of the next record to read. */
export type PartitionOffset = { readonly topic: string; readonly partition: number; readonly offset: string };

/** One batch of records of a single partition. */
export type RecordBatch = {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly SourceRecord[];
  /**
   * The offset to commit once every record is handled: after everything the
   * batch covered, past the transaction markers or aborted records that end
   * it (they take offsets, yet no handler sees them). Absent: one past the
   * last record.
   */
  readonly endOffset?: string;
};

/** Controls the consumer exposes to a batch handler while it runs. */
export type BatchControl = {
  /** Keeps group membership alive during long work such as backoff. */
  heartbeat(): Promise<void>;
  /** False once the worker is shutting down; a handler then gives up without committing. */
  isRunning(): boolean;
  /**
   * Aborted when the worker stops waiting for the batch: a stop's bound
   * passed while it was in flight. The handler then gives up at once and
   * commits nothing of it, even when work it started completes later.
   */
  readonly abandoned: AbortSignal;
  /** Stops fetching this batch's partition until {@link BatchControl.resume}. */
  pause(): void;
  resume(): void;
};

/** A consumer group member delivering batches; offsets are committed only by the handler's outputs. */
export type BatchConsumer = {
  run(handler: (batch: RecordBatch, control: BatchControl) => Promise<void>): Promise<void>;
  /** Finishes the in-flight batch, then leaves the group. */
  stop(): Promise<void>;
};

/**
 * Produces a batch's outputs and commits its offsets atomically: one Kafka
 * transaction with `sendOffsets`. Read-committed readers see all or nothing.
 */
export type TransactionalOutput = {
  /**
   * Resolves when `record` can be produced; rejects with a
   * `RecordTooLargeError` naming topic, key and size when it never can (it
   * alone is larger than its topic or a produce request takes), or with a
   * retriable error when the limits cannot be read now.
   */
  ensureFits(record: OutputRecord): Promise<void>;
  /**
   * Commits, however many produce requests the records need. Rejects with a
   * `RecordTooLargeError`, committing nothing, when a record never fits.
   */
  commit(records: readonly OutputRecord[], offset: PartitionOffset): Promise<void>;
};

/**
 * Non-transactional producing (dead letters of the sink role) and plain
 * offset commits. `send` rejects with a `RecordTooLargeError` when a record
 * never fits a produce request.
 */
export type PlainOutput = {
  send(records: readonly OutputRecord[]): Promise<void>;
  commitOffset(offset: PartitionOffset): Promise<void>;
};

/** What a source record turned out to be, as `connectors/` decodes it. */
export type DecodedSourceRecord =
  | { readonly kind: 'change'; readonly event: ChangeEvent }
  | { readonly kind: 'tombstone' }
  | { readonly kind: 'ignored'; readonly reason: string; readonly detail: string };
