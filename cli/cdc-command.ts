import { Command, Option } from 'commander';
import { createMssqlExecutor } from '../connectors/mssql/executor.js';
import { driftProcedure } from '../dba/sqlserver/drift.js';
import { type EnableCdcPlan } from '../dba/sqlserver/enable.js';
import { type Check, hasFailure } from '../dba/sqlserver/preflight.js';
import {
  alreadyEnabled,
  type CdcTarget,
  type CdcTargetOptions,
  type ConnectSqlServer,
  DEFAULT_PASSWORD_ENV,
  driftOnTarget,
  enableCdcOnTarget,
  positiveInt,
  preflightTarget,
  resolveCdcTarget,
  targetLabel,
  targetStatus,
} from '../dba/sqlserver/target.js';
import { tableLabel } from '../connectors/mssql/tsql.js';
import { loadConfigFile } from './command-options.js';
import { formatTable } from './table.js';

/** What the cdc subcommands need: the environment, an output line writer, and how to connect (a fake in tests). */
export type CdcCommandIo = {
  readonly env: NodeJS.ProcessEnv;
  readonly write: (line: string) => void;
  readonly connect: ConnectSqlServer;
};

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
    .action(async (options: CdcTargetOptions & { maxLagMinutes: string }, sub: Command) => {
      const checks = await runPreflight(
        await resolve(options, sub),
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
    .action(async (options: CdcTargetOptions & { role: string; dryRun?: boolean }, sub: Command) => {
      await runEnable(await resolve(options, sub), io, { roleName: options.role, dryRun: options.dryRun === true });
    });
  withSignalTable(withConnection(command.command('status')), 'listed with the tables when it is in --database')
    .description('Print capture instances per table with start LSN, the current max LSN, capture lag and retention')
    .action(async (options: CdcTargetOptions, sub: Command) => {
      await runStatus(await resolve(options, sub), io);
    });
  withConnection(command.command('drift'))
    .description(
      'Find tables whose columns differ from their newest capture instance and print the two-capture-instance procedure; exits 1 on drift unless --apply',
    )
    .option(
      '--apply',
      'run step 1 only: create the new capture instance; consumers and the old instance are left alone',
    )
    .action(async (options: CdcTargetOptions & { apply?: boolean }, sub: Command) => {
      const drifted = await runDrift(await resolve(options, sub), io, { apply: options.apply === true });
      if (drifted && options.apply !== true) process.exitCode = 1;
    });
  return command;

  async function resolve(options: CdcTargetOptions, sub: Command): Promise<CdcTarget> {
    const encryptFromCli = sub.getOptionValueSource('encrypt') === 'cli';
    const config = options.config === undefined ? undefined : await loadConfigFile(options.config, io.env);
    return resolveCdcTarget({ ...options, encrypt: encryptFromCli ? options.encrypt : undefined }, config, io.env);
  }
}

/** Runs preflight and prints the table, then the fix for each warning and failure, then a summary. */
export async function runPreflight(
  target: CdcTarget,
  io: CdcCommandIo,
  maxConsumerLagMinutes: number,
): Promise<Check[]> {
  const checks = await preflightTarget(target, io.connect, maxConsumerLagMinutes);
  io.write(`CDC preflight of database ${target.connection.database} on ${targetLabel(target)}`);
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
  const plan = await enableCdcOnTarget(target, io.connect, options);
  const already = alreadyEnabled(plan, target.connection.database);
  if (already.length > 0) io.write(`-- Already enabled, left alone: ${already.join(', ')}`);
  if (plan.statements.length === 0) {
    io.write('-- Nothing to enable');
    return plan.statements;
  }
  io.write(
    options.dryRun ? '-- Dry run: this T-SQL would run, in order; nothing ran' : `-- Ran on ${targetLabel(target)}:`,
  );
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
  const { status, signalTable } = await targetStatus(target, io.connect);
  const label = (table: string): string =>
    signalTable !== undefined && table.toLowerCase() === signalTable.toLowerCase() ? `${table} (signal table)` : table;
  io.write(
    `Database ${status.database} on ${targetLabel(target)}: CDC ${status.cdcEnabled ? 'enabled' : 'not enabled'}`,
  );
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
  const { report, created } = await driftOnTarget(target, io.connect, (report) => {
    if (!report.cdcEnabled) {
      io.write(
        `CDC is not enabled on database ${target.connection.database}; nothing is captured, so nothing can drift`,
      );
      return false;
    }
    for (const table of report.inSync) io.write(`-- ${table}: in sync with its newest capture instance`);
    for (const drift of report.drifted) {
      io.write('');
      io.write(driftProcedure(drift));
    }
    if (!options.apply || report.drifted.length === 0) return false;
    io.write('');
    io.write(
      `-- --apply: running step 1 only on ${targetLabel(target)}; consumers and the old capture instances are left alone`,
    );
    return true;
  });
  for (const [index, drift] of report.drifted.entries()) {
    if (created[index] === undefined) break;
    io.write(
      `-- Created capture instance ${created[index]} for ${tableLabel(drift.table)}; steps 2 and 3 are yours: move consumers, then drop ${drift.captureInstance}`,
    );
  }
  return report.cdcEnabled && report.drifted.length > 0;
}
