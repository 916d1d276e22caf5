import { readFileSync } from 'node:fs';
import { type AdminConfig, type ConsumerConfig, type Kafka } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PipelineConfig } from '../../ops/pipeline-config.js';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { SinkWriteError } from '../../core/errors.js';
import { DEAD_LETTER_HEADERS, deadLetterFor } from '../../core/runner/dead-letter.js';
import { type SourceRecord } from '../../core/runner/ports.js';
import { createDlqCommand } from '../../cli/dlq-command.js';
import { type DeadLetterListing, type ShownDeadLetter } from '../../ops/dlq/inspect.js';
import { type DlqReplaySummary, replayGroupId } from '../../ops/dlq/replay.js';
import { type RunningPipeline, startPipeline } from '../../ops/pipeline.js';
import { silentProgress } from '../../ops/progress.js';
import { createCanonicalRegistryCodec } from '../../connectors/canonical/registry.js';
import { eachRecord, planOffsetRanges, readOffsetRanges } from '../../connectors/kafka/bounded-reader.js';
import { canonicalAt, dec } from '../../sinks/testing.js';
import { writeConfigFile } from './config-file.js';
import { eventually } from './erp-scenario.js';
import { uniqueName } from './services.js';
import {
  isolatedPipelineConfig,
  kafkaFor,
  produceFixtures,
  waitCaughtUp,
  waitCaughtUpTransactional,
} from './pipeline-harness.js';

// A stage that is broken by its config, then fixed: the ERP starts using StatusCode PK, which the configured
// transforms.order_header.statusMap lacks. The change dead-letters; the config is fixed and the pipeline restarted;
// a later change of the same order is applied; `cdc-sync dlq replay` then brings in what the dead letter held.

const STATUS_MAP = { NW: 'PENDING', AC: 'ACCEPTED', SH: 'SHIPPED', CL: 'CLOSED', CX: 'CANCELLED' };
const broken = isolatedPipelineConfig({ transforms: { order_header: { statusMap: STATUS_MAP } } });
const fixed: PipelineConfig = {
  ...broken,
  transforms: { order_header: { statusMap: { ...STATUS_MAP, PK: 'PICKING' } } },
};
const fixedPath = writeConfigFile(fixed, 'fixed.json');
const silent = pino({ level: 'silent' });
const kafka = kafkaFor(fixed);
const mongo = new MongoClient(fixed.mongodb.uri);
const dlqTopic = fixed.topics.deadLetter;
const headerTopic = sourceTopic(fixed.source, 'dbo.SalesOrderHeader');
const canonicalTopics = [fixed.topics.inventory, fixed.topics.order];

const baseRow = (
  JSON.parse(readFileSync('test/fixtures/erp/order-lifecycle.json', 'utf8')) as {
    changes: { after: Record<string, unknown> }[];
  }
).changes[0]!.after;
const row = (orderNumber: string, statusCode: string, orderTotal: string, modifiedAt: string) => ({
  ...baseRow,
  OrderNumber: orderNumber,
  StatusCode: statusCode,
  OrderTotal: orderTotal,
  ModifiedAt: modifiedAt,
  RowGuid: '3F2504E0-4F89-41D3-9A0C-0305E82C3390',
});
const fixture = (name: string, startLsn: string, changes: unknown[]) => ({
  name,
  raw: { server: 'erp', database: 'ErpDemo', startLsn, changes },
});

// Placed at 48.23, then in one update moved to PK (unknown to the broken config) and raised to 52.50.
const placed = row('SO-DLQ-1', 'NW', '48.2300', '2025-11-27T08:00:00.000000000');
const picking = row('SO-DLQ-1', 'PK', '52.5000', '2025-11-27T09:00:00.000000000');
const phase1 = fixture('phase 1', '00000025:00000400:0001', [
  { table: 'dbo.SalesOrderHeader', op: 'c', after: placed },
  { table: 'dbo.SalesOrderHeader', op: 'u', before: placed, after: picking },
]);
// Later, with the fixed config running: the order ships.
const phase2 = fixture('phase 2', '00000030:00000100:0001', [
  {
    table: 'dbo.SalesOrderHeader',
    op: 'u',
    before: picking,
    after: row('SO-DLQ-1', 'SH', '52.5000', '2025-11-27T15:00:00.000000000'),
  },
]);
// A code no config maps: its replays fail every time.
const phase3 = fixture('phase 3', '00000035:00000100:0001', [
  { table: 'dbo.SalesOrderHeader', op: 'c', after: row('SO-DLQ-2', 'ZZ', '10.0000', '2025-11-28T08:00:00.000000000') },
]);

