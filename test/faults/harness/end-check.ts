import { type Kafka } from 'kafkajs';
import { expect } from 'vitest';
import { type Document, MongoClient } from 'mongodb';
import { pino } from 'pino';
import { startPipeline } from '../../../ops/pipeline.js';
import { silentProgress } from '../../../ops/progress.js';
import { reconcileReadModels } from '../../../ops/reconcile/reconcile-read-models.js';
import { type PipelineConfig } from '../../../ops/pipeline-config.js';
import { DEAD_LETTER_HEADERS } from '../../../core/runner/dead-letter.js';
import { createCanonicalRegistryCodec } from '../../../connectors/canonical/registry.js';
import { eachRecord, planOffsetRanges, readOffsetRanges } from '../../../connectors/kafka/bounded-reader.js';
import { diffDocumentStreams } from '../../../ops/rebuild/collection-diff.js';
import { dec } from '../../../sinks/testing.js';
import {
  groupProgress,
  isolatedPipelineConfig,
  kafkaFor,
  pipelineTopics,
  produceFixtures,
} from '../../integration/pipeline-harness.js';
import { uniqueName } from '../../integration/services.js';
import { waitUntil } from './fault-stack.js';
import { type Worker } from './workers.js';
import { type BalanceKey, type SimulatedErp } from './workload.js';

// The one check every scenario ends with (issue #13, "It ends with one shared check"):
// - the read models equal the documents an uninterrupted run of the same source records produces (compared as
//   `cdc-sync rebuild` compares them, without _meta.appliedAt and _meta.pipelineVersion);
// - the read_committed canonical topics hold every event id of the uninterrupted run, and none twice;
// - the dead-letter topic holds exactly the expected records, with their original key and value bytes;
// - the pipeline keeps moving: a new ERP change reaches the read models through the workers that are running, with
//   no restart by hand.

export const READ_MODELS = ['inventory_availability', 'inventory_availability_by_sku', 'order_view'] as const;

/** How long a whole pipeline may take to catch up after a fault on this 2-core machine. */
const CATCH_UP_MS = 240_000;

/** A record as a read_committed reader sees it, bytes untouched. */
export type RawRecord = {
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
};

/** Every record of a topic as a read_committed reader sees it, from the earliest offset to the end. */
export async function readRaw(kafka: Kafka, topic: string): Promise<RawRecord[]> {
  const records: RawRecord[] = [];
  const ranges = await planOffsetRanges(kafka, [topic], { kind: 'earliest' });
  await readOffsetRanges(
    kafka,
    ranges,
    { groupId: uniqueName('fault-reader') },
    eachRecord((record) => {
      records.push({
        partition: record.partition,
        offset: record.offset,
        key: record.key,
        value: record.value,
        headers: { ...record.headers },
      });
    }),
  );
  return records;
}

/** A dead letter as the check compares it: where it came from, why, and the original bytes. */
export type DeadLetterSummary = {
  readonly sourceTopic: string;
  readonly sourcePartition: string;
  readonly sourceOffset: string;
  readonly stage: string;
  readonly errorClass: string;
  readonly errorMessage: string;
  readonly key: string | null;
  readonly value: string | null;
};

export async function readDeadLetters(kafka: Kafka, topic: string): Promise<DeadLetterSummary[]> {
  return (await readRaw(kafka, topic)).map((record) => ({
    sourceTopic: record.headers[DEAD_LETTER_HEADERS.topic] ?? '',
    sourcePartition: record.headers[DEAD_LETTER_HEADERS.partition] ?? '',
    sourceOffset: record.headers[DEAD_LETTER_HEADERS.offset] ?? '',
    stage: record.headers[DEAD_LETTER_HEADERS.stage] ?? '',
    errorClass: record.headers[DEAD_LETTER_HEADERS.errorClass] ?? '',
    errorMessage: record.headers[DEAD_LETTER_HEADERS.errorMessage] ?? '',
    key: record.key?.toString('base64') ?? null,
    value: record.value?.toString('base64') ?? null,
  }));
}

