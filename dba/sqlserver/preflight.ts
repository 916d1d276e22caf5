import { PermissionDeniedError } from '../../core/errors.js';
import {
  type AgentRow,
  type CaptureInstanceRow,
  type JobRow,
  type LatencyRow,
  QUERIES,
  readCaptureInstances,
  readDatabase,
  type RightsRow,
  rowsOf,
  type ServerRow,
  type TableRow,
} from './catalog.js';
import { type QueryExecutor } from '../../connectors/mssql/executor.js';
import {
  quoteLiteral,
  quoteName,
  quoteTable,
  type SignalTable,
  signalTableLabel,
  type TableName,
  tableLabel,
} from '../../connectors/mssql/tsql.js';

/** `pass`: ready; `warn`: works, but look; `fail`: CDC will not work for the pipeline until fixed. */
export type CheckStatus = 'pass' | 'warn' | 'fail';

/** One preflight finding. `fix` says what to do (often exact T-SQL); empty for a pass. */
export type Check = {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly fix: string;
};

export type PreflightOptions = {
  /** The ERP database; the executor must be connected to it (IS_ROLEMEMBER and the CDC views are per database). */
  readonly database: string;
  /** The tables the pipeline captures. */
  readonly tables: readonly TableName[];
  /** The longest a consumer may be down or behind; the cleanup job must keep changes at least this long. */
  readonly maxConsumerLagMinutes: number;
  /** Capture latency above this is a warning; default 60 seconds. */
  readonly maxCaptureLatencySeconds?: number;
  /** The connector's signal table (Debezium's `signal.data.collection`); not checked when undefined. */
  readonly signalTable?: SignalTable;
};

/** SERVERPROPERTY('EngineEdition') values whose SQL Server Agent runs the CDC jobs: Standard, Enterprise/Developer, Managed Instance. */
const AGENT_EDITIONS = new Set([2, 3, 8]);
const AZURE_SQL_DATABASE = 5;
const EDITION_FIX =
  'Use Developer, Standard or Enterprise edition (SQL Server 2016 SP1 or later) or Azure SQL Managed Instance';
const AGENT_FIX =
  'Start SQL Server Agent and set it to start automatically (Linux: mssql-conf set sqlagent.enabled true; containers: MSSQL_AGENT_ENABLED=true)';

/**
 * Checks that SQL Server and `options.database` are ready for Debezium's SQL Server connector: edition and version,
 * SQL Server Agent, the login's rights, the database's CDC flag, each table (exists, has a primary key, has one or
 * two capture instances), the signal table if given (in `database`, exists, captured), cleanup retention against
 * `maxConsumerLagMinutes` and the capture job's latency.
 *
 * Returns one {@link Check} per finding, in that order, and never throws for a finding: a query the login may not
 * run becomes a failed check naming the missing permission. Throws only what the executor throws for an unreachable
 * server or a refused login.
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#setting-up-sqlserver
 * @see https://learn.microsoft.com/sql/relational-databases/track-changes/administer-and-monitor-change-data-capture-sql-server
 */
