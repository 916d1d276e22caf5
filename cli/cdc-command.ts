import { Command, Option } from 'commander';
import { type PipelineConfig } from '../ops/pipeline-config.js';
import { ConfigError } from '../core/errors.js';
import { connectorConfigSchema, signalDataCollection } from '../connectors/kafka-connect/connector-config.js';
import { applyDrift, detectDrift, driftProcedure } from '../dba/sqlserver/drift.js';
import { enableCdc, type EnableCdcPlan, planEnableCdc } from '../dba/sqlserver/enable.js';
import { createMssqlExecutor, type QueryExecutor, type SqlServerConnection } from '../connectors/mssql/executor.js';
import { type Check, hasFailure, preflight } from '../dba/sqlserver/preflight.js';
import { cdcStatus } from '../dba/sqlserver/status.js';
import {
  parseSignalTable,
  parseTableName,
  sameTable,
  type SignalTable,
  type TableName,
  tableLabel,
} from '../connectors/mssql/tsql.js';
import { loadConfigFile } from './command-options.js';
import { formatTable } from './table.js';

/** What the cdc subcommands need: the environment, an output line writer, and how to connect (a fake in tests). */
export type CdcCommandIo = {
  readonly env: NodeJS.ProcessEnv;
  readonly write: (line: string) => void;
  readonly connect: (connection: SqlServerConnection) => Promise<QueryExecutor>;
};

/** Options shared by every cdc subcommand, as commander parses them. */
export type CdcOptions = {
  readonly config?: string;
  readonly server?: string;
  readonly database?: string;
  readonly tables?: string;
  readonly user?: string;
  readonly passwordEnv?: string;
  readonly encrypt?: boolean;
  readonly trustServerCertificate?: boolean;
  /** `--signal-table <table>`, or false for `--no-signal-table`; preflight, enable and status only. */
  readonly signalTable?: string | false;
};

/** Where SQL Server is, which login, database and tables; the password was read from `passwordEnv`. */
export type CdcTarget = {
  readonly connection: SqlServerConnection;
  readonly tables: readonly TableName[];
  readonly passwordEnv: string;
  /** The connector's signal table from `--signal-table` or the config; none without either or with `--no-signal-table`. */
  readonly signalTable?: SignalTable;
};

/** `connector.passwordEnv`'s default, for a run without --config. */
const DEFAULT_PASSWORD_ENV = connectorConfigSchema.shape.passwordEnv.parse(undefined);
const DEFAULT_MAX_LAG_MINUTES = 1440;

/**
 * `cdc-sync cdc preflight|enable|status|drift`: SQL Server CDC for ERP DBAs. Connection settings come from flags,
 * else from the pipeline config's `connector` and `source` sections (`--config`). The password is read only from the
 * environment variable named by `--password-env`, `connector.passwordEnv`, or `ERP_DB_PASSWORD`, and never printed.
 * `preflight` exits 1 when a check fails; `drift` exits 1 when a table drifted and `--apply` was not given.
 * `preflight`, `enable` and `status` also cover the connector's signal table (`--signal-table`, else the config's
 * `signal.data.collection`): `enable` creates it when missing and enables CDC on it, so `connectors snapshot` works.
 */
