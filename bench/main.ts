import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { createStages } from '../ops/components.js';
import { dropKafkajsTimerWarnings } from '../cli/quiet-warnings.js';
import { type PipelineConfig } from '../ops/pipeline-config.js';
import { sourceTopic } from '../connectors/debezium/source-config.js';
import { expectedEnvelopes } from '../devtools/fixtures/expected-envelopes.js';
import { type Fixture } from '../devtools/fixtures/fixture-file.js';
import { createFixtureProducer, type ProduceResult } from '../devtools/fixtures/producer.js';
import { createConnectClient } from '../connectors/kafka-connect/client.js';
import { createOpsAdmin } from '../connectors/kafka/ops-admin.js';
import { resolveStackPaths, serviceFiles } from '../stack/paths.js';
import { isRunning, readPidFile } from '../stack/process.js';
import { createStack, localEndpoints } from '../stack/stack.js';
import { measureFreshness } from './freshness.js';
import { createKafkaProgress, type KafkaProgress } from './kafka-progress.js';
import {
  connectorGroupId,
  countRefusedRecords,
  createBenchConnectService,
  failWhenConnectorFails,
  mongoSinkConnectorConfig,
  sentinels,
  waitForConnectorTask,
  waitForSentinels,
} from './mongo-connector.js';
import { cpuSnapshot, peakRssMbOf, stackServerPids } from './proc.js';
import {
  type BenchReport,
  computeRatios,
  formatReport,
  type Freshness,
  type Measurement,
  missingFigures,
  RESULT_NAMES,
  type ResultName,
  type ScaleOutRow,
} from './report.js';
import { cpuSecondsPerMillion, difference, eventsPerSecond } from './stats.js';
import {
  type BenchEnvironment,
  benchPipelineConfig,
  type MeasuredProcess,
  REPO_ROOT,
  startNode,
  startWorker,
  waitForLogEvent,
} from './workers.js';
import { createWorkloadGenerator, lsnAfter, toFixture, type WorkloadGenerator } from './workload.js';

/**
 * `npm run bench`: measures cdc-sync against the MongoDB Kafka sink connector
 * and the raw bounds on the local stack, on one generated workload, and
 * prints the figures as tables (and as JSON with `--json FILE`). How to read
 * them: bench/README.md.
 */
type BenchOptions = {
  readonly events: number;
  readonly partitions: number;
  readonly seed: number;
  readonly freshnessSeconds: number;
  /** The paced source's rate; half the end-to-end rate when absent. */
  readonly freshnessRate?: number;
  readonly scaleWorkers: readonly number[];
  readonly json?: string;
  readonly quick: boolean;
  readonly keep: boolean;
};

const QUICK = { events: 2_000, freshnessSeconds: 3, scaleWorkers: [1, 2] } as const;
const FULL = { events: 20_000, freshnessSeconds: 30, scaleWorkers: [1, 2, 3] } as const;
const SINK_COLLECTIONS = ['inventory_availability', 'inventory_availability_by_sku', 'order_view'];
const GROUP_TIMEOUT_MS = 180_000;
/** Probe keys of the freshness run; the quick run probes every key, so that its few seconds still give samples. */
const PROBE_KEYS = 64;

