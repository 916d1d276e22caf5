import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type ComponentSchemas, parseConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { logLevelSchema } from '../core/logger.js';
import { opsConfigSchema } from '../core/observability/ops-server.js';
import { backoffConfigSchema } from '../core/runner/backoff.js';
import {
  deadLetterTopicSchema,
  sinkWorkerConfigSchema,
  stopTimeoutMsSchema,
  transformWorkerConfigSchema,
} from '../core/runner/worker-config.js';
import { schemaRegistryConfigSchema } from '../connectors/avro/confluent-decoder.js';
import { canonicalTopicsSchema, distinctCanonicalTopics } from '../connectors/canonical/codec.js';
import { sourceConfigSchema } from '../connectors/debezium/source-config.js';
import { connectorConfigSchema } from '../connectors/kafka-connect/connector-config.js';
import { kafkaConfigSchema } from '../connectors/kafka/client.js';
import { mongodbConfigSchema } from '../sinks/mongo/connect.js';
import { stalledConfigSchema } from './read-side/stalled-orders.js';
import { type StageCatalog } from './stage-packages.js';

/** Per-component settings by registry name; `false` disables one. Each is checked by its own schema. */
/** Settings by registry name; `false` turns a listed component off. */
const componentSettings = () => z.record(z.string(), z.union([z.literal(false), z.record(z.string(), z.unknown())]));

/** The `stages` section: the stage packages a pipeline loads besides cdc-sync's own stages. */
export const stagesConfigSchema = z.strictObject({
  modules: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Stage packages to load, each a path relative to the config file (./erp-stages/index.ts) or an npm package name installed beside it; each default-exports defineStagePackage({ name, stages }) from cdc-sync/stages, and transforms lists the stages that run',
    ),
});

/**
 * The pipeline configuration, composed of the sections its components own: each adapter declares its section's
 * keys, defaults and descriptions once (`kafka` in `connectors/kafka/client.ts`, `schemaRegistry` in
 * `connectors/avro/confluent-decoder.ts`, `mongodb` in `sinks/mongo/connect.ts`, `source` in
 * `connectors/debezium/source-config.ts`, `connector` in `connectors/kafka-connect/connector-config.ts`, the canonical
 * `topics` in `connectors/canonical/codec.ts`), the runner its own (`core/runner/`, `core/observability/`), and
 * this schema only puts them together. Strings may reference the environment as `${NAME}` or `${NAME:-default}`, so
 * secrets stay out of the file.
 */
export const pipelineConfigSchema = z
  .object({
    logLevel: logLevelSchema,
    stopTimeoutMs: stopTimeoutMsSchema,
    kafka: kafkaConfigSchema.prefault({}),
    schemaRegistry: schemaRegistryConfigSchema.prefault({}),
    mongodb: mongodbConfigSchema.prefault({}),
    source: sourceConfigSchema.prefault({}),
    connector: connectorConfigSchema.prefault({}),
    topics: z
      .object({ ...canonicalTopicsSchema.shape, deadLetter: deadLetterTopicSchema })
      .refine(...distinctCanonicalTopics)
      .prefault({}),
    transform: transformWorkerConfigSchema.prefault({}),
    sink: sinkWorkerConfigSchema.prefault({}),
    stages: stagesConfigSchema.prefault({}),
    transforms: componentSettings()
      .default({})
      .describe(
        "The stages this pipeline runs, by registry name, each with its settings ({} for the defaults); a stage not listed does not run, false turns a listed one off. config/pipeline.example.yaml lists the sample ERP's seven",
      ),
    sinks: componentSettings()
      .default({})
      .describe('Per-sink config by registry name; false disables one. Unlisted sinks run with defaults'),
    backoff: backoffConfigSchema.prefault({}),
    ops: opsConfigSchema.prefault({}),
    stalled: stalledConfigSchema,
  })
  .strict();

/**
 * A validated config. `stageCatalog` holds the stages of its `stages.modules` besides cdc-sync's own, once loaded
 * (`loadConfigWithStages` in `components.ts`); without it, only cdc-sync's own stages are known.
 */
export type PipelineConfig = z.output<typeof pipelineConfigSchema> & { readonly stageCatalog?: StageCatalog };

/**
 * Reads, interpolates and validates a YAML or JSON config file. Throws a
 * `ConfigError` naming the file, the key path and the bad value.
 */
export function loadPipelineConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
  components?: ComponentSchemas,
): PipelineConfig {
  return parsePipelineConfig(readConfigFile(path), path, env, components);
}

/** The YAML or JSON object of a config file, not yet validated; a `ConfigError` naming the file when unreadable. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error: unknown) {
    throw new ConfigError(
      `Cannot read config file ${path}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  try {
    return parseYaml(text) ?? {};
  } catch (error: unknown) {
    throw new ConfigError(
      `Invalid YAML or JSON in config file ${path}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Validates an already parsed config object; `origin` names where it came from in errors. With `components`, each
 * section under `transforms` and `sinks` is checked too (see `parseConfig`). Every problem of the whole config is
 * reported at once, in one `ConfigError`, each with its key path.
 */
export function parsePipelineConfig(
  raw: unknown,
  origin: string,
  env: NodeJS.ProcessEnv = process.env,
  components?: ComponentSchemas,
): PipelineConfig {
  return parseConfig(pipelineConfigSchema, raw, origin, env, components);
}
