import { ConfigError } from '../../core/errors.js';
import { QUERIES, readDatabase, rowsOf, type TableRow } from './catalog.js';
import { type QueryExecutor } from './executor.js';
import { quoteLiteral, quoteName, type TableName, tableLabel } from './tsql.js';

export type EnableCdcOptions = {
  readonly database: string;
  readonly tables: readonly TableName[];
  /** The gating role for reading changes (`@role_name`); created by SQL Server if missing. Default `cdc_reader`. */
  readonly roleName?: string;
  /** Columns to capture per table (`@captured_column_list`), keyed by `schema.table`; default all columns. */
  readonly capturedColumns?: Readonly<Record<string, readonly string[]>>;
};

/** What `enableCdc` would run (or ran): the statements in order, and what was already in place. */
export type EnableCdcPlan = {
  readonly statements: readonly string[];
  readonly alreadyEnabled: { readonly database: boolean; readonly tables: readonly string[] };
};

/**
 * Plans enabling CDC idempotently: `sys.sp_cdc_enable_db` only when the database is not enabled, and
 * `sys.sp_cdc_enable_table` only for tables not yet tracked. Every name is a `N'…'` literal with quotes doubled
 * (the procedures take names as strings), and the batch starts with `USE` on the bracket-quoted database.
 *
 * Throws `ConfigError` naming the table and database when a table does not exist or has no primary key
 * (`@supports_net_changes = 1` needs one), before anything runs.
 *
 * @see https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/sys-sp-cdc-enable-table-transact-sql
 */
export async function planEnableCdc(executor: QueryExecutor, options: EnableCdcOptions): Promise<EnableCdcPlan> {
  const databaseRow = await readDatabase(executor, options.database);
  if (databaseRow === undefined) {
    throw new ConfigError(`Database ${options.database} not found on the server (--database)`);
  }
  const tables = await executor.query<TableRow>(QUERIES.tables);
  const toEnable: TableName[] = [];
  const tracked: string[] = [];
  for (const table of options.tables) {
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
  const statements = enableCdcStatements({
    database: options.database,
    enableDatabase: !databaseRow.isCdcEnabled,
    tables: toEnable,
    roleName: options.roleName ?? 'cdc_reader',
    capturedColumns: options.capturedColumns ?? {},
  });
  return { statements, alreadyEnabled: { database: databaseRow.isCdcEnabled, tables: tracked } };
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
 * per table. Empty when there is nothing to enable.
 */
export function enableCdcStatements(input: {
  readonly database: string;
  readonly enableDatabase: boolean;
  readonly tables: readonly TableName[];
  readonly roleName: string;
  readonly capturedColumns: Readonly<Record<string, readonly string[]>>;
}): string[] {
  if (!input.enableDatabase && input.tables.length === 0) return [];
  const statements = [`USE ${quoteName(input.database)};`];
  if (input.enableDatabase) statements.push('EXEC sys.sp_cdc_enable_db;');
  for (const table of input.tables) {
    statements.push(
      enableTableStatement(table, { roleName: input.roleName, columns: input.capturedColumns[tableLabel(table)] }),
    );
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
