import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type CanonicalEvent } from '../canonical.js';
import { type ChangeEvent } from '../envelope.js';
import { DecodeError, RecordTooLargeError, SourceUnavailableError, TransformError } from '../errors.js';
import { createLogger } from '../logger.js';
import { emit, fail, skip, type Stage } from '../stage.js';
import { createCounters } from './counters.js';
import { DEAD_LETTER_HEADERS } from './dead-letter.js';
import {
  type BatchControl,
  type DecodedSourceRecord,
  type OutputRecord,
  type PartitionOffset,
  type SourceRecord,
} from './ports.js';
import { BatchAbandonedError } from './abandon.js';
import { ShutdownDuringRetryError } from './retry.js';
import { type RunnerTelemetry } from './telemetry.js';
import { recordingTelemetry } from './telemetry-testing.js';
import { createTransformBatchHandler } from './transform-runner.js';

const NOW = new Date('2026-11-27T08:00:00.000Z');

function record(offset: number, value: string | null): SourceRecord {
  return {
    topic: 'erp.ErpDemo.dbo.InventoryBalance',
    partition: 3,
    offset: String(offset),
    key: Buffer.from(`k${offset}`),
    value: value === null ? null : Buffer.from(value),
    headers: { origin: 'test' },
    timestamp: '0',
  };
}

function change(table: string, sku: string): ChangeEvent {
  return {
    op: 'u',
    table: { server: 'erp', database: 'ErpDemo', schema: 'dbo', table },
    key: { Sku: sku },
    before: null,
    after: { Sku: sku },
    source: { connector: 'sqlserver', tsMs: 1, snapshot: false },
    position: `pos-${sku}`,
    tsMs: 1,
    transaction: null,
  };
}

function eventFor(c: ChangeEvent): CanonicalEvent {
  return {
    meta: { eventId: `id-${String(c.key['Sku'])}`, eventType: 'StockLevelChanged' },
  } as unknown as CanonicalEvent;
}

/** Decodes the test's record values: "change:<table>:<sku>", "ignore", "tombstone", "bad" or "unavailable". */
function decode(attemptsUntilRegistryBack = 0) {
  let outages = attemptsUntilRegistryBack;
  return async (r: SourceRecord): Promise<DecodedSourceRecord> => {
    const text = r.value?.toString() ?? 'tombstone';
    if (text === 'unavailable' && outages-- > 0) throw new SourceUnavailableError('Registry unreachable');
    if (text === 'bad') throw new DecodeError(`Bad magic byte 0x62 in record ${r.topic}[${r.partition}]@${r.offset}`);
    if (text === 'tombstone') return { kind: 'tombstone' };
    if (text === 'ignore') return { kind: 'ignored', reason: 'heartbeat', detail: 'Heartbeat' };
    const [, table, sku] = text.split(':');
    return { kind: 'change', event: change(table ?? '', sku ?? '') };
  };
}

const stockStage: Stage = {
  name: 'stock_level',
  apply: (c) =>
    c.key['Sku'] === 'SKU-SKIP'
      ? skip('No quantity changed')
      : c.key['Sku'] === 'SKU-BAD'
        ? fail(new TransformError('Missing column QtyOnHand', { stage: 'stock_level' }))
        : emit(eventFor(c)),
};

/** The control of a batch nothing stops, pauses or abandons. */
const steady: BatchControl = {
  heartbeat: async () => {},
  isRunning: () => true,
  abandoned: new AbortController().signal,
  pause: () => {},
  resume: () => {},
};

