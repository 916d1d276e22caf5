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

/** Per-component settings by registry name; `false` disables one. Each is checked by its own schema. */
/** Settings by registry name; `false` turns a listed component off. */
const componentSettings = () => z.record(z.string(), z.union([z.literal(false), z.record(z.string(), z.unknown())]));

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

export type PipelineConfig = z.output<typeof pipelineConfigSchema>;

/**
 * Reads, interpolates and validates a YAML or JSON config file. Throws a
 * `ConfigError` naming the file, the key path and the bad value.
 */
export function loadPipelineConfig(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
  components?: ComponentSchemas,
): PipelineConfig {
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
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error: unknown) {
    throw new ConfigError(
      `Invalid YAML or JSON in config file ${path}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  return parsePipelineConfig(raw, path, env, components);
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
