import { describe, expect, it } from 'vitest';
import { RecordTooLargeError } from '../../core/errors.js';
import { type OutputRecord } from '../../core/runner/ports.js';
import { RECORD_BATCH_OVERHEAD_BYTES, soloBatchBytes, splitToFit } from './produce-limits.js';

function record(topic: string, key: string | null, valueBytes: number, headers?: Record<string, string>): OutputRecord {
  return { topic, key, value: Buffer.alloc(valueBytes, 1), ...(headers === undefined ? {} : { headers }) };
}

describe('soloBatchBytes', () => {
  // Measured against a broker: a topic with max.message.bytes 200 took the 122-byte value and refused the 123-byte one.
  it.each([
    ['a keyed record with a header', record('t', 'key', 122, { a: 'bc' }), 200],
    ['one byte more', record('t', 'key', 123, { a: 'bc' }), 201],
    ['a record without key and headers', record('t', null, 10), RECORD_BATCH_OVERHEAD_BYTES + 1 + 16],
    ['a key as bytes', { topic: 't', key: Buffer.from('key'), value: Buffer.alloc(122), headers: { a: 'bc' } }, 200],
    ['a tombstone', { topic: 't', key: 'k', value: null }, RECORD_BATCH_OVERHEAD_BYTES + 1 + 7],
    [
      'a value whose length needs a two-byte varint',
      record('t', null, 100),
      RECORD_BATCH_OVERHEAD_BYTES + 2 + 1 + 1 + 1 + 1 + 2 + 100 + 1,
    ],
  ])('counts %s as the broker does', (_case, output, bytes) => {
    expect(soloBatchBytes(output)).toBe(bytes);
  });
});

describe('splitToFit', () => {
  const limits: Record<string, number> = { inventory: 400, order: 1_000_000 };
  const limitOf = (topic: string) => limits[topic]!;

  it('keeps records that fit together in one group', () => {
    const records = [record('inventory', 'a', 50), record('order', 'b', 50), record('inventory', 'c', 50)];
    expect(splitToFit(records, limitOf, 1_048_576)).toEqual([records]);
  });

  it('cuts a topic’s records where its record batch would outgrow max.message.bytes, keeping their order', () => {
    // Each record takes 111 bytes in a batch: three take 61 + 3 × 111 = 394 bytes, four would take 505.
    const records = Array.from({ length: 7 }, (_, i) => record('inventory', `k${i}`, 100));
    const groups = splitToFit(records, limitOf, 1_048_576);
    expect(groups.map((group) => group.map((r) => r.key))).toEqual([['k0', 'k1', 'k2'], ['k3', 'k4', 'k5'], ['k6']]);
  });

  it('cuts where the request would outgrow maxRequestBytes, over all topics', () => {
    const records = [record('order', 'a', 100), record('inventory', 'b', 100), record('order', 'c', 100)];
    // Two batches of one record take 171 bytes each; the third record would add 110 to the 342.
    expect(splitToFit(records, limitOf, 400).map((group) => group.map((r) => r.key))).toEqual([['a', 'b'], ['c']]);
  });

  it('refuses a record that can never fit its topic, naming topic, key, size and limit', () => {
    const records = [record('inventory', 'a', 10), record('inventory', 'SKU-1@WH-EAST', 400)];
    expect(() => splitToFit(records, limitOf, 1_048_576)).toThrow(
      new RecordTooLargeError(
        'Record for topic inventory with key SKU-1@WH-EAST takes 483 bytes as a record batch of its own; the topic takes at most 400 (max.message.bytes)',
        { topic: 'inventory' },
      ),
    );
  });

  it('refuses a record larger than a produce request, naming the setting', () => {
    const error = (() => {
      try {
        splitToFit([record('order', 'SO-1', 1000)], limitOf, 1000);
      } catch (thrown: unknown) {
        return thrown;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect((error as RecordTooLargeError).message).toBe(
      'Record for topic order with key SO-1 takes 1074 bytes as a record batch of its own; a produce request takes at most 1000 (kafka.maxRequestBytes)',
    );
    expect((error as RecordTooLargeError).location).toEqual({ topic: 'order' });
  });

  it('names a key that is not text by its bytes', () => {
    const output: OutputRecord = { topic: 'inventory', key: Buffer.from([0, 0, 0, 0, 7, 2]), value: Buffer.alloc(400) };
    expect(() => splitToFit([output], limitOf, 1_048_576)).toThrow(/ with key 0x000000000702 takes 476 bytes /);
  });

  it('makes no groups of no records', () => {
    expect(splitToFit([], limitOf, 1_048_576)).toEqual([]);
  });
});