function harness(options: { outages?: number; running?: () => boolean; telemetry?: RunnerTelemetry } = {}) {
  const commits: { records: readonly OutputRecord[]; offset: PartitionOffset }[] = [];
  const control = { paused: 0, resumed: 0, heartbeats: 0 };
  const counters = createCounters();
  const handler = createTransformBatchHandler({
    decode: decode(options.outages ?? 0),
    stagesFor: (table) => (table.table === 'InventoryBalance' ? [stockStage] : []),
    encode: async (event) => ({
      topic: 'canonical.inventory.v1',
      key: event.meta.eventId,
      value: Buffer.from(event.meta.eventId),
    }),
    output: {
      ensureFits: async () => {},
      commit: async (records, offset) => {
        commits.push({ records, offset });
      },
    },
    deadLetterTopic: 'cdc-sync.dlq',
    backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
    logger: pino({ level: 'silent' }),
    counters,
    ...(options.telemetry === undefined ? {} : { telemetry: options.telemetry }),
    now: () => NOW,
  });
  const batchControl: BatchControl = {
    heartbeat: async () => {
      control.heartbeats++;
    },
    isRunning: options.running ?? (() => true),
    abandoned: new AbortController().signal,
    pause: () => control.paused++,
    resume: () => control.resumed++,
  };
  return { handler, commits, control, counters, batchControl };
}

describe('the transform batch handler', () => {
  it('publishes events, dead letters and the next offset in one commit', async () => {
    const { handler, commits, counters, batchControl } = harness();
    const records = [
      record(10, 'change:InventoryBalance:SKU-1'),
      record(11, 'bad'),
      record(12, 'change:InventoryBalance:SKU-SKIP'),
      record(13, 'change:InventoryBalance:SKU-BAD'),
      record(14, 'ignore'),
      record(15, null),
      record(16, 'change:Item:SKU-9'),
      record(17, 'change:InventoryBalance:SKU-2'),
    ];
    await handler({ topic: records[0]!.topic, partition: 3, records }, batchControl);

    expect(commits).toHaveLength(1);
    expect(commits[0]!.offset).toEqual({ topic: 'erp.ErpDemo.dbo.InventoryBalance', partition: 3, offset: '18' });
    expect(commits[0]!.records.map((r) => [r.topic, String(r.key)])).toEqual([
      ['canonical.inventory.v1', 'id-SKU-1'],
      ['cdc-sync.dlq', 'k11'],
      ['cdc-sync.dlq', 'k13'],
      ['canonical.inventory.v1', 'id-SKU-2'],
    ]);
    expect(commits[0]!.records[1]).toEqual({
      topic: 'cdc-sync.dlq',
      key: Buffer.from('k11'),
      value: Buffer.from('bad'),
      headers: {
        origin: 'test',
        [DEAD_LETTER_HEADERS.topic]: 'erp.ErpDemo.dbo.InventoryBalance',
        [DEAD_LETTER_HEADERS.partition]: '3',
        [DEAD_LETTER_HEADERS.offset]: '11',
        [DEAD_LETTER_HEADERS.stage]: 'decode',
        [DEAD_LETTER_HEADERS.errorClass]: 'DecodeError',
        [DEAD_LETTER_HEADERS.errorMessage]: 'Bad magic byte 0x62 in record erp.ErpDemo.dbo.InventoryBalance[3]@11',
        [DEAD_LETTER_HEADERS.time]: '2026-11-27T08:00:00.000Z',
      },
    });
    expect(commits[0]!.records[2]!.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.stage]: 'stock_level',
      [DEAD_LETTER_HEADERS.errorClass]: 'TransformError',
      [DEAD_LETTER_HEADERS.errorMessage]: 'Missing column QtyOnHand',
    });
    expect(counters.snapshot()).toEqual({
      'batches.committed': 1,
      'records.dead_lettered.decode': 1,
      'records.dead_lettered.stock_level': 1,
      'records.ignored.heartbeat': 1,
      'records.in': 8,
      'records.tombstones': 1,
      'records.unrouted': 1,
      'stage.stock_level.failed': 1,
      'stage.stock_level.in': 4,
      'stage.stock_level.out': 2,
      'stage.stock_level.skipped': 1,
    });
  });

  it('retries a transient failure with the partition paused, never dead-letters it, and counts once', async () => {
    const { handler, commits, control, counters, batchControl } = harness({ outages: 2 });
    const records = [record(0, 'change:InventoryBalance:SKU-1'), record(1, 'unavailable')];
    await handler({ topic: records[0]!.topic, partition: 3, records }, batchControl);

    expect(commits).toHaveLength(1);
    expect(commits[0]!.records.map((r) => r.topic)).toEqual(['canonical.inventory.v1']);
    expect(control).toMatchObject({ paused: 1, resumed: 1 });
    expect(counters.get('batches.retried')).toBe(2);
    expect(counters.get('stage.stock_level.out')).toBe(1);
    expect(counters.get('records.in')).toBe(2);
  });

  it('gives up without committing when the worker stops during a retry', async () => {
    let running = true;
    const { handler, commits, batchControl } = harness({ outages: 100, running: () => running });
    const pending = handler({ topic: 't', partition: 0, records: [record(0, 'unavailable')] }, batchControl);
    running = false;
    await expect(pending).rejects.toBeInstanceOf(ShutdownDuringRetryError);
    expect(commits).toEqual([]);
  });

  it('dead-letters a record whose stage throws, without retrying it', async () => {
    const { commits, batchControl } = harness();
    const throwing: Stage = {
      name: 'buggy',
      apply: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'x')");
      },
    };
    const handler = createTransformBatchHandler({
      decode: decode(),
      stagesFor: () => [throwing],
      encode: async () => {
        throw new Error('not reached');
      },
      output: { ensureFits: async () => {}, commit: async (records, offset) => void commits.push({ records, offset }) },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger: pino({ level: 'silent' }),
      counters: createCounters(),
      now: () => NOW,
    });
    await handler({ topic: 't', partition: 0, records: [record(5, 'change:InventoryBalance:SKU-1')] }, batchControl);
    expect(commits[0]!.records[0]!.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.stage]: 'buggy',
      [DEAD_LETTER_HEADERS.errorClass]: 'TransformError',
      [DEAD_LETTER_HEADERS.errorMessage]: "Stage buggy threw: Cannot read properties of undefined (reading 'x')",
    });
  });
});

