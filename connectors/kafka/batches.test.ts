import { type Consumer, type KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { batchControl, filteredBatchOf, offsetAfterBatch, toSourceRecord, toSourceRecords } from './batches.js';

const message = (offset: string, headers: NonNullable<KafkaMessage['headers']> = {}): KafkaMessage => ({
  offset,
  key: Buffer.from('SO-1'),
  value: Buffer.from('{}'),
  headers,
  timestamp: '1764230400000',
  attributes: 0,
});

describe('toSourceRecord', () => {
  it('keeps bytes and position, joins repeated headers with commas and drops headers without a value', () => {
    expect(
      toSourceRecord(
        'orders',
        2,
        message('41', { one: Buffer.from('a'), many: [Buffer.from('b'), 'c'], none: undefined }),
      ),
    ).toEqual({
      topic: 'orders',
      partition: 2,
      offset: '41',
      key: Buffer.from('SO-1'),
      value: Buffer.from('{}'),
      headers: { one: 'a', many: 'b,c' },
      timestamp: '1764230400000',
    });
  });

  it('maps a batch in offset order', () => {
    const records = toSourceRecords({ topic: 'orders', partition: 0, messages: [message('3'), message('4')] });
    expect(records.map((r) => `${r.topic}[${r.partition}]@${r.offset}`)).toEqual(['orders[0]@3', 'orders[0]@4']);
  });
});

describe('offsets past transaction markers', () => {
  it('goes past the last offset of a batch, which counts the markers behind its records', () => {
    expect(offsetAfterBatch({ lastOffset: () => '9007199254740993' })).toBe('9007199254740994');
  });

  it.each([
    ['only markers or aborted records', { batchSize: 0, firstOffset: '7', lastOffset: '8' }, '9'],
    ['records (eachBatch had them)', { batchSize: 2, firstOffset: '7', lastOffset: '9' }, undefined],
    ['nothing at all', { batchSize: 0, firstOffset: null, lastOffset: '41' }, undefined],
  ] as const)('a batch end of %s', (_case, payload, next) => {
    const filtered = filteredBatchOf({ topic: 'orders', partition: 1, ...payload });
    expect(filtered).toEqual(next === undefined ? undefined : { topic: 'orders', partition: 1, next });
  });
});

describe('batchControl', () => {
  const calls: string[] = [];
  const consumer = {
    pause: (partitions: unknown) => void calls.push(`pause ${JSON.stringify(partitions)}`),
    resume: (partitions: unknown) => void calls.push(`resume ${JSON.stringify(partitions)}`),
  } as unknown as Consumer;
  const payload = (running: boolean, stale: boolean) => ({
    batch: { topic: 'orders', partition: 3 } as never,
    heartbeat: async () => {},
    isRunning: () => running,
    isStale: () => stale,
  });

  it.each([
    [true, false, true, true],
    [false, false, true, false],
    [true, true, true, false],
    [true, false, false, false],
  ])('running %s, stale %s, also running %s: isRunning is %s', (running, stale, also, expected) => {
    expect(batchControl(consumer, payload(running, stale), { alsoRunning: () => also }).isRunning()).toBe(expected);
  });

  it("pauses and resumes only the batch's partition, and says so", () => {
    calls.length = 0;
    const reported: boolean[] = [];
    const control = batchControl(consumer, payload(true, false), { onPause: (paused) => reported.push(paused) });
    control.pause();
    control.resume();
    expect(calls).toEqual([
      'pause [{"topic":"orders","partitions":[3]}]',
      'resume [{"topic":"orders","partitions":[3]}]',
    ]);
    expect(reported).toEqual([true, false]);
  });
});