let pipeline: RunningPipeline | undefined;

/** Runs `cdc-sync dlq <args> --config <path>` through its commander object and returns what it printed. */
async function dlq(args: string[], configPath = fixedPath): Promise<string> {
  let output = '';
  await createDlqCommand({
    env: {},
    stdout: (text) => (output += text),
    progress: silentProgress,
    logger: () => silent,
  }).parseAsync([...args, '--config', configPath], { from: 'user' });
  return output;
}

async function replay(...args: string[]): Promise<DlqReplaySummary> {
  return JSON.parse(await dlq(['replay', '--json', ...args])) as DlqReplaySummary;
}

async function settle(): Promise<void> {
  // Only the header topic has records; an empty topic has no committed offset to wait for.
  await waitCaughtUp(kafka, fixed.transform.groupId, [headerTopic]);
  await waitCaughtUpTransactional(kafka, fixed.sink.groupId, canonicalTopics);
}

async function order(orderNumber: string) {
  return mongo
    .db(fixed.mongodb.database)
    .collection('order_view')
    .findOne({ _id: orderNumber as never });
}

/** Every committed record of a topic up to its end now, in offset order per partition: a bounded read, no idle wait. */
async function readAll(topic: string): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  const ranges = await planOffsetRanges(kafka, [topic], { kind: 'earliest' });
  await readOffsetRanges(
    kafka,
    ranges,
    { groupId: uniqueName('dlq-test-reader') },
    eachRecord((record) => void records.push(record)),
  );
  return records;
}

const deadLetters = (): Promise<SourceRecord[]> => readAll(dlqTopic);

/** The summary counts a replay reports, without the plan and names. */
function counts(summary: DlqReplaySummary) {
  const { planned: _planned, deadLetterTopic: _topic, groupId: _group, ...rest } = summary;
  return rest;
}

const NOTHING = {
  dryRun: false,
  read: 0,
  replayed: 0,
  emitted: 0,
  reapplied: 0,
  stale: 0,
  failedAgain: 0,
  skippedMaxAttempts: 0,
  alreadyReplayed: 0,
  notSelected: 0,
  stageMissing: 0,
  superseded: 0,
  unreadable: 0,
  ledgerRangesDropped: 0,
  complete: true,
};