function createBenchCommand(): Command {
  return new Command('bench')
    .description('Benchmark cdc-sync against the MongoDB Kafka sink connector and the raw bounds on the local stack')
    .addOption(
      new Option(
        '--events <n>',
        `workload size in row changes (default ${FULL.events}, quick ${QUICK.events})`,
      ).argParser(positive),
    )
    .addOption(new Option('--partitions <n>', 'partitions of every topic').argParser(positive).default(3))
    .addOption(new Option('--seed <n>', 'workload seed').argParser(positive).default(20_251_127))
    .addOption(
      new Option(
        '--freshness-seconds <n>',
        `how long the paced source runs (default ${FULL.freshnessSeconds}, quick ${QUICK.freshnessSeconds})`,
      ).argParser(positive),
    )
    .addOption(
      new Option(
        '--freshness-rate <events/s>',
        'rate of the paced source, to see freshness at a given load (default: half the end-to-end rate)',
      ).argParser(positive),
    )
    .addOption(
      new Option('--scale-workers <list>', 'workers per role of the scale-out runs, e.g. 1,2,3').argParser(list),
    )
    .option('--json <file>', 'also write the figures as JSON to this file')
    .option('--quick', 'a small run that only checks the harness works (CI); exits 1 when a figure is missing', false)
    .option('--keep', 'keep the run’s databases and topics for a look afterwards', false)
    .action(
      async (raw: Partial<BenchOptions> & { quick: boolean; keep: boolean; partitions: number; seed: number }) => {
        const defaults = raw.quick ? QUICK : FULL;
        const options: BenchOptions = {
          events: raw.events ?? defaults.events,
          partitions: raw.partitions,
          seed: raw.seed,
          freshnessSeconds: raw.freshnessSeconds ?? defaults.freshnessSeconds,
          scaleWorkers: raw.scaleWorkers ?? defaults.scaleWorkers,
          ...(raw.freshnessRate === undefined ? {} : { freshnessRate: raw.freshnessRate }),
          quick: raw.quick,
          keep: raw.keep,
          ...(raw.json === undefined ? {} : { json: raw.json }),
        };
        const report = await runBench(options);
        process.stdout.write(`\n${formatReport(report)}\n`);
        if (options.json !== undefined) {
          writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
          say(`Figures written to ${options.json}`);
        }
        const missing = missingFigures(report);
        if (missing.length > 0) {
          say(`Missing figures: ${missing.join(', ')}`);
          process.exitCode = 1;
        }
      },
    );
}