export async function preflight(executor: QueryExecutor, options: PreflightOptions): Promise<Check[]> {
  const { database } = options;
  const checks: Check[] = [];

  const server = await guarded('version', 'Grant the login VIEW SERVER STATE', () =>
    executor.query<ServerRow>(QUERIES.server).then((rows) => rows[0]!),
  );
  if (server.ok) checks.push(versionCheck(server.value));
  else checks.push(server.check);

  if (server.ok && server.value.engineEdition === AZURE_SQL_DATABASE) {
    checks.push({
      name: 'agent',
      status: 'pass',
      detail: 'Azure SQL Database runs the CDC jobs on its own scheduler; no SQL Server Agent is needed',
      fix: '',
    });
  } else {
    const agent = await guarded(
      'agent',
      'Grant the login VIEW SERVER STATE (GRANT VIEW SERVER STATE TO [login]) or run preflight as a sysadmin',
      () => executor.query<AgentRow>(QUERIES.agent).then((rows) => rows[0]!),
    );
    checks.push(agent.ok ? agentCheck(agent.value) : agent.check);
  }

  const databaseRow = await readDatabase(executor, database);
  const cdcEnabled = databaseRow?.isCdcEnabled === true;

  const rights = await guarded('rights', 'Run preflight as the login that will enable CDC', () =>
    executor.query<RightsRow>(QUERIES.rights).then((rows) => rows[0]!),
  );
  checks.push(rights.ok ? rightsCheck(rights.value, database, cdcEnabled) : rights.check);

  checks.push(databaseCheck(database, databaseRow));

  const tables = await executor.query<TableRow>(QUERIES.tables);
  const instances = await readCaptureInstances(executor, cdcEnabled);
  for (const table of options.tables) {
    const row = rowsOf(tables, table)[0];
    checks.push(tableCheck(table, database, row));
    if (row !== undefined) checks.push(captureCheck(table, rowsOf(instances, table)));
  }
  if (options.signalTable !== undefined) {
    const signal = options.signalTable;
    checks.push(signalCheck(signal, database, rowsOf(tables, signal.table)[0], rowsOf(instances, signal.table)));
  }

  if (!cdcEnabled) {
    const detail = `CDC is not enabled on database ${database}, so it has no capture and cleanup jobs`;
    const fix = `Enable CDC first: cdc-sync cdc enable --database ${database}`;
    checks.push({ name: 'retention', status: 'fail', detail, fix });
    checks.push({ name: 'capture latency', status: 'fail', detail, fix });
    return checks;
  }
  const jobs = await guarded(
    'retention',
    'Grant the login SELECT on msdb.dbo.cdc_jobs or run preflight as a sysadmin',
    () => executor.query<JobRow>(QUERIES.jobs),
  );
  checks.push(jobs.ok ? retentionCheck(jobs.value, database, options.maxConsumerLagMinutes) : jobs.check);
  const latency = await guarded(
    'capture latency',
    'Grant the login VIEW DATABASE STATE (GRANT VIEW DATABASE STATE TO [user]) or run preflight as db_owner',
    () => executor.query<LatencyRow>(QUERIES.latency).then((rows) => rows[0]),
  );
  if (!latency.ok) checks.push(latency.check);
  else {
    const captureJob = jobs.ok ? jobs.value.some((job) => job.jobType === 'capture') : undefined;
    checks.push(latencyCheck(latency.value, database, captureJob, options.maxCaptureLatencySeconds ?? 60));
  }
  return checks;
}

/** True when any check failed: the command then exits 1. */
export function hasFailure(checks: readonly Check[]): boolean {
  return checks.some((check) => check.status === 'fail');
}

type Guarded<T> = { ok: true; value: T } | { ok: false; check: Check };

/** Runs a read; a permission error becomes a failed check with `fix`, anything else propagates. */
async function guarded<T>(name: string, fix: string, read: () => Promise<T>): Promise<Guarded<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (error: unknown) {
    if (error instanceof PermissionDeniedError)
      return { ok: false, check: { name, status: 'fail', detail: error.message, fix } };
    throw error;
  }
}

function versionCheck(row: ServerRow): Check {
  const edition = row.edition ?? 'unknown edition';
  const version = row.productVersion ?? 'unknown version';
  const engine = row.engineEdition;
  // Azure SQL Database reports ProductMajorVersion 12 whatever its engine, and always has CDC.
  if (engine === AZURE_SQL_DATABASE) {
    return { name: 'version', status: 'pass', detail: `Azure SQL Database ${version}, ${edition}`, fix: '' };
  }
  if (row.majorVersion === null || row.majorVersion < 13) {
    return {
      name: 'version',
      status: 'fail',
      detail: `SQL Server ${version} (major version ${row.majorVersion ?? 'unknown'}) is older than SQL Server 2016, the first whose Standard edition has CDC`,
      fix: 'Upgrade to SQL Server 2016 SP1 or later (Debezium supports 2017 and later)',
    };
  }
  if (engine === 4 || engine === 9) {
    const kind = engine === 4 ? 'Express' : 'Azure SQL Edge';
    return {
      name: 'version',
      status: 'fail',
      detail: `${edition} (EngineEdition ${engine}, ${kind}) has no SQL Server Agent, so the CDC capture and cleanup jobs cannot run`,
      fix: EDITION_FIX,
    };
  }
  if (engine !== null && AGENT_EDITIONS.has(engine)) {
    return { name: 'version', status: 'pass', detail: `SQL Server ${version}, ${edition}`, fix: '' };
  }
  return {
    name: 'version',
    status: 'fail',
    detail: `${edition} (EngineEdition ${engine ?? 'unknown'}) does not support CDC`,
    fix: EDITION_FIX,
  };
}

function agentCheck(row: AgentRow): Check {
  if (row.serviceStatus === 'Running') {
    return { name: 'agent', status: 'pass', detail: 'SQL Server Agent is running', fix: '' };
  }
  if (row.serviceStatus === null && row.agentSessions > 0) {
    return {
      name: 'agent',
      status: 'pass',
      detail: `SQL Server Agent is running (${row.agentSessions} Agent sessions)`,
      fix: '',
    };
  }
  const detail =
    row.serviceStatus === null
      ? 'SQL Server Agent is not running: no Agent service and no Agent session found'
      : `SQL Server Agent is ${row.serviceStatus}, so the CDC capture and cleanup jobs do not run`;
  return { name: 'agent', status: 'fail', detail, fix: AGENT_FIX };
}

