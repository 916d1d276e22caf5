import { type RecordBatch } from './ports.js';

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