describe('the transform batch handler reports to telemetry', () => {
  const topic = 'erp.ErpDemo.dbo.InventoryBalance';

  it('every stage outcome, canonical event, dead letter and consumed record of a committed batch', async () => {
    const { telemetry, calls } = recordingTelemetry();
    const { handler, batchControl } = harness({ telemetry });
    const records = [
      record(10, 'change:InventoryBalance:SKU-1'),
      record(11, 'bad'),
      record(12, 'change:InventoryBalance:SKU-SKIP'),
      record(13, 'change:InventoryBalance:SKU-BAD'),
      record(14, 'ignore'),
      record(15, null),
      record(16, 'change:Item:SKU-9'),
      record(17, 'change:InventoryBalance:SKU-2'),
    ];
    await handler({ topic, partition: 3, records }, batchControl);
    expect(calls).toEqual([
      ['stageRecords', 'stock_level', 'in', 1],
      ['canonicalEvents', 'canonical.inventory.v1', 'StockLevelChanged', 1],
      ['stageRecords', 'stock_level', 'out', 1],
      ['deadLetter', topic, 'decode', 'DecodeError'],
      ['stageRecords', 'stock_level', 'in', 1],
      ['stageRecords', 'stock_level', 'skipped', 1],
      ['stageRecords', 'stock_level', 'in', 1],
      ['stageRecords', 'stock_level', 'failed', 1],
      ['deadLetter', topic, 'stock_level', 'TransformError'],
      ['stageRecords', 'stock_level', 'in', 1],
      ['canonicalEvents', 'canonical.inventory.v1', 'StockLevelChanged', 1],
      ['stageRecords', 'stock_level', 'out', 1],
      ['sourceRecords', 'transform', topic, 8],
    ]);
  });

  it('a batch retried after transient failures once, for the attempt that committed', async () => {
    const { telemetry, calls } = recordingTelemetry();
    const { handler, counters, batchControl } = harness({ outages: 2, telemetry });
    const records = [record(0, 'change:InventoryBalance:SKU-1'), record(1, 'unavailable')];
    await handler({ topic, partition: 3, records }, batchControl);
    expect(counters.get('batches.retried')).toBe(2);
    expect(calls).toEqual([
      ['stageRecords', 'stock_level', 'in', 1],
      ['canonicalEvents', 'canonical.inventory.v1', 'StockLevelChanged', 1],
      ['stageRecords', 'stock_level', 'out', 1],
      ['sourceRecords', 'transform', topic, 2],
    ]);
  });

  it('nothing for a batch that never commits', async () => {
    const { telemetry, calls } = recordingTelemetry();
    let running = true;
    const { handler, batchControl } = harness({ outages: 100, running: () => running, telemetry });
    const pending = handler(
      { topic, partition: 0, records: [record(0, 'change:InventoryBalance:SKU-1'), record(1, 'unavailable')] },
      batchControl,
    );
    running = false;
    await expect(pending).rejects.toBeInstanceOf(ShutdownDuringRetryError);
    expect(calls).toEqual([]);
  });
});

