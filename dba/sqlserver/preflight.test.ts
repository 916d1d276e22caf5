import { describe, expect, it } from 'vitest';
import { PermissionDeniedError, SourceUnavailableError } from '../../core/errors.js';
import { type Check, hasFailure, preflight } from './preflight.js';
import { type CannedResult, createFakeExecutor } from '../../connectors/mssql/testing.js';

const created = new Date('2025-03-01T10:00:00Z');
const instance = (captureInstance: string, startLsn: string) => ({
  schemaName: 'dbo',
  tableName: 'Item',
  captureInstance,
  roleName: 'cdc_reader',
  supportsNetChanges: true,
  startLsn,
  createDate: created,
});

/** Canned catalog answers of a server that is ready for CDC. */
const READY: Record<string, CannedResult> = {
  server: [
    { majorVersion: 16, productVersion: '16.0.4135.4', edition: 'Developer Edition (64-bit)', engineEdition: 3 },
  ],
  agent: [{ serviceStatus: 'Running', agentSessions: 2 }],
  database: [{ name: 'ErpDemo', isCdcEnabled: true }],
  rights: [{ loginName: 'sa', isSysadmin: 1, isDbOwner: 1 }],
  tables: [{ schemaName: 'dbo', tableName: 'Item', isTracked: true, primaryKey: 'PK_Item' }],
  'capture-instances': [instance('dbo_Item', '0x0000002A000001F00003')],
  jobs: [
    { jobType: 'capture', retention: null },
    { jobType: 'cleanup', retention: 4320 },
  ],
  latency: [{ sessionId: 42, endTime: created, latency: 3, errorCount: 0 }],
};

const OPTIONS = { database: 'ErpDemo', tables: [{ schema: 'dbo', name: 'Item' }], maxConsumerLagMinutes: 1440 };

async function run(overrides: Record<string, CannedResult> = {}, options = OPTIONS): Promise<Check[]> {
  return preflight(createFakeExecutor({ ...READY, ...overrides }), options);
}

const pass = (name: string, detail: string): Check => ({ name, status: 'pass', detail, fix: '' });

