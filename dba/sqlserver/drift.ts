import { ConfigError } from '../../core/errors.js';
import {
  type CapturedColumnRow,
  QUERIES,
  readCaptureInstances,
  readDatabase,
  rowsOf,
  type SourceColumnRow,
} from './catalog.js';
import { enableTableStatement } from './enable.js';
import { type QueryExecutor } from '../../connectors/mssql/executor.js';
import { quoteLiteral, quoteName, type TableName, tableLabel } from '../../connectors/mssql/tsql.js';

/** Longest capture instance name SQL Server accepts. */
const MAX_CAPTURE_INSTANCE = 100;

/**
 * A captured table whose columns differ from its newest capture instance, and the documented two-capture-instance
 * procedure that moves consumers to the new shape without a gap.
 */
export type TableDrift = {
  readonly table: TableName;
  readonly captureInstance: string;
  /** Columns in the table that the capture instance does not capture (e.g. added by ALTER TABLE … ADD). */
  readonly added: readonly string[];
  /** Columns the capture instance captures that the table no longer has. */
  readonly removed: readonly string[];
  readonly newCaptureInstance: string;
  /** Step 1: `USE` and `sys.sp_cdc_enable_table` for the new instance. What `applyDrift` runs. */
  readonly createStatements: readonly string[];
  /** Step 3: `sys.sp_cdc_disable_table` for the old instance, after consumers moved. */
  readonly dropStatement: string;
  /** Why step 1 cannot run now, e.g. the table already has two capture instances; undefined when it can. */
  readonly blocked?: string;
};

export type DriftReport = {
  readonly database: string;
  readonly cdcEnabled: boolean;
  readonly drifted: readonly TableDrift[];
  /** `schema.table` of captured tables whose newest instance matches the table. */
  readonly inSync: readonly string[];
};

/**
 * Compares each captured table's columns (`sys.columns`) with its newest capture instance's
 * (`cdc.captured_columns`), for `tables` or, when empty, every captured table. A table captured with an explicit
 * column list reports the left-out columns as added.
 *
 * @see https://learn.microsoft.com/sql/relational-databases/track-changes/about-change-data-capture-sql-server#handling-changes-to-source-tables
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-schema-evolution
 */
export async function detectDrift(
  executor: QueryExecutor,
  options: { readonly database: string; readonly tables: readonly TableName[] },
): Promise<DriftReport> {
  const databaseRow = await readDatabase(executor, options.database);
  const cdcEnabled = databaseRow?.isCdcEnabled === true;
  if (!cdcEnabled) return { database: options.database, cdcEnabled, drifted: [], inSync: [] };
  const instances = await readCaptureInstances(executor, true);
  const sourceColumns = await executor.query<SourceColumnRow>(QUERIES.sourceColumns);
  const capturedColumns = await executor.query<CapturedColumnRow>(QUERIES.capturedColumns);
  const allNames = new Set(instances.map((row) => row.captureInstance.toLowerCase()));

  const tables =
    options.tables.length > 0
      ? options.tables
      : [
          ...new Map(
            instances.map((row) => [
              `${row.schemaName}.${row.tableName}`.toLowerCase(),
              { schema: row.schemaName, name: row.tableName },
            ]),
          ).values(),
        ];
  const drifted: TableDrift[] = [];
  const inSync: string[] = [];
  for (const table of tables) {
    const own = rowsOf(instances, table);
    const newest = own.at(-1);
    if (newest === undefined) continue;
    const columns = rowsOf(sourceColumns, table).map((row) => row.columnName);
    const captured = capturedColumns
      .filter((row) => row.captureInstance === newest.captureInstance)
      .map((row) => row.columnName);
    const capturedSet = new Set(captured.map((name) => name.toLowerCase()));
    const columnSet = new Set(columns.map((name) => name.toLowerCase()));
    const added = columns.filter((name) => !capturedSet.has(name.toLowerCase()));
    const removed = captured.filter((name) => !columnSet.has(name.toLowerCase()));
    if (added.length === 0 && removed.length === 0) {
      inSync.push(tableLabel(table));
      continue;
    }
    const newCaptureInstance = nextCaptureInstance(newest.captureInstance, allNames);
    const drift: TableDrift = {
      table: { schema: newest.schemaName, name: newest.tableName },
      captureInstance: newest.captureInstance,
      added,
      removed,
      newCaptureInstance,
      createStatements: [
        `USE ${quoteName(options.database)};`,
        enableTableStatement(
          { schema: newest.schemaName, name: newest.tableName },
          { roleName: newest.roleName, captureInstance: newCaptureInstance },
        ),
      ],
      dropStatement: `EXEC sys.sp_cdc_disable_table @source_schema = ${quoteLiteral(newest.schemaName)}, @source_name = ${quoteLiteral(newest.tableName)}, @capture_instance = ${quoteLiteral(newest.captureInstance)};`,
    };
    drifted.push(
      own.length >= 2
        ? {
            ...drift,
            blocked: `Table ${tableLabel(table)} already has 2 capture instances (${own.map((row) => row.captureInstance).join(', ')}), the most SQL Server allows; drop the older one first`,
          }
        : drift,
    );
  }
  return { database: options.database, cdcEnabled, drifted, inSync };
}

