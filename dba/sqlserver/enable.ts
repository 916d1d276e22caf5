import { ConfigError } from '../../core/errors.js';
import { QUERIES, readDatabase, rowsOf, type TableRow } from './catalog.js';
import { type QueryExecutor } from '../../connectors/mssql/executor.js';
import {
  createSignalTableStatement,
  quoteLiteral,
  quoteName,
  sameTable,
  type SignalTable,
  signalTableLabel,
  type TableName,
  tableLabel,
} from '../../connectors/mssql/tsql.js';

export type EnableCdcOptions = {
  readonly database: string;
  readonly tables: readonly TableName[];
  /** The gating role for reading changes (`@role_name`); created by SQL Server if missing. Default `cdc_reader`. */
  readonly roleName?: string;
  /** Columns to capture per table (`@captured_column_list`), keyed by `schema.table`; default all columns. */
  readonly capturedColumns?: Readonly<Record<string, readonly string[]>>;
  /**
   * The connector's signal table (Debezium's `signal.data.collection`), which must be in `database`: created when
   * missing, then CDC-enabled under the same role, after the data tables. None when undefined.
   */
  readonly signalTable?: SignalTable;
};

/**
 * What happens to the signal table: `create` (missing: create it, then enable CDC on it), `enable` (exists, CDC not
 * enabled on it) or `none` (exists with CDC enabled, left alone).
 */
export type SignalTableAction = 'create' | 'enable' | 'none';

/** What `enableCdc` would run (or ran): the statements in order, and what was already in place. */
export type EnableCdcPlan = {
  readonly statements: readonly string[];
  readonly alreadyEnabled: { readonly database: boolean; readonly tables: readonly string[] };
  /** The signal table as `database.schema.table` and what the statements do with it; undefined without one. */
  readonly signalTable?: { readonly name: string; readonly action: SignalTableAction };
};

/**
 * Plans enabling CDC idempotently: `sys.sp_cdc_enable_db` only when the database is not enabled, and
 * `sys.sp_cdc_enable_table` only for tables not yet tracked. Every name is a `N'…'` literal with quotes doubled
 * (the procedures take names as strings), and the batch starts with `USE` on the bracket-quoted database. The signal
 * table, if any, comes last: `CREATE TABLE` only when it does not exist, `sys.sp_cdc_enable_table` only when it is
 * not tracked; listed among `tables` too, it is handled as the signal table only.
 *
 * Throws `ConfigError` naming the table and database when a table does not exist or has no primary key
 * (`@supports_net_changes = 1` needs one), and naming both databases when the signal table is in another database
 * than `database` (the connector reads signals only from the CDC stream of the database it captures), before
 * anything runs.
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-property-signal-data-collection
 * @see https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/sys-sp-cdc-enable-table-transact-sql
 */
export async function planEnableCdc(executor: QueryExecutor, options: EnableCdcOptions): Promise<EnableCdcPlan> {
  const signal = options.signalTable;
  if (signal !== undefined && signal.database.toLowerCase() !== options.database.toLowerCase()) {
    throw new ConfigError(
      `Signal table ${signalTableLabel(signal)} (${signal.source}) is in database ${signal.database}, not in database ${options.database} where CDC is being enabled; the connector reads signals only from its own database: give --signal-table schema.table for one in ${options.database}, or --no-signal-table`,
    );
  }
  const databaseRow = await readDatabase(executor, options.database);
  if (databaseRow === undefined) {
    throw new ConfigError(`Database ${options.database} not found on the server (--database)`);
  }
  const tables = await executor.query<TableRow>(QUERIES.tables);
  const toEnable: TableName[] = [];
  const tracked: string[] = [];
  const dataTables = options.tables.filter((table) => signal === undefined || !sameTable(table, signal.table));
  for (const table of dataTables) {
    const row = rowsOf(tables, table)[0];
    if (row === undefined) {
      throw new ConfigError(`Table ${tableLabel(table)} not found in database ${options.database} (--tables)`);
    }
    if (row.isTracked) tracked.push(tableLabel(table));
    else if (row.primaryKey === null) {
      throw new ConfigError(
        `Table ${tableLabel(table)} in database ${options.database} has no primary key; @supports_net_changes = 1 needs one`,
      );
    } else toEnable.push(table);
  }
  const signalPlan = signal && { signal, action: signalTableAction(signal, rowsOf(tables, signal.table)[0]) };
  const statements = enableCdcStatements({
    database: options.database,
    enableDatabase: !databaseRow.isCdcEnabled,
    tables: toEnable,
    roleName: options.roleName ?? 'cdc_reader',
    capturedColumns: options.capturedColumns ?? {},
    signalTable:
      signalPlan === undefined || signalPlan.action === 'none'
        ? undefined
        : { table: signalPlan.signal.table, create: signalPlan.action === 'create' },
  });
  return {
    statements,
    alreadyEnabled: { database: databaseRow.isCdcEnabled, tables: tracked },
    signalTable: signalPlan && { name: signalTableLabel(signalPlan.signal), action: signalPlan.action },
  };
}