function rightsCheck(row: RightsRow, database: string, cdcEnabled: boolean): Check {
  const login = row.loginName;
  if (row.isSysadmin === 1) {
    return { name: 'rights', status: 'pass', detail: `Login ${login} is sysadmin`, fix: '' };
  }
  if (row.isDbOwner === 1 && cdcEnabled) {
    return {
      name: 'rights',
      status: 'pass',
      detail: `Login ${login} is db_owner of ${database}, enough to enable tables on a CDC-enabled database`,
      fix: '',
    };
  }
  if (row.isDbOwner === 1) {
    return {
      name: 'rights',
      status: 'fail',
      detail: `Login ${login} is db_owner of ${database} but not sysadmin; sys.sp_cdc_enable_db needs sysadmin`,
      fix: `Have a sysadmin run EXEC sys.sp_cdc_enable_db in ${database} (or cdc-sync cdc enable as a sysadmin) once`,
    };
  }
  return {
    name: 'rights',
    status: 'fail',
    detail: `Login ${login} is neither sysadmin nor db_owner of ${database}`,
    fix: `In ${database}: ALTER ROLE [db_owner] ADD MEMBER ${quoteName(login)}; or use a sysadmin login`,
  };
}

function databaseCheck(database: string, row: { isCdcEnabled: boolean } | undefined): Check {
  if (row === undefined) {
    return {
      name: 'database cdc',
      status: 'fail',
      detail: `Database ${database} not found on the server`,
      fix: 'Correct --database (or source.database in the config)',
    };
  }
  if (!row.isCdcEnabled) {
    return {
      name: 'database cdc',
      status: 'fail',
      detail: `CDC is not enabled on database ${database} (sys.databases.is_cdc_enabled = 0)`,
      fix: `cdc-sync cdc enable --database ${database}, or in ${database}: EXEC sys.sp_cdc_enable_db;`,
    };
  }
  return { name: 'database cdc', status: 'pass', detail: `CDC is enabled on database ${database}`, fix: '' };
}

function tableCheck(table: TableName, database: string, row: TableRow | undefined): Check {
  const name = `table ${tableLabel(table)}`;
  if (row === undefined) {
    return {
      name,
      status: 'fail',
      detail: `Table ${tableLabel(table)} not found in database ${database}`,
      fix: 'Create the table, or correct its name in --tables (or source.tables)',
    };
  }
  if (row.primaryKey === null) {
    return {
      name,
      status: 'fail',
      detail: `Table ${tableLabel(table)} has no primary key; @supports_net_changes = 1 and Debezium's record keys need one`,
      fix: `ALTER TABLE ${quoteTable(table)} ADD CONSTRAINT ${quoteName(`PK_${table.name}`)} PRIMARY KEY (<key columns>);`,
    };
  }
  return { name, status: 'pass', detail: `Table ${tableLabel(table)} has primary key ${row.primaryKey}`, fix: '' };
}

function captureCheck(table: TableName, instances: readonly CaptureInstanceRow[]): Check {
  const name = `capture ${tableLabel(table)}`;
  if (instances.length === 0) {
    return {
      name,
      status: 'fail',
      detail: `Table ${tableLabel(table)} has no capture instance`,
      fix: `cdc-sync cdc enable --tables ${tableLabel(table)}`,
    };
  }
  if (instances.length === 1) {
    const instance = instances[0]!;
    return {
      name,
      status: 'pass',
      detail: `Capture instance ${instance.captureInstance} from LSN ${instance.startLsn ?? 'unknown'}`,
      fix: '',
    };
  }
  const [oldest, newest] = instances as readonly [CaptureInstanceRow, CaptureInstanceRow];
  return {
    name,
    status: 'warn',
    detail: `Table ${tableLabel(table)} has 2 capture instances (${oldest.captureInstance}, ${newest.captureInstance}), the most SQL Server allows: a schema migration is in progress`,
    fix: `Once consumers read ${newest.captureInstance}, drop the old one: EXEC sys.sp_cdc_disable_table @source_schema = ${quoteLiteral(table.schema)}, @source_name = ${quoteLiteral(table.name)}, @capture_instance = ${quoteLiteral(oldest.captureInstance)};`,
  };
}