describe('events their schema refuses', () => {
  it('dead-letter the source record under the stage and keep the batch moving', async () => {
    const commits: { records: readonly OutputRecord[]; offset: PartitionOffset }[] = [];
    const handler = createTransformBatchHandler({
      decode: decode(),
      stagesFor: () => [stockStage],
      encode: async (event) => {
        if (event.meta.eventId === 'id-SKU-2') throw new TransformError('Value "1.23456" of onHand exceeds scale 3');
        return { topic: 'canonical.inventory.v1', key: event.meta.eventId, value: null };
      },
      output: { ensureFits: async () => {}, commit: async (records, offset) => void commits.push({ records, offset }) },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger: pino({ level: 'silent' }),
      counters: createCounters(),
      now: () => NOW,
    });
    await handler(
      {
        topic: 't',
        partition: 0,
        records: [record(1, 'change:InventoryBalance:SKU-2'), record(2, 'change:InventoryBalance:SKU-1')],
      },
      steady,
    );
    expect(
      commits[0]!.records.map((r) => [r.topic, r.headers?.[DEAD_LETTER_HEADERS.errorMessage] ?? String(r.key)]),
    ).toEqual([
      ['cdc-sync.dlq', 'Value "1.23456" of onHand exceeds scale 3'],
      ['canonical.inventory.v1', 'id-SKU-1'],
    ]);
  });
});

