import { setTimeout as sleep } from 'node:timers/promises';
import { type Db, type MongoClient } from 'mongodb';
import { type Logger } from 'pino';
import { parseWithSchema } from '../core/config.js';
import { type PipelineConfig } from './pipeline-config.js';
import { sourceTopic } from '../connectors/debezium/source-config.js';
import { transactionalIdOf } from '../core/runner/worker-config.js';
import { createCounters, type Counters } from '../core/runner/counters.js';
import { retryUntilAvailable } from '../core/runner/retry.js';
import { createSinkBatchHandler } from '../core/runner/sink-runner.js';
import { createTransformBatchHandler } from '../core/runner/transform-runner.js';
import { createLogger } from '../core/logger.js';
import { PIPELINE_VERSION } from '../core/version.js';
import { buildTopology, createDashboardRoutes } from './dashboard/dashboard.js';
import { createHealthRoutes } from '../core/observability/health.js';
import { createPipelineMetrics, type PipelineMetrics } from '../core/observability/metrics.js';
import { combineOpsRoutes, type OpsRoutes, startOpsServer } from '../core/observability/ops-server.js';
import {
  createReadiness,
  type DependencyProbe,
  type Readiness,
  type StatusCheck,
} from '../core/observability/readiness.js';
import { probeSchemaRegistry } from '../connectors/avro/registry-probe.js';
import {
  type AbandonedBatch,
  createBatchConsumer,
  type KafkaBatchConsumer,
} from '../connectors/kafka/batch-consumer.js';
import { type ConsumerGroupTopics, createConsumerLagReader } from '../connectors/kafka/consumer-lag.js';
import { createOpsAdmin } from '../connectors/kafka/ops-admin.js';
import { createPlainOutput, createTransactionalOutput } from '../connectors/kafka/outputs.js';
import { ensureTopics } from '../connectors/kafka/topics.js';
import { createMilestoneLatencyReader, milestonePairsOf } from './read-side/milestone-latency.js';
import { orderView, type OrderViewDocument } from '../sinks/mongo/order-view.js';
import { createReadModelsSource } from './read-side/ops-queries.js';
import { pingMongo } from '../sinks/mongo/probe.js';
import { sinks as sinkRegistry } from '../sinks/index.js';
import { buildRuntime } from './runtime.js';
import { configuredStageNames, stageCatalogOf } from './components.js';
import { ConfigError } from '../core/errors.js';

/** Which workers a process runs; separate roles scale out as separate consumer groups. */
export type PipelineRole = 'all' | 'transform' | 'sink';

/** How a stop ended. */
export type StopOutcome = {
  /** False when the stop's bound passed first (see `stopTimeoutMs`). */
  readonly complete: boolean;
  /** The in-flight batches given up at the bound, none of their offsets committed; none when complete. */
  readonly abandoned: readonly AbandonedBatch[];
};

/**
 * A started pipeline. `stop` finishes in-flight batches, commits, and
 * disconnects, within `stopTimeoutMs` (see {@link StopOutcome}).
 */
export type RunningPipeline = {
  readonly counters: Counters;
  /** The pipeline's own Prometheus registry and the calls feeding it; `/metrics` serves `metrics.text()`. */
  readonly metrics: PipelineMetrics;
  /** What `/readyz` answers. */
  readonly readiness: Readiness;
  /** Base URL of the ops server (metrics, health, dashboard); undefined when `ops.enabled` is false. */
  readonly opsUrl: string | undefined;
  /**
   * Settles with the error once one of the workers' consumers has stopped for
   * good (see {@link KafkaBatchConsumer.halted}); readiness already fails by
   * then. The caller stops the pipeline and exits non-zero, so that its
   * supervisor starts it again.
   */
  readonly halted: Promise<Error>;
  /**
   * Stops the workers: they finish their in-flight batches and commit, then
   * every connection closes. Once `stopTimeoutMs` has passed, the workers
   * abandon the batches still in flight, which commit nothing, and this
   * logs them at error level and resolves at most {@link ABANDON_GRACE_MS}
   * later, whether or not every connection has closed: the caller then
   * exits rather than wait for them.
   */
  stop(): Promise<StopOutcome>;
};

/** How long a stop that abandoned its batches still waits for the workers to leave their groups and close. */
export const ABANDON_GRACE_MS = 2_000;

/** Extras for {@link startPipeline}; every one is optional. */
export type StartPipelineOptions = {
  /** More ops routes, served beside the health routes (a path served twice fails start-up). */
  readonly opsRoutes?: OpsRoutes;
  /**
   * True once the process is asked to stop: start-up then stops waiting for
   * unavailable dependencies and rejects with the last error, after closing
   * what it opened.
   */
  readonly isStopping?: () => boolean;
};