describe('cdc-sync dlq list, show and replay after a stage was fixed in config', () => {
  let pkDeadLetter: SourceRecord;

  beforeAll(async () => {
    await mongo.connect();
    await produceFixtures(broken, [phase1]);
    const first = await startPipeline(broken, 'all', silent);
    try {
      await settle();
    } finally {
      await first.stop();
    }
    await produceFixtures(fixed, [phase2]);
    pipeline = await startPipeline(fixed, 'all', silent);
    await settle();
  });

  afterAll(async () => {
    await pipeline?.stop();
    await mongo.db(fixed.mongodb.database).dropDatabase();
    await mongo.close();
  });

  it('dead-lettered exactly the change with the unmapped code, and applied the later change', async () => {
    const records = await deadLetters();
    expect(
      records.map((r) => [r.offset, r.headers[DEAD_LETTER_HEADERS.stage], r.headers[DEAD_LETTER_HEADERS.offset]]),
    ).toEqual([['0', 'order_header', '1']]);
    pkDeadLetter = records[0]!;
    expect(await order('SO-DLQ-1')).toMatchObject({
      status: 'SHIPPED',
      statusInfo: { status: 'SHIPPED', erpStatus: 'SH' },
      // The raise to 52.50 came with the dead-lettered change.
      header: { orderTotal: dec('48.2300') },
    });
  });

  it('lists the dead letter by topic, stage and error class', async () => {
    const listing = JSON.parse(await dlq(['list', '--json'])) as DeadLetterListing;
    const at = pkDeadLetter.headers[DEAD_LETTER_HEADERS.time]!;
    expect(listing).toEqual({
      topic: dlqTopic,
      partitions: [{ partition: 0, low: '0', high: '2' }],
      total: 1,
      unreadable: 0,
      groups: [
        {
          topic: headerTopic,
          stage: 'order_header',
          errorClass: 'TransformError',
          count: 1,
          replays: 0,
          first: at,
          last: at,
        },
      ],
    });
    expect(await dlq(['list'])).toBe(
      [
        'TOPIC' +
          ' '.repeat(headerTopic.length - 5) +
          '  STAGE         ERROR           COUNT  REPLAYS  FIRST' +
          ' '.repeat(at.length - 5) +
          '  LAST',
        `${headerTopic}  order_header  TransformError  1      0        ${at}  ${at}`,
        '',
        `1 dead letter in ${dlqTopic} (partition 0 offsets 0..2)`,
        '',
      ].join('\n'),
    );
  });

  it('shows the dead letter decoded through the source decoder', async () => {
    const shown = JSON.parse(await dlq(['show', '0:0', '--json'])) as ShownDeadLetter;
    expect(shown).toMatchObject({
      location: { topic: dlqTopic, partition: 0, offset: '0' },
      deadLetter: {
        original: { topic: headerTopic, partition: 0, offset: '1' },
        stage: 'order_header',
        errorClass: 'TransformError',
        errorMessage: expect.stringContaining('Unknown StatusCode "PK" of order SO-DLQ-1'),
        replayCount: 0,
        replayOf: null,
      },
      problem: null,
      decodedAs: 'debezium',
      decodeError: null,
      decoded: {
        kind: 'change',
        event: {
          op: 'u',
          key: { OrderNumber: 'SO-DLQ-1' },
          before: { StatusCode: 'NW', OrderTotal: '48.2300' },
          after: { StatusCode: 'PK', OrderTotal: '52.5000' },
        },
      },
    });
    expect(shown.headers).toEqual(pkDeadLetter.headers);
    expect(shown.value).toEqual({
      length: pkDeadLetter.value!.length,
      hexPrefix: pkDeadLetter.value!.subarray(0, 32).toString('hex'),
    });
    const text = await dlq(['show', '--partition', '0', '--offset', '0']);
    expect(text).toContain(`  original:   ${headerTopic} partition 0 offset 1\n  stage:      order_header\n`);
    expect(text).toContain('Decoded as a debezium record:');
  });

  it('says what an offset without a dead letter holds', async () => {
    // Offset 1 is the commit marker of the transform worker's transaction.
    await expect(dlq(['show', '0:1'])).rejects.toThrow(
      `Offset 1 of ${dlqTopic} partition 0 holds no record (a transaction marker or an aborted record)`,
    );
    await expect(dlq(['show', '0:7'])).rejects.toThrow(
      `No dead letter at ${dlqTopic} partition 0 offset 7; the partition holds offsets 0 to 1`,
    );
  });

  it('reads a range with short fetch waits and places its group by seeking, never through the admin API', async () => {
    // What made each bounded read of `dlq list` and `dlq show` take over 5 s: leaving the group during kafkajs'
    // default 5 s fetch wait, and placing the group with the admin's setOffsets (a consumer of its own that waits a
    // whole fetch wait). Watched here through the Kafka client the read is given.
    const consumers: ConsumerConfig[] = [];
    const adminCalls: string[] = [];
    const watched = {
      consumer: (config: ConsumerConfig) => {
        consumers.push(config);
        return kafka.consumer(config);
      },
      admin: (config?: AdminConfig) => {
        const admin = kafka.admin(config);
        return new Proxy(admin, {
          get(target, property) {
            const value: unknown = Reflect.get(target, property);
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              adminCalls.push(String(property));
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        });
      },
    } as unknown as Kafka;

    const records: SourceRecord[] = [];
    const ranges = await planOffsetRanges(watched, [dlqTopic], { kind: 'earliest' });
    const groupId = uniqueName('dlq-test-reader');
    await readOffsetRanges(
      watched,
      ranges,
      { groupId },
      eachRecord((record) => void records.push(record)),
    );

    expect(records.map((record) => [record.offset, record.value])).toEqual([['0', pkDeadLetter.value]]);
    expect(consumers).toEqual([expect.objectContaining({ groupId, readUncommitted: false, maxWaitTimeInMs: 100 })]);
    expect(adminCalls).toEqual([
      'connect',
      'listTopics',
      'fetchTopicOffsets',
      'disconnect',
      'connect',
      'deleteGroups',
      'disconnect',
    ]);
  });

  it('lists what it would replay in a dry run, and changes nothing', async () => {
    const summary = await replay('--dry-run');
    expect(summary.planned).toEqual([
      {
        deadLetter: `${dlqTopic}/0/0`,
        original: `${headerTopic}[0]@1`,
        stage: 'order_header',
        errorClass: 'TransformError',
        attempt: 1,
      },
    ]);
    expect(counts(summary)).toEqual({ ...NOTHING, dryRun: true, read: 1 });
    expect(counts(await replay('--dry-run'))).toEqual({ ...NOTHING, dryRun: true, read: 1 });
  });

  it('replays it through the fixed stage: the missing data arrives, the newer status stays', async () => {
    const summary = await replay();
    expect(counts(summary)).toEqual({ ...NOTHING, read: 1, replayed: 1, emitted: 2 });
    expect(summary.groupId).toBe(replayGroupId(fixed));
    await settle();
    expect(await order('SO-DLQ-1')).toMatchObject({
      // The status change to PICKING is older than the shipment's and changes nothing.
      status: 'SHIPPED',
      statusInfo: { status: 'SHIPPED', erpStatus: 'SH' },
      header: { orderTotal: dec('52.5000') },
    });
    const codec = createCanonicalRegistryCodec({
      registryUrl: fixed.schemaRegistry.url,
      topics: { inventory: fixed.topics.inventory, order: fixed.topics.order },
    });
    const replayed = (await readAll(fixed.topics.order)).filter(
      (r) => r.headers[DEAD_LETTER_HEADERS.replayOf] !== undefined,
    );
    expect(
      replayed.map((r) => [
        r.key?.toString(),
        r.headers[DEAD_LETTER_HEADERS.replayCount],
        r.headers[DEAD_LETTER_HEADERS.replayOf],
      ]),
    ).toEqual([
      ['SO-DLQ-1', '1', `${dlqTopic}/0/0`],
      ['SO-DLQ-1', '1', `${dlqTopic}/0/0`],
    ]);
    const events = await Promise.all(replayed.map((r) => codec.decode(r)));
    expect(events.map((e) => e.meta.eventType).sort()).toEqual(['OrderHeaderChanged', 'OrderStatusChanged']);
    expect(events.find((e) => e.meta.eventType === 'OrderStatusChanged')!.payload).toEqual({
      orderNumber: 'SO-DLQ-1',
      fromStatus: 'PENDING',
      toStatus: 'PICKING',
      fromErpStatus: 'NW',
      toErpStatus: 'PK',
      // Decoded with the order stream's schema, whose milestone fields default to null.
      milestone: null,
      milestoneAt: null,
    });
  });

  it('replays nothing the second time', async () => {
    expect(counts(await replay())).toEqual(NOTHING);
  });

  describe('with dead letters of a sink and of a code no config maps', () => {
    let sinkDeadLetterOffset: string;

    beforeAll(async () => {
      // A PaymentCaptured the order_view sink once refused (say, a since-fixed bug), dead-lettered as the sink
      // runner does, straight into the dead-letter topic.
      const codec = createCanonicalRegistryCodec({
        registryUrl: fixed.schemaRegistry.url,
        topics: { inventory: fixed.topics.inventory, order: fixed.topics.order },
      });
      const encoded = await codec.encode(
        canonicalAt(5, 'PaymentCaptured', 'SO-DLQ-1', {
          orderNumber: 'SO-DLQ-1',
          paymentId: 'PAY-DLQ-1',
          amount: '52.5000',
          currency: 'EUR',
          pspReference: null,
          capturedAt: '2025-11-27T09:05:00.0000000+01:00',
        }),
      );
      const deadLetter = deadLetterFor(
        {
          topic: fixed.topics.order,
          partition: 0,
          offset: '4711',
          key: Buffer.from(encoded.key),
          value: encoded.value,
          headers: {},
          timestamp: String(Date.now()),
        },
        dlqTopic,
        'order_view',
        new SinkWriteError('Simulated refusal of PAY-DLQ-1', { retriable: false }),
        new Date(),
      );
      const producer = kafka.producer();
      await producer.connect();
      const [sent] = await producer.send({
        topic: dlqTopic,
        acks: -1,
        messages: [{ key: deadLetter.key, value: deadLetter.value, headers: { ...deadLetter.headers } }],
      });
      await producer.disconnect();
      sinkDeadLetterOffset = sent!.baseOffset!;
      await produceFixtures(fixed, [phase3]);
      await settle();
    });

    it('decodes a canonical dead letter through the canonical codec', async () => {
      const shown = JSON.parse(await dlq(['show', `0:${sinkDeadLetterOffset}`, '--json'])) as ShownDeadLetter;
      expect(shown).toMatchObject({
        deadLetter: { original: { topic: fixed.topics.order, partition: 0, offset: '4711' }, stage: 'order_view' },
        decodedAs: 'canonical',
        decodeError: null,
        decoded: { meta: { eventType: 'PaymentCaptured' }, payload: { paymentId: 'PAY-DLQ-1', amount: '52.5000' } },
      });
    });

    it('replays only the selected stage, through the configured sink', async () => {
      const summary = await replay('--stage', 'order_view');
      expect(counts(summary)).toEqual({ ...NOTHING, read: 2, replayed: 1, reapplied: 1, notSelected: 1 });
      expect(await order('SO-DLQ-1')).toMatchObject({
        payments: { 'PAY-DLQ-1': { amount: dec('52.5000'), capturedAt: '2025-11-27T09:05:00.0000000+01:00' } },
        milestones: { paymentCaptured: { ref: 'PAY-DLQ-1' } },
        status: 'SHIPPED',
      });
    });

    it('dead-letters a record that fails again with its count raised, and stops at max attempts', async () => {
      // A replay commits its new dead letter in a transaction whose markers the coordinator writes just after the
      // commit returned; the next replay reads up to the end read_committed readers see then, so wait for it.
      const written = (await deadLetters()).length;
      expect(counts(await replay('--max-attempts', '2'))).toEqual({ ...NOTHING, read: 1, failedAgain: 1 });
      await eventually(async () => expect(await deadLetters()).toHaveLength(written + 1));
      expect(counts(await replay('--max-attempts', '2'))).toEqual({ ...NOTHING, read: 1, failedAgain: 1 });
      await eventually(async () => expect(await deadLetters()).toHaveLength(written + 2));
      expect(counts(await replay('--max-attempts', '2'))).toEqual({ ...NOTHING, read: 1, skippedMaxAttempts: 1 });
      expect(counts(await replay('--max-attempts', '2'))).toEqual(NOTHING);

      const zz = (await deadLetters()).filter((r) =>
        r.headers[DEAD_LETTER_HEADERS.errorMessage]?.includes('Unknown StatusCode "ZZ" of order SO-DLQ-2'),
      );
      expect(
        zz.map((r) => [r.headers[DEAD_LETTER_HEADERS.replayCount], r.headers[DEAD_LETTER_HEADERS.replayOf]]),
      ).toEqual([
        [undefined, undefined],
        ['1', `${dlqTopic}/0/${zz[0]!.offset}`],
        ['2', `${dlqTopic}/0/${zz[1]!.offset}`],
      ]);
      // Each keeps the original record and where it came from.
      expect(new Set(zz.map((r) => r.value!.toString('hex'))).size).toBe(1);
      expect(
        new Set(zz.map((r) => `${r.headers[DEAD_LETTER_HEADERS.topic]}@${r.headers[DEAD_LETTER_HEADERS.offset]}`)),
      ).toEqual(new Set([`${headerTopic}@3`]));
    });

    it('lists every dead letter with exact counts', async () => {
      const listing = JSON.parse(await dlq(['list', '--json'])) as DeadLetterListing;
      expect(listing.total).toBe(5);
      expect(
        listing.groups.map(({ topic, stage, errorClass, count, replays }) => ({
          topic,
          stage,
          errorClass,
          count,
          replays,
        })),
      ).toEqual([
        { topic: headerTopic, stage: 'order_header', errorClass: 'TransformError', count: 4, replays: 2 },
        { topic: fixed.topics.order, stage: 'order_view', errorClass: 'SinkWriteError', count: 1, replays: 0 },
      ]);
    });

    it('starts over from the beginning when told to, judging each record by its newest dead letter', async () => {
      const summary = await replay('--from-beginning', '--dry-run', '--max-attempts', '2');
      expect(summary.planned.map((p) => [p.original, p.stage, p.attempt])).toEqual([
        [`${headerTopic}[0]@1`, 'order_header', 1],
        [`${fixed.topics.order}[0]@4711`, 'order_view', 1],
      ]);
      expect(counts(summary)).toEqual({ ...NOTHING, dryRun: true, read: 5, skippedMaxAttempts: 1, superseded: 2 });
    });
  });
});