export function createCdcCommand(
  io: CdcCommandIo = {
    env: process.env,
    write: (line) => process.stdout.write(`${line}\n`),
    connect: createMssqlExecutor,
  },
): Command {
  const command = new Command('cdc').description(
    'Check, enable and watch SQL Server change data capture for the ERP database (for DBAs)',
  );
  const withConnection = (sub: Command): Command =>
    sub
      .option(
        '-c, --config <file>',
        'pipeline config to take defaults from (connector.host/port/user/passwordEnv/encrypt, source.database, source.tables)',
      )
      .option('--server <host[:port]>', 'SQL Server host and port (default port 1433)')
      .option('--database <name>', 'ERP database (default source.database from --config)')
      .option(
        '--tables <list>',
        'comma-separated schema.table list, e.g. dbo.Item,dbo.Location (default source.tables from --config)',
      )
      .option('--user <login>', 'SQL Server login (default connector.user from --config)')
      .option(
        '--password-env <name>',
        `environment variable holding the password (default connector.passwordEnv from --config, else ${DEFAULT_PASSWORD_ENV})`,
      )
      .addOption(new Option('--no-encrypt', 'connect without TLS (default connector.encrypt from --config, else TLS)'))
      .option(
        '--trust-server-certificate',
        "accept the server's certificate without validation (self-signed test servers)",
      );
  const withSignalTable = (sub: Command, what: string): Command =>
    sub
      .option(
        '--signal-table <table>',
        `the connector's signal table, database.schema.table or schema.table in --database (default connector.signalDataCollection from --config, else <source.database>.dbo.DebeziumSignal; none without --config); ${what}`,
      )
      .option('--no-signal-table', 'leave the signal table out');

  withSignalTable(
    withConnection(command.command('preflight')),
    'checked to exist with CDC enabled (a warning if not), and to be in --database (a failure if not)',
  )
    .description(
      'Check that SQL Server, the login, the database and the tables are ready for CDC; exits 1 when a check fails',
    )
    .option(
      '--max-lag-minutes <n>',
      'longest a consumer may fall behind; cleanup retention must cover it',
      `${DEFAULT_MAX_LAG_MINUTES}`,
    )
    .action(async (options: CdcOptions & { maxLagMinutes: string }, sub: Command) => {
      const checks = await runPreflight(
        resolve(options, sub),
        io,
        positiveInt(options.maxLagMinutes, '--max-lag-minutes'),
      );
      if (hasFailure(checks)) process.exitCode = 1;
    });
  withSignalTable(
    withConnection(command.command('enable')),
    'created when missing and CDC-enabled after the tables, under the same --role; one in another database than --database is an error, as the connector reads signals only from the database it captures',
  )
    .description(
      'Enable CDC on the database, the tables and the signal table where it is missing (idempotent); --dry-run prints the exact T-SQL',
    )
    .option('--role <name>', 'gating role for reading changes (@role_name)', 'cdc_reader')
    .option('--dry-run', 'print the T-SQL that would run, and run nothing')
    .action(async (options: CdcOptions & { role: string; dryRun?: boolean }, sub: Command) => {
      await runEnable(resolve(options, sub), io, { roleName: options.role, dryRun: options.dryRun === true });
    });
  withSignalTable(withConnection(command.command('status')), 'listed with the tables when it is in --database')
    .description('Print capture instances per table with start LSN, the current max LSN, capture lag and retention')
    .action(async (options: CdcOptions, sub: Command) => {
      await runStatus(resolve(options, sub), io);
    });
  withConnection(command.command('drift'))
    .description(
      'Find tables whose columns differ from their newest capture instance and print the two-capture-instance procedure; exits 1 on drift unless --apply',
    )
    .option(
      '--apply',
      'run step 1 only: create the new capture instance; consumers and the old instance are left alone',
    )
    .action(async (options: CdcOptions & { apply?: boolean }, sub: Command) => {
      const drifted = await runDrift(resolve(options, sub), io, { apply: options.apply === true });
      if (drifted && options.apply !== true) process.exitCode = 1;
    });
  return command;

  function resolve(options: CdcOptions, sub: Command): CdcTarget {
    const encryptFromCli = sub.getOptionValueSource('encrypt') === 'cli';
    const config = options.config === undefined ? undefined : loadConfigFile(options.config, io.env);
    return resolveCdcTarget({ ...options, encrypt: encryptFromCli ? options.encrypt : undefined }, config, io.env);
  }
}

/**
 * Resolves flags over config defaults. Throws `ConfigError` naming the flag or config key for a missing database,
 * tables or login, a bad `--server`, or an unset password variable (naming the variable and where its name came
 * from, never a value).
 */
