import { ConfigError } from '../../core/errors.js';
import { type SourceConfig } from '../../connectors/debezium/source-config.js';
import {
  connectorConfigSchema,
  type ConnectorSettings,
  signalDataCollection,
} from '../../connectors/kafka-connect/connector-config.js';
import { type QueryExecutor, type SqlServerConnection } from '../../connectors/mssql/executor.js';
import {
  parseSignalTable,
  parseTableName,
  sameTable,
  type SignalTable,
  type TableName,
  tableLabel,
} from '../../connectors/mssql/tsql.js';
import { applyDrift, detectDrift, type DriftReport } from './drift.js';
import { enableCdc, type EnableCdcPlan, planEnableCdc } from './enable.js';
import { type Check, preflight } from './preflight.js';
import { cdcStatus, type CdcStatus } from './status.js';

// The SQL Server a DBA points `cdc-sync cdc …` at (server, login, database, tables, signal table), resolved from flags
// over the pipeline config, and what each cdc subcommand does on it. The CLI parses the flags and prints the results.

/** How to open a session on SQL Server: `createMssqlExecutor`, or a fake in tests. */
export type ConnectSqlServer = (connection: SqlServerConnection) => Promise<QueryExecutor>;

/** Where the target comes from, as given on the command line; undefined means "take it from the config". */
export type CdcTargetOptions = {
  /** The pipeline config file the defaults come from, for messages. */
  readonly config?: string;
  readonly server?: string;
  readonly database?: string;
  /** Comma-separated `schema.table` list. */
  readonly tables?: string;
  readonly user?: string;
  readonly passwordEnv?: string;
  readonly encrypt?: boolean;
  readonly trustServerCertificate?: boolean;
  /** `--signal-table <table>`, or false for `--no-signal-table`; preflight, enable and status only. */
  readonly signalTable?: string | false;
};

/** The sections of the pipeline config a target takes its defaults from. */
export type CdcTargetConfig = { readonly source: SourceConfig; readonly connector: ConnectorSettings };

/** Where SQL Server is, which login, database and tables; the password was read from `passwordEnv`. */
export type CdcTarget = {
  readonly connection: SqlServerConnection;
  readonly tables: readonly TableName[];
  readonly passwordEnv: string;
  /** The connector's signal table from `--signal-table` or the config; none without either or with `--no-signal-table`. */
  readonly signalTable?: SignalTable;
};

/** `connector.passwordEnv`'s default, for a run without --config. */
export const DEFAULT_PASSWORD_ENV = connectorConfigSchema.shape.passwordEnv.parse(undefined);

/**
 * Resolves flags over config defaults. Throws `ConfigError` naming the flag or config key for a missing database,
 * tables or login, a bad `--server`, or an unset password variable (naming the variable and where its name came
 * from, never a value).
 */
export function resolveCdcTarget(
  options: CdcTargetOptions,
  config: CdcTargetConfig | undefined,
  env: NodeJS.ProcessEnv,
): CdcTarget {
  const { host, port } = parseServer(options.server, config);
  const database = options.database ?? config?.source.database;
  if (database === undefined) throw new ConfigError('No database: give --database, or --config with source.database');
  const tableList = options.tables?.split(',').filter((table) => table.trim() !== '');
  const tables =
    tableList !== undefined
      ? tableList.map((table) => parseTableName(table, '--tables'))
      : (config?.source.tables ?? []).map((table) => parseTableName(table, `source.tables in ${options.config}`));
  const signalTable = resolveSignalTable(options, config, database);
  const user = options.user ?? config?.connector.user;
  if (user === undefined) throw new ConfigError('No login: give --user, or --config with connector.user');
  const [passwordEnv, from] =
    options.passwordEnv !== undefined
      ? [options.passwordEnv, '--password-env']
      : config !== undefined
        ? [config.connector.passwordEnv, `connector.passwordEnv in ${options.config}`]
        : [DEFAULT_PASSWORD_ENV, 'the default'];
  const password = env[passwordEnv];
  if (password === undefined || password === '') {
    throw new ConfigError(
      `Environment variable ${passwordEnv} (named by ${from}) is not set; it must hold the password of login ${user}`,
    );
  }
  return {
    connection: {
      host,
      port,
      user,
      password,
      database,
      encrypt: options.encrypt ?? config?.connector.encrypt ?? true,
      trustServerCertificate: options.trustServerCertificate === true,
    },
    tables,
    passwordEnv,
    ...(signalTable === undefined ? {} : { signalTable }),
  };
}

/** The target's server and login as `host:port as user`, for messages. */
export function targetLabel(target: CdcTarget): string {
  return `${target.connection.host}:${target.connection.port} as ${target.connection.user}`;
}

/** Runs preflight's checks on the target's database, tables and signal table. */
export function preflightTarget(
  target: CdcTarget,
  connect: ConnectSqlServer,
  maxConsumerLagMinutes: number,
): Promise<Check[]> {
  return withExecutor(target, connect, (executor) =>
    preflight(executor, {
      database: target.connection.database,
      tables: target.tables,
      maxConsumerLagMinutes,
      signalTable: target.signalTable,
    }),
  );
}

