import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EVENT_STREAM } from '../core/canonical.js';
import { ConfigError } from '../core/errors.js';
import {
  STAGE_API_VERSION,
  STAGE_NAME,
  type SourceTableDefinition,
  type StagePackage,
  TABLE_PATTERN,
  type TransformDefinition,
} from '../core/stage.js';
import { transforms as sampleErpStages } from '../transforms/index.js';

/**
 * The stages a pipeline can name under `transforms`: cdc-sync's own (the sample ERP's, `transforms/index.ts`) and
 * those of the stage packages its config loads (`stages.modules`). A stage package is a folder or npm package
 * whose entry module default-exports `defineStagePackage({ name, stages })` from `cdc-sync/stages`, as Kafka Connect
 * loads connectors from its plugin path and ESLint loads plugins a config names.
 */
export type StageCatalog = {
  /** Every stage by name, cdc-sync's first, then each package's in `stages.modules` order. */
  readonly definitions: Readonly<Record<string, TransformDefinition>>;
  /** Where each stage comes from: `cdc-sync`, or the package's name and module. */
  readonly origins: Readonly<Record<string, string>>;
  /** The source tables the packages declare (`schema.table` once each), for fixture files of them. */
  readonly tables: readonly SourceTableDefinition[];
};

/** cdc-sync's own stages only: a pipeline that loads no stage package. */
export const BUILT_IN_STAGES: StageCatalog = {
  definitions: sampleErpStages as Readonly<Record<string, TransformDefinition>>,
  origins: Object.fromEntries(Object.keys(sampleErpStages).map((name) => [name, 'cdc-sync'])),
  tables: [],
};

/**
 * Loads the stage packages of `stages.modules`, each a path (relative to `baseDir`, the config file's folder) or a
 * package name resolved from `baseDir`, and adds their stages to cdc-sync's. Throws a `ConfigError` naming the key
 * path, the module and the reason for a module that does not load, exports no stage package, was written for a
 * newer stage API, declares an invalid stage, or names a stage another one already has.
 */
export async function loadStageCatalog(
  modules: readonly string[],
  baseDir: string,
  origin: string,
): Promise<StageCatalog> {
  const definitions: Record<string, TransformDefinition> = { ...BUILT_IN_STAGES.definitions };
  const origins: Record<string, string> = { ...BUILT_IN_STAGES.origins };
  const tables = new Map<string, SourceTableDefinition>();
  for (const [index, specifier] of modules.entries()) {
    const where = `stages.modules[${index}] (${JSON.stringify(specifier)}) in ${origin}`;
    const stagePackage = await importStagePackage(specifier, baseDir, where);
    const packageOrigin = `${stagePackage.name} (${specifier})`;
    for (const [position, definition] of stagePackage.stages.entries()) {
      checkDefinition(definition, `stages[${position}] of ${packageOrigin}, loaded by ${where}`);
      const taken = origins[definition.name];
      if (taken !== undefined) {
        throw new ConfigError(
          `Stage ${definition.name} of ${packageOrigin} has the name of a stage of ${taken}, loaded by ${where}: rename one of them`,
        );
      }
      definitions[definition.name] = definition;
      origins[definition.name] = packageOrigin;
    }
    for (const [position, table] of (stagePackage.tables ?? []).entries()) {
      const name = checkTable(table, `tables[${position}] of ${packageOrigin}, loaded by ${where}`);
      if (tables.has(name)) {
        throw new ConfigError(`Table ${name} is declared twice, again by ${packageOrigin}, loaded by ${where}`);
      }
      tables.set(name, table);
    }
  }
  return { definitions, origins, tables: [...tables.values()] };
}

async function importStagePackage(specifier: string, baseDir: string, where: string): Promise<StagePackage> {
  const url = moduleUrl(specifier, baseDir, where);
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(url)) as Record<string, unknown>;
  } catch (error: unknown) {
    throw new ConfigError(`Cannot load the stage module ${where}: ${loadFailure(error, specifier)}`, { cause: error });
  }
  const exported = loaded['default'];
  if (!isStagePackage(exported)) {
    throw new ConfigError(
      `The stage module ${where} exports no stage package: its default export must be defineStagePackage({ name, stages }) from cdc-sync/stages`,
    );
  }
  if (exported.apiVersion > STAGE_API_VERSION) {
    throw new ConfigError(
      `The stage package ${exported.name}, loaded by ${where}, needs stage API version ${exported.apiVersion}; this cdc-sync provides version ${STAGE_API_VERSION}: upgrade cdc-sync`,
    );
  }
  return exported;
}

