import { type Db } from 'mongodb';
import { type Logger } from 'pino';
import { type ComponentSchemas, parseConfig, parseWithSchema } from '../core/config.js';
import { dirname, resolve } from 'node:path';
import { parsePipelineConfig, type PipelineConfig, readConfigFile, stagesConfigSchema } from './pipeline-config.js';
import { BUILT_IN_STAGES, loadStageCatalog, type StageCatalog } from './stage-packages.js';
import { ConfigError } from '../core/errors.js';
import { type Sink } from '../core/sink.js';
import { type TableRef } from '../core/envelope.js';
import {
  type RoutedStage,
  type Stage,
  stageRouter,
  tablePatternsOverlap,
  type TransformDefinition,
} from '../core/stage.js';
import { PIPELINE_VERSION } from '../core/version.js';
import { sinks as sinkRegistry } from '../sinks/index.js';
import { type SinkDefinition } from '../sinks/mongo/definition.js';

/**
 * Builds the configured stages and sinks from the registries. The pipeline,
 * DLQ replay and rebuild all use these, so they run exactly the components
 * the config enables, with the same validated settings.
 */

/** The config schemas of every stage `catalog` knows and every registered sink, so a config is checked whole before anything starts. */
export function componentSchemas(catalog: StageCatalog = BUILT_IN_STAGES): ComponentSchemas {
  return {
    transforms: Object.fromEntries(
      Object.entries(catalog.definitions).map(([name, definition]) => [name, definition.configSchema]),
    ),
    sinks: Object.fromEntries(
      Object.entries(sinkRegistry).map(([name, definition]) => [name, (definition as SinkDefinition).configSchema]),
    ),
  };
}

/** The config schemas of cdc-sync's own stages and sinks: a config that loads no stage package. */
export const COMPONENT_SCHEMAS: ComponentSchemas = componentSchemas();

/**
 * A config file, validated whole before anything starts: its stage packages (`stages.modules`) are loaded first,
 * so that the pipeline's keys and every configured stage's and sink's own settings, its packages' stages included,
 * are checked at once, all problems in one `ConfigError`.
 */
