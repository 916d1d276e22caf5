import { pino } from 'pino';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { type CanonicalEvent } from '../canonical.js';
import { ConfigError, DecodeError, SinkWriteError, SourceUnavailableError } from '../errors.js';
import { type Sink } from '../sink.js';
import { BatchAbandonedError } from './abandon.js';
import { backoffDelay } from './backoff.js';
import { createCounters } from './counters.js';
import { DEAD_LETTER_HEADERS } from './dead-letter.js';
import { type BatchControl, type OutputRecord, type PartitionOffset, type SourceRecord } from './ports.js';
import { createSinkBatchHandler } from './sink-runner.js';
import { recordingTelemetry } from './telemetry-testing.js';

const control: BatchControl = {
  heartbeat: async () => {},
  isRunning: () => true,
  abandoned: new AbortController().signal,
  pause: () => {},
  resume: () => {},
};

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
    // A batch ended by a transaction's commit marker (offset 10) is committed past it, in the same commit.
    await handler({ topic: 'canonical.order.v1', partition: 0, records: [record(9, 'x')], endOffset: '11' }, control);
    expect(commits.at(-1)).toEqual({ topic: 'canonical.order.v1', partition: 0, offset: '11' });
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

describe('the sink batch handler reports to telemetry', () => {
  const NOW = new Date('2026-11-27T08:00:00.000Z');
  /** An event with the version and commit time freshness needs; "e1" is at position p-1, committed at second 1. */
  const versioned = (id: string, eventType: CanonicalEvent['meta']['eventType']): CanonicalEvent =>
    ({
      meta: {
        eventId: id,
        eventType,
        sourcePosition: `p-${id.slice(1)}`,
        sourceCommittedAt: Number(id.slice(1)) * 1000,
      },
    }) as unknown as CanonicalEvent;
  const decode = async (r: SourceRecord) => {
    const text = r.value!.toString();
    if (text === 'bad') throw new DecodeError(`Bad magic byte 0x62 in record ${r.topic}[${r.partition}]@${r.offset}`);
    const [id, type] = text.split(':');
    return versioned(id!, type as CanonicalEvent['meta']['eventType']);
  };

  it('per sink: events handed, applied, stale and rejected, the write, the applied events, dead letters and records', async () => {
    const { telemetry, calls } = recordingTelemetry();
    // The write's duration comes from the monotonic clock; here the write alone moves it, by 250 ms.
    let clockMs = 7_000;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => clockMs);
    onTestFinished(() => clock.mockRestore());
    const orderView: Sink = {
      name: 'order_view',
      input: ['OrderAccepted', 'PaymentCaptured'],
      requirements: { idempotent: true, keyed: true },
      write: async (events) => {
        clockMs += 250;
        return {
          applied: 1,
          stale: 1,
          rejected: [
            {
              event: events.find((e) => e.meta.eventId === 'e4')!,
              error: new SinkWriteError('Too large', { retriable: false }),
            },
          ],
        };
      },
    };
    const inventory: Sink = { ...orderView, name: 'inventory', input: ['StockLevelChanged'] };
    const handler = createSinkBatchHandler({
      decode,
      sinks: [orderView, inventory],
      output: { send: async () => {}, commitOffset: async () => {} },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger: pino({ level: 'silent' }),
      counters: createCounters(),
      telemetry,
      now: () => NOW,
    });
    await handler(
      {
        topic: 'canonical.order.v1',
        partition: 1,
        records: [
          record(40, 'e1:OrderAccepted'),
          record(41, 'bad'),
          record(42, 'e3:PaymentCaptured'),
          record(43, 'e4:PaymentCaptured'),
        ],
      },
      control,
    );
    expect(calls).toEqual([
      ['deadLetter', 'canonical.order.v1', 'decode', 'DecodeError'],
      ['stageRecords', 'order_view', 'in', 3],
      ['stageRecords', 'order_view', 'out', 1],
      ['stageRecords', 'order_view', 'skipped', 1],
      ['stageRecords', 'order_view', 'failed', 1],
      ['sinkWrite', 'order_view', 0.25],
      [
        'sinkApplied',
        'order_view',
        [
          expect.objectContaining({ sourcePosition: 'p-1', sourceCommittedAt: 1000 }),
          expect.objectContaining({ sourcePosition: 'p-3', sourceCommittedAt: 3000 }),
        ],
        NOW,
      ],
      ['deadLetter', 'canonical.order.v1', 'order_view', 'SinkWriteError'],
      ['sourceRecords', 'sink', 'canonical.order.v1', 4],
    ]);
  });

  it('counts the compare-and-set rounds a sink lost to concurrent writers', async () => {
    const { telemetry, calls } = recordingTelemetry();
    const counters = createCounters();
    const inventory: Sink = {
      name: 'inventory_availability',
      input: ['StockLevelChanged'],
      requirements: { idempotent: true, keyed: false },
      write: async (events) => ({ applied: events.length, stale: 0, rejected: [], contention: 3 }),
    };
    const handler = createSinkBatchHandler({
      decode,
      sinks: [inventory],
      output: { send: async () => {}, commitOffset: async () => {} },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger: pino({ level: 'silent' }),
      counters,
      telemetry,
      now: () => NOW,
    });
    await handler(
      { topic: 'canonical.inventory.v1', partition: 0, records: [record(7, 'e7:StockLevelChanged')] },
      control,
    );

    expect(calls.filter(([method]) => method === 'sinkContention')).toEqual([
      ['sinkContention', 'inventory_availability', 3],
    ]);
    expect(counters.snapshot()['sink.inventory_availability.contention']).toBe(3);
  });

  it('a batch whose offset commit failed once only for the attempt that committed', async () => {
    const { telemetry, calls } = recordingTelemetry();
    let writes = 0;
    let commitFailures = 1;
    const sink: Sink = {
      name: 'order_view',
      input: ['OrderAccepted'],
      requirements: { idempotent: true, keyed: true },
      // The first write applies the event; the retried batch finds it applied already.
      write: async () =>
        writes++ === 0 ? { applied: 1, stale: 0, rejected: [] } : { applied: 0, stale: 1, rejected: [] },
    };
    const handler = createSinkBatchHandler({
      decode,
      sinks: [sink],
      output: {
        send: async () => {},
        commitOffset: async () => {
          if (commitFailures-- > 0) throw new SourceUnavailableError('Kafka is unavailable: connection refused');
        },
      },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger: pino({ level: 'silent' }),
      counters: createCounters(),
      telemetry,
      now: () => NOW,
    });
    await handler({ topic: 'canonical.order.v1', partition: 0, records: [record(7, 'e7:OrderAccepted')] }, control);
    expect(writes).toBe(2);
    expect(calls.filter(([method]) => method !== 'sinkWrite')).toEqual([
      ['stageRecords', 'order_view', 'in', 1],
      ['stageRecords', 'order_view', 'out', 0],
      ['stageRecords', 'order_view', 'skipped', 1],
      ['stageRecords', 'order_view', 'failed', 0],
      ['sinkApplied', 'order_view', [expect.objectContaining({ sourcePosition: 'p-7' })], NOW],
      ['sourceRecords', 'sink', 'canonical.order.v1', 1],
    ]);
    expect(calls.filter(([method]) => method === 'sinkWrite')).toHaveLength(1);
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

describe('a sink batch abandoned at stop', () => {
  it('rejects at once while its write still hangs, and never commits, even when the write completes later', async () => {
    let finishWrite: () => void = () => {};
    const writing = new Promise<void>((resolve) => (finishWrite = resolve));
    let started: () => void = () => {};
    const writeStarted = new Promise<void>((resolve) => (started = resolve));
    const sink: Sink = {
      name: 'inventory_availability',
      input: ['StockLevelChanged'],
      requirements: { idempotent: true, keyed: true },
      write: async () => {
        started();
        await writing;
        return { applied: 1, stale: 0, rejected: [] };
      },
    };
    const outputs: string[] = [];
    const handler = createSinkBatchHandler({
      decode: async (r) => event(r.value!.toString(), 'StockLevelChanged'),
      sinks: [sink],
      output: {
        send: async () => void outputs.push('dead letters'),
        commitOffset: async (offset) => void outputs.push(`commit ${offset.offset}`),
      },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger: pino({ level: 'silent' }),
      counters: createCounters(),
    });
    const abandon = new AbortController();
    const handling = handler(
      { topic: 'canonical.inventory.v1', partition: 0, records: [record(7, 'e1'), record(8, 'e2')] },
      { ...control, isRunning: () => !abandon.signal.aborted, abandoned: abandon.signal },
    );
    await writeStarted;
    abandon.abort();
    await expect(handling).rejects.toThrow(
      new BatchAbandonedError(
        'Abandoned batch canonical.inventory.v1[0] offsets 7 to 8 at stop; its offsets stay uncommitted',
        { topic: 'canonical.inventory.v1', partition: 0, offset: '7' },
      ),
    );
    finishWrite();
    await new Promise((resolve) => setImmediate(resolve));
    expect(outputs).toEqual([]);
  });
});