/** Runs every measurement in turn; a measurement that fails leaves its row without figures and the run goes on. */
async function runBench(options: BenchOptions): Promise<BenchReport> {
  const paths = resolveStackPaths();
  const servers = stackServerPids(paths);
  // The stack's own endpoints, on the ports its CDC_SYNC_*_PORT variables give, unless the usual variables name others.
  const local = localEndpoints();
  const env: BenchEnvironment = {
    brokers: (process.env['KAFKA_BROKERS'] || local.kafkaBrokers).split(','),
    registryUrl: process.env['SCHEMA_REGISTRY_URL'] || local.schemaRegistryUrl,
    mongoUri: process.env['MONGODB_URI'] || local.mongodbUri,
    workDir: mkdtempSync(join(tmpdir(), 'cdc-sync-bench-')),
  };
  const run = `bench_${new Date().toISOString().replace(/\D/g, '').slice(2, 14)}_${Math.floor(Math.random() * 1e4)}`;
  const machine = machineInfo();
  say(
    `Run ${run} on ${machine['cpus']} cores (load ${machine['loadAverageAtStart']}); files and logs in ${env.workDir}`,
  );

  const generator = createWorkloadGenerator({ events: options.events, seed: options.seed });
  const changes = generator.take(options.events);
  const fixture = toFixture(changes, run, 'the benchmark workload');
  say(`Workload: ${options.events} row changes; producing to ${options.partitions} partitions per topic…`);
  const produced = await produce(env, fixture, options.partitions);
  const workload = {
    ...generator.summary(),
    partitions: options.partitions,
    canonicalEvents: countCanonicalEvents(fixture),
    topicPrefix: run,
    decimalHandlingMode: 'precise',
  };

  const progress = createKafkaProgress(env.brokers);
  const mongo = new MongoClient(env.mongoUri);
  await mongo.connect();
  const results = {} as Record<ResultName, Measurement>;
  const databases: string[] = [];
  const context: RunContext = { env, servers, progress, events: options.events, run, partitions: options.partitions };
  try {
    const e2eConfig = benchPipelineConfig(env, {
      run: `${run}_e2e`,
      sourcePrefix: run,
      database: `${run}_e2e`,
      partitions: options.partitions,
    });
    const trConfig = benchPipelineConfig(env, {
      run: `${run}_tr`,
      sourcePrefix: run,
      database: `${run}_tr`,
      partitions: options.partitions,
    });
    const skConfig: PipelineConfig = {
      ...benchPipelineConfig(env, {
        run: `${run}_sk`,
        sourcePrefix: run,
        database: `${run}_sk`,
        partitions: options.partitions,
      }),
      topics: { ...trConfig.topics, deadLetter: `${run}_sk.dlq` },
    };
    databases.push(e2eConfig.mongodb.database, skConfig.mongodb.database);

    results.cdcSync = await measure('cdcSync', () =>
      measurePipeline(context, 'e2e', e2eConfig, 'all', [transformGroup(e2eConfig), sinkGroup(e2eConfig)]),
    );
    results.cdcSyncTransform = await measure('cdcSyncTransform', () =>
      measurePipeline(context, 'transform', trConfig, 'transform', [transformGroup(trConfig)]),
    );
    results.cdcSyncSink = await measure('cdcSyncSink', () =>
      measurePipeline(context, 'sink', skConfig, 'sink', [sinkGroup(skConfig)]),
    );
    const connectorDatabase = `${run}_connector`;
    databases.push(connectorDatabase);
    results.mongoKafkaConnector = await measure('mongoKafkaConnector', () =>
      measureConnector(context, fixture, produced, mongo, connectorDatabase),
    );
    results.rawConsumeDecode = await measure('rawConsumeDecode', () =>
      measureScript(context, 'raw-consume', 'bench/raw-consume.ts', {
        brokers: env.brokers,
        registryUrl: env.registryUrl,
        topics: sourceTopics(e2eConfig),
        groupId: `${run}_raw`,
        records: options.events,
        maxBytesPerPartition: e2eConfig.kafka.maxBytesPerPartition,
      }),
    );
    results.rawBulkWrite = await measure('rawBulkWrite', () =>
      measureScript(context, 'raw-bulk-write', 'bench/raw-bulk-write.ts', {
        uri: env.mongoUri,
        fromDatabase: e2eConfig.mongodb.database,
        toDatabase: `${run}_raw`,
        collections: SINK_COLLECTIONS,
        bulkSize: 500,
      }),
    );
    const freshness = await measureFreshnessRun(
      context,
      options,
      e2eConfig,
      results.cdcSync,
      generator,
      fixture,
      produced,
      mongo,
    );
    const scaleOut: ScaleOutRow[] = [];
    for (const workers of options.scaleWorkers) {
      databases.push(`${run}_s${workers}`);
      scaleOut.push(await measureScaleOut(context, changes, workers));
    }
    return {
      machine: { ...machine, loadAverageAtEnd: loadAverage() },
      workload,
      results,
      freshness,
      scaleOut,
      ratios: computeRatios(results),
    };
  } finally {
    if (!options.keep) {
      for (const database of [...databases, `${run}_raw`])
        await mongo
          .db(database)
          .dropDatabase()
          .catch(() => undefined);
      await deleteRunTopics(env, run).catch(() => undefined);
    }
    await mongo.close();
    await progress.close();
  }
}

type RunContext = {
  readonly env: BenchEnvironment;
  readonly servers: Readonly<Record<string, number>>;
  readonly progress: KafkaProgress;
  readonly events: number;
  readonly run: string;
  readonly partitions: number;
};

type Group = { readonly groupId: string; readonly topics: readonly string[] };

/** The measured window of one run: CPU of the measured processes and servers from its start to its end. */
type Window = { readonly startedAt: number; readonly cpu: Record<string, number> };

function openWindow(startedAt: number, pids: Readonly<Record<string, number>>): Window {
  return { startedAt, cpu: cpuSnapshot(pids) };
}

/**
 * A row from a window: events/s over its wall-clock span, CPU per million
 * events of the measured processes (summed) and of each server.
 */
