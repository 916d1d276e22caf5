import { type Logger } from 'pino';
import { type z } from 'zod';
import { type CanonicalEvent, type CanonicalEventType } from './canonical.js';
import { type ChangeEvent, type TableRef } from './envelope.js';
import { type TransformError } from './errors.js';

/**
 * What a stage did with one change event. Stages never throw for bad data:
 * they return `fail`, and the runner dead-letters the record. A record a stage
 * does not handle is never passed to it (the runner routes by input table).
 */
export type StageResult =
  | { readonly kind: 'emit'; readonly events: readonly CanonicalEvent[] }
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'fail'; readonly error: TransformError };

/** What a stage receives at creation. Stages log at debug level at most; the runner logs outcomes. */
export type StageContext = {
  readonly logger: Logger;
};

/** A created stage: a pure function from one change event to a {@link StageResult}. */
export type Stage = {
  readonly name: string;
  apply(event: ChangeEvent): StageResult;
};

/**
 * A transform's definition, exported by `transforms/<domain>/<name>.ts` and
 * listed in `transforms/index.ts`, or by a stage package.
 *
 * `input.tables` are source-qualified table patterns (see {@link TABLE_PATTERN}): `dbo.SalesOrderHeader`, or
 * scoped to a database (`ErpDemo.dbo.SalesOrderHeader`) or to a topic prefix and database
 * (`erp.ErpDemo.dbo.SalesOrderHeader`). Names are the connectors' normalised ones (`source.names`,
 * `source.schemas`), so one stage serves SQL Server and PostgreSQL alike.
 */
export type TransformDefinition<S extends z.ZodType = z.ZodType> = {
  /** snake_case registry key, equal to the file name in kebab-case. */
  readonly name: string;
  readonly summary: string;
  readonly input: { readonly tables: readonly string[] };
  readonly output: readonly CanonicalEventType[];
  readonly configSchema: S;
  /** Settings it shares with other stages, by name: see {@link StageSpec.shared}. */
  readonly shared?: SharedSettings;
  create(config: z.output<S>, ctx: StageContext): Stage;
};

/**
 * Settings several stages need, by name, each one object declared once and passed to every stage that needs it
 * (the order-number definition a header stage and a line stage both key their events by). A registry or stage package
 * whose stages hold different objects under one name is refused, so the copies cannot differ.
 */
export type SharedSettings = Readonly<Record<string, object>>;

/** Helpers for building results, so stages read as plain decisions. */
export const emit = (...events: readonly CanonicalEvent[]): StageResult => ({ kind: 'emit', events });
export const skip = (reason: string): StageResult => ({ kind: 'skip', reason });
export const fail = (error: TransformError): StageResult => ({ kind: 'fail', error });

/** What {@link defineStage} hands a stage's `create`: the runner's context and the stage's own name. */
export type StageSetup<N extends string = string> = StageContext & { readonly name: N };

/** One stage, declared once: see {@link defineStage}. */
export type StageSpec<S extends z.ZodType, N extends string> = {
  /** snake_case registry key, equal to the file name in kebab-case. */
  readonly name: N;
  /** One line for the generated docs and the dashboard. */
  readonly summary: string;
  /** The tables it reads, as `schema.table` patterns (`Sales.SalesOrderHeader`; see {@link TABLE_PATTERN}). */
  readonly tables: readonly string[];
  /** Canonical event types it may emit. */
  readonly output: readonly CanonicalEventType[];
  /** Its settings under `transforms.<name>`; every key described and defaulted. */
  readonly config: S;
  /**
   * Settings shared with other stages, e.g. `{ orderNumber }`: the same object in every stage of a registry or
   * package that names it ({@link SharedSettings}).
   */
  readonly shared?: SharedSettings;
  /**
   * Returns the function applied to each change, for one parsed config. Called once per pipeline, so work that
   * depends only on the config (lookup tables, parsed maps) is done here; the returned function must be pure.
   */
  create(config: z.output<S>, stage: StageSetup<N>): (change: ChangeEvent) => StageResult;
};

/** A stage's definition whose `name` is its literal registry key. */
export type NamedTransformDefinition<
  S extends z.ZodType = z.ZodType,
  N extends string = string,
> = TransformDefinition<S> & {
  readonly name: N;
};

/**
 * Declares a stage with one name and one declaration: `defineStage({ name, summary, tables, output, config, create })`
 * gives the {@link TransformDefinition} the registry and the runner use, with the stage's name passed to `create`
 * (for error messages) instead of repeated.
 */
export function defineStage<S extends z.ZodType, const N extends string>(
  spec: StageSpec<S, N>,
): NamedTransformDefinition<S, N> {
  if (!STAGE_NAME.test(spec.name)) {
    throw new TypeError(`Stage name ${JSON.stringify(spec.name)} is not snake_case (e.g. order_header)`);
  }
  if (spec.tables.length === 0) throw new TypeError(`Stage ${spec.name} reads no table: give tables: ['schema.table']`);
  for (const table of spec.tables) {
    if (!TABLE_PATTERN.test(table)) {
      throw new TypeError(
        `Stage ${spec.name} reads ${JSON.stringify(table)}, which is not schema.table, database.schema.table or prefix.database.schema.table (e.g. dbo.SalesOrderHeader)`,
      );
    }
  }
  return {
    name: spec.name,
    summary: spec.summary,
    input: { tables: spec.tables },
    output: spec.output,
    configSchema: spec.config,
    ...(spec.shared === undefined ? {} : { shared: spec.shared }),
    create: (config, ctx) => ({ name: spec.name, apply: spec.create(config, { ...ctx, name: spec.name }) }),
  };
}

