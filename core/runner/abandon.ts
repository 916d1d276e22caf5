import { PipelineError } from '../errors.js';
import { type RecordBatch } from './ports.js';

/**
 * Thrown when the worker abandons a batch at stop, because the stop's bound
 * (`stopTimeoutMs`) passed before the batch finished: nothing of the batch
 * was committed, so its records are read again after a restart. Never
 * retried.
 */
export class BatchAbandonedError extends PipelineError {
  readonly retriable = false;
}

/**
 * Settles like `work`, unless the batch is abandoned first (`abandoned`
 * aborts): then rejects at once with a {@link BatchAbandonedError}. Work
 * under way goes on in the background and its outcome is dropped; it must
 * call {@link throwIfAbandoned} before it commits anything.
 */
export function unlessAbandoned<T>(work: Promise<T>, abandoned: AbortSignal, batch: RecordBatch): Promise<T> {
  if (abandoned.aborted) return Promise.reject(abandonedError(batch));
  let onAbort: () => void = () => {};
  const abandonment = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(abandonedError(batch));
    abandoned.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, abandonment]).finally(() => abandoned.removeEventListener('abort', onAbort));
}

/** Throws a {@link BatchAbandonedError} once the batch is abandoned; called right before committing. */
export function throwIfAbandoned(abandoned: AbortSignal, batch: RecordBatch): void {
  if (abandoned.aborted) throw abandonedError(batch);
}

function abandonedError(batch: RecordBatch): BatchAbandonedError {
  const first = batch.records[0]?.offset;
  return new BatchAbandonedError(
    `Abandoned batch ${batch.topic}[${batch.partition}] offsets ${first} to ${batch.records.at(-1)?.offset} at stop; its offsets stay uncommitted`,
    { topic: batch.topic, partition: batch.partition, ...(first === undefined ? {} : { offset: first }) },
  );
}