/**
 * Enables CDC where missing on the target's database, tables and signal table, and returns the plan it ran; with
 * `dryRun`, only plans. Throws `ConfigError` when the target names no tables.
 */
export function enableCdcOnTarget(
  target: CdcTarget,
  connect: ConnectSqlServer,
  options: { readonly roleName: string; readonly dryRun: boolean },
): Promise<EnableCdcPlan> {
  if (target.tables.length === 0) throw new ConfigError('No tables: give --tables, or --config with source.tables');
  const enableOptions = {
    database: target.connection.database,
    tables: target.tables,
    roleName: options.roleName,
    signalTable: target.signalTable,
  };
  return withExecutor(target, connect, (executor) =>
    options.dryRun ? planEnableCdc(executor, enableOptions) : enableCdc(executor, enableOptions),
  );
}

/** What a plan left alone because CDC was already enabled on it: the database, the tables, the signal table. */
export function alreadyEnabled(plan: EnableCdcPlan, database: string): string[] {
  return [
    ...(plan.alreadyEnabled.database ? [`database ${database}`] : []),
    ...plan.alreadyEnabled.tables,
    ...(plan.signalTable?.action === 'none' ? [`signal table ${plan.signalTable.name}`] : []),
  ];
}

/**
 * The CDC state of the target's tables (every captured table when it names none); the signal table, when it is in
 * the target's database, is listed after the tables and named by `signalTable` (as `schema.table`).
 */
export async function targetStatus(
  target: CdcTarget,
  connect: ConnectSqlServer,
): Promise<{ readonly status: CdcStatus; readonly signalTable?: string }> {
  const signal = target.signalTable;
  const signalHere =
    signal !== undefined && signal.database.toLowerCase() === target.connection.database.toLowerCase()
      ? signal.table
      : undefined;
  // With no tables given, status lists every captured table, the signal table among them if it is captured.
  const tables =
    signalHere === undefined ||
    target.tables.length === 0 ||
    target.tables.some((table) => sameTable(table, signalHere))
      ? target.tables
      : [...target.tables, signalHere];
  const status = await withExecutor(target, connect, (executor) =>
    cdcStatus(executor, { database: target.connection.database, tables }),
  );
  return { status, ...(signalHere === undefined ? {} : { signalTable: tableLabel(signalHere) }) };
}

/**
 * Detects drift on the target's tables and hands the report to `onReport` before anything changes; when CDC is
 * enabled, a table drifted and `onReport` returned true, runs step 1 of the procedure on each drifted table in the
 * same session. Returns the report and the capture instances created, in the order of `report.drifted`.
 */
export function driftOnTarget(
  target: CdcTarget,
  connect: ConnectSqlServer,
  onReport: (report: DriftReport) => boolean,
): Promise<{ readonly report: DriftReport; readonly created: readonly string[] }> {
  return withExecutor(target, connect, async (executor) => {
    const report = await detectDrift(executor, { database: target.connection.database, tables: target.tables });
    const apply = onReport(report) && report.cdcEnabled && report.drifted.length > 0;
    return { report, created: apply ? await applyDrift(executor, report) : [] };
  });
}

/** A whole number > 0 from a flag; throws `ConfigError` naming `source` otherwise. */
export function positiveInt(value: string, source: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    throw new ConfigError(`${source} must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  return number;
}

/**
 * The signal table: `--signal-table` (`schema.table` meaning `database`), else for a `sqlserver` config the
 * connector's `signal.data.collection` (`connector.signalDataCollection`, default
 * `<source.database>.dbo.DebeziumSignal`), else none. `--no-signal-table` means none.
 */
function resolveSignalTable(
  options: CdcTargetOptions,
  config: CdcTargetConfig | undefined,
  database: string,
): SignalTable | undefined {
  if (options.signalTable === false) return undefined;
  if (options.signalTable !== undefined) return parseSignalTable(options.signalTable, database, '--signal-table');
  if (config === undefined || config.source.connector !== 'sqlserver') return undefined;
  const file = options.config ?? 'the pipeline config';
  const source =
    config.connector.signalDataCollection === undefined
      ? `the default of connector.signalDataCollection in ${file}`
      : `connector.signalDataCollection in ${file}`;
  return parseSignalTable(signalDataCollection(config), database, source);
}

async function withExecutor<T>(
  target: CdcTarget,
  connect: ConnectSqlServer,
  use: (executor: QueryExecutor) => Promise<T>,
): Promise<T> {
  const executor = await connect(target.connection);
  try {
    return await use(executor);
  } finally {
    await executor.close();
  }
}

function parseServer(server: string | undefined, config: CdcTargetConfig | undefined): { host: string; port: number } {
  if (server === undefined) {
    return { host: config?.connector.host ?? '127.0.0.1', port: config?.connector.port ?? 1433 };
  }
  const match = /^([^:]+)(?::(\d+))?$/.exec(server);
  if (match === null) throw new ConfigError(`Server ${JSON.stringify(server)} in --server is not host or host:port`);
  return { host: match[1]!, port: match[2] === undefined ? 1433 : positiveInt(match[2], '--server port') };
}