describe('events too large to produce', () => {
  const tooLarge = (key: string) =>
    new RecordTooLargeError(
      `Record for topic canonical.inventory.v1 with key ${key} takes 2000000 bytes as a record batch of its own; the topic takes at most 1048588 (max.message.bytes)`,
      { topic: 'canonical.inventory.v1' },
    );

  it('dead-letter the source record under the stage, naming topic, key and size, and keep the batch moving', async () => {
    const commits: { records: readonly OutputRecord[]; offset: PartitionOffset }[] = [];
    const counters = createCounters();
    const { telemetry, calls } = recordingTelemetry();
    const handler = createTransformBatchHandler({
      decode: decode(),
      stagesFor: () => [stockStage],
      encode: async (event) => ({ topic: 'canonical.inventory.v1', key: event.meta.eventId, value: null }),
      output: {
        ensureFits: async (output) => {
          if (output.key === 'id-SKU-HUGE') throw tooLarge('id-SKU-HUGE');
        },
        commit: async (records, offset) => void commits.push({ records, offset }),
      },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger: pino({ level: 'silent' }),
      counters,
      telemetry,
      now: () => NOW,
    });
    await handler(
      {
        topic: 't',
        partition: 0,
        records: [
          record(1, 'change:InventoryBalance:SKU-1'),
          record(2, 'change:InventoryBalance:SKU-HUGE'),
          record(3, 'change:InventoryBalance:SKU-2'),
        ],
        // Transaction markers at offsets 4 and 5 end the batch: the commit goes past them.
        endOffset: '6',
      },
      steady,
    );
    expect(commits).toHaveLength(1);
    expect(commits[0]!.offset).toEqual({ topic: 't', partition: 0, offset: '6' });
    expect(commits[0]!.records.map((r) => [r.topic, String(r.key)])).toEqual([
      ['canonical.inventory.v1', 'id-SKU-1'],
      ['cdc-sync.dlq', 'k2'],
      ['canonical.inventory.v1', 'id-SKU-2'],
    ]);
    expect(commits[0]!.records[1]).toEqual({
      topic: 'cdc-sync.dlq',
      key: Buffer.from('k2'),
      value: Buffer.from('change:InventoryBalance:SKU-HUGE'),
      headers: {
        origin: 'test',
        [DEAD_LETTER_HEADERS.topic]: 'erp.ErpDemo.dbo.InventoryBalance',
        [DEAD_LETTER_HEADERS.partition]: '3',
        [DEAD_LETTER_HEADERS.offset]: '2',
        [DEAD_LETTER_HEADERS.stage]: 'stock_level',
        [DEAD_LETTER_HEADERS.errorClass]: 'RecordTooLargeError',
        [DEAD_LETTER_HEADERS.errorMessage]: tooLarge('id-SKU-HUGE').message,
        [DEAD_LETTER_HEADERS.time]: '2026-11-27T08:00:00.000Z',
      },
    });
    expect(counters.snapshot()).toMatchObject({
      'records.dead_lettered.stock_level': 1,
      'stage.stock_level.in': 3,
      'stage.stock_level.out': 2,
      'stage.stock_level.failed': 1,
    });
    expect(calls).toContainEqual([
      'deadLetter',
      'erp.ErpDemo.dbo.InventoryBalance',
      'stock_level',
      'RecordTooLargeError',
    ]);
  });

  it('retry the batch when the limits cannot be read now, and dead-letter nothing', async () => {
    const commits: { records: readonly OutputRecord[]; offset: PartitionOffset }[] = [];
    let outages = 1;
    const handler = createTransformBatchHandler({
      decode: decode(),
      stagesFor: () => [stockStage],
      encode: async (event) => ({ topic: 'canonical.inventory.v1', key: event.meta.eventId, value: null }),
      output: {
        ensureFits: async () => {
          if (outages-- > 0) throw new SourceUnavailableError('Kafka is unavailable: Connection error');
        },
        commit: async (records, offset) => void commits.push({ records, offset }),
      },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger: pino({ level: 'silent' }),
      counters: createCounters(),
      now: () => NOW,
    });
    await handler({ topic: 't', partition: 0, records: [record(1, 'change:InventoryBalance:SKU-1')] }, steady);
    expect(commits.map((commit) => commit.records.map((r) => [r.topic, String(r.key)]))).toEqual([
      [['canonical.inventory.v1', 'id-SKU-1']],
    ]);
  });
});

