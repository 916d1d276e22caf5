import { type OutputRecord, type SourceRecord } from './ports.js';

/** Header names on dead-lettered records, so tools can group and replay them. */
export const DEAD_LETTER_HEADERS = {
  topic: 'cdc-sync.source.topic',
  partition: 'cdc-sync.source.partition',
  offset: 'cdc-sync.source.offset',
  stage: 'cdc-sync.stage',
  errorClass: 'cdc-sync.error.class',
  errorMessage: 'cdc-sync.error.message',
  time: 'cdc-sync.dead-lettered-at',
} as const;

/**
 * The dead letter for a record that cannot be decoded, transformed or
 * written: its original key and value bytes untouched, its original headers,
 * and headers naming where it came from, the stage, and the error.
 */
export function deadLetterFor(
  record: SourceRecord,
  deadLetterTopic: string,
  stage: string,
  error: Error,
  now: Date,
): OutputRecord {
  return {
    topic: deadLetterTopic,
    key: record.key,
    value: record.value,
    headers: {
      ...record.headers,
      [DEAD_LETTER_HEADERS.topic]: record.topic,
      [DEAD_LETTER_HEADERS.partition]: String(record.partition),
      [DEAD_LETTER_HEADERS.offset]: record.offset,
      [DEAD_LETTER_HEADERS.stage]: stage,
      [DEAD_LETTER_HEADERS.errorClass]: error.name,
      [DEAD_LETTER_HEADERS.errorMessage]: error.message,
      [DEAD_LETTER_HEADERS.time]: now.toISOString(),
    },
  };
}

/** The offset to commit after a batch: one past its last record. */
export function nextOffset(records: readonly SourceRecord[]): string {
  const last = records.at(-1);
  if (last === undefined) throw new RangeError('Cannot compute the next offset of an empty batch');
  return (BigInt(last.offset) + 1n).toString();
}
