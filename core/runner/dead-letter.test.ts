import { describe, expect, it } from 'vitest';
import { DecodeError, TransformError } from '../errors.js';
import {
  DEAD_LETTER_HEADERS,
  deadLetterFor,
  formatDeadLetterLocation,
  readDeadLetter,
  replayRecordOf,
} from './dead-letter.js';
import { type OutputRecord, type SourceRecord } from './ports.js';

const original: SourceRecord = {
  topic: 'erp.ErpDemo.dbo.SalesOrderHeader',
  partition: 2,
  offset: '41',
  key: Buffer.from([0, 0, 0, 0, 7, 2]),
  value: Buffer.from([0, 0, 0, 0, 8, 4, 6]),
  headers: { traceparent: '00-abc-def-01' },
  timestamp: '1764230400000',
};
const at = new Date('2026-11-27T08:00:00.000Z');

/** A produced dead letter as a consumer of the dead-letter topic reads it back. */
function consumed(output: OutputRecord, offset: string): SourceRecord {
  return {
    topic: output.topic,
    partition: 0,
    offset,
    key: output.key as Buffer | null,
    value: output.value,
    headers: { ...output.headers },
    timestamp: '1764230401000',
  };
}

describe('reading dead letters back', () => {
  const first = consumed(
    deadLetterFor(original, 'cdc-sync.dlq', 'order_header', new TransformError('Unknown StatusCode "PK"'), at),
    '5',
  );

  it('recovers the original record, its own headers and what went wrong', () => {
    expect(readDeadLetter(first)).toEqual({
      location: { topic: 'cdc-sync.dlq', partition: 0, offset: '5' },
      original: { ...original, timestamp: '1764230401000' },
      stage: 'order_header',
      errorClass: 'TransformError',
      errorMessage: 'Unknown StatusCode "PK"',
      deadLetteredAt: '2026-11-27T08:00:00.000Z',
      replayCount: 0,
      replayOf: null,
      headers: first.headers,
    });
  });

  it('counts replays: a failed replay is dead-lettered with the count raised and where it came from', () => {
    const replay = replayRecordOf(readDeadLetter(first));
    expect(replay.headers).toEqual({
      traceparent: '00-abc-def-01',
      [DEAD_LETTER_HEADERS.replayCount]: '1',
      [DEAD_LETTER_HEADERS.replayOf]: 'cdc-sync.dlq/0/5',
    });
    const again = consumed(deadLetterFor(replay, 'cdc-sync.dlq', 'order_header', new TransformError('Still'), at), '9');
    const read = readDeadLetter(again);
    expect([read.replayCount, read.replayOf, read.errorMessage]).toEqual([1, 'cdc-sync.dlq/0/5', 'Still']);
    expect(read.original).toEqual({ ...original, timestamp: '1764230401000' });
    const third = readDeadLetter(
      consumed(deadLetterFor(replayRecordOf(read), 'cdc-sync.dlq', 'order_header', new TransformError('x'), at), '12'),
    );
    expect([third.replayCount, third.replayOf]).toEqual([2, 'cdc-sync.dlq/0/9']);
  });

  it.each([
    ['without the dead-letter headers', {}, 'Missing header cdc-sync.source.topic in dead letter cdc-sync.dlq/0/5'],
    [
      'with a malformed offset',
      { [DEAD_LETTER_HEADERS.offset]: '4x' },
      'Invalid header cdc-sync.source.offset "4x", expected a whole number in dead letter cdc-sync.dlq/0/5',
    ],
    [
      'with a malformed replay count',
      { [DEAD_LETTER_HEADERS.replayCount]: '-1' },
      'Invalid header cdc-sync.replay.count "-1", expected a whole number in dead letter cdc-sync.dlq/0/5',
    ],
  ])('refuses a record %s, naming it', (_case, headers, message) => {
    const record = { ...first, headers: Object.keys(headers).length === 0 ? {} : { ...first.headers, ...headers } };
    const error = catchError(() => readDeadLetter(record));
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).message).toBe(message);
    expect((error as DecodeError).location).toEqual({ topic: 'cdc-sync.dlq', partition: 0, offset: '5' });
  });

  it('formats a location as topic/partition/offset', () => {
    expect(formatDeadLetterLocation({ topic: 'a.dlq', partition: 3, offset: '17' })).toBe('a.dlq/3/17');
  });
});

function catchError(work: () => unknown): unknown {
  try {
    work();
  } catch (error: unknown) {
    return error;
  }
  throw new Error('Expected an error');
}