/**
 * The procedure as a T-SQL script with comments: step 1 creates the new capture instance, step 2 is waiting for
 * consumers, step 3 drops the old instance. Lines are exact and runnable in order.
 */
export function driftProcedure(drift: TableDrift): string {
  const label = tableLabel(drift.table);
  const lines = [
    `-- ${label}: capture instance ${drift.captureInstance} differs from the table` +
      (drift.added.length > 0 ? `; not captured: ${drift.added.join(', ')}` : '') +
      (drift.removed.length > 0 ? `; no longer in the table: ${drift.removed.join(', ')}` : ''),
  ];
  if (drift.blocked !== undefined) lines.push(`-- Blocked: ${drift.blocked}`);
  lines.push(
    `-- Step 1 of 3: create capture instance ${drift.newCaptureInstance} with the table's current columns (cdc-sync cdc drift --apply runs this step only)`,
    ...drift.createStatements,
    `-- Step 2 of 3: let consumers move to ${drift.newCaptureInstance}; Debezium switches to the newer instance by itself once it has read past that instance's start LSN`,
    `-- Step 3 of 3: once no consumer reads ${drift.captureInstance}, drop it`,
    drift.dropStatement,
  );
  return lines.join('\n');
}

/**
 * Runs step 1 (creates the new capture instance) for each drifted table that is not blocked, and nothing else:
 * consumers keep reading the old instance until they move, and the old one is dropped only by hand (step 3).
 * Throws `ConfigError` when a table is blocked, before running anything. Returns the capture instances created.
 */
export async function applyDrift(executor: QueryExecutor, report: DriftReport): Promise<string[]> {
  const blocked = report.drifted.filter((drift) => drift.blocked !== undefined);
  if (blocked.length > 0) {
    throw new ConfigError(
      `Cannot create new capture instances in database ${report.database}: ${blocked.map((drift) => drift.blocked).join('; ')}`,
    );
  }
  const created: string[] = [];
  for (const drift of report.drifted) {
    for (const [index, text] of drift.createStatements.entries()) {
      await executor.query({ id: `drift-apply[${tableLabel(drift.table)}][${index}]`, text });
    }
    created.push(drift.newCaptureInstance);
  }
  return created;
}

/** `dbo_Item` → `dbo_Item_v2`, `dbo_Item_v2` → `dbo_Item_v3`; skips names taken; at most 100 characters. */
export function nextCaptureInstance(current: string, taken: ReadonlySet<string>): string {
  const match = /^(.*)_v(\d+)$/.exec(current);
  const base = match?.[1] ?? current;
  let version = match === null ? 2 : Number(match[2]) + 1;
  for (;;) {
    const suffix = `_v${version}`;
    const name = `${base.slice(0, MAX_CAPTURE_INSTANCE - suffix.length)}${suffix}`;
    if (!taken.has(name.toLowerCase())) return name;
    version += 1;
  }
}