describe('preflight with a FAKE query executor (SQL Server cannot run here)', () => {
  it('passes every check on a ready server', async () => {
    const checks = await run();
    expect(checks).toEqual([
      pass('version', 'SQL Server 16.0.4135.4, Developer Edition (64-bit)'),
      pass('agent', 'SQL Server Agent is running'),
      pass('rights', 'Login sa is sysadmin'),
      pass('database cdc', 'CDC is enabled on database ErpDemo'),
      pass('table dbo.Item', 'Table dbo.Item has primary key PK_Item'),
      pass('capture dbo.Item', 'Capture instance dbo_Item from LSN 0x0000002A000001F00003'),
      pass('retention', 'Cleanup keeps changes for 4320 minutes, at least the maximum consumer lag of 1440 minutes'),
      pass('capture latency', 'The capture job is 3 seconds behind the log (session 42)'),
    ]);
    expect(hasFailure(checks)).toBe(false);
  });

  const EDITION_FIX =
    'Use Developer, Standard or Enterprise edition (SQL Server 2016 SP1 or later) or Azure SQL Managed Instance';
  const AGENT_FIX =
    'Start SQL Server Agent and set it to start automatically (Linux: mssql-conf set sqlagent.enabled true; containers: MSSQL_AGENT_ENABLED=true)';

  it.each<[string, Record<string, CannedResult>, Check]>([
    [
      'an old version',
      { server: [{ majorVersion: 12, productVersion: '12.0.6024.0', edition: 'Standard Edition', engineEdition: 2 }] },
      {
        name: 'version',
        status: 'fail',
        detail:
          'SQL Server 12.0.6024.0 (major version 12) is older than SQL Server 2016, the first whose Standard edition has CDC',
        fix: 'Upgrade to SQL Server 2016 SP1 or later (Debezium supports 2017 and later)',
      },
    ],
    [
      'Express',
      {
        server: [
          { majorVersion: 16, productVersion: '16.0.1000.6', edition: 'Express Edition (64-bit)', engineEdition: 4 },
        ],
      },
      {
        name: 'version',
        status: 'fail',
        detail:
          'Express Edition (64-bit) (EngineEdition 4, Express) has no SQL Server Agent, so the CDC capture and cleanup jobs cannot run',
        fix: EDITION_FIX,
      },
    ],
    [
      'Azure SQL Edge',
      {
        server: [
          { majorVersion: 15, productVersion: '15.0.2000.1574', edition: 'Azure SQL Edge Developer', engineEdition: 9 },
        ],
      },
      {
        name: 'version',
        status: 'fail',
        detail:
          'Azure SQL Edge Developer (EngineEdition 9, Azure SQL Edge) has no SQL Server Agent, so the CDC capture and cleanup jobs cannot run',
        fix: EDITION_FIX,
      },
    ],
    [
      'a stopped Agent',
      { agent: [{ serviceStatus: 'Stopped', agentSessions: 0 }] },
      {
        name: 'agent',
        status: 'fail',
        detail: 'SQL Server Agent is Stopped, so the CDC capture and cleanup jobs do not run',
        fix: AGENT_FIX,
      },
    ],
    [
      'no Agent at all',
      { agent: [{ serviceStatus: null, agentSessions: 0 }] },
      {
        name: 'agent',
        status: 'fail',
        detail: 'SQL Server Agent is not running: no Agent service and no Agent session found',
        fix: AGENT_FIX,
      },
    ],
    [
      'an Agent seen only by its sessions',
      { agent: [{ serviceStatus: null, agentSessions: 3 }] },
      pass('agent', 'SQL Server Agent is running (3 Agent sessions)'),
    ],
    [
      'a login without VIEW SERVER STATE',
      {
        agent: {
          error: new PermissionDeniedError(
            'Permission denied to cdc in database ErpDemo on db:1433 while running query agent',
          ),
        },
      },
      {
        name: 'agent',
        status: 'fail',
        detail: 'Permission denied to cdc in database ErpDemo on db:1433 while running query agent',
        fix: 'Grant the login VIEW SERVER STATE (GRANT VIEW SERVER STATE TO [login]) or run preflight as a sysadmin',
      },
    ],
    [
      'a db_owner on an enabled database',
      { rights: [{ loginName: 'dba', isSysadmin: 0, isDbOwner: 1 }] },
      pass('rights', 'Login dba is db_owner of ErpDemo, enough to enable tables on a CDC-enabled database'),
    ],
    [
      'a db_owner on a database without CDC',
      {
        rights: [{ loginName: 'dba', isSysadmin: 0, isDbOwner: 1 }],
        database: [{ name: 'ErpDemo', isCdcEnabled: false }],
      },
      {
        name: 'rights',
        status: 'fail',
        detail: 'Login dba is db_owner of ErpDemo but not sysadmin; sys.sp_cdc_enable_db needs sysadmin',
        fix: 'Have a sysadmin run EXEC sys.sp_cdc_enable_db in ErpDemo (or cdc-sync cdc enable as a sysadmin) once',
      },
    ],
    [
      'a plain user',
      { rights: [{ loginName: "o'brien", isSysadmin: 0, isDbOwner: 0 }] },
      {
        name: 'rights',
        status: 'fail',
        detail: "Login o'brien is neither sysadmin nor db_owner of ErpDemo",
        fix: "In ErpDemo: ALTER ROLE [db_owner] ADD MEMBER [o'brien]; or use a sysadmin login",
      },
    ],
    [
      'a database without CDC',
      { database: [{ name: 'ErpDemo', isCdcEnabled: false }] },
      {
        name: 'database cdc',
        status: 'fail',
        detail: 'CDC is not enabled on database ErpDemo (sys.databases.is_cdc_enabled = 0)',
        fix: 'cdc-sync cdc enable --database ErpDemo, or in ErpDemo: EXEC sys.sp_cdc_enable_db;',
      },
    ],
    [
      'a missing database',
      { database: [] },
      {
        name: 'database cdc',
        status: 'fail',
        detail: 'Database ErpDemo not found on the server',
        fix: 'Correct --database (or source.database in the config)',
      },
    ],
    [
      'a missing table',
      { tables: [] },
      {
        name: 'table dbo.Item',
        status: 'fail',
        detail: 'Table dbo.Item not found in database ErpDemo',
        fix: 'Create the table, or correct its name in --tables (or source.tables)',
      },
    ],
    [
      'a table without a primary key',
      { tables: [{ schemaName: 'dbo', tableName: 'Item', isTracked: false, primaryKey: null }] },
      {
        name: 'table dbo.Item',
        status: 'fail',
        detail: "Table dbo.Item has no primary key; @supports_net_changes = 1 and Debezium's record keys need one",
        fix: 'ALTER TABLE [dbo].[Item] ADD CONSTRAINT [PK_Item] PRIMARY KEY (<key columns>);',
      },
    ],
    [
      'an uncaptured table',
      { 'capture-instances': [] },
      {
        name: 'capture dbo.Item',
        status: 'fail',
        detail: 'Table dbo.Item has no capture instance',
        fix: 'cdc-sync cdc enable --tables dbo.Item',
      },
    ],
    [
      'a table with two capture instances',
      { 'capture-instances': [instance('dbo_Item', '0x01'), instance('dbo_Item_v2', '0x02')] },
      {
        name: 'capture dbo.Item',
        status: 'warn',
        detail:
          'Table dbo.Item has 2 capture instances (dbo_Item, dbo_Item_v2), the most SQL Server allows: a schema migration is in progress',
        fix: "Once consumers read dbo_Item_v2, drop the old one: EXEC sys.sp_cdc_disable_table @source_schema = N'dbo', @source_name = N'Item', @capture_instance = N'dbo_Item';",
      },
    ],
    [
      'retention shorter than the consumer lag',
      {
        jobs: [
          { jobType: 'capture', retention: null },
          { jobType: 'cleanup', retention: 60 },
        ],
      },
      {
        name: 'retention',
        status: 'fail',
        detail:
          'Cleanup keeps changes for 60 minutes, less than the maximum consumer lag of 1440 minutes: a consumer that far behind loses changes',
        fix: "In ErpDemo: EXEC sys.sp_cdc_change_job @job_type = N'cleanup', @retention = 1440;",
      },
    ],
    [
      'no cleanup job',
      { jobs: [{ jobType: 'capture', retention: null }] },
      {
        name: 'retention',
        status: 'fail',
        detail: 'No CDC cleanup job for database ErpDemo in msdb.dbo.cdc_jobs',
        fix: "In ErpDemo: EXEC sys.sp_cdc_add_job @job_type = N'cleanup', @retention = 1440;",
      },
    ],
    [
      'no access to msdb',
      {
        jobs: {
          error: new PermissionDeniedError(
            'Permission denied to cdc in database ErpDemo on db:1433 while running query jobs',
          ),
        },
      },
      {
        name: 'retention',
        status: 'fail',
        detail: 'Permission denied to cdc in database ErpDemo on db:1433 while running query jobs',
        fix: 'Grant the login SELECT on msdb.dbo.cdc_jobs or run preflight as a sysadmin',
      },
    ],
    [
      'no capture job',
      { jobs: [{ jobType: 'cleanup', retention: 4320 }] },
      {
        name: 'capture latency',
        status: 'fail',
        detail: 'No CDC capture job for database ErpDemo in msdb.dbo.cdc_jobs',
        fix: "In ErpDemo: EXEC sys.sp_cdc_add_job @job_type = N'capture';",
      },
    ],
    [
      'a capture job that never scanned',
      { latency: [] },
      {
        name: 'capture latency',
        status: 'warn',
        detail:
          'The capture job has not scanned the log since SQL Server started (no row in sys.dm_cdc_log_scan_sessions)',
        fix: "Check that the Agent job cdc.ErpDemo_capture runs; in ErpDemo: EXEC sys.sp_cdc_start_job @job_type = N'capture';",
      },
    ],
    [
      'a lagging capture job',
      { latency: [{ sessionId: 7, endTime: created, latency: 600, errorCount: 0 }] },
      {
        name: 'capture latency',
        status: 'warn',
        detail: 'The capture job is 600 seconds behind the log (session 7), more than 60 seconds',
        fix: "Check the capture job's maxtrans, maxscans and pollinginterval (in ErpDemo: EXEC sys.sp_cdc_help_jobs;) and the log volume",
      },
    ],
    [
      'a failing log scan',
      { latency: [{ sessionId: 7, endTime: created, latency: 1, errorCount: 2 }] },
      {
        name: 'capture latency',
        status: 'fail',
        detail: 'Log scan session 7 had 2 errors',
        fix: 'In ErpDemo: SELECT * FROM sys.dm_cdc_errors WHERE session_id = 7;',
      },
    ],
  ])('reports %s', async (_label, overrides, expected) => {
    const checks = await run(overrides);
    expect(checks.find((check) => check.name === expected.name)).toEqual(expected);
    expect(hasFailure(checks)).toBe(checks.some((check) => check.status === 'fail'));
  });

  it('before CDC is enabled, fails the flag, the capture instances, retention and latency without querying cdc views', async () => {
    const executor = createFakeExecutor({ ...READY, database: [{ name: 'ErpDemo', isCdcEnabled: false }] });
    const checks = await preflight(executor, OPTIONS);
    expect(checks.filter((check) => check.status === 'fail').map((check) => check.name)).toEqual([
      'database cdc',
      'capture dbo.Item',
      'retention',
      'capture latency',
    ]);
    expect(checks.find((check) => check.name === 'retention')).toEqual({
      name: 'retention',
      status: 'fail',
      detail: 'CDC is not enabled on database ErpDemo, so it has no capture and cleanup jobs',
      fix: 'Enable CDC first: cdc-sync cdc enable --database ErpDemo',
    });
    expect(executor.calls.map((call) => call.id)).toEqual(['server', 'agent', 'database', 'rights', 'tables']);
  });

  it('skips the Agent check on Azure SQL Database, which schedules CDC itself', async () => {
    const checks = await run({
      server: [{ majorVersion: 12, productVersion: '12.0.2000.8', edition: 'SQL Azure', engineEdition: 5 }],
    });
    expect(checks.find((check) => check.name === 'version')).toEqual(
      pass('version', 'Azure SQL Database 12.0.2000.8, SQL Azure'),
    );
    expect(checks.find((check) => check.name === 'agent')).toEqual(
      pass('agent', 'Azure SQL Database runs the CDC jobs on its own scheduler; no SQL Server Agent is needed'),
    );
  });

  it('lets an unreachable server propagate instead of reporting a check', async () => {
    const error = new SourceUnavailableError('SQL Server db:1433 is unreachable while running query server: boom');
    await expect(run({ server: { error } })).rejects.toBe(error);
  });
});

