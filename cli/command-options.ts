import { SAMPLE_ERP_STAGES } from '../transforms/index.js';
import { InvalidArgumentError, Option } from 'commander';
import { parsePipelineConfig, type PipelineConfig } from '../ops/pipeline-config.js';
import { COMPONENT_SCHEMAS, loadConfigWithStages } from '../ops/components.js';

/** A command's pipeline config and where it came from, for error messages and component origins. */
export type CommandConfig = { readonly config: PipelineConfig; readonly origin: string };

const CONFIG_FILE = 'pipeline config file (YAML or JSON; ${VAR} references read the environment)';

/**
 * `-c, --config <file>` of a command that runs without a config file too, on
 * the built-in defaults; read it with {@link loadCommandConfig}.
 */
export function configOption(): Option {
  return new Option(
    '-c, --config <file>',
    `${CONFIG_FILE}; default: the built-in defaults, which point at the local stack`,
  );
}

/** `-c, --config <file>` of a command that cannot run without a config file; commander refuses to run without it. */
export function requiredConfigOption(): Option {
  return new Option('-c, --config <file>', CONFIG_FILE).makeOptionMandatory();
}

/**
 * The pipeline config of a command's `--config` (see {@link configOption}):
 * the file when given (validated, `${VAR}` read from `env`), else the sample
 * ERP on the local stack: every default, which points at the local stack and
 * its tables, and the sample ERP's stages. Throws a `ConfigError` naming the
 * key path.
 */
export async function loadCommandConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CommandConfig> {
  if (path !== undefined) return { config: await loadConfigFile(path, env), origin: path };
  const origin = 'the default config (no --config given: the sample ERP on the local stack)';
  return { config: parsePipelineConfig({ transforms: SAMPLE_ERP_STAGES }, origin, env, COMPONENT_SCHEMAS), origin };
}

/**
 * A config file with its stage packages loaded (`stages.modules`), validated whole before the command does anything:
 * the pipeline's keys and every configured transform's and sink's own settings, all problems in one `ConfigError`.
 */
export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<PipelineConfig> {
  return loadConfigWithStages(path, env);
}

/** Commander parser for an ISO-8601 instant such as `2025-12-01T08:00:00Z`. */
export function parseInstant(text: string): Date {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms)) {
    throw new InvalidArgumentError(
      `expected an ISO-8601 time such as 2025-12-01T08:00:00Z, got ${JSON.stringify(text)}`,
    );
  }
  return new Date(ms);
}

/** Commander parser for a whole number ≥ 1. */
export function parsePositiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(`expected a positive whole number, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Commander parser for a count: a whole number ≥ 0, such as how many samples to show. */
export function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new InvalidArgumentError(`Expected a whole number of 0 or more, got ${JSON.stringify(value)}`);
  }
  return count;
}

/** Commander parser for a Kafka offset (a whole number ≥ 0), kept as a decimal string. */
export function parseOffset(text: string): string {
  if (!/^\d+$/.test(text))
    throw new InvalidArgumentError(`expected an offset (a whole number), got ${JSON.stringify(text)}`);
  return BigInt(text).toString();
}