/** Runs the plan's statements in order; returns the plan. With nothing to do, runs nothing. */
export async function enableCdc(executor: QueryExecutor, options: EnableCdcOptions): Promise<EnableCdcPlan> {
  const plan = await planEnableCdc(executor, options);
  for (const [index, text] of plan.statements.entries()) {
    await executor.query({ id: `enable[${index}]`, text });
  }
  return plan;
}

/**
 * The exact T-SQL: `USE`, then `sys.sp_cdc_enable_db` when `enableDatabase`, then one `sys.sp_cdc_enable_table`
 * per table, then for `signalTable` its `CREATE TABLE` (when `create`) and its `sys.sp_cdc_enable_table` under the
 * same role. Empty when there is nothing to enable.
 */
export function enableCdcStatements(input: {
  readonly database: string;
  readonly enableDatabase: boolean;
  readonly tables: readonly TableName[];
  readonly roleName: string;
  readonly capturedColumns: Readonly<Record<string, readonly string[]>>;
  /** The signal table to enable CDC on, created first when `create`; none when undefined. */
  readonly signalTable?: { readonly table: TableName; readonly create: boolean };
}): string[] {
  if (!input.enableDatabase && input.tables.length === 0 && input.signalTable === undefined) return [];
  const statements = [`USE ${quoteName(input.database)};`];
  if (input.enableDatabase) statements.push('EXEC sys.sp_cdc_enable_db;');
  for (const table of input.tables) {
    statements.push(
      enableTableStatement(table, { roleName: input.roleName, columns: input.capturedColumns[tableLabel(table)] }),
    );
  }
  if (input.signalTable !== undefined) {
    if (input.signalTable.create) statements.push(createSignalTableStatement(input.signalTable.table));
    statements.push(enableTableStatement(input.signalTable.table, { roleName: input.roleName }));
  }
  return statements;
}

/** One `EXEC sys.sp_cdc_enable_table …;` (`roleName` null: `@role_name = NULL`), optionally naming the capture instance and the captured columns. */
export function enableTableStatement(
  table: TableName,
  options: {
    readonly roleName: string | null;
    readonly captureInstance?: string;
    readonly columns?: readonly string[] | undefined;
  },
): string {
  const args = [
    `@source_schema = ${quoteLiteral(table.schema)}`,
    `@source_name = ${quoteLiteral(table.name)}`,
    // NULL means no gating role: anyone who may read the source table may read its changes.
    `@role_name = ${options.roleName === null ? 'NULL' : quoteLiteral(options.roleName)}`,
  ];
  if (options.captureInstance !== undefined) args.push(`@capture_instance = ${quoteLiteral(options.captureInstance)}`);
  args.push('@supports_net_changes = 1');
  if (options.columns !== undefined && options.columns.length > 0) {
    // The list is itself a string of bracket-quoted names, so a name is bracket-quoted first, then the whole list
    // becomes one N'' literal.
    args.push(`@captured_column_list = ${quoteLiteral(options.columns.map(quoteName).join(', '))}`);
  }
  return `EXEC sys.sp_cdc_enable_table ${args.join(', ')};`;
}

/** What the signal table needs, from its `sys.tables` row; throws `ConfigError` for one without a primary key. */
function signalTableAction(signal: SignalTable, row: TableRow | undefined): SignalTableAction {
  if (row === undefined) return 'create';
  if (row.isTracked) return 'none';
  if (row.primaryKey === null) {
    throw new ConfigError(
      `Signal table ${signalTableLabel(signal)} (${signal.source}) has no primary key; @supports_net_changes = 1 needs one`,
    );
  }
  return 'enable';
}
