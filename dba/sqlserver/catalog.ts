import { type QueryExecutor, type SqlQuery } from '../../connectors/mssql/executor.js';
import { type TableName } from '../../connectors/mssql/tsql.js';

/**
 * The catalog queries behind `cdc-sync cdc`: each reads one thing from SQL Server's catalog views and CDC metadata,
 * in the database the executor is connected to. The ids name them in errors and in tests' canned results.
 *
 * @see https://learn.microsoft.com/sql/relational-databases/system-tables/change-data-capture-tables-transact-sql
 */
export const QUERIES = {
  server: {
    id: 'server',
    text: `SELECT CAST(SERVERPROPERTY('ProductMajorVersion') AS int) AS majorVersion,
  CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS productVersion,
  CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,
  CAST(SERVERPROPERTY('EngineEdition') AS int) AS engineEdition`,
  },
  agent: {
    id: 'agent',
    // dm_server_services names the Agent service on Windows and on Linux; an Agent that runs also holds sessions
    // named "SQLAgent - …", which is the fallback where the service row is missing.
    text: `SELECT (SELECT TOP (1) status_desc FROM sys.dm_server_services WHERE servicename LIKE N'SQL Server Agent%') AS serviceStatus,
  (SELECT COUNT(*) FROM sys.dm_exec_sessions WHERE program_name LIKE N'SQLAgent - %') AS agentSessions`,
  },
  rights: {
    id: 'rights',
    text: `SELECT SUSER_SNAME() AS loginName, IS_SRVROLEMEMBER(N'sysadmin') AS isSysadmin, IS_ROLEMEMBER(N'db_owner') AS isDbOwner`,
  },
  database: {
    id: 'database',
    text: `SELECT name, is_cdc_enabled AS isCdcEnabled FROM sys.databases WHERE name = @database`,
  },
  tables: {
    id: 'tables',
    text: `SELECT s.name AS schemaName, t.name AS tableName, t.is_tracked_by_cdc AS isTracked,
  (SELECT TOP (1) k.name FROM sys.key_constraints k WHERE k.parent_object_id = t.object_id AND k.type = 'PK') AS primaryKey
FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id`,
  },
  captureInstances: {
    id: 'capture-instances',
    text: `SELECT OBJECT_SCHEMA_NAME(ct.source_object_id) AS schemaName, OBJECT_NAME(ct.source_object_id) AS tableName,
  ct.capture_instance AS captureInstance, ct.role_name AS roleName, ct.supports_net_changes AS supportsNetChanges,
  CONVERT(varchar(24), ct.start_lsn, 1) AS startLsn, ct.create_date AS createDate
FROM cdc.change_tables ct
ORDER BY ct.create_date, ct.capture_instance`,
  },
  jobs: {
    id: 'jobs',
    text: `SELECT job_type AS jobType, retention FROM msdb.dbo.cdc_jobs WHERE database_id = DB_ID()`,
  },
  latency: {
    id: 'latency',
    // Session 0 is the aggregate row; the newest real session tells how far behind the capture job is.
    text: `SELECT TOP (1) session_id AS sessionId, end_time AS endTime, latency, error_count AS errorCount
FROM sys.dm_cdc_log_scan_sessions WHERE session_id <> 0 ORDER BY session_id DESC`,
  },
  maxLsn: {
    id: 'max-lsn',
    text: `SELECT CONVERT(varchar(24), sys.fn_cdc_get_max_lsn(), 1) AS maxLsn, sys.fn_cdc_map_lsn_to_time(sys.fn_cdc_get_max_lsn()) AS maxLsnTime`,
  },
  sourceColumns: {
    id: 'source-columns',
    text: `SELECT OBJECT_SCHEMA_NAME(c.object_id) AS schemaName, OBJECT_NAME(c.object_id) AS tableName, c.name AS columnName
FROM sys.columns c
WHERE c.object_id IN (SELECT source_object_id FROM cdc.change_tables)
ORDER BY c.object_id, c.column_id`,
  },
  capturedColumns: {
    id: 'captured-columns',
    text: `SELECT ct.capture_instance AS captureInstance, cc.column_name AS columnName
FROM cdc.captured_columns cc JOIN cdc.change_tables ct ON ct.object_id = cc.object_id
ORDER BY ct.capture_instance, cc.column_ordinal`,
  },
} as const satisfies Record<string, SqlQuery>;

export type ServerRow = {
  majorVersion: number | null;
  productVersion: string | null;
  edition: string | null;
  engineEdition: number | null;
};
export type AgentRow = { serviceStatus: string | null; agentSessions: number };
export type RightsRow = { loginName: string; isSysadmin: number | null; isDbOwner: number | null };
export type DatabaseRow = { name: string; isCdcEnabled: boolean };
export type TableRow = { schemaName: string; tableName: string; isTracked: boolean; primaryKey: string | null };
export type CaptureInstanceRow = {
  schemaName: string;
  tableName: string;
  captureInstance: string;
  roleName: string | null;
  supportsNetChanges: boolean;
  startLsn: string | null;
  createDate: Date;
};
export type JobRow = { jobType: string; retention: number | null };
export type LatencyRow = { sessionId: number; endTime: Date | null; latency: number | null; errorCount: number };
export type MaxLsnRow = { maxLsn: string | null; maxLsnTime: Date | null };
export type SourceColumnRow = { schemaName: string; tableName: string; columnName: string };
export type CapturedColumnRow = { captureInstance: string; columnName: string };

/** Whether `database` exists and has CDC enabled; `undefined` when it does not exist. */
export async function readDatabase(executor: QueryExecutor, database: string): Promise<DatabaseRow | undefined> {
  const rows = await executor.query<DatabaseRow>(QUERIES.database, { database });
  return rows[0];
}

/**
 * The capture instances of the connected database, oldest first; none when CDC is not enabled there (the `cdc`
 * schema and its tables exist only after `sys.sp_cdc_enable_db`).
 */
export async function readCaptureInstances(
  executor: QueryExecutor,
  cdcEnabled: boolean,
): Promise<CaptureInstanceRow[]> {
  return cdcEnabled ? executor.query<CaptureInstanceRow>(QUERIES.captureInstances) : [];
}

/** The rows that belong to `table`, compared as SQL Server compares names. */
export function rowsOf<Row extends { schemaName: string; tableName: string }>(
  rows: readonly Row[],
  table: TableName,
): Row[] {
  return rows.filter(
    (row) =>
      row.schemaName.toLowerCase() === table.schema.toLowerCase() &&
      row.tableName.toLowerCase() === table.name.toLowerCase(),
  );
}
