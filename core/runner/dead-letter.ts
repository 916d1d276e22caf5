import { DecodeError } from '../errors.js';
import { type OutputRecord, type PartitionOffset, type RecordBatch, type SourceRecord } from './ports.js';

/**
 * Header names on dead-lettered records, so tools can group and replay them.
 * The `replay*` headers mark records `cdc-sync dlq replay` sent back through
 * the stages: the canonical events it produced, and the dead letter of a
 * record that failed again (`deadLetterFor` keeps a record's headers).
 */
export const DEAD_LETTER_HEADERS = {
  topic: 'cdc-sync.source.topic',
  partition: 'cdc-sync.source.partition',
  offset: 'cdc-sync.source.offset',
  stage: 'cdc-sync.stage',
  errorClass: 'cdc-sync.error.class',
  errorMessage: 'cdc-sync.error.message',
  time: 'cdc-sync.dead-lettered-at',
  /** How many replays of the original record there have been, this one included: `1` on the first replay. */
  replayCount: 'cdc-sync.replay.count',
  /** The dead letter a replay came from, as `<dead-letter topic>/<partition>/<offset>`. */
  replayOf: 'cdc-sync.replay.of',
} as const;

/** The stage name of dead letters whose bytes could not be decoded. */
export const DECODE_STAGE = 'decode';

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

/** The offset to commit once a batch is handled: its `endOffset`, or one past its last record. */
export function batchEndOffset(batch: RecordBatch): string {
  return batch.endOffset ?? nextOffset(batch.records);
}

/** A dead letter read back: where it sits, the original record, and what went wrong. */
export type DeadLetter = {
  /** Where the dead letter sits in the dead-letter topic. */
  readonly location: PartitionOffset;
  /**
   * The original record: its topic, partition and offset from the headers,
   * its key and value bytes untouched, its own headers (without the
   * dead-letter and replay headers), and the dead letter's timestamp.
   */
  readonly original: SourceRecord;
  /** `decode`, a transform stage's name, or a sink's name. */
  readonly stage: string;
  readonly errorClass: string;
  readonly errorMessage: string;
  /** ISO-8601 time the record was dead-lettered. */
  readonly deadLetteredAt: string;
  /** How many replays of the original record failed already: 0 for a first dead letter. */
  readonly replayCount: number;
  /** The dead letter whose replay failed into this one, `<topic>/<partition>/<offset>`; null for a first dead letter. */
  readonly replayOf: string | null;
  /** Every header of the dead letter, as read. */
  readonly headers: Readonly<Record<string, string>>;
};

type RequiredHeader = 'topic' | 'partition' | 'offset' | 'stage' | 'errorClass' | 'errorMessage' | 'time';
const OWN_HEADERS: ReadonlySet<string> = new Set(Object.values(DEAD_LETTER_HEADERS));

/**
 * Reads a record of the dead-letter topic back into a {@link DeadLetter}.
 * Throws a `DecodeError` naming the record and the header for a record
 * without the dead-letter headers or with a malformed partition, offset or
 * replay count (a record some other producer wrote to the topic).
 */
export function readDeadLetter(record: SourceRecord): DeadLetter {
  const location = { topic: record.topic, partition: record.partition, offset: record.offset };
  const where = formatDeadLetterLocation(location);
  const bad = (message: string) => new DecodeError(`${message} in dead letter ${where}`, location);
  const header = (name: RequiredHeader): string => {
    const value = record.headers[DEAD_LETTER_HEADERS[name]];
    if (value === undefined) throw bad(`Missing header ${DEAD_LETTER_HEADERS[name]}`);
    return value;
  };
  const whole = (name: string, value: string): string => {
    if (!/^\d+$/.test(value)) throw bad(`Invalid header ${name} ${JSON.stringify(value)}, expected a whole number`);
    return value;
  };
  const topic = header('topic');
  const partition = Number(whole(DEAD_LETTER_HEADERS.partition, header('partition')));
  const offset = BigInt(whole(DEAD_LETTER_HEADERS.offset, header('offset'))).toString();
  const stage = header('stage');
  const errorClass = header('errorClass');
  const errorMessage = header('errorMessage');
  const deadLetteredAt = header('time');
  const countText = record.headers[DEAD_LETTER_HEADERS.replayCount];
  const replayCount = countText === undefined ? 0 : Number(whole(DEAD_LETTER_HEADERS.replayCount, countText));
  const originalHeaders = Object.fromEntries(Object.entries(record.headers).filter(([name]) => !OWN_HEADERS.has(name)));
  return {
    location,
    original: {
      topic,
      partition,
      offset,
      key: record.key,
      value: record.value,
      headers: originalHeaders,
      timestamp: record.timestamp,
    },
    stage,
    errorClass,
    errorMessage,
    deadLetteredAt,
    replayCount,
    replayOf: record.headers[DEAD_LETTER_HEADERS.replayOf] ?? null,
    headers: record.headers,
  };
}

/**
 * The headers that mark a replay of `deadLetter`: the attempt number (its
 * replay count plus one) and where it came from. Put on every record the
 * replay produces; a dead letter of a failed replay carries them on.
 */
export function replayHeaders(deadLetter: DeadLetter): Record<string, string> {
  return {
    [DEAD_LETTER_HEADERS.replayCount]: String(deadLetter.replayCount + 1),
    [DEAD_LETTER_HEADERS.replayOf]: formatDeadLetterLocation(deadLetter.location),
  };
}

/** The original record of a dead letter, marked as its replay; what a replay sends back through the stages. */
export function replayRecordOf(deadLetter: DeadLetter): SourceRecord {
  return { ...deadLetter.original, headers: { ...deadLetter.original.headers, ...replayHeaders(deadLetter) } };
}

/** A dead letter's place as `<topic>/<partition>/<offset>`, the value of the replay-of header. */
export function formatDeadLetterLocation(location: PartitionOffset): string {
  return `${location.topic}/${location.partition}/${location.offset}`;
}
