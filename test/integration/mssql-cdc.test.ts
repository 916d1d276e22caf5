import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlServerErpDatabase } from '../../devtools/erp/sqlserver-database.js';
import { detectDrift } from '../../dba/sqlserver/drift.js';
import { enableCdc } from '../../dba/sqlserver/enable.js';
import { createMssqlExecutor, type QueryExecutor } from '../../connectors/mssql/executor.js';
import { hasFailure, preflight } from '../../dba/sqlserver/preflight.js';
import { cdcStatus } from '../../dba/sqlserver/status.js';
import { dockerEngineAnswers, NO_DOCKER_REASON, startSqlServer, type StartedSqlServer } from './mssql-container.js';

/** Probed once at load: SQL Server has no native build here, so these tests need a Docker engine. */
const dockerAvailable = await dockerEngineAnswers();

const TABLES = [
  { schema: 'dbo', name: 'Item' },
  { schema: 'dbo', name: 'Location' },
];

// One of the project's deliberate skips (issue #4, with mssql-debezium.test.ts): SQL Server runs only in Docker, and
// without an engine these tests report as skipped, with the reason in their title, rather than pass. Their logic is
// unit-tested in dba/sqlserver.
describe.skipIf(!dockerAvailable)(
  `SQL Server CDC against mcr.microsoft.com/mssql/server:2022-latest${dockerAvailable ? '' : NO_DOCKER_REASON}`,
  () => {
    let sqlServer: StartedSqlServer;
    let executor: QueryExecutor;

    beforeAll(async () => {
      sqlServer = await startSqlServer();
      // The sample ERP's DDL and seed (devtools/sql/sqlserver), without CDC: enabling it is what these tests test.
      executor = await createMssqlExecutor(await createSqlServerErpDatabase(sqlServer.login, 'ErpDemo'));
    });

    afterAll(async () => {
      await executor?.close();
      await sqlServer?.stop();
    });

    const options = { database: 'ErpDemo', tables: TABLES, maxConsumerLagMinutes: 1440 };

    it('preflight fails on the database CDC flag before enabling', async () => {
      const checks = await preflight(executor, options);
      expect(checks.find((check) => check.name === 'database cdc')).toMatchObject({ status: 'fail' });
      expect(checks.find((check) => check.name === 'version')).toMatchObject({ status: 'pass' });
      expect(checks.find((check) => check.name === 'table dbo.Item')).toMatchObject({ status: 'pass' });
    });

    it('enable creates the database flag and the capture instances, and is idempotent', async () => {
      const first = await enableCdc(executor, { database: 'ErpDemo', tables: TABLES });
      expect(first.statements).toContain('EXEC sys.sp_cdc_enable_db;');
      const second = await enableCdc(executor, { database: 'ErpDemo', tables: TABLES });
      expect(second.statements).toEqual([]);
    });

    it("enable creates the connector's signal table with enable-cdc.sql's columns and captures it, once", async () => {
      const signalTable = { database: 'ErpDemo', table: { schema: 'dbo', name: 'DebeziumSignal' }, source: 'the test' };
      const first = await enableCdc(executor, { database: 'ErpDemo', tables: TABLES, signalTable });
      expect(first).toEqual({
        statements: [
          'USE [ErpDemo];',
          'CREATE TABLE [dbo].[DebeziumSignal] ([id] VARCHAR(42) NOT NULL CONSTRAINT [PK_DebeziumSignal] PRIMARY KEY, [type] VARCHAR(32) NOT NULL, [data] VARCHAR(2048) NULL);',
          "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'DebeziumSignal', @role_name = N'cdc_reader', @supports_net_changes = 1;",
        ],
        alreadyEnabled: { database: true, tables: ['dbo.Item', 'dbo.Location'] },
        signalTable: { name: 'ErpDemo.dbo.DebeziumSignal', action: 'create' },
      });
      const columns = await executor.query({
        id: 'signal columns',
        text: `SELECT COLUMN_NAME AS name, DATA_TYPE AS type, CHARACTER_MAXIMUM_LENGTH AS length, IS_NULLABLE AS nullable
FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = N'dbo' AND TABLE_NAME = N'DebeziumSignal' ORDER BY ORDINAL_POSITION`,
      });
      expect(columns).toEqual([
        { name: 'id', type: 'varchar', length: 42, nullable: 'NO' },
        { name: 'type', type: 'varchar', length: 32, nullable: 'NO' },
        { name: 'data', type: 'varchar', length: 2048, nullable: 'YES' },
      ]);
      const second = await enableCdc(executor, { database: 'ErpDemo', tables: TABLES, signalTable });
      expect(second.statements).toEqual([]);
      expect(second.signalTable).toEqual({ name: 'ErpDemo.dbo.DebeziumSignal', action: 'none' });
      const checks = await preflight(executor, { ...options, signalTable });
      expect(checks.find((check) => check.name === 'signal table')).toEqual({
        name: 'signal table',
        status: 'pass',
        detail: 'Signal table ErpDemo.dbo.DebeziumSignal is captured by capture instance dbo_DebeziumSignal',
        fix: '',
      });
    });

    it('preflight passes after enabling', async () => {
      const checks = await preflight(executor, options);
      expect(checks.filter((check) => check.status === 'fail')).toEqual([]);
      expect(hasFailure(checks)).toBe(false);
    });

    it('status shows one capture instance per table and the cleanup retention', async () => {
      const status = await cdcStatus(executor, { database: 'ErpDemo', tables: TABLES });
      expect(status.cdcEnabled).toBe(true);
      expect(status.retentionMinutes).toBe(4320);
      expect(status.tables.map((table) => table.instances.map((i) => i.captureInstance))).toEqual([
        ['dbo_Item'],
        ['dbo_Location'],
      ]);
    });

    it('drift detects a column added by ALTER TABLE', async () => {
      await executor.query({ id: 'alter', text: 'ALTER TABLE dbo.Item ADD WeightKg DECIMAL(9,3) NULL' });
      const report = await detectDrift(executor, { database: 'ErpDemo', tables: TABLES });
      expect(report.inSync).toEqual(['dbo.Location']);
      expect(report.drifted).toMatchObject([
        { captureInstance: 'dbo_Item', added: ['WeightKg'], removed: [], newCaptureInstance: 'dbo_Item_v2' },
      ]);
    });
  },
);
