import { SAMPLE_ERP_STAGES } from '../transforms/index.js';
import { parsePipelineConfig, type PipelineConfig } from '../ops/pipeline-config.js';

// The pipeline config of one live demo run, on PostgreSQL (run.ts) or SQL Server (sqlserver.ts): the
// parts both chains share are written once here.

/** Where a live demo run's services answer. */
export type DemoEndpoints = {
  /** Comma-separated `host:port` list. */
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
  readonly mongodbUri: string;
  readonly connectUrl: string;
};

/** One live demo run: its name, endpoints, read model database and the source and connector settings of its chain. */
export type DemoRunInput = {
  readonly run: string;
  readonly endpoints: DemoEndpoints;
  readonly mongodbDatabase: string;
  /** `source.*` besides `topicPrefix`, which is the run. */
  readonly source: Readonly<Record<string, unknown>>;
  /** `connector.*` besides `name` (the run), `connectUrl` and `heartbeatIntervalMs`. */
  readonly connector: Readonly<Record<string, unknown>>;
};

/**
 * The canonical topics, consumer groups and transactional id of a run of its own (`<run>.canonical.inventory.v1`,
 * `<run>-transform`, …), as raw config: an earlier run's events, offsets or open transactions never reach it.
 */
export function runScopedSettings(run: string) {
  return {
    topics: {
      inventory: `${run}.canonical.inventory.v1`,
      order: `${run}.canonical.order.v1`,
      deadLetter: `${run}.dlq`,
    },
    transform: { groupId: `${run}-transform`, transactionalId: `${run}-tx` },
    sink: { groupId: `${run}-sink` },
  };
}

/**
 * The pipeline and connector config of one live demo run: the run's endpoints, the connector named after the run with
 * a heartbeat every second, topics and groups of its own ({@link runScopedSettings}) and short backoff. Throws
 * `ConfigError` naming `origin` for settings the schema refuses.
 */
export function demoPipelineConfig(input: DemoRunInput, origin: string): PipelineConfig {
  const { run, endpoints } = input;
  return parsePipelineConfig(
    {
      logLevel: 'error',
      kafka: { brokers: endpoints.kafkaBrokers.split(',') },
      schemaRegistry: { url: endpoints.schemaRegistryUrl },
      mongodb: { uri: endpoints.mongodbUri, database: input.mongodbDatabase },
      source: { topicPrefix: run, ...input.source },
      transforms: SAMPLE_ERP_STAGES,
      connector: { name: run, connectUrl: endpoints.connectUrl, heartbeatIntervalMs: 1000, ...input.connector },
      ...runScopedSettings(run),
      backoff: { initialMs: 200, maxMs: 2000 },
    },
    origin,
    {},
  );
}