describe('preflight of the signal table with a FAKE query executor (SQL Server cannot run here)', () => {
  const signal = {
    database: 'ErpDemo',
    table: { schema: 'dbo', name: 'DebeziumSignal' },
    source: 'connector.signalDataCollection in pipeline.yaml',
  };
  const signalRow = (isTracked: boolean) => ({
    schemaName: 'dbo',
    tableName: 'DebeziumSignal',
    isTracked,
    primaryKey: 'PK_DebeziumSignal',
  });
  const withSignal = { ...OPTIONS, signalTable: signal };

  it('passes a captured signal table, right after the tables', async () => {
    const checks = await run(
      {
        tables: [...(READY.tables as object[]), signalRow(true)],
        'capture-instances': [
          instance('dbo_Item', '0x0000002A000001F00003'),
          { ...instance('dbo_DebeziumSignal', '0x0000002A000001F00004'), tableName: 'DebeziumSignal' },
        ],
      },
      withSignal,
    );
    expect(checks.map((check) => check.name)).toEqual([
      'version',
      'agent',
      'rights',
      'database cdc',
      'table dbo.Item',
      'capture dbo.Item',
      'signal table',
      'retention',
      'capture latency',
    ]);
    expect(checks[6]).toEqual(
      pass(
        'signal table',
        'Signal table ErpDemo.dbo.DebeziumSignal is captured by capture instance dbo_DebeziumSignal',
      ),
    );
  });

  it.each<[string, Record<string, CannedResult>, typeof withSignal, Check]>([
    [
      'a missing signal table',
      {},
      withSignal,
      {
        name: 'signal table',
        status: 'warn',
        detail:
          'Signal table ErpDemo.dbo.DebeziumSignal (connector.signalDataCollection in pipeline.yaml) not found in database ErpDemo, so cdc-sync connectors snapshot cannot signal the connector',
        fix: 'Run cdc-sync cdc enable with the same options: it creates the table and enables CDC on it',
      },
    ],
    [
      'a signal table without CDC',
      { tables: [...(READY.tables as object[]), signalRow(false)] },
      withSignal,
      {
        name: 'signal table',
        status: 'warn',
        detail:
          'Signal table ErpDemo.dbo.DebeziumSignal has no capture instance, so the connector never sees the signals inserted there',
        fix: 'Run cdc-sync cdc enable with the same options: it enables CDC on the table',
      },
    ],
    [
      'a signal table in another database',
      {},
      { ...OPTIONS, signalTable: { ...signal, database: 'ErpArchive' } },
      {
        name: 'signal table',
        status: 'fail',
        detail:
          'Signal table ErpArchive.dbo.DebeziumSignal (connector.signalDataCollection in pipeline.yaml) is in database ErpArchive, not in database ErpDemo; the connector reads signals only from its own database',
        fix: 'Name a signal table in ErpDemo (--signal-table schema.table or connector.signalDataCollection), or leave it out with --no-signal-table',
      },
    ],
  ])('reports %s', async (_, overrides, options, expected) => {
    const checks = await run(overrides, options);
    expect(checks.find((check) => check.name === 'signal table')).toEqual(expected);
    expect(hasFailure(checks)).toBe(expected.status === 'fail');
  });

  it('checks no signal table without one', async () => {
    expect((await run()).map((check) => check.name)).not.toContain('signal table');
  });
});