/** A stage's registry name: snake_case, e.g. `order_header`. */
export const STAGE_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/**
 * A stage's input table: `schema.table`, optionally scoped as `database.schema.table` or
 * `prefix.database.schema.table` (the Debezium topic prefix). Each part is matched exactly against the change's
 * {@link TableRef}, from the right.
 */
export const TABLE_PATTERN = /^(?:[^.\s]+\.){1,3}[^.\s]+$/;

/** True when the {@link TABLE_PATTERN} `pattern` names `table`. */
export function tableMatches(pattern: string, table: TableRef): boolean {
  const parts = pattern.split('.');
  const names = [table.server, table.database, table.schema, table.table];
  const offset = names.length - parts.length;
  return parts.every((part, i) => part === names[offset + i]);
}

/**
 * True when some table could be named by both {@link TABLE_PATTERN}s: their parts agree from the right as far as both
 * go (`Sales.SalesOrderHeader` and `AdventureWorks.Sales.SalesOrderHeader` do; `dbo.X` and `Sales.X` do not).
 */
export function tablePatternsOverlap(a: string, b: string): boolean {
  const [left, right] = [a.split('.').reverse(), b.split('.').reverse()];
  return left.every((part, i) => i >= right.length || part === right[i]);
}

/** One created stage with the table patterns its definition reads. */
export type RoutedStage = { readonly stage: Stage; readonly tables: readonly string[] };

/**
 * The runner's routing: the stages, in the given order, whose patterns name a change's table. Answers are kept per
 * table, so a record costs one map lookup.
 */
export function stageRouter(stages: readonly RoutedStage[]): (table: TableRef) => readonly Stage[] {
  const byTable = new Map<string, readonly Stage[]>();
  return (table) => {
    const key = `${table.server}\0${table.database}\0${table.schema}\0${table.table}`;
    let routed = byTable.get(key);
    if (routed === undefined) {
      routed = stages
        .filter(({ tables }) => tables.some((pattern) => tableMatches(pattern, table)))
        .map(({ stage }) => stage);
      byTable.set(key, routed);
    }
    return routed;
  };
}

/** The registry of `definitions`, keyed by each one's name; throws on a name given twice. */
export function stageRegistry<const D extends readonly NamedTransformDefinition[]>(
  ...definitions: D
): { readonly [K in D[number] as K['name']]: K } {
  const registry: Record<string, NamedTransformDefinition> = {};
  for (const definition of definitions) {
    if (definition.name in registry) throw new Error(`Two stages are named ${definition.name}`);
    registry[definition.name] = definition;
  }
  checkSharedSettings(definitions, 'registry');
  return registry as { readonly [K in D[number] as K['name']]: K };
}

/**
 * The version of the stage API (`cdc-sync/stages`) this cdc-sync provides. A stage package records the version it
 * was written against; cdc-sync loads packages of its own version and refuses newer ones by name.
 */
export const STAGE_API_VERSION = 1;

/** One column of a source table as its DDL declares it. */
export type SourceColumn = {
  readonly name: string;
  /** The SQL type as written in DDL, lower-cased, e.g. `int`, `decimal(19,4)`, `nvarchar(40)`, `datetime`. */
  readonly type: string;
  readonly nullable: boolean;
};

/**
 * A source table as its DDL declares it: columns in declaration order and the primary key. A stage package declares
 * the tables its stages read, so that fixture files of them become exactly the records Debezium writes
 * (`produce-fixtures`, `cdc-sync test`).
 */
export type SourceTableDefinition = {
  readonly schema: string;
  readonly table: string;
  readonly columns: readonly SourceColumn[];
  /** Primary-key column names in key order; empty for a table without a key. */
  readonly primaryKey: readonly string[];
};

/** What a stage package's entry module exports as its default: see {@link defineStagePackage}. */
export type StagePackage = {
  readonly kind: 'cdc-sync.stage-package';
  readonly apiVersion: number;
  /** The package's name, for messages and the docs (its npm name, or the folder's). */
  readonly name: string;
  readonly stages: readonly TransformDefinition[];
  /** The SQL Server tables its stages read, for fixtures; none when it declares none. */
  readonly tables: readonly SourceTableDefinition[];
};

/**
 * A stage package, the default export of its entry module: `export default defineStagePackage({ name, stages })`.
 * A pipeline loads it from `stages.modules` and runs the stages its `transforms` section lists, by name.
 */
export function defineStagePackage(spec: {
  readonly name: string;
  readonly stages: readonly TransformDefinition[];
  readonly tables?: readonly SourceTableDefinition[];
}): StagePackage {
  checkSharedSettings(spec.stages, `stage package ${spec.name}`);
  return {
    kind: 'cdc-sync.stage-package',
    apiVersion: STAGE_API_VERSION,
    name: spec.name,
    stages: spec.stages,
    tables: spec.tables ?? [],
  };
}

/**
 * Throws a `TypeError` when two of `definitions` hold different objects under one {@link SharedSettings} name: a
 * setting such as the order-number format is declared once, so lines can never be keyed to another order than their
 * header.
 */
export function checkSharedSettings(definitions: readonly TransformDefinition[], where: string): void {
  const first = new Map<string, TransformDefinition>();
  for (const definition of definitions) {
    for (const [name, setting] of Object.entries(definition.shared ?? {})) {
      const other = first.get(name);
      if (other === undefined) first.set(name, definition);
      else if (other.shared?.[name] !== setting) {
        throw new TypeError(
          `Stages ${other.name} and ${definition.name} of the ${where} hold different ${name} settings; declare it once and pass the same one to both`,
        );
      }
    }
  }
}