function closeWindow(
  context: RunContext,
  window: Window,
  endedAt: number,
  pids: Readonly<Record<string, number>>,
  measured: readonly string[],
  peakRssMB: number | undefined,
): Measurement {
  const used = difference(window.cpu, cpuSnapshot(pids));
  const processCpu = measured.reduce((sum, name) => sum + (used[name] ?? 0), 0);
  const serverCpuSPer1M: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(used)) {
    if (!measured.includes(name)) serverCpuSPer1M[name] = cpuSecondsPerMillion(seconds, context.events);
  }
  const elapsedMs = endedAt - window.startedAt;
  return {
    eventsPerS: eventsPerSecond(context.events, elapsedMs),
    cpuSPer1M: cpuSecondsPerMillion(processCpu, context.events),
    peakRssMB: peakRssMB ?? null,
    seconds: elapsedMs / 1_000,
    events: context.events,
    serverCpuSPer1M,
    processes: measured.length,
  };
}

/**
 * One cdc-sync process over the preloaded topics with groups of its own:
 * from the moment its first group is Stable (it starts fetching then) until
 * every group has committed the last record.
 */
async function measurePipeline(
  context: RunContext,
  name: string,
  config: PipelineConfig,
  role: 'all' | 'transform' | 'sink',
  groups: readonly Group[],
): Promise<Measurement> {
  const worker = startWorker(context.env, `${context.run}-${name}`, config, role);
  try {
    const pids = { ...context.servers, worker: worker.pid };
    const startedAt = await raceExit(worker, context.progress.waitForGroup(groups[0]!.groupId, 1, GROUP_TIMEOUT_MS));
    const window = openWindow(startedAt, pids);
    const endedAt = await raceExit(worker, context.progress.waitCaughtUp(groups, caughtUpTimeout(context)));
    return closeWindow(context, window, endedAt, pids, ['worker'], worker.peakRssMB());
  } finally {
    await worker.stop();
  }
}

/** The MongoDB Kafka connector in the benchmark's Connect worker, over the same preloaded topics. */
async function measureConnector(
  context: RunContext,
  fixture: Fixture,
  produced: ProduceResult,
  mongo: MongoClient,
  database: string,
): Promise<Measurement> {
  const paths = resolveStackPaths();
  const service = createBenchConnectService(paths);
  const stack = createStack([service], paths);
  const [up] = await stack.up((line) => say(line));
  const name = `${context.run}_mongo_sink`;
  const connect = createConnectClient({ url: service.endpoint });
  try {
    const pid = readPidFile(serviceFiles(paths, service.name).pidFile);
    if (pid === undefined || !isRunning(pid)) throw new Error(`The benchmark's Kafka Connect worker is not running`);
    const pids = { ...context.servers, kafkaConnect: pid.pid };
    await connect.apply(
      name,
      mongoSinkConnectorConfig({
        topics: produced.topics.map((topic) => topic.topic),
        mongoUri: context.env.mongoUri,
        database,
        registryUrl: context.env.registryUrl,
      }),
    );
    const logFile = serviceFiles(paths, service.name).logFile;
    const logStart = statSync(logFile).size;
    const startedAt = await context.progress.waitForGroup(connectorGroupId(name), 1, GROUP_TIMEOUT_MS);
    const window = openWindow(startedAt, pids);
    await waitForConnectorTask(service.endpoint, name, 60_000);
    // Done when the last document of every partition is visible, or, where the server refused writes, when the
    // connector's group has committed the last offset (Connect commits a sink's offsets every second).
    let finished = false;
    const timeout = caughtUpTimeout(context);
    const endedAt = await Promise.race([
      waitForSentinels(mongo, database, sentinels(fixture, produced.records), timeout),
      context.progress.waitCaughtUp(
        [{ groupId: connectorGroupId(name), topics: produced.topics.map((t) => t.topic) }],
        timeout,
      ),
      failWhenConnectorFails(service.endpoint, name, () => finished),
    ]).finally(() => (finished = true));
    const row = closeWindow(context, window, endedAt, pids, ['kafkaConnect'], peakRssMbOf(pid.pid));
    const refused = countRefusedRecords(readFileSync(logFile, 'utf8').slice(logStart), name);
    const notes = ['peak RSS of the whole Connect worker JVM (-Xmx512m)'];
    if (refused > 0) {
      notes.unshift(
        `${refused} of ${context.events} writes refused by the MongoDB-wire server (E11000 on replace-upserts by a compound _id; see bench/README.md), so its figures are indicative only`,
      );
      say(`  the MongoDB-wire server refused ${refused} of the connector's ${context.events} writes`);
    }
    return { ...row, note: notes.join('; ') };
  } finally {
    await connect.remove(name).catch(() => undefined);
    if (up !== undefined && !up.alreadyRunning) await stack.down((line) => say(line));
  }
}

