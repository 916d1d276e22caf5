import { pino, type Logger } from 'pino';
import { type PipelineConfig, sourceTopic, transactionalIdOf } from '../core/config.js';
import { createCounters, type Counters } from '../core/runner/counters.js';
import { retryUntilAvailable } from '../core/runner/retry.js';
import { createSinkBatchHandler } from '../core/runner/sink-runner.js';
import { createTransformBatchHandler } from '../core/runner/transform-runner.js';
import { PIPELINE_VERSION } from '../core/version.js';
import { type OpsRoutes, startOpsServer } from '../core/observability/ops-server.js';
import { createConfluentDecoder } from '../connectors/avro/confluent-decoder.js';
import { createCanonicalRegistryCodec } from '../connectors/canonical/registry.js';
import { createEnvelopeReader } from '../connectors/debezium/envelope.js';
import { createSourceDecoder } from '../connectors/debezium/source-decoder.js';
import { createBatchConsumer } from '../connectors/kafka/batch-consumer.js';
import { createKafkaClient } from '../connectors/kafka/client.js';
import { createPlainOutput, createTransactionalOutput } from '../connectors/kafka/outputs.js';
import { ensureTopics } from '../connectors/kafka/topics.js';
import { connectMongo } from '../sinks/mongo/connect.js';
import { createSinks, createStages } from './components.js';

/** Which workers a process runs; separate roles scale out as separate consumer groups. */
export type PipelineRole = 'all' | 'transform' | 'sink';

/** A started pipeline. `stop` finishes in-flight batches, commits, and disconnects. */
export type RunningPipeline = {
  readonly counters: Counters;
  /** Base URL of the ops server (metrics, health, dashboard); undefined when `ops.enabled` is false. */
  readonly opsUrl: string | undefined;
  stop(): Promise<void>;
};

/** Creates the pipeline's root logger: JSON lines on stdout, with the role bound. */
export function createPipelineLogger(config: PipelineConfig, role: PipelineRole): Logger {
  return pino({ level: config.logLevel, base: { service: 'cdc-sync', role, version: PIPELINE_VERSION } });
}

/**
 * The composition root: builds config, then logger, registry client,
 * consumers, stages and sinks, in that order, and starts the workers of the
 * given role. Resolves once every worker has joined its consumer group.
 */
export async function startPipeline(
  config: PipelineConfig,
  role: PipelineRole,
  logger: Logger,
  origin = 'the pipeline config',
): Promise<RunningPipeline> {
  const counters = createCounters();
  const kafka = createKafkaClient(config.kafka, logger);
  const codec = createCanonicalRegistryCodec({
    registryUrl: config.schemaRegistry.url,
    topics: { inventory: config.topics.inventory, order: config.topics.order },
  });
  const stoppers: (() => Promise<void>)[] = [];
  // Stops in reverse start order. Each step runs even when an earlier one failed: a connection that will not close
  // cleanly must not keep the others open. Offsets were committed with each batch, so nothing is lost either way.
  const stop = async (): Promise<void> => {
    for (const stopOne of stoppers.splice(0).reverse()) {
      await stopOne().catch((error: unknown) => logger.warn({ err: error }, 'A connection did not close cleanly'));
    }
  };

  let opsUrl: string | undefined;
  try {
    // First, so health answers while the workers still wait for their dependencies.
    if (config.ops.enabled) {
      const server = await startOpsServer({
        host: config.ops.host,
        port: config.ops.port,
        routes: opsRoutes(),
        logger: logger.child({ component: 'ops-server' }),
      });
      stoppers.push(() => server.close());
      opsUrl = server.url;
      logger.info({ url: server.url }, 'Ops server listening');
    }
    const startup = (what: string) => (error: unknown, attempt: number, delayMs: number) =>
      logger.warn({ err: error, attempt, delayMs }, `${what} unavailable at start-up; retrying`);
    const sourceTopics = config.source.tables.map((table) => sourceTopic(config.source, table));
    const ownTopics = [config.topics.inventory, config.topics.order, config.topics.deadLetter];
    const created = await retryUntilAvailable(
      () =>
        ensureTopics(
          kafka,
          role === 'sink' ? ownTopics : [...sourceTopics, ...ownTopics],
          config.kafka.topicPartitions,
        ),
      config.backoff,
      startup('Kafka'),
    );
    if (created.length > 0) logger.info({ topics: created }, 'Created missing topics');

    if (role === 'all' || role === 'transform') {
      const stages = createStages(config, logger, origin);
      const decoder = createConfluentDecoder({ registryUrl: config.schemaRegistry.url });
      const reader = createEnvelopeReader({
        connector: config.source.connector,
        topicPrefix: config.source.topicPrefix,
        database: config.source.database,
        ...(config.source.names === undefined ? {} : { names: config.source.names }),
      });
      const consumer = createBatchConsumer(kafka, {
        groupId: config.transform.groupId,
        topics: sourceTopics,
        fromBeginning: true,
        maxBytesPerPartition: config.kafka.maxBytesPerPartition,
      });
      const output = createTransactionalOutput(kafka, {
        transactionalId: transactionalIdOf(config),
        consumerGroupId: config.transform.groupId,
      });
      await retryUntilAvailable(
        () => codec.ensureRegistered(),
        config.backoff,
        (error, attempt, delayMs) =>
          logger.warn({ err: error, attempt, delayMs }, 'Schema registry unavailable at start-up; retrying'),
      );
      await output.connect();
      stoppers.push(() => output.disconnect());
      const handler = createTransformBatchHandler({
        decode: createSourceDecoder(decoder, reader),
        stagesFor: (table) => stages.get(table) ?? [],
        encode: (event) => codec.encode(event),
        output,
        deadLetterTopic: config.topics.deadLetter,
        backoff: config.backoff,
        logger: logger.child({ component: 'transform-runner' }),
        counters,
      });
      await consumer.run(handler);
      stoppers.push(() => consumer.stop());
      logger.info({ groupId: config.transform.groupId, stages: [...stages.keys()] }, 'Transform workers running');
    }

    if (role === 'all' || role === 'sink') {
      const mongo = await retryUntilAvailable(
        () => connectMongo(config.mongodb.uri),
        config.backoff,
        startup('MongoDB'),
      );
      stoppers.push(() => mongo.close());
      const db = mongo.db(config.mongodb.database);
      const sinks = await createSinks(config, db, logger, origin);
      const consumer = createBatchConsumer(kafka, {
        groupId: config.sink.groupId,
        topics: [config.topics.inventory, config.topics.order],
        fromBeginning: true,
        maxBytesPerPartition: config.kafka.maxBytesPerPartition,
      });
      const output = createPlainOutput(kafka, consumer);
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
      });
      await consumer.run(handler);
      stoppers.push(() => consumer.stop());
      logger.info({ groupId: config.sink.groupId, sinks: sinks.map((s) => s.name) }, 'Sink workers running');
    }
  } catch (error: unknown) {
    await stop().catch(() => {});
    throw error;
  }
  return { counters, opsUrl, stop };
}

/** What the ops server serves. `/healthz` answers while the process runs (liveness). */
function opsRoutes(): OpsRoutes {
  return {
    '/healthz': (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
    },
  };
}