/**
 * The signal table only matters to `cdc-sync connectors snapshot`, so one that is missing or not captured is a
 * warning; one in another database is a failure because `cdc-sync cdc enable` refuses it.
 */
function signalCheck(
  signal: SignalTable,
  database: string,
  row: TableRow | undefined,
  instances: readonly CaptureInstanceRow[],
): Check {
  const name = 'signal table';
  const label = signalTableLabel(signal);
  if (signal.database.toLowerCase() !== database.toLowerCase()) {
    return {
      name,
      status: 'fail',
      detail: `Signal table ${label} (${signal.source}) is in database ${signal.database}, not in database ${database}; the connector reads signals only from its own database`,
      fix: `Name a signal table in ${database} (--signal-table schema.table or connector.signalDataCollection), or leave it out with --no-signal-table`,
    };
  }
  if (row === undefined) {
    return {
      name,
      status: 'warn',
      detail: `Signal table ${label} (${signal.source}) not found in database ${database}, so cdc-sync connectors snapshot cannot signal the connector`,
      fix: 'Run cdc-sync cdc enable with the same options: it creates the table and enables CDC on it',
    };
  }
  const instance = instances[0];
  if (!row.isTracked || instance === undefined) {
    return {
      name,
      status: 'warn',
      detail: `Signal table ${label} has no capture instance, so the connector never sees the signals inserted there`,
      fix: 'Run cdc-sync cdc enable with the same options: it enables CDC on the table',
    };
  }
  return {
    name,
    status: 'pass',
    detail: `Signal table ${label} is captured by capture instance ${instance.captureInstance}`,
    fix: '',
  };
}

function retentionCheck(jobs: readonly JobRow[], database: string, maxLagMinutes: number): Check {
  const cleanup = jobs.find((job) => job.jobType === 'cleanup');
  if (cleanup === undefined || cleanup.retention === null) {
    return {
      name: 'retention',
      status: 'fail',
      detail: `No CDC cleanup job for database ${database} in msdb.dbo.cdc_jobs`,
      fix: `In ${database}: EXEC sys.sp_cdc_add_job @job_type = N'cleanup', @retention = ${maxLagMinutes};`,
    };
  }
  if (cleanup.retention < maxLagMinutes) {
    return {
      name: 'retention',
      status: 'fail',
      detail: `Cleanup keeps changes for ${cleanup.retention} minutes, less than the maximum consumer lag of ${maxLagMinutes} minutes: a consumer that far behind loses changes`,
      fix: `In ${database}: EXEC sys.sp_cdc_change_job @job_type = N'cleanup', @retention = ${maxLagMinutes};`,
    };
  }
  return {
    name: 'retention',
    status: 'pass',
    detail: `Cleanup keeps changes for ${cleanup.retention} minutes, at least the maximum consumer lag of ${maxLagMinutes} minutes`,
    fix: '',
  };
}

function latencyCheck(
  row: LatencyRow | undefined,
  database: string,
  captureJob: boolean | undefined,
  maxLatencySeconds: number,
): Check {
  const name = 'capture latency';
  if (captureJob === false) {
    return {
      name,
      status: 'fail',
      detail: `No CDC capture job for database ${database} in msdb.dbo.cdc_jobs`,
      fix: `In ${database}: EXEC sys.sp_cdc_add_job @job_type = N'capture';`,
    };
  }
  if (row === undefined) {
    return {
      name,
      status: 'warn',
      detail:
        'The capture job has not scanned the log since SQL Server started (no row in sys.dm_cdc_log_scan_sessions)',
      fix: `Check that the Agent job cdc.${database}_capture runs; in ${database}: EXEC sys.sp_cdc_start_job @job_type = N'capture';`,
    };
  }
  if (row.errorCount > 0) {
    return {
      name,
      status: 'fail',
      detail: `Log scan session ${row.sessionId} had ${row.errorCount} errors`,
      fix: `In ${database}: SELECT * FROM sys.dm_cdc_errors WHERE session_id = ${row.sessionId};`,
    };
  }
  const latency = row.latency ?? 0;
  if (latency > maxLatencySeconds) {
    return {
      name,
      status: 'warn',
      detail: `The capture job is ${latency} seconds behind the log (session ${row.sessionId}), more than ${maxLatencySeconds} seconds`,
      fix: `Check the capture job's maxtrans, maxscans and pollinginterval (in ${database}: EXEC sys.sp_cdc_help_jobs;) and the log volume`,
    };
  }
  return {
    name,
    status: 'pass',
    detail: `The capture job is ${latency} seconds behind the log (session ${row.sessionId})`,
    fix: '',
  };
}