/** The event ids of the canonical topics, in topic order, with how often each occurs. */
export async function canonicalEventIds(kafka: Kafka, config: PipelineConfig): Promise<Map<string, number>> {
  const codec = createCanonicalRegistryCodec({
    registryUrl: config.schemaRegistry.url,
    topics: { inventory: config.topics.inventory, order: config.topics.order },
  });
  const counts = new Map<string, number>();
  for (const topic of [config.topics.inventory, config.topics.order]) {
    for (const record of await readRaw(kafka, topic)) {
      const event = await codec.decode({ ...record, topic });
      counts.set(event.meta.eventId, (counts.get(event.meta.eventId) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Waits until the transform group has committed every record of the source topics (empty partitions count as done,
 * where the group has nothing to commit).
 */
export async function waitTransformDone(kafka: Kafka, config: PipelineConfig, timeoutMs = CATCH_UP_MS): Promise<void> {
  const topics = pipelineTopics(config).source;
  let last: unknown;
  await waitUntil(
    kafkaTolerant(async () => {
      const progress = await groupProgress(kafka, config.transform.groupId, topics);
      last = progress;
      return Object.entries(progress.ends).every(
        ([key, end]) => end === '0' || BigInt(progress.committed[key] ?? -1) >= BigInt(end),
      );
    }),
    `group ${config.transform.groupId} to commit every source record (last: ${JSON.stringify(last)})`,
    timeoutMs,
    500,
  );
}

/**
 * Waits until the sink group has committed past the last record a read_committed reader sees on each canonical
 * partition (test/integration/pipeline-harness.ts' waitCaughtUpTransactional, riding out a broker that is still
 * loading its coordinators after a restart).
 */
export async function waitSinkDone(kafka: Kafka, config: PipelineConfig, timeoutMs = CATCH_UP_MS): Promise<void> {
  const topics = pipelineTopics(config).canonical;
  const targets: Record<string, bigint> = {};
  await waitUntil(
    kafkaTolerant(async () => {
      for (const topic of topics) {
        for (const record of await readRaw(kafka, topic)) {
          const key = `${topic}[${record.partition}]`;
          const next = BigInt(record.offset) + 1n;
          if (targets[key] === undefined || next > targets[key]) targets[key] = next;
        }
      }
      return true;
    }),
    'the canonical topics to be readable',
    timeoutMs,
    500,
  );
  let committed: Record<string, string> = {};
  await waitUntil(
    kafkaTolerant(async () => {
      committed = (await groupProgress(kafka, config.sink.groupId, topics)).committed;
      return Object.entries(targets).every(([key, target]) => BigInt(committed[key] ?? -1) >= target);
    }),
    `group ${config.sink.groupId} to commit every canonical event`,
    timeoutMs,
    500,
  );
}

/** A condition that counts kafkajs' errors (a broker restarting, a coordinator loading) as "not yet". */
export function kafkaTolerant(condition: () => Promise<boolean>): () => Promise<boolean> {
  return () =>
    condition().catch((error: unknown) => {
      if (error instanceof Error && error.name.startsWith('KafkaJS')) return false;
      throw error;
    });
}

/** Waits until the pipeline of `config` has consumed every source record and the sinks every canonical event. */
export async function waitPipelineDone(kafka: Kafka, config: PipelineConfig, timeoutMs = CATCH_UP_MS): Promise<void> {
  await waitTransformDone(kafka, config, timeoutMs);
  await waitSinkDone(kafka, config, timeoutMs);
}

/** Source records on the pipeline's source topics (the records the scenario fed it). */
export async function sourceRecordCount(kafka: Kafka, config: PipelineConfig): Promise<number> {
  const topics = pipelineTopics(config).source;
  const { ends } = await groupProgress(kafka, config.transform.groupId, topics);
  return Object.values(ends).reduce((sum, end) => sum + Number(end), 0);
}

/** What a scenario reports on its one line. */
export type ScenarioReport = {
  readonly name: string;
  readonly fault: string;
  /** The moment the fault landed, with the evidence that it did. */
  readonly landed: string;
};

export type EndCheckOptions = {
  readonly report: ScenarioReport;
  readonly config: PipelineConfig;
  /** The simulated ERP of a fixture-fed scenario; the liveness change is one more of its stock moves. */
  readonly erp?: SimulatedErp;
  /** Makes the liveness change another way (SQL on a real ERP database): resolves with the balance and quantity. */
  readonly liveness?: () => Promise<{ key: BalanceKey; onHand: string }>;
  /** Workers that must have stayed up the whole time and must apply the liveness change themselves. */
  readonly running: readonly Worker[];
  /**
   * How often an event id may occur, given how often it occurs after an uninterrupted run of the same source records
   * (which repeats an id only where the source topics repeat a change, as Debezium does after a crash); default that
   * count. Scenarios that publish some events again on purpose say so here.
   */
  readonly expectedCount?: (eventId: string, uninterrupted: number) => number;
  /** Where there is an ERP database: `cdc-sync reconcile`'s environment (the connector's password variable). */
  readonly reconcile?: { readonly env: NodeJS.ProcessEnv };
  /** What the scenario can tell about a pipeline that stopped moving (printed when the liveness change never lands). */
  readonly diagnose?: () => Promise<string>;
  /** The key the liveness change updates; default TSHIRT-ORG-BLK-M@WH-EAST. */
  readonly livenessKey?: BalanceKey;
};

export type EndCheckResult = {
  /** Documents that differ from the uninterrupted run's, plus keys `cdc-sync reconcile` finds drifted. */
  readonly drift: number;
  readonly driftSamples: readonly string[];
  readonly sourceRecords: number;
  readonly events: number;
  readonly missingEvents: readonly string[];
  readonly duplicateEvents: readonly string[];
  readonly deadLetters: readonly DeadLetterSummary[];
  readonly line: string;
};

let livenessSerial = 0;

/**
 * The shared end check. Resolves with what it found; the scenario asserts on it with {@link expectClean} (drift 0,
 * no missing or duplicate events, the expected dead letters) so that a failure shows every finding at once. Prints
 * the scenario's line.
 */
export async function endCheck(options: EndCheckOptions): Promise<EndCheckResult> {
  const { config, report } = options;
  const kafka = kafkaFor(config);
  await waitPipelineDone(kafka, config);

  // The pipeline keeps moving: one more ERP change, applied by the workers that are running now.
  const { key, onHand } = await (options.liveness ?? fixtureLiveness(options))();
  const mongo = new MongoClient(config.mongodb.uri);
  try {
    const live = mongo.db(config.mongodb.database).collection<Document>('inventory_availability');
    let seen: Document | null = null;
    await waitUntil(
      async () => {
        for (const worker of options.running) {
          if (!worker.running()) throw new Error(`Worker ${worker.name} is no longer running:\n${worker.tail()}`);
        }
        seen = await live.findOne({ _id: key as unknown as Document['_id'] });
        return seen !== null && String(seen['onHand']) === String(dec(onHand));
      },
      `the liveness change (${key} on hand ${onHand}) to reach the read model`,
      CATCH_UP_MS,
      250,
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await stalledPipeline(kafka, options, seen)}`, { cause: error });
    });
    await waitPipelineDone(kafka, config);

    // The uninterrupted run: the same source topics into topics, groups and a database of its own.
    const reference = isolatedPipelineConfig({
      source: { ...config.source },
      transforms: config.transforms,
      sinks: config.sinks,
    });
    const pipeline = await startPipeline(reference, 'all', pino({ level: 'silent' }));
    try {
      await waitPipelineDone(kafka, reference);
    } finally {
      await pipeline.stop();
    }

    let drift = 0;
    const driftSamples: string[] = [];
    for (const name of READ_MODELS) {
      const cursor = (database: string) =>
        mongo
          .db(database)
          .collection(name)
          .find({}, { sort: { _id: 1 } });
      const diff = await diffDocumentStreams(cursor(reference.mongodb.database), cursor(config.mongodb.database));
      drift += diff.missing + diff.extra + diff.different;
      for (const sample of diff.samples) {
        driftSamples.push(`${name} ${sample.kind} ${sample.id} ${sample.paths.join(',')}`);
      }
    }
    await mongo.db(reference.mongodb.database).dropDatabase();
    let reconciled = '';
    if (options.reconcile !== undefined) {
      const found = await reconcileReadModels(
        config,
        { pageSize: 500, samples: 5 },
        { env: options.reconcile.env, progress: silentProgress },
        'the fault suite',
      );
      drift += found.drift;
      for (const comparison of found.comparisons) {
        for (const sample of comparison.samples)
          driftSamples.push(`reconcile ${comparison.subject} ${JSON.stringify(sample)}`);
      }
      const rows = found.comparisons.reduce((sum, comparison) => sum + comparison.sourceRows, 0);
      reconciled = `, reconcile: ${rows} ERP rows, ${found.drift} drifted`;
    }

    const expected = await canonicalEventIds(kafka, reference);
    const actual = await canonicalEventIds(kafka, config);
    const allowed = options.expectedCount ?? ((_id: string, uninterrupted: number) => uninterrupted);
    const missingEvents = [...expected.keys()].filter((id) => !actual.has(id));
    const duplicateEvents = [...actual.entries()]
      .filter(([id, count]) => count !== allowed(id, expected.get(id) ?? 0))
      .map(([id, count]) => `${id}×${count} (uninterrupted ×${expected.get(id) ?? 0})`);
    const deadLetters = await readDeadLetters(kafka, config.topics.deadLetter);
    const sourceRecords = await sourceRecordCount(kafka, config);
    const events = [...actual.values()].reduce((sum, count) => sum + count, 0);
    const line =
      `[fault suite] ${report.name} | fault: ${report.fault} | landed: ${report.landed} | ` +
      `records: ${sourceRecords} source → ${events} canonical events, ${deadLetters.length} dead letters | ` +
      `drift: ${drift}${reconciled}`;
    process.stdout.write(`${line}\n`);
    return { drift, driftSamples, sourceRecords, events, missingEvents, duplicateEvents, deadLetters, line };
  } finally {
    await mongo.close();
  }
}

/** The liveness change of a fixture-fed scenario: a stock move of the simulated ERP to a quantity never seen. */
/**
 * What a liveness change that never arrived leaves to look at: the document as it stands, how far each group got,
 * the dead letters, the scenario's own findings (a Debezium connector's status) and each worker's last log lines.
 */
async function stalledPipeline(kafka: Kafka, options: EndCheckOptions, seen: Document | null): Promise<string> {
  const { config } = options;
  const topics = pipelineTopics(config);
  const lines = [`The read model holds: ${JSON.stringify(seen)}`];
  const attempt = async (what: string, find: () => Promise<string>) => {
    lines.push(`${what}: ${await find().catch((error: unknown) => `could not be read (${String(error)})`)}`);
  };
  await attempt('Transform group', async () =>
    JSON.stringify(await groupProgress(kafka, config.transform.groupId, topics.source)),
  );
  await attempt('Sink group', async () =>
    JSON.stringify(await groupProgress(kafka, config.sink.groupId, topics.canonical)),
  );
  await attempt('Dead letters', async () =>
    JSON.stringify(
      (await readDeadLetters(kafka, config.topics.deadLetter)).map(({ stage, errorMessage }) => ({
        stage,
        errorMessage,
      })),
    ),
  );
  if (options.diagnose !== undefined) await attempt('Scenario', options.diagnose);
  for (const worker of options.running) lines.push(`Worker ${worker.name}:\n${worker.tail(20)}`);
  return lines.join('\n');
}

function fixtureLiveness(options: EndCheckOptions): () => Promise<{ key: BalanceKey; onHand: string }> {
  const { erp, config } = options;
  if (erp === undefined) throw new Error('The end check needs either erp or liveness');
  return async () => {
    const key = options.livenessKey ?? 'TSHIRT-ORG-BLK-M@WH-EAST';
    livenessSerial += 1;
    const onHand = `${7000 + livenessSerial * 11 + Math.floor(Math.random() * 10)}.125`;
    await produceFixtures(config, [erp.fixture([erp.setOnHand(key, onHand)], 'the liveness change')]);
    return { key, onHand };
  };
}

/** A dead letter as a scenario expects it: everything but the error message, which it checks on its own if at all. */
export type ExpectedDeadLetter = Omit<DeadLetterSummary, 'errorMessage'>;

/**
 * Asserts the end check found nothing wrong: no drift, no event missing or duplicated, exactly the expected dead
 * letters (in source topic and offset order; dead letters of different partitions interleave by timing). One
 * assertion over everything, so that a failure shows every finding at once.
 */
export function expectClean(result: EndCheckResult, deadLetters: readonly ExpectedDeadLetter[] = []): void {
  const bySource = (a: ExpectedDeadLetter, b: ExpectedDeadLetter) =>
    a.sourceTopic.localeCompare(b.sourceTopic) || Number(BigInt(a.sourceOffset) - BigInt(b.sourceOffset));
  expect({
    drift: result.drift,
    driftSamples: result.driftSamples,
    missingEvents: result.missingEvents.slice(0, 10),
    duplicateEvents: result.duplicateEvents.slice(0, 10),
    deadLetters: result.deadLetters.map(({ errorMessage: _message, ...rest }) => rest).sort(bySource),
  }).toEqual({
    drift: 0,
    driftSamples: [],
    missingEvents: [],
    duplicateEvents: [],
    deadLetters: [...deadLetters].sort(bySource),
  });
}
