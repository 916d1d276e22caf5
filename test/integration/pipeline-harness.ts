import { SAMPLE_ERP_STAGES } from '../../transforms/index.js';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { type Db } from 'mongodb';
import { runScopedSettings } from '../../demo/config.js';
import { parsePipelineConfig, type PipelineConfig } from '../../ops/pipeline-config.js';
import { sourceTopic } from '../../connectors/debezium/source-config.js';
import { readFixtureFile, validateFixture } from '../../devtools/fixtures/fixture-file.js';
import { createFixtureProducer, type ProduceResult } from '../../devtools/fixtures/producer.js';
import { eachRecord, planOffsetRanges, readOffsetRanges } from '../../connectors/kafka/bounded-reader.js';
import { dec } from '../../sinks/testing.js';
import { services, uniqueName } from './services.js';

/** A pipeline config of its own for one test: topics, groups, transactional id and database no other run uses. */
export function isolatedPipelineConfig(overrides: Record<string, unknown> = {}): PipelineConfig {
  const { kafkaBrokers, schemaRegistryUrl, mongodbUri } = services();
  const run = uniqueName('e2e').replace(/-/g, '_');
  const base: Record<string, unknown> = {
    logLevel: 'warn',
    kafka: { brokers: [...kafkaBrokers], clientId: run },
    schemaRegistry: { url: schemaRegistryUrl },
    mongodb: { uri: mongodbUri, database: run },
    source: { topicPrefix: run },
    // The sample ERP's stages; a test's own `transforms` overrides merge into them (false turns one off).
    transforms: SAMPLE_ERP_STAGES,
    ...runScopedSettings(run),
    backoff: { initialMs: 200, maxMs: 2000 },
    // Tests run pipelines side by side; each takes a free port.
    ops: { port: 0 },
  };
  return parsePipelineConfig(mergeDeep(base, overrides), 'the test', {});
}

/** Overrides merged into defaults key by key, so `{ kafka: { maxBytesPerPartition } }` keeps the brokers. */
function mergeDeep(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A fixture file path, or a fixture object with a name for error messages. */
export type FixtureSource = string | { readonly name: string; readonly raw: unknown };

/** Produces fixtures under the config's topic prefix, as Debezium would have. */
export async function produceFixtures(
  config: PipelineConfig,
  fixtures: readonly FixtureSource[],
): Promise<ProduceResult[]> {
  const producer = createFixtureProducer({ brokers: config.kafka.brokers, registryUrl: config.schemaRegistry.url });
  const options = { server: config.source.topicPrefix };
  try {
    const results: ProduceResult[] = [];
    for (const source of fixtures) {
      const fixture =
        typeof source === 'string'
          ? readFixtureFile(source, options)
          : validateFixture(source.raw, source.name, options);
      results.push(await producer.produce(fixture));
    }
    return results;
  } finally {
    await producer.disconnect();
  }
}

/** The recorded ERP traffic in test/fixtures/erp: one order's whole lifecycle and a burst of stock changes. */
export const ERP_FIXTURES = {
  orderLifecycle: 'test/fixtures/erp/order-lifecycle.json',
  inventoryBurst: 'test/fixtures/erp/inventory-burst.json',
} as const;

/**
 * A fixture change that creates a `SalesOrderHeader` row: order-lifecycle.json's first header row (SO-100234) with
 * `overrides`, e.g. another `OrderNumber` and `RowGuid`.
 */
export function orderHeaderCreated(overrides: Readonly<Record<string, unknown>>) {
  const fixture = JSON.parse(readFileSync(ERP_FIXTURES.orderLifecycle, 'utf8')) as {
    changes: { table: string; after?: Record<string, unknown> }[];
  };
  const header = fixture.changes.find((change) => change.table === 'dbo.SalesOrderHeader')?.after;
  if (header === undefined) throw new Error(`${ERP_FIXTURES.orderLifecycle} has no SalesOrderHeader row`);
  return { table: 'dbo.SalesOrderHeader', op: 'c', after: { ...header, ...overrides } };
}

/**
 * Two records no stage can turn into events, written after {@link ERP_FIXTURES}' positions: bytes that are not Avro
 * on InventoryBalance (dead-lettered by decode) and order SO-BAD-1 in status ZZ, which the ERP status map lacks
 * (dead-lettered by order_header).
 */
export function badRecordsFixture(): FixtureSource {
  return {
    name: 'the bad-records fixture',
    raw: {
      server: 'erp',
      database: 'ErpDemo',
      startLsn: '00000030:00000100:0001',
      changes: [
        { table: 'dbo.InventoryBalance', rawValueBase64: Buffer.from('not avro').toString('base64') },
        orderHeaderCreated({
          OrderNumber: 'SO-BAD-1',
          StatusCode: 'ZZ',
          RowGuid: '3F2504E0-4F89-41D3-9A0C-0305E82C3399',
        }),
      ],
    },
  };
}

/** The topics a pipeline reads: its source topics (the transform role's input) and its canonical topics (the sink's). */
export function pipelineTopics(config: PipelineConfig): { source: string[]; canonical: string[] } {
  return {
    source: config.source.tables.map((table) => sourceTopic(config.source, table)),
    canonical: [config.topics.inventory, config.topics.order],
  };
}

/**
 * Waits until a whole pipeline caught up: the transform group has committed every source record, then the sink group
 * past the last canonical record (see {@link waitCaughtUpTransactional}). Resolves with the transform group's offsets.
 */
export async function waitPipelineCaughtUp(kafka: Kafka, config: PipelineConfig): Promise<Record<string, string>> {
  const topics = pipelineTopics(config);
  const committed = await waitCaughtUp(kafka, config.transform.groupId, topics.source);
  await waitCaughtUpTransactional(kafka, config.sink.groupId, topics.canonical);
  return committed;
}

export function kafkaFor(config: PipelineConfig): Kafka {
  return new Kafka({
    brokers: [...config.kafka.brokers],
    clientId: `${config.kafka.clientId}-test`,
    logLevel: logLevel.NOTHING,
  });
}

/** Committed offsets of a group and the end offsets of its topics, per `topic[partition]`. */
export async function groupProgress(
  kafka: Kafka,
  groupId: string,
  topics: readonly string[],
): Promise<{ committed: Record<string, string>; ends: Record<string, string> }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed: Record<string, string> = {};
    const ends: Record<string, string> = {};
    for (const entry of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
      for (const p of entry.partitions) committed[`${entry.topic}[${p.partition}]`] = p.offset;
    }
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) ends[`${topic}[${p.partition}]`] = p.high;
    }
    return { committed, ends };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until the group has committed every record of its topics. Transaction
 * markers count as offsets, so for transactionally written topics the end
 * offset includes them; the group's committed offset reaches it all the same.
 */