export async function loadConfigWithStages(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PipelineConfig> {
  const raw = readConfigFile(path);
  const modules = stageModules(raw, path, env);
  const stageCatalog =
    modules.length === 0 ? BUILT_IN_STAGES : await loadStageCatalog(modules, dirname(resolve(path)), path);
  const config = { ...parsePipelineConfig(raw, path, env, componentSchemas(stageCatalog)), stageCatalog };
  checkDistinctEvents(config, path);
  return config;
}

/**
 * Throws a `ConfigError` naming every pair of stages `config` runs that could emit one event type from one table:
 * event ids hash the table, key, position and event type, so their events would share ids and the read models would
 * keep only one of them.
 */
export function checkDistinctEvents(config: PipelineConfig, origin: string): void {
  const { definitions } = stageCatalogOf(config);
  const running = configuredStageNames(config).map((name) => definitions[name]!);
  const clashes: string[] = [];
  for (const [i, first] of running.entries()) {
    for (const second of running.slice(i + 1)) {
      const types = first.output.filter((type) => second.output.includes(type));
      for (const a of first.input.tables) {
        for (const b of second.input.tables) {
          if (types.length > 0 && tablePatternsOverlap(a, b)) {
            clashes.push(`${first.name} (${a}) and ${second.name} (${b}) both emit ${types.join(', ')}`);
          }
        }
      }
    }
  }
  if (clashes.length > 0) {
    throw new ConfigError(
      `Stages of ${origin} would give different events one id (an event id hashes table, key, position and event type): ${clashes.join('; ')}. Run one of each pair, or scope their tables (database.schema.table)`,
    );
  }
}

/** `stages.modules` of a config file not yet validated; none when invalid, which the full check then reports. */
function stageModules(raw: unknown, path: string, env: NodeJS.ProcessEnv): readonly string[] {
  const section = raw !== null && typeof raw === 'object' ? (raw as { stages?: unknown }).stages : undefined;
  try {
    return parseConfig(stagesConfigSchema, section ?? {}, path, env).modules;
  } catch {
    return [];
  }
}

/** The stages `config` can name: cdc-sync's own and those of the stage packages it loaded. */
export function stageCatalogOf(config: Pick<PipelineConfig, 'stages' | 'stageCatalog'>): StageCatalog {
  if (config.stageCatalog !== undefined) return config.stageCatalog;
  if (config.stages.modules.length > 0) {
    throw new ConfigError(
      `The stage packages of stages.modules (${config.stages.modules.join(', ')}) are not loaded: read the config with loadConfigWithStages`,
    );
  }
  return BUILT_IN_STAGES;
}

/** The stages a config runs: each by name, and the runner's routing of a change's table to them. */
export type ConfiguredStages = {
  /** The created stages with the tables they read, by name, in registry order. */
  readonly byName: ReadonlyMap<string, RoutedStage>;
  /** The stages that read a table, in registry order (see `stageRouter`). */
  readonly stagesFor: (table: TableRef) => readonly Stage[];
};

/** The stages the config lists (and does not turn off), each created from its validated config. */
export function createStages(config: PipelineConfig, logger: Logger, origin: string): ConfiguredStages {
  const byName = new Map<string, RoutedStage>();
  for (const [name, definition, settings] of enabledEntries(
    stageCatalogOf(config).definitions,
    config.transforms,
    'transforms',
    'listed',
  )) {
    const typed = definition as TransformDefinition;
    const stage = typed.create(parseWithSchema(typed.configSchema, settings, ['transforms', name], origin), {
      logger: logger.child({ component: 'transform', stage: name }),
    });
    byName.set(name, { stage, tables: typed.input.tables });
  }
  return { byName, stagesFor: stageRouter([...byName.values()]) };
}

/**
 * The enabled sinks, each created from its validated config against `db`.
 * `overrides` replaces settings per sink name, e.g. a rebuild's shadow collection.
 */
export async function createSinks(
  config: PipelineConfig,
  db: Db,
  logger: Logger,
  origin: string,
  overrides: Readonly<Record<string, Record<string, unknown>>> = {},
): Promise<Sink[]> {
  return Promise.all(
    enabledEntries<SinkDefinition>(sinkRegistry, config.sinks, 'sinks', 'unless-off').map(
      ([name, definition, settings]) =>
        definition.create(
          parseWithSchema(definition.configSchema, { ...settings, ...overrides[name] }, ['sinks', name], origin),
          {
            logger: logger.child({ component: 'sink', stage: name }),
            pipelineVersion: PIPELINE_VERSION,
            now: () => new Date(),
            db,
          },
        ),
    ),
  );
}

/**
 * The names of the stages `config` runs: those it lists with settings, in registry order. A pipeline runs no stage
 * it does not name.
 */
export function configuredStageNames(config: Pick<PipelineConfig, 'transforms' | 'stages' | 'stageCatalog'>): string[] {
  return Object.keys(stageCatalogOf(config).definitions).filter((name) => runsStage(config, name));
}

/** True when `config` runs the stage `name`: it lists it with settings. */
export function runsStage(config: Pick<PipelineConfig, 'transforms'>, name: string): boolean {
  return isRunning(config.transforms[name], 'listed');
}

/** True when `config` runs the sink `name`: every sink runs unless set to false. */
export function runsSink(config: Pick<PipelineConfig, 'sinks'>, name: string): boolean {
  return isRunning(config.sinks[name], 'unless-off');
}

/** `listed`: only components the config names run (stages); `unless-off`: every one runs unless set to false (sinks). */
type Selection = 'listed' | 'unless-off';

function isRunning(settings: false | Record<string, unknown> | undefined, selection: Selection): boolean {
  return settings === undefined ? selection === 'unless-off' : settings !== false;
}

/** The registry entries the config runs (see {@link Selection}); names the config lists but the registry lacks are errors. */
function enabledEntries<D>(
  registry: Readonly<Record<string, D>>,
  settings: Readonly<Record<string, false | Record<string, unknown>>>,
  section: string,
  selection: Selection,
): [string, D, Record<string, unknown>][] {
  for (const name of Object.keys(settings)) {
    if (!(name in registry)) {
      throw new ConfigError(
        `Unknown ${section.slice(0, -1)} ${JSON.stringify(name)} at ${section}.${name}; known: ${Object.keys(registry).join(', ')}`,
      );
    }
  }
  return Object.entries(registry).flatMap(([name, definition]) => {
    const own = settings[name];
    return isRunning(own, selection) ? [[name, definition, own || {}] as [string, D, Record<string, unknown>]] : [];
  });
}
