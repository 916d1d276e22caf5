import { type RecordBatch, type SourceRecord } from './ports.js';

/**
 * Log fields of a whole batch: its topic and partition and the offsets of its
 * first and last record, so a batch-level line (a retry, an acknowledged sink
 * write) still leads to the records it is about.
 */
export function batchLocation(batch: RecordBatch): {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: string | undefined;
  readonly lastOffset: string | undefined;
} {
  return {
    topic: batch.topic,
    partition: batch.partition,
    firstOffset: batch.records[0]?.offset,
    lastOffset: batch.records.at(-1)?.offset,
  };
}

/**
 * Log fields of one record and the stage handling it (`decode`, a stage or a
 * sink), spread into a line's own fields: cheaper than a child logger per
 * record, whose bindings pino builds and redacts even when nothing is logged.
 */
export function recordLocation(
  record: SourceRecord,
  stage: string,
): {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly stage: string;
} {
  return { topic: record.topic, partition: record.partition, offset: record.offset, stage };
}