/** A path relative to the config's folder, an absolute path, or a package name resolved from that folder. */
function moduleUrl(specifier: string, baseDir: string, where: string): string {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return pathToFileURL(resolve(baseDir, specifier)).href;
  try {
    return pathToFileURL(createRequire(join(baseDir, 'package.json')).resolve(specifier)).href;
  } catch (error: unknown) {
    throw new ConfigError(
      `Cannot find the stage package ${where} from ${baseDir}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)} (install it there, or give a path starting with ./)`,
      { cause: error },
    );
  }
}

function loadFailure(error: unknown, specifier: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?ts$/.test(specifier)) {
    return `Node.js ${process.version} does not run TypeScript files; use Node.js 22.18 or later, or build the package to JavaScript`;
  }
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

function isStagePackage(value: unknown): value is StagePackage {
  const candidate = value as Partial<StagePackage> | null | undefined;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.kind === 'cdc-sync.stage-package' &&
    typeof candidate.apiVersion === 'number' &&
    typeof candidate.name === 'string' &&
    Array.isArray(candidate.stages) &&
    (candidate.tables === undefined || Array.isArray(candidate.tables))
  );
}

/** Throws a `ConfigError` naming `where` unless `definition` is a stage as `defineStage` makes one. */
function checkDefinition(definition: TransformDefinition, where: string): void {
  const problems: string[] = [];
  const { name, input, output, configSchema, create } = (definition ?? {}) as Partial<TransformDefinition>;
  if (typeof name !== 'string' || !STAGE_NAME.test(name))
    problems.push(`name ${JSON.stringify(name)} is not snake_case`);
  const tables = input?.tables;
  if (!Array.isArray(tables) || tables.length === 0) problems.push('it reads no table');
  else {
    for (const table of tables) {
      if (typeof table !== 'string' || !TABLE_PATTERN.test(table)) {
        problems.push(`table ${JSON.stringify(table)} is not schema.table`);
      }
    }
  }
  if (!Array.isArray(output) || output.length === 0) problems.push('it declares no output event type');
  else {
    for (const type of output) {
      if (!Object.hasOwn(EVENT_STREAM, type)) {
        problems.push(
          `output ${JSON.stringify(type)} is not a canonical event type (${Object.keys(EVENT_STREAM).join(', ')})`,
        );
      }
    }
  }
  if (typeof (configSchema as { safeParse?: unknown } | undefined)?.safeParse !== 'function') {
    problems.push('it has no config schema');
  }
  if (typeof create !== 'function') problems.push('it has no create function');
  if (problems.length > 0) {
    throw new ConfigError(`Invalid stage ${where}: ${problems.join('; ')} (declare stages with defineStage)`);
  }
}

/** The table's `schema.table`; throws a `ConfigError` naming `where` unless it is a table as its DDL declares it. */
function checkTable(table: SourceTableDefinition, where: string): string {
  const { schema, table: name, columns, primaryKey } = (table ?? {}) as Partial<SourceTableDefinition>;
  const problems: string[] = [];
  if (typeof schema !== 'string' || schema === '') problems.push('no schema');
  if (typeof name !== 'string' || name === '') problems.push('no table name');
  const columnNames = new Set<string>();
  if (!Array.isArray(columns) || columns.length === 0) problems.push('no columns');
  else {
    for (const column of columns) {
      const valid =
        typeof column?.name === 'string' && typeof column.type === 'string' && typeof column.nullable === 'boolean';
      if (valid) columnNames.add(column.name);
      else problems.push(`column ${JSON.stringify(column)} is not { name, type, nullable }`);
    }
  }
  if (!Array.isArray(primaryKey)) problems.push('no primaryKey list');
  else {
    for (const column of primaryKey) {
      if (!columnNames.has(column)) problems.push(`primary key column ${JSON.stringify(column)} is not a column`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid table ${where}: ${problems.join('; ')}`);
  return `${schema}.${name}`;
}
