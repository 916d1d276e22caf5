import { type Db, type MongoClient } from 'mongodb';
import { type Logger, pino } from 'pino';
import { type Kafka } from 'kafkajs';
import { type PipelineConfig } from './pipeline-config.js';
import { type Sink } from '../core/sink.js';
import { createConfluentDecoder, type SchemaCacheObserver } from '../connectors/avro/confluent-decoder.js';
import { type CanonicalRegistryCodec, createCanonicalRegistryCodec } from '../connectors/canonical/registry.js';
import { createEnvelopeReader } from '../connectors/debezium/envelope.js';
import { createSourceDecoder } from '../connectors/debezium/source-decoder.js';
import { createKafkaClient } from '../connectors/kafka/client.js';
import { connectMongo } from '../sinks/mongo/connect.js';
import { type ConfiguredStages, createSinks, createStages } from './components.js';

/** What the runtime's components report to, where a command has metrics. */
export type RuntimeObservers = {
  /** Hears each registry lookup of the source decoder and the canonical codec: `hit` or `miss`. */
  readonly registryCacheLookup?: SchemaCacheObserver;
};

/**
 * The components of one validated config: every command that reads Kafka, decodes records, runs stages or writes
 * read models asks the runtime for them, so the pipeline, `dlq replay`, `rebuild`, `reconcile`, `stalled` and the demo
 * run the very same decoder, codec, stages and sinks with the same settings. Factories, not singletons: a command
 * creates what it needs, when it needs it, and owns closing it.
 */
export type Runtime = {
  readonly config: PipelineConfig;
  /** Where the config came from, for error messages (a file path, or "the demo"). */
  readonly origin: string;
  readonly logger: Logger;
  /** A kafkajs client for `kafka.*`; its own log lines at warn (the pipeline) or debug (one-shot commands). */
  kafka(kafkaLogLevel?: 'warn' | 'debug'): Kafka;
  /** Decodes Debezium records of the source topics: Confluent framing, Avro, the envelope, the logical table name. */
  sourceDecoder(): ReturnType<typeof createSourceDecoder>;
  /** Encodes and decodes canonical events with their registered schemas. */
  codec(): CanonicalRegistryCodec;
  /** Whether `topic` holds canonical events (`topics.inventory`, `topics.order`). */
  isCanonicalTopic(topic: string): boolean;
  /** A MongoDB client for `mongodb.uri`, connected with the sinks' write concern; the caller closes it. */
  mongo(appName: string): Promise<MongoClient>;
  /** The enabled stages by logical input table, each from its validated settings. */
  stages(): ConfiguredStages;
  /** The enabled sinks against `db`; `overrides` replaces settings per sink name (a rebuild's shadow collections). */
  sinks(db: Db, overrides?: Readonly<Record<string, Record<string, unknown>>>): Promise<Sink[]>;
};

/** A logger that writes nothing, for read-only commands whose output is their report. */
export function quietLogger(): Logger {
  return pino({ enabled: false });
}

/** The composition root: see {@link Runtime}. */
export function buildRuntime(
  config: PipelineConfig,
  origin: string,
  logger: Logger,
  observers: RuntimeObservers = {},
): Runtime {
  const canonical = new Set([config.topics.inventory, config.topics.order]);
  const onCacheLookup =
    observers.registryCacheLookup === undefined ? {} : { onCacheLookup: observers.registryCacheLookup };
  return {
    config,
    origin,
    logger,
    kafka: (kafkaLogLevel = 'warn') => createKafkaClient(config.kafka, logger, kafkaLogLevel),
    sourceDecoder: () =>
      createSourceDecoder(
        createConfluentDecoder({ registryUrl: config.schemaRegistry.url, ...onCacheLookup }),
        createEnvelopeReader(config.source),
      ),
    codec: () =>
      createCanonicalRegistryCodec({ registryUrl: config.schemaRegistry.url, topics: config.topics }, onCacheLookup),
    isCanonicalTopic: (topic) => canonical.has(topic),
    mongo: (appName) => connectMongo(config.mongodb.uri, { appName, logger }),
    stages: () => createStages(config, logger, origin),
    sinks: (db, overrides) => createSinks(config, db, logger, origin, overrides),
  };
}