describe('the transform batch handler’s logging', () => {
  /** The project's redacting logger at `level`, bound like the pipeline binds the runner's, writing into `lines`. */
  function capturingLogger(level: 'debug' | 'info') {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const logger = createLogger({ level, base: { service: 'cdc-sync' } }, stream).child({
      component: 'transform-runner',
    });
    let children = 0;
    const child = logger.child;
    // Children inherit this method from their parent, so it counts their children too.
    logger.child = function (this: Logger, ...args: Parameters<Logger['child']>) {
      children++;
      return child.apply(this, args);
    } as Logger['child'];
    return { logger, lines, children: () => children };
  }

  function handlerLoggingTo(logger: Logger) {
    return createTransformBatchHandler({
      decode: decode(),
      stagesFor: (table) => (table.table === 'InventoryBalance' ? [stockStage] : []),
      encode: async (event) => ({ topic: 'canonical.inventory.v1', key: event.meta.eventId, value: null }),
      output: { ensureFits: async () => {}, commit: async () => {} },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger,
      counters: createCounters(),
      now: () => NOW,
    });
  }

  it('creates no logger per record, however large the batch', async () => {
    const { logger, children } = capturingLogger('debug');
    const records = Array.from({ length: 200 }, (_, i) =>
      record(i, i % 50 === 0 ? 'bad' : `change:InventoryBalance:SKU-${i % 7 === 0 ? 'BAD' : i}`),
    );
    await handlerLoggingTo(logger)({ topic: records[0]!.topic, partition: 3, records }, steady);
    expect(children()).toBe(0);
  });

  it('still gives every record line its topic, partition, offset and stage', async () => {
    const { logger, lines } = capturingLogger('debug');
    const records = [
      record(10, 'change:InventoryBalance:SKU-1'),
      record(11, 'bad'),
      record(12, 'change:InventoryBalance:SKU-SKIP'),
      record(13, 'change:InventoryBalance:SKU-BAD'),
      record(14, 'ignore'),
    ];
    await handlerLoggingTo(logger)({ topic: records[0]!.topic, partition: 3, records }, steady);
    const topic = 'erp.ErpDemo.dbo.InventoryBalance';
    const where = { service: 'cdc-sync', component: 'transform-runner', topic, partition: 3 };
    expect(
      lines.map(({ time: _time, pid: _pid, hostname: _hostname, err, ...line }) => ({
        ...line,
        ...(err === undefined ? {} : { err: (err as { message: string }).message }),
      })),
    ).toEqual([
      {
        ...where,
        level: 20,
        offset: '10',
        stage: 'stock_level',
        eventId: 'id-SKU-1',
        eventType: 'StockLevelChanged',
        msg: 'Emitted canonical event',
      },
      {
        ...where,
        level: 40,
        offset: '11',
        stage: 'decode',
        err: `Bad magic byte 0x62 in record ${topic}[3]@11`,
        msg: 'Dead-lettering a record that cannot be decoded',
      },
      {
        ...where,
        level: 20,
        offset: '12',
        stage: 'stock_level',
        reason: 'No quantity changed',
        msg: 'Stage skipped the change',
      },
      {
        ...where,
        level: 40,
        offset: '13',
        stage: 'stock_level',
        err: 'Missing column QtyOnHand',
        msg: 'Dead-lettering a change the stage rejected',
      },
      { ...where, level: 20, offset: '14', stage: 'decode', reason: 'heartbeat', msg: 'Heartbeat' },
    ]);
  });

  it('writes only warnings at info level', async () => {
    const { logger, lines } = capturingLogger('info');
    const records = [record(10, 'change:InventoryBalance:SKU-1'), record(11, 'bad'), record(12, 'ignore')];
    await handlerLoggingTo(logger)({ topic: records[0]!.topic, partition: 3, records }, steady);
    expect(lines.map((line) => [line['level'], line['offset'], line['msg']])).toEqual([
      [40, '11', 'Dead-lettering a record that cannot be decoded'],
    ]);
  });
});

describe('a transform batch abandoned at stop', () => {
  it('rejects at once while a record still waits, and never commits, even when the record completes later', async () => {
    let finishDecode: () => void = () => {};
    const decoding = new Promise<void>((resolve) => (finishDecode = resolve));
    let started: () => void = () => {};
    const decodeStarted = new Promise<void>((resolve) => (started = resolve));
    const commits: readonly OutputRecord[][] = [];
    const handler = createTransformBatchHandler({
      decode: async (r) => {
        started();
        await decoding;
        return decode()(r);
      },
      stagesFor: () => [stockStage],
      encode: async (event) => ({ topic: 'canonical.inventory.v1', key: event.meta.eventId, value: null }),
      output: {
        ensureFits: async () => {},
        commit: async (records) => void (commits as OutputRecord[][]).push([...records]),
      },
      deadLetterTopic: 'cdc-sync.dlq',
      backoff: { initialMs: 1, maxMs: 2, multiplier: 2 },
      logger: pino({ level: 'silent' }),
      counters: createCounters(),
    });
    const abandon = new AbortController();
    const handling = handler(
      {
        topic: 'erp.ErpDemo.dbo.InventoryBalance',
        partition: 3,
        records: [record(41, 'change:InventoryBalance:SKU-1')],
      },
      {
        heartbeat: async () => {},
        isRunning: () => !abandon.signal.aborted,
        abandoned: abandon.signal,
        pause: () => {},
        resume: () => {},
      },
    );
    await decodeStarted;
    abandon.abort();
    await expect(handling).rejects.toBeInstanceOf(BatchAbandonedError);
    await expect(handling).rejects.toThrow(
      'Abandoned batch erp.ErpDemo.dbo.InventoryBalance[3] offsets 41 to 41 at stop; its offsets stay uncommitted',
    );
    finishDecode();
    await new Promise((resolve) => setImmediate(resolve));
    expect(commits).toEqual([]);
  });
});