/** What the ops routes serve from; built before the workers start, so parts of it fill in as they do. */
export type OpsContext = {
  readonly config: PipelineConfig;
  readonly role: PipelineRole;
  readonly counters: Counters;
  readonly metrics: PipelineMetrics;
  readonly readiness: Readiness;
  /** The read models' database once the sink workers connected; undefined before that and in the transform role. */
  readonly db: () => Db | undefined;
};

/** How long one scrape may wait for consumer lag or milestone latencies before serving the last values. */
const SCRAPE_READ_TIMEOUT_MS = 3_000;

/** Creates the pipeline's root logger: redacted JSON lines on stdout, with the role bound. */
export function createPipelineLogger(config: PipelineConfig, role: PipelineRole): Logger {
  return createLogger({ level: config.logLevel, base: { service: 'cdc-sync', role, version: PIPELINE_VERSION } });
}

/**
 * Builds the workers of one role from the runtime (`runtime.ts`, the
 * composition root): metrics, clients, consumers, stages and sinks, in that
 * order, and starts them. The ops server starts first, so health answers (not
 * ready) while the workers still wait for their dependencies. Resolves once
 * every worker has joined its consumer group.
 */
export async function startPipeline(
  config: PipelineConfig,
  role: PipelineRole,
  logger: Logger,
  origin = 'the pipeline config',
  options: StartPipelineOptions = {},
): Promise<RunningPipeline> {
  const runsTransform = role === 'all' || role === 'transform';
  const runsSink = role === 'all' || role === 'sink';
  if (runsTransform && configuredStageNames(config).length === 0) {
    throw new ConfigError(
      `No stage to run in ${origin}: a pipeline runs only the stages it lists under transforms, e.g. ` +
        `transforms: { stock_level: {} } (config/pipeline.example.yaml lists the sample ERP's); registered: ` +
        `${Object.keys(stageCatalogOf(config).definitions).join(', ')}`,
    );
  }
  const starting = () => !(options.isStopping?.() ?? false);
  const counters = createCounters();
  const metrics = createPipelineMetrics({ logger: logger.child({ component: 'metrics' }) });
  const runtime = buildRuntime(config, origin, logger, { registryCacheLookup: metrics.registryCacheLookup });
  const kafka = runtime.kafka();
  const codec = runtime.codec();
  const sourceTopics = config.source.tables.map((table) => sourceTopic(config.source, table));
  const canonicalTopics = [config.topics.inventory, config.topics.order];
  let transformConsumer: KafkaBatchConsumer | undefined;
  let sinkConsumer: KafkaBatchConsumer | undefined;
  let mongo: MongoClient | undefined;
  let db: Db | undefined;

  const probeAdmin = createOpsAdmin(config.kafka, 'readiness');
  const dependencies: DependencyProbe[] = [
    { dependency: 'kafka', probe: (timeoutMs) => probeAdmin.probe(timeoutMs) },
    { dependency: 'schema_registry', probe: (timeoutMs) => probeSchemaRegistry(config.schemaRegistry.url, timeoutMs) },
  ];
  const checks: StatusCheck[] = [];
  if (runsTransform) checks.push(consumerCheck('transform_consumer', () => transformConsumer));
  if (runsSink) {
    dependencies.push({
      dependency: 'mongodb',
      probe: (timeoutMs) =>
        mongo === undefined
          ? Promise.reject(new Error('MongoDB not connected yet; start-up is retrying'))
          : pingMongo(mongo, timeoutMs).catch((error: unknown) => {
              const reason = error instanceof Error ? error.message : String(error);
              throw new Error(`MongoDB of mongodb.uri did not answer ping: ${reason}`, {
                cause: error,
              });
            }),
    });
    checks.push(consumerCheck('sink_consumer', () => sinkConsumer));
  }
  const readiness = createReadiness({
    dependencies,
    checks,
    metrics,
    logger: logger.child({ component: 'readiness' }),
    intervalMs: config.ops.probeIntervalMs,
    timeoutMs: config.ops.probeTimeoutMs,
  });

  const lagGroups: ConsumerGroupTopics[] = [];
  if (runsTransform) lagGroups.push({ groupId: config.transform.groupId, topics: sourceTopics });
  if (runsSink) lagGroups.push({ groupId: config.sink.groupId, topics: canonicalTopics });
  const lagAdmin = createOpsAdmin(config.kafka, 'lag');
  metrics.readConsumerLagFrom(createConsumerLagReader(lagAdmin, lagGroups, SCRAPE_READ_TIMEOUT_MS));

  const stoppers: (() => Promise<void>)[] = [() => lagAdmin.close(), () => probeAdmin.close()];
  // Stops in reverse start order, readiness first so that nothing probes connections while they close. Each step
  // runs even when an earlier one failed: a connection that will not close cleanly must not keep the others open.
  // Offsets were committed with each batch, so nothing is lost either way.
  const stopAll = async (): Promise<void> => {
    readiness.stop();
    for (const stopOne of stoppers.splice(0).reverse()) {
      await stopOne().catch((error: unknown) => logger.warn({ err: error }, 'A connection did not close cleanly'));
    }
  };
  // A batch can hang on a stalled dependency (a MongoDB write no server answers) for longer than any supervisor
  // waits: past the bound the workers abandon their batches, uncommitted, so that they are read again after a
  // restart, and the stop returns for the process to exit.
  const stop = async (): Promise<StopOutcome> => {
    const stopping = stopAll();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<'timed out'>((resolve) => {
      timer = setTimeout(resolve, config.stopTimeoutMs, 'timed out');
    });
    const first = await Promise.race([stopping.then(() => 'stopped' as const), bound]);
    clearTimeout(timer);
    if (first === 'stopped') return { complete: true, abandoned: [] };
    const abandoned = [transformConsumer, sinkConsumer].flatMap((consumer) => consumer?.abandon() ?? []);
    logger.error(
      { stopTimeoutMs: config.stopTimeoutMs, abandoned },
      abandoned.length > 0
        ? 'Stop timed out: abandoned the in-flight batches without committing their offsets'
        : 'Stop timed out with no batch in flight: connections did not close in time',
    );
    await Promise.race([stopping, sleep(ABANDON_GRACE_MS, undefined, { ref: false })]);
    return { complete: false, abandoned };
  };

  let opsUrl: string | undefined;
  try {
    // First, so health answers while the workers still wait for their dependencies.
    if (config.ops.enabled) {
      const context: OpsContext = { config, role, counters, metrics, readiness, db: () => db };
      const server = await startOpsServer({
        host: config.ops.host,
        port: config.ops.port,
        routes: opsRoutes(context, options.opsRoutes),
        logger: logger.child({ component: 'ops-server' }),
      });
      stoppers.push(() => server.close());
      opsUrl = server.url;
      logger.info({ url: server.url }, 'Ops server listening');
    }
    const startup = (what: string) => (error: unknown, attempt: number, delayMs: number) =>
      logger.warn({ err: error, attempt, delayMs }, `${what} unavailable at start-up; retrying`);
    const ownTopics = [...canonicalTopics, config.topics.deadLetter];
    const created = await retryUntilAvailable(
      () =>
        ensureTopics(
          kafka,
          role === 'sink' ? ownTopics : [...sourceTopics, ...ownTopics],
          config.kafka.topicPartitions,
        ),
      config.backoff,
      startup('Kafka'),
      starting,
    );
    if (created.length > 0) logger.info({ topics: created }, 'Created missing topics');

    if (runsTransform) {
      const stages = runtime.stages();
      const decodeSource = runtime.sourceDecoder();
      const consumer = createBatchConsumer(kafka, {
        groupId: config.transform.groupId,
        topics: sourceTopics,
        fromBeginning: true,
        maxBytesPerPartition: config.kafka.maxBytesPerPartition,
        partitionsConsumedConcurrently: config.kafka.partitionsConsumedConcurrently,
        sessionTimeoutMs: config.kafka.sessionTimeoutMs,
        observer: metrics,
        logger: logger.child({ component: 'transform-consumer' }),
      });
      transformConsumer = consumer;
      const output = createTransactionalOutput(kafka, {
        transactionalId: transactionalIdOf(config),
        consumerGroupId: config.transform.groupId,
        maxRequestBytes: config.kafka.maxRequestBytes,
      });
      await retryUntilAvailable(() => codec.ensureRegistered(), config.backoff, startup('Schema registry'), starting);
      await output.connect();
      stoppers.push(() => output.disconnect());
      const handler = createTransformBatchHandler({
        decode: decodeSource,
        stagesFor: stages.stagesFor,
        encode: (event) => codec.encode(event),
        output,
        deadLetterTopic: config.topics.deadLetter,
        backoff: config.backoff,
        logger: logger.child({ component: 'transform-runner' }),
        counters,
        telemetry: metrics,
      });
      await consumer.run(handler);
      stoppers.push(() => consumer.stop());
      logger.info(
        { groupId: config.transform.groupId, stages: [...stages.byName.keys()] },
        'Transform workers running',
      );
    }

    if (runsSink) {
      const client = await retryUntilAvailable(
        () => runtime.mongo('cdc-sync-sink'),
        config.backoff,
        startup('MongoDB'),
        starting,
      );
      stoppers.push(() => client.close());
      mongo = client;
      db = client.db(config.mongodb.database);
      watchMilestoneLatencies(config, db, metrics, logger, origin);
      const sinks = await runtime.sinks(db);
      const consumer = createBatchConsumer(kafka, {
        groupId: config.sink.groupId,
        topics: canonicalTopics,
        fromBeginning: true,
        maxBytesPerPartition: config.kafka.maxBytesPerPartition,
        fetch: { minBytes: config.sink.fetchMinBytes, maxWaitMs: config.sink.fetchMaxWaitMs },
        partitionsConsumedConcurrently: config.kafka.partitionsConsumedConcurrently,
        sessionTimeoutMs: config.kafka.sessionTimeoutMs,
        observer: metrics,
        logger: logger.child({ component: 'sink-consumer' }),
      });
      sinkConsumer = consumer;
      const output = createPlainOutput(kafka, consumer, { maxRequestBytes: config.kafka.maxRequestBytes });
      await output.connect();
      stoppers.push(() => output.disconnect());
      const handler = createSinkBatchHandler({
        decode: (record) => codec.decode(record),
        sinks,
        output,
        deadLetterTopic: config.topics.deadLetter,
        backoff: config.backoff,
        logger: logger.child({ component: 'sink-runner' }),
        counters,
        telemetry: metrics,
      });
      await consumer.run(handler);
      stoppers.push(() => consumer.stop());
      logger.info({ groupId: config.sink.groupId, sinks: sinks.map((s) => s.name) }, 'Sink workers running');
    }
  } catch (error: unknown) {
    await stop().catch(() => {});
    throw error;
  }
  // Fresh probe results, so that a pipeline whose dependencies are up is ready the moment it has started.
  await readiness.probeNow();
  readiness.started();
  const consumers = [transformConsumer, sinkConsumer].filter((consumer) => consumer !== undefined);
  const halted = Promise.race(consumers.map((consumer) => consumer.halted));
  return { counters, metrics, readiness, opsUrl, halted, stop };
}