/** A raw-bound script: its own wall-clock and CPU figures, the servers' CPU between its `started` and `done`. */
async function measureScript(
  context: RunContext,
  name: string,
  script: string,
  settings: Record<string, unknown>,
): Promise<Measurement> {
  const child = startNode(context.env, `${context.run}-${name}`, [script, JSON.stringify(settings)]);
  try {
    const started = await waitForLogEvent(child, 'started', GROUP_TIMEOUT_MS);
    const window = openWindow(Number(started['at']), context.servers);
    const done = await waitForLogEvent(child, 'done', caughtUpTimeout(context));
    const row = closeWindow(context, window, Number(done['at']), context.servers, [], undefined);
    const elapsedMs = Number(done['elapsedMs']);
    return {
      ...row,
      eventsPerS: eventsPerSecond(context.events, elapsedMs),
      seconds: elapsedMs / 1_000,
      cpuSPer1M: cpuSecondsPerMillion(Number(done['cpuSeconds']), context.events),
      peakRssMB: Number(done['peakRssMB']),
      processes: 1,
      ...(done['documents'] === undefined
        ? {}
        : {
            note: `${String(done['documents'])} final documents, ${Math.round((Number(done['documents']) * 1_000) / elapsedMs)} per second`,
          }),
    };
  } finally {
    await child.stop();
  }
}

/**
 * Freshness: the end-to-end pipeline again (its groups resume at the end of
 * the preloaded topics), then the paced source at half of its measured rate.
 */
async function measureFreshnessRun(
  context: RunContext,
  options: BenchOptions,
  config: PipelineConfig,
  endToEnd: Measurement,
  generator: WorkloadGenerator,
  fixture: Fixture,
  produced: ProduceResult,
  mongo: MongoClient,
): Promise<Freshness> {
  const pollIntervalMs = 25;
  const base = { seconds: options.freshnessSeconds, pollIntervalMs, samples: 0, unresolved: 0 };
  const rate = options.freshnessRate ?? (endToEnd.eventsPerS === null ? null : endToEnd.eventsPerS / 2);
  if (rate === null) {
    return { ...base, p50Ms: null, p99Ms: null, rateEventsPerS: null, error: 'no end-to-end rate to take half of' };
  }
  say(`Freshness: ${Math.round(rate)} events/s for ${options.freshnessSeconds} s…`);
  const offset = options.events;
  const continuation = toFixture(
    generator.take(Math.ceil(rate * options.freshnessSeconds * 1.2) + 100),
    context.run,
    'the freshness workload',
    lsnAfter(fixture),
  );
  const probes = new Set<string>();
  for (
    let i = 0;
    i < options.events + continuation.entries.length && probes.size < (options.quick ? Infinity : PROBE_KEYS);
    i++
  ) {
    const key = generator.quantityKeyOf(i);
    if (key !== undefined) probes.add(key);
  }
  const worker = startWorker(context.env, `${context.run}-freshness`, config, 'all');
  try {
    await raceExit(worker, context.progress.waitForGroup(config.transform.groupId, 1, GROUP_TIMEOUT_MS));
    await raceExit(worker, context.progress.waitForGroup(config.sink.groupId, 1, GROUP_TIMEOUT_MS));
    const result = await measureFreshness({
      brokers: context.env.brokers,
      fixture: continuation,
      schemaIds: produced.topics,
      probeKeyOf: (index) => {
        const key = generator.quantityKeyOf(offset + index);
        return key !== undefined && probes.has(key) ? key : undefined;
      },
      rateEventsPerS: rate,
      seconds: options.freshnessSeconds,
      mongo,
      database: config.mongodb.database,
      collection: 'inventory_availability',
      pollIntervalMs,
      settleMs: 20_000,
    });
    return {
      ...base,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      rateEventsPerS: result.achievedEventsPerS,
      samples: result.samples,
      unresolved: result.unresolved,
    };
  } catch (error: unknown) {
    say(`Freshness could not be measured: ${messageOf(error)}`);
    return { ...base, p50Ms: null, p99Ms: null, rateEventsPerS: rate, error: messageOf(error) };
  } finally {
    await worker.stop();
  }
}

