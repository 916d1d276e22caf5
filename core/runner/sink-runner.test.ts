import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type CanonicalEvent } from '../canonical.js';
import { ConfigError, DecodeError, SinkWriteError } from '../errors.js';
import { type Sink } from '../sink.js';
import { backoffDelay } from './backoff.js';
import { createCounters } from './counters.js';
import { DEAD_LETTER_HEADERS } from './dead-letter.js';
import { type BatchControl, type OutputRecord, type PartitionOffset, type SourceRecord } from './ports.js';
import { createSinkBatchHandler } from './sink-runner.js';

const control: BatchControl = { heartbeat: async () => {}, isRunning: () => true, pause: () => {}, resume: () => {} };

function record(offset: number, value: string): SourceRecord {
  return {
    topic: 'canonical.order.v1',
    partition: 1,
    offset: String(offset),
    key: Buffer.from('SO-1'),
    value: Buffer.from(value),
    headers: {},
    timestamp: '0',
  };
}

function event(id: string, eventType: CanonicalEvent['meta']['eventType']): CanonicalEvent {
  return { meta: { eventId: id, eventType } } as unknown as CanonicalEvent;
}

describe('the sink batch handler', () => {
  it('writes each sink its events, dead-letters rejects and bad bytes, then commits the next offset', async () => {
    const log: string[] = [];
    const written: Record<string, string[]> = { order_view: [], inventory: [] };
    const orderView: Sink = {
      name: 'order_view',
      input: ['OrderAccepted', 'PaymentCaptured'],
      requirements: { idempotent: true, keyed: true },
      write: async (events) => {
        written['order_view']!.push(...events.map((e) => e.meta.eventId));
        log.push('write');
        const bad = events.find((e) => e.meta.eventId === 'e3')!;
        return {
          applied: 1,
          stale: 0,
          rejected: [{ event: bad, error: new SinkWriteError('Document too large', { retriable: false }) }],
        };
      },
    };
    const inventory: Sink = {
      ...orderView,
      name: 'inventory',
      input: ['StockLevelChanged'],
      write: async () => ({ applied: 0, stale: 0, rejected: [] }),
    };
    const sent: OutputRecord[] = [];
    const commits: PartitionOffset[] = [];
    const counters = createCounters();
    const handler = createSinkBatchHandler({
      decode: async (r) => {
        const text = r.value!.toString();
        if (text === 'bad')
          throw new DecodeError(`Bad magic byte 0x62 in record ${r.topic}[${r.partition}]@${r.offset}`);
        const [id, type] = text.split(':');
        return event(id!, type as CanonicalEvent['meta']['eventType']);
      },
      sinks: [orderView, inventory],
      output: {
        send: async (records) => {
          log.push('dead-letter');
          sent.push(...records);
        },
        commitOffset: async (offset) => {
          log.push('commit');
          commits.push(offset);
        },
      },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger: pino({ level: 'silent' }),
      counters,
      now: () => new Date('2026-11-27T08:00:00.000Z'),
    });

    await handler(
      {
        topic: 'canonical.order.v1',
        partition: 1,
        records: [record(40, 'e1:OrderAccepted'), record(41, 'bad'), record(42, 'e3:PaymentCaptured')],
      },
      control,
    );

    expect(written).toEqual({ order_view: ['e1', 'e3'], inventory: [] });
    expect(log).toEqual(['write', 'dead-letter', 'commit']);
    expect(commits).toEqual([{ topic: 'canonical.order.v1', partition: 1, offset: '43' }]);
    expect(
      sent.map((r) => [
        r.headers![DEAD_LETTER_HEADERS.offset],
        r.headers![DEAD_LETTER_HEADERS.stage],
        r.headers![DEAD_LETTER_HEADERS.errorClass],
      ]),
    ).toEqual([
      ['41', 'decode', 'DecodeError'],
      ['42', 'order_view', 'SinkWriteError'],
    ]);
    expect(counters.snapshot()).toEqual({
      'batches.committed': 1,
      'records.dead_lettered.decode': 1,
      'records.dead_lettered.order_view': 1,
      'records.in': 3,
      'sink.order_view.applied': 1,
      'sink.order_view.rejected': 1,
      'sink.order_view.stale': 0,
    });
  });

  it('retries a transient sink failure and commits only after the write succeeds', async () => {
    let failures = 2;
    const commits: PartitionOffset[] = [];
    const sink: Sink = {
      name: 'order_view',
      input: ['OrderAccepted'],
      requirements: { idempotent: true, keyed: true },
      write: async () => {
        if (failures-- > 0) throw new SinkWriteError('connection refused', { retriable: true });
        return { applied: 1, stale: 0, rejected: [] };
      },
    };
    const counters = createCounters();
    const handler = createSinkBatchHandler({
      decode: async () => event('e1', 'OrderAccepted'),
      sinks: [sink],
      output: { send: async () => {}, commitOffset: async (o) => void commits.push(o) },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger: pino({ level: 'silent' }),
      counters,
    });
    await handler({ topic: 'canonical.order.v1', partition: 0, records: [record(7, 'x')] }, control);
    expect(commits).toEqual([{ topic: 'canonical.order.v1', partition: 0, offset: '8' }]);
    expect(counters.get('batches.retried')).toBe(2);
    expect(counters.get('sink.order_view.applied')).toBe(1);
  });

  it('refuses a sink that is not idempotent', () => {
    const sink = {
      name: 'append_only',
      input: [],
      requirements: { idempotent: false, keyed: false },
      write: async () => ({ applied: 0, stale: 0, rejected: [] }),
    } as Sink;
    expect(() =>
      createSinkBatchHandler({
        decode: async () => event('e', 'OrderAccepted'),
        sinks: [sink],
        output: { send: async () => {}, commitOffset: async () => {} },
        deadLetterTopic: 'd',
        backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
        logger: pino({ level: 'silent' }),
        counters: createCounters(),
      }),
    ).toThrow(
      new ConfigError('Sink append_only is not idempotent; the runner retries whole batches and needs it to be'),
    );
  });
});

describe('backoffDelay', () => {
  it.each([
    [0, 0, 250],
    [0, 1, 500],
    [3, 0.5, 3000],
    [10, 1, 30_000],
  ])('attempt %i with random %d waits %i ms', (attempt, random, expected) => {
    expect(backoffDelay({ initialMs: 500, maxMs: 30_000, multiplier: 2 }, attempt, () => random)).toBe(expected);
  });
});