/**
 * What the ops server serves: `/metrics`, `/healthz` and `/readyz` (see
 * `core/observability/health.ts`), the dashboard at `/`, then `extra`.
 * Another table of routes is one more argument to `combineOpsRoutes`,
 * built from `context`.
 */
export function opsRoutes(context: OpsContext, extra: OpsRoutes = {}): OpsRoutes {
  return combineOpsRoutes(createHealthRoutes(context), dashboardRoutes(context), extra);
}

/** The ops dashboard (`ops/dashboard/dashboard.ts`): the flow from the registries, the read models once connected. */
function dashboardRoutes({ config, role, db }: OpsContext): OpsRoutes {
  const topology = buildTopology({
    config,
    role,
    transforms: stageCatalogOf(config).definitions,
    sinks: sinkRegistry,
  });
  return createDashboardRoutes({
    topology,
    readModels: role === 'transform' ? undefined : createReadModelsSource(db, config),
  });
}

/** Ready while the consumer holds its group assignment. */
function consumerCheck(name: string, consumer: () => KafkaBatchConsumer | undefined): StatusCheck {
  return {
    name,
    status() {
      const current = consumer();
      if (current === undefined) return { ok: false, detail: 'not started yet' };
      const { groupId, state, assignment } = current.membership();
      if (state !== 'joined') return { ok: false, detail: `group ${groupId}: ${state}` };
      const partitions = Object.entries(assignment).flatMap(([topic, numbers]) =>
        numbers.map((partition) => `${topic}[${partition}]`),
      );
      return {
        ok: true,
        detail: `group ${groupId}: ${partitions.length === 0 ? 'joined, no partitions assigned (more members than partitions)' : `assigned ${partitions.join(', ')}`}`,
      };
    },
  };
}

/** Feeds `cdc_sync_order_milestone_latency_seconds` from the order view, unless the config disables that sink. */
function watchMilestoneLatencies(
  config: PipelineConfig,
  db: Db,
  metrics: PipelineMetrics,
  logger: Logger,
  origin: string,
): void {
  const settings = config.sinks[orderView.name];
  if (settings === false) return;
  const { collection } = parseWithSchema(orderView.configSchema, settings ?? {}, ['sinks', orderView.name], origin);
  const pairs = milestonePairsOf(config.stalled);
  const read = createMilestoneLatencyReader(db.collection<OrderViewDocument>(collection), {
    timeoutMs: SCRAPE_READ_TIMEOUT_MS,
    pairs,
  });
  let warned = false;
  metrics.readMilestoneLatenciesFrom(async () => {
    const result = await read();
    if (result.truncated && !warned) {
      warned = true;
      logger.warn(
        { collection, orders: result.orders },
        'Order milestone latencies cover only the first orders read; the rest are left out to bound the cost',
      );
    }
    return result.latencies;
  }, pairs);
}