/**
 * Scale-out: `workers` transform and as many sink processes over topics of
 * their own, all in their groups before the workload arrives; from the start
 * of producing it until both groups have committed its last record.
 */
async function measureScaleOut(
  context: RunContext,
  changes: Parameters<typeof toFixture>[0],
  workers: number,
): Promise<ScaleOutRow> {
  const prefix = `${context.run}_s${workers}`;
  const base = benchPipelineConfig(context.env, {
    run: prefix,
    sourcePrefix: prefix,
    database: prefix,
    partitions: context.partitions,
  });
  const row = { workersPerRole: workers, partitions: context.partitions };
  say(`Scale-out: ${workers} worker(s) per role…`);
  const processes: MeasuredProcess[] = [];
  try {
    for (let i = 0; i < workers; i++) {
      const transformConfig = { ...base, transform: { ...base.transform, transactionalId: `${prefix}-tx-${i}` } };
      processes.push(startWorker(context.env, `${prefix}-transform-${i}`, transformConfig, 'transform'));
      processes.push(startWorker(context.env, `${prefix}-sink-${i}`, base, 'sink'));
    }
    const anyExit = Promise.race(processes.map((p) => p.exited.then(() => p)));
    const guard = <T>(promise: Promise<T>) =>
      Promise.race([promise, anyExit.then((p) => Promise.reject(new Error(`${p.name} exited; log: ${p.logFile}`)))]);
    await guard(context.progress.waitForGroup(base.transform.groupId, workers, GROUP_TIMEOUT_MS));
    await guard(context.progress.waitForGroup(base.sink.groupId, workers, GROUP_TIMEOUT_MS));
    const pids = { ...context.servers, ...Object.fromEntries(processes.map((p) => [p.name, p.pid])) };
    const window = openWindow(Date.now(), pids);
    await produce(context.env, toFixture(changes, prefix, 'the scale-out workload'), context.partitions);
    const endedAt = await guard(
      context.progress.waitCaughtUp([transformGroup(base), sinkGroup(base)], caughtUpTimeout(context)),
    );
    const peaks = processes.map((p) => p.peakRssMB()).filter((mb): mb is number => mb !== undefined);
    const measured = closeWindow(
      context,
      window,
      endedAt,
      pids,
      processes.map((p) => p.name),
      Math.max(...peaks),
    );
    return {
      ...row,
      eventsPerS: measured.eventsPerS,
      cpuSPer1M: measured.cpuSPer1M,
      peakRssMB: measured.peakRssMB,
      seconds: measured.seconds,
    };
  } catch (error: unknown) {
    say(`Scale-out with ${workers} worker(s) per role failed: ${messageOf(error)}`);
    return { ...row, eventsPerS: null, cpuSPer1M: null, peakRssMB: null, seconds: null, error: messageOf(error) };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}

async function measure(name: ResultName, work: () => Promise<Measurement>): Promise<Measurement> {
  say(`Measuring ${name}…`);
  try {
    const row = await work();
    say(`  ${name}: ${Math.round(row.eventsPerS ?? 0)} events/s in ${row.seconds?.toFixed(1)} s`);
    return row;
  } catch (error: unknown) {
    say(`  ${name} could not be measured: ${messageOf(error)}`);
    return {
      eventsPerS: null,
      cpuSPer1M: null,
      peakRssMB: null,
      seconds: null,
      events: 0,
      serverCpuSPer1M: {},
      error: messageOf(error),
    };
  }
}

async function produce(env: BenchEnvironment, fixture: Fixture, partitions: number): Promise<ProduceResult> {
  const producer = createFixtureProducer({
    brokers: [...env.brokers],
    registryUrl: env.registryUrl,
    partitions,
    batchSize: 2_000,
  });
  try {
    return await producer.produce(fixture);
  } finally {
    await producer.disconnect();
  }
}

/** The canonical events the default stages make of the workload, counted without Kafka. */
function countCanonicalEvents(fixture: Fixture): number {
  const stages = createStages(benchPipelineConfigDefaults(), pino({ level: 'silent' }), 'the benchmark');
  let count = 0;
  for (const { result } of expectedEnvelopes(fixture)) {
    if (result.kind !== 'change') continue;
    for (const stage of stages.stagesFor(result.event.table)) {
      const outcome = stage.apply(result.event);
      if (outcome.kind === 'emit') count += outcome.events.length;
    }
  }
  return count;
}

function benchPipelineConfigDefaults(): PipelineConfig {
  const local = localEndpoints();
  return benchPipelineConfig(
    {
      brokers: [local.kafkaBrokers],
      registryUrl: local.schemaRegistryUrl,
      mongoUri: local.mongodbUri,
      workDir: tmpdir(),
    },
    { run: 'defaults', sourcePrefix: 'defaults', database: 'defaults', partitions: 1 },
  );
}

function transformGroup(config: PipelineConfig): Group {
  return { groupId: config.transform.groupId, topics: sourceTopics(config) };
}

function sinkGroup(config: PipelineConfig): Group {
  return { groupId: config.sink.groupId, topics: [config.topics.inventory, config.topics.order] };
}

function sourceTopics(config: PipelineConfig): string[] {
  return config.source.tables.map((table) => sourceTopic(config.source, table));
}

/** Generous: a slow run is a figure, not a failure. */
function caughtUpTimeout(context: RunContext): number {
  return Math.max(180_000, context.events * 30);
}

/** Rejects when the worker exits before `promise` settles, naming its log. */
function raceExit<T>(worker: MeasuredProcess, promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    worker.exited.then((code) =>
      Promise.reject(new Error(`${worker.name} exited with code ${code}; log: ${worker.logFile}`)),
    ),
  ]);
}

