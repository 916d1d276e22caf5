import { describe, expect, it } from 'vitest';
import { type SourceRecord } from '../../core/runner/ports.js';
import { createRangeTracker, eachRecord, type OffsetRange, planRanges } from './bounded-reader.js';

// What a bounded read decides without Kafka: where each partition's range starts and stops, which records are due,
// and when a partition is complete. The reads themselves run against the real broker in
// test/integration/dlq-replay.test.ts (dlq list, show, replay) and test/integration/rebuild.test.ts (rebuild, catch-up).

const offsets = [
  { partition: 0, low: '10', high: '20' },
  { partition: 1, low: '0', high: '5' },
];

describe('planRanges', () => {
  it.each([
    ['no starts: every partition from its earliest offset', [], ['10..20', '0..5']],
    [
      'starts inside the partitions',
      [
        [0, '15'],
        [1, '3'],
      ],
      ['15..20', '3..5'],
    ],
    ['a start deleted by retention moves up to the earliest offset', [[0, '4']], ['10..20', '0..5']],
    ['a start at the end: an empty range', [[0, '20']], ['20..20', '0..5']],
    ['a start past the end: an empty range at that start', [[1, '9']], ['10..20', '9..9']],
    ['a start of a partition the topic lacks is ignored', [[7, '3']], ['10..20', '0..5']],
  ] as const)('%s', (_case, starts, expected) => {
    const ranges = planRanges('dlq', offsets, new Map(starts.map(([partition, offset]) => [partition, offset])));
    expect(ranges.map((range) => `${range.start}..${range.stop}`)).toEqual(expected);
    expect(ranges.map((range) => [range.topic, range.partition])).toEqual([
      ['dlq', 0],
      ['dlq', 1],
    ]);
  });
});

const record = (topic: string, partition: number, offset: number): SourceRecord => ({
  topic,
  partition,
  offset: String(offset),
  key: null,
  value: Buffer.from(`${topic}[${partition}]@${offset}`),
  headers: {},
  timestamp: '0',
});

describe('createRangeTracker', () => {
  const ranges: OffsetRange[] = [
    { topic: 'orders', partition: 0, start: '3', stop: '7' },
    { topic: 'orders', partition: 1, start: '5', stop: '5' },
    { topic: 'stock', partition: 0, start: '0', stop: '2' },
  ];

  it('starts every partition at its range start; an empty range is complete from the start', () => {
    const tracker = createRangeTracker(ranges);
    expect(tracker.progress()).toEqual({ covered: 0, total: 6, records: 0 });
    expect(tracker.position('orders', 0)).toBe('3');
    expect(tracker.isOpen('orders', 0)).toBe(true);
    expect(tracker.isOpen('orders', 1)).toBe(false);
    expect(tracker.position('orders', 2)).toBeUndefined();
    expect(tracker.isOpen('orders', 2)).toBe(false);
    expect(tracker.open()).toEqual(['orders[0]@3', 'stock[0]@0']);
    expect(tracker.done()).toBe(false);
  });

  it('hands out only records at or after the position and before the stop, of partitions in the read', () => {
    const tracker = createRangeTracker(ranges);
    const batch = [2, 3, 4, 6, 7, 8].map((offset) => record('orders', 0, offset));
    expect(tracker.due([...batch, record('orders', 2, 4), record('orders', 1, 5)]).map((r) => r.offset)).toEqual([
      '3',
      '4',
      '6',
    ]);
    tracker.cover('orders', 0, '5');
    // A batch fetched again after a rejoin: what was covered is not handed out twice.
    expect(tracker.due(batch).map((r) => r.offset)).toEqual(['6']);
  });

  it('counts transaction markers as covered: a range ending in a marker completes without a record at its end', () => {
    const tracker = createRangeTracker(ranges);
    // Records at 3 and 4, then a commit marker at 5: the batch's last offset is 5.
    expect(tracker.cover('orders', 0, '6')).toBe(false);
    tracker.handed(2);
    expect(tracker.progress()).toEqual({ covered: 3, total: 6, records: 2 });
    // A batch of only a commit marker at 6, reported by kafkajs outside eachBatch.
    expect(tracker.cover('orders', 0, '7')).toBe(true);
    expect(tracker.isOpen('orders', 0)).toBe(false);
    expect(tracker.position('orders', 0)).toBe('7');
    expect(tracker.progress()).toEqual({ covered: 4, total: 6, records: 2 });
  });

  it('never moves backwards, never past the stop, and completes a partition once', () => {
    const tracker = createRangeTracker(ranges);
    expect(tracker.cover('stock', 0, '1')).toBe(false);
    expect(tracker.cover('stock', 0, '0')).toBe(false);
    expect(tracker.position('stock', 0)).toBe('1');
    // Records appended after the read started are in the batch; the position stops at the range's stop.
    expect(tracker.cover('stock', 0, '40')).toBe(true);
    expect(tracker.position('stock', 0)).toBe('2');
    expect(tracker.cover('stock', 0, '41')).toBe(false);
    expect(tracker.cover('elsewhere', 0, '5')).toBe(false);
    expect(tracker.done()).toBe(false);
    expect(tracker.cover('orders', 0, '7')).toBe(true);
    expect(tracker.done()).toBe(true);
    expect(tracker.open()).toEqual([]);
    expect(tracker.progress()).toEqual({ covered: 6, total: 6, records: 0 });
  });

  it('refuses two ranges of one partition', () => {
    expect(() => createRangeTracker([ranges[0]!, { ...ranges[0]!, start: '9', stop: '12' }])).toThrow(
      new TypeError('Partition orders[0] has more than one range'),
    );
  });
});

describe('eachRecord', () => {
  it('calls back once per record, in order, each awaited before the next', async () => {
    const seen: string[] = [];
    const handler = eachRecord(async (r) => {
      await new Promise((resolve) => setTimeout(resolve, r.offset === '1' ? 20 : 0));
      seen.push(r.offset);
    });
    const control = {
      heartbeat: async () => {},
      isRunning: () => true,
      abandoned: new AbortController().signal,
      pause: () => {},
      resume: () => {},
    };
    await handler({ topic: 't', partition: 0, records: [record('t', 0, 1), record('t', 0, 2)] }, control);
    expect(seen).toEqual(['1', '2']);
  });
});