export async function waitCaughtUp(
  kafka: Kafka,
  groupId: string,
  topics: readonly string[],
  timeoutMs = 90_000,
): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  let last = { committed: {}, ends: {} } as Awaited<ReturnType<typeof groupProgress>>;
  while (Date.now() < deadline) {
    last = await groupProgress(kafka, groupId, topics);
    const done = Object.entries(last.ends).every(([key, end]) => last.committed[key] === end);
    if (done) return last.committed;
    await sleep(500);
  }
  throw new Error(`Group ${groupId} did not catch up within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

/**
 * Waits until the group has committed past the last record of each
 * transactionally written topic: the last record a read_committed reader
 * sees, plus one. The batch consumer then also commits past the final commit
 * marker (see `connectors/kafka/batch-consumer.ts`), so the committed offset
 * may be one more than that.
 */
export async function waitCaughtUpTransactional(
  kafka: Kafka,
  groupId: string,
  topics: readonly string[],
  timeoutMs = 90_000,
): Promise<Record<string, string>> {
  const targets: Record<string, string> = {};
  for (const topic of topics) {
    for (const record of await readTopic(kafka, topic)) {
      const key = `${topic}[${record.partition}]`;
      const next = (BigInt(record.offset) + 1n).toString();
      if (targets[key] === undefined || BigInt(next) > BigInt(targets[key])) targets[key] = next;
    }
  }
  const deadline = Date.now() + timeoutMs;
  let committed: Record<string, string> = {};
  while (Date.now() < deadline) {
    committed = (await groupProgress(kafka, groupId, topics)).committed;
    if (Object.entries(targets).every(([key, target]) => BigInt(committed[key] ?? -1) >= BigInt(target))) {
      return committed;
    }
    await sleep(500);
  }
  throw new Error(
    `Group ${groupId} did not catch up within ${timeoutMs} ms: ${JSON.stringify({ committed, targets })}`,
  );
}

/** A record as a read_committed reader of a topic sees it. */
export type ReadRecord = {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
};

/**
 * Every record of a topic as a read_committed reader sees it, from the
 * earliest offset to the topic's end when the call starts (the pipeline's
 * own bounded reader, so the read is exact and returns as soon as it is
 * done). Everything of interest was written before the call.
 */
export async function readTopic(kafka: Kafka, topic: string): Promise<ReadRecord[]> {
  const records: ReadRecord[] = [];
  const ranges = await planOffsetRanges(kafka, [topic], { kind: 'earliest' });
  await readOffsetRanges(
    kafka,
    ranges,
    { groupId: uniqueName('reader') },
    eachRecord((record) => {
      records.push({
        key: record.key?.toString() ?? null,
        value: record.value,
        headers: { ...record.headers },
        partition: record.partition,
        offset: record.offset,
      });
    }),
  );
  return records;
}

/** A projection document without the fields that differ between runs by wall-clock time. */
export function withoutAppliedAt<T>(document: T): T {
  const copy = structuredClone(document) as { _meta?: { appliedAt?: unknown } };
  if (copy._meta !== undefined) delete copy._meta.appliedAt;
  return copy as T;
}

/** The expected `inventory_availability` fields of one location; `removed` for deleted balances. */
export function expectedBalance(
  id: string,
  onHand: string,
  reserved: string,
  safetyStock: string,
  available: string,
  removed = false,
) {
  const negative = available.startsWith('-');
  return {
    _id: id,
    onHand: dec(onHand),
    reserved: dec(reserved),
    safetyStock: dec(safetyStock),
    available: dec(available),
    lowStock: !removed && (negative || available === '0.000'),
    oversold: !removed && negative,
    removed,
  };
}

/** The `inventory_availability` documents' quantity and flag fields, in key order. */
export function readAvailability(db: Db) {
  const projection = {
    _id: 1,
    onHand: 1,
    reserved: 1,
    safetyStock: 1,
    available: 1,
    lowStock: 1,
    oversold: 1,
    removed: 1,
  };
  return db.collection('inventory_availability').find({}, { projection }).sort({ _id: 1 }).toArray();
}