async function deleteRunTopics(env: BenchEnvironment, run: string): Promise<void> {
  const admin = createOpsAdmin({ brokers: env.brokers, clientId: 'cdc-sync-bench' }, 'cleanup');
  try {
    await admin.use(
      async (client) => {
        const topics = (await client.listTopics()).filter((topic) => topic.startsWith(run));
        if (topics.length > 0) await client.deleteTopics({ topics });
      },
      30_000,
      `Deleting the topics of ${run}`,
    );
  } finally {
    await admin.close();
  }
}

function machineInfo(): Record<string, unknown> {
  const cores = cpus();
  return {
    date: new Date().toISOString(),
    commit: gitCommit(),
    cpus: cores.length,
    cpuModel: cores[0]?.model ?? 'unknown',
    memoryGB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    loadAverageAtStart: loadAverage(),
  };
}

function loadAverage(): string {
  return loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim();
    return dirty === '' ? commit : `${commit}+changes`;
  } catch {
    return 'unknown';
  }
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function positive(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new InvalidArgumentError(`expected a positive integer, got ${text}`);
  return Number(text);
}

function list(text: string): number[] {
  return text.split(',').map((part) => positive(part.trim()));
}

dropKafkajsTimerWarnings();
createBenchCommand()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`bench: ${messageOf(error)}\n`);
    process.exitCode = 1;
  });

export { RESULT_NAMES };