export function resolveCdcTarget(
  options: CdcOptions,
  config: PipelineConfig | undefined,
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

/**
 * The signal table: `--signal-table` (`schema.table` meaning `database`), else for a `sqlserver` config the
 * connector's `signal.data.collection` (`connector.signalDataCollection`, default
 * `<source.database>.dbo.DebeziumSignal`), else none. `--no-signal-table` means none.
 */
function resolveSignalTable(
  options: CdcOptions,
  config: PipelineConfig | undefined,
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

/** Runs preflight and prints the table, then the fix for each warning and failure, then a summary. */
export async function runPreflight(
  target: CdcTarget,
  io: CdcCommandIo,
  maxConsumerLagMinutes: number,
): Promise<Check[]> {
  const checks = await withExecutor(target, io, (executor) =>
    preflight(executor, {
      database: target.connection.database,
      tables: target.tables,
      maxConsumerLagMinutes,
      signalTable: target.signalTable,
    }),
  );
  io.write(`CDC preflight of database ${target.connection.database} on ${where(target)}`);
  io.write(
    formatTable([['CHECK', 'STATUS', 'DETAIL'], ...checks.map((c) => [c.name, c.status.toUpperCase(), c.detail])]),
  );
  const toFix = checks.filter((check) => check.status !== 'pass');
  if (toFix.length > 0) {
    io.write('');
    io.write('To fix:');
    for (const check of toFix) io.write(`  ${check.name} (${check.status}): ${check.fix}`);
  }
  const count = (status: Check['status']) => checks.filter((check) => check.status === status).length;
  io.write('');
  io.write(`${count('pass')} passed, ${count('warn')} warnings, ${count('fail')} failed`);
  return checks;
}

/**
 * Enables CDC where missing, printing each statement, then what happened to the signal table; with `dryRun`, prints
 * the statements and runs nothing.
 */
export async function runEnable(
  target: CdcTarget,
  io: CdcCommandIo,
  options: { readonly roleName: string; readonly dryRun: boolean },
): Promise<readonly string[]> {
  requireTables(target);
  const enableOptions = {
    database: target.connection.database,
    tables: target.tables,
    roleName: options.roleName,
    signalTable: target.signalTable,
  };
  const plan = await withExecutor(target, io, (executor) =>
    options.dryRun ? planEnableCdc(executor, enableOptions) : enableCdc(executor, enableOptions),
  );
  const already = [
    ...(plan.alreadyEnabled.database ? [`database ${target.connection.database}`] : []),
    ...plan.alreadyEnabled.tables,
    ...(plan.signalTable?.action === 'none' ? [`signal table ${plan.signalTable.name}`] : []),
  ];
  if (already.length > 0) io.write(`-- Already enabled, left alone: ${already.join(', ')}`);
  if (plan.statements.length === 0) {
    io.write('-- Nothing to enable');
    return plan.statements;
  }
  io.write(options.dryRun ? '-- Dry run: this T-SQL would run, in order; nothing ran' : `-- Ran on ${where(target)}:`);
  for (const statement of plan.statements) io.write(statement);
  const signalLine = signalTableOutcome(plan.signalTable, options.dryRun);
  if (signalLine !== undefined) io.write(signalLine);
  return plan.statements;
}

/** What the plan did (or, in a dry run, would do) to the signal table; undefined when it was left alone. */
function signalTableOutcome(signal: EnableCdcPlan['signalTable'], dryRun: boolean): string | undefined {
  if (signal === undefined || signal.action === 'none') return undefined;
  if (signal.action === 'create') {
    return dryRun
      ? `-- Signal table ${signal.name} does not exist: the T-SQL above creates it and enables CDC on it`
      : `-- Signal table ${signal.name} did not exist: created it and enabled CDC on it`;
  }
  return dryRun
    ? `-- Signal table ${signal.name} already exists: the T-SQL above enables CDC on it`
    : `-- Signal table ${signal.name} already existed: enabled CDC on it`;
}

/**
 * Prints the database's LSN, lag and retention, then a table of capture instances; the signal table, when it is in
 * the target database, is listed after the tables and marked `(signal table)`.
 */
export async function runStatus(target: CdcTarget, io: CdcCommandIo): Promise<void> {
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
  const status = await withExecutor(target, io, (executor) =>
    cdcStatus(executor, { database: target.connection.database, tables }),
  );
  const label = (table: string): string =>
    signalHere !== undefined && table.toLowerCase() === tableLabel(signalHere).toLowerCase()
      ? `${table} (signal table)`
      : table;
  io.write(`Database ${status.database} on ${where(target)}: CDC ${status.cdcEnabled ? 'enabled' : 'not enabled'}`);
  if (status.cdcEnabled) {
    io.write(
      `Max LSN: ${status.maxLsn ?? 'none yet'}${status.maxLsnTime === null ? '' : ` (${status.maxLsnTime.toISOString()})`}`,
    );
    io.write(
      `Capture lag: ${status.captureLatencySeconds === null ? 'no log scan yet' : `${status.captureLatencySeconds} seconds`}${status.lastScanAt === null ? '' : ` (last scan ${status.lastScanAt.toISOString()})`}`,
    );
    io.write(
      `Retention: ${status.retentionMinutes === null ? 'no cleanup job' : `${status.retentionMinutes} minutes`}`,
    );
  }
  const rows = status.tables.flatMap(({ table, instances }) =>
    instances.length === 0
      ? [[label(table), '-', '-', '-']]
      : instances.map((instance) => [
          label(table),
          instance.captureInstance,
          instance.startLsn ?? '-',
          instance.createdAt.toISOString(),
        ]),
  );
  io.write(formatTable([['TABLE', 'CAPTURE INSTANCE', 'START LSN', 'CREATED'], ...rows]));
}

/** Prints drift and its procedure; with `apply`, runs step 1 for each drifted table. Returns whether any drifted. */
export async function runDrift(
  target: CdcTarget,
  io: CdcCommandIo,
  options: { readonly apply: boolean },
): Promise<boolean> {
  const database = target.connection.database;
  return withExecutor(target, io, async (executor) => {
    const report = await detectDrift(executor, { database, tables: target.tables });
    if (!report.cdcEnabled) {
      io.write(`CDC is not enabled on database ${database}; nothing is captured, so nothing can drift`);
      return false;
    }
    for (const table of report.inSync) io.write(`-- ${table}: in sync with its newest capture instance`);
    if (report.drifted.length === 0) return false;
    for (const drift of report.drifted) {
      io.write('');
      io.write(driftProcedure(drift));
    }
    if (!options.apply) return true;
    io.write('');
    io.write(
      `-- --apply: running step 1 only on ${where(target)}; consumers and the old capture instances are left alone`,
    );
    const created = await applyDrift(executor, report);
    for (const [index, drift] of report.drifted.entries()) {
      io.write(
        `-- Created capture instance ${created[index]} for ${tableLabel(drift.table)}; steps 2 and 3 are yours: move consumers, then drop ${drift.captureInstance}`,
      );
    }
    return true;
  });
}

async function withExecutor<T>(
  target: CdcTarget,
  io: CdcCommandIo,
  use: (executor: QueryExecutor) => Promise<T>,
): Promise<T> {
  const executor = await io.connect(target.connection);
  try {
    return await use(executor);
  } finally {
    await executor.close();
  }
}

function parseServer(server: string | undefined, config: PipelineConfig | undefined): { host: string; port: number } {
  if (server === undefined) {
    return { host: config?.connector.host ?? '127.0.0.1', port: config?.connector.port ?? 1433 };
  }
  const match = /^([^:]+)(?::(\d+))?$/.exec(server);
  if (match === null) throw new ConfigError(`Server ${JSON.stringify(server)} in --server is not host or host:port`);
  return { host: match[1]!, port: match[2] === undefined ? 1433 : positiveInt(match[2], '--server port') };
}

function positiveInt(value: string, source: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) {
    throw new ConfigError(`${source} must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  return number;
}

function requireTables(target: CdcTarget): void {
  if (target.tables.length === 0) throw new ConfigError('No tables: give --tables, or --config with source.tables');
}

function where(target: CdcTarget): string {
  return `${target.connection.host}:${target.connection.port} as ${target.connection.user}`;
}
