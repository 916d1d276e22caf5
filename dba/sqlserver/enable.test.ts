import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { enableCdc, enableCdcStatements, enableTableStatement, planEnableCdc } from './enable.js';
import { createFakeExecutor } from '../../connectors/mssql/testing.js';
import {
  createSignalTableStatement,
  parseSignalTable,
  parseTableName,
  quoteLiteral,
  quoteName,
} from '../../connectors/mssql/tsql.js';

const item = { schema: 'dbo', name: 'Item' };
const table = (schemaName: string, tableName: string, isTracked: boolean, primaryKey: string | null) => ({
  schemaName,
  tableName,
  isTracked,
  primaryKey,
});

describe('T-SQL quoting', () => {
  it.each([
    ['Item', '[Item]'],
    ['Order Lines', '[Order Lines]'],
    ['x]; DROP TABLE dbo.Item; --', '[x]]; DROP TABLE dbo.Item; --]'],
    ["O'Brien", "[O'Brien]"],
  ])('quotes the identifier %j as %s', (name, quoted) => {
    expect(quoteName(name)).toBe(quoted);
  });

  it.each([
    ['Item', "N'Item'"],
    ["x'; DROP TABLE dbo.Item; --", "N'x''; DROP TABLE dbo.Item; --'"],
    ["''", "N''''''"],
  ])('quotes the literal %j as %s', (value, quoted) => {
    expect(quoteLiteral(value)).toBe(quoted);
  });

  it('rejects empty and over-long identifiers', () => {
    expect(() => quoteName('')).toThrow(ConfigError);
    expect(() => quoteName('x'.repeat(129))).toThrow('Identifier');
  });

  it.each([
    ['dbo.Item', { schema: 'dbo', name: 'Item' }],
    ['[dbo].[Order Lines]', { schema: 'dbo', name: 'Order Lines' }],
  ])('parses %s', (value, parsed) => {
    expect(parseTableName(value, '--tables')).toEqual(parsed);
  });

  it.each(['Item', 'a.b.c', '.Item', 'dbo.'])('rejects %j, naming where it came from', (value) => {
    expect(() => parseTableName(value, '--tables')).toThrow(
      `Table ${JSON.stringify(value)} in --tables is not schema.table, e.g. dbo.Item`,
    );
  });
});

describe('enable T-SQL generation (exact strings)', () => {
  it('enables a table with the gating role and net changes', () => {
    expect(enableTableStatement(item, { roleName: 'cdc_reader' })).toBe(
      "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Item', @role_name = N'cdc_reader', @supports_net_changes = 1;",
    );
  });

  it('names the capture instance and the captured columns, each bracket-quoted inside one N literal', () => {
    expect(
      enableTableStatement(item, {
        roleName: 'cdc_reader',
        captureInstance: 'dbo_Item_v2',
        columns: ['ItemId', "Sku'x", 'Odd]Name'],
      }),
    ).toBe(
      "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Item', @role_name = N'cdc_reader', @capture_instance = N'dbo_Item_v2', @supports_net_changes = 1, @captured_column_list = N'[ItemId], [Sku''x], [Odd]]Name]';",
    );
  });

  it('writes @role_name = NULL for an ungated instance', () => {
    expect(enableTableStatement(item, { roleName: null })).toBe(
      "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Item', @role_name = NULL, @supports_net_changes = 1;",
    );
  });

  it('keeps injection-y names inside their literals', () => {
    const evil = { schema: "dbo'; EXEC xp_cmdshell 'dir'; --", name: "T'1" };
    expect(
      enableCdcStatements({
        database: 'Erp]; DROP DATABASE x; --',
        enableDatabase: true,
        tables: [evil],
        roleName: "r'ole",
        capturedColumns: {},
      }),
    ).toEqual([
      'USE [Erp]]; DROP DATABASE x; --];',
      'EXEC sys.sp_cdc_enable_db;',
      "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo''; EXEC xp_cmdshell ''dir''; --', @source_name = N'T''1', @role_name = N'r''ole', @supports_net_changes = 1;",
    ]);
  });

  it('generates nothing when everything is enabled', () => {
    expect(
      enableCdcStatements({
        database: 'ErpDemo',
        enableDatabase: false,
        tables: [],
        roleName: 'r',
        capturedColumns: {},
      }),
    ).toEqual([]);
  });
});

describe('planEnableCdc and enableCdc with a FAKE query executor (SQL Server cannot run here)', () => {
  it('enables the database and only the untracked tables, in order', async () => {
    const executor = createFakeExecutor({
      database: [{ name: 'ErpDemo', isCdcEnabled: false }],
      tables: [table('dbo', 'Item', false, 'PK_Item'), table('dbo', 'Location', true, 'PK_Location')],
    });
    const plan = await enableCdc(executor, {
      database: 'ErpDemo',
      tables: [item, { schema: 'dbo', name: 'location' }],
      capturedColumns: { 'dbo.Item': ['ItemId', 'Sku'] },
    });
    expect(plan).toEqual({
      statements: [
        'USE [ErpDemo];',
        'EXEC sys.sp_cdc_enable_db;',
        "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Item', @role_name = N'cdc_reader', @supports_net_changes = 1, @captured_column_list = N'[ItemId], [Sku]';",
      ],
      alreadyEnabled: { database: false, tables: ['dbo.location'] },
    });
    expect(executor.calls.map((call) => call.id)).toEqual([
      'database',
      'tables',
      'enable[0]',
      'enable[1]',
      'enable[2]',
    ]);
    expect(executor.calls[0]!.params).toEqual({ database: 'ErpDemo' });
    expect(executor.calls.slice(2).map((call) => call.text)).toEqual(plan.statements);
  });

  it('is idempotent: runs nothing when the database and tables are enabled', async () => {
    const executor = createFakeExecutor({
      database: [{ name: 'ErpDemo', isCdcEnabled: true }],
      tables: [table('dbo', 'Item', true, 'PK_Item')],
    });
    const plan = await enableCdc(executor, { database: 'ErpDemo', tables: [item] });
    expect(plan.statements).toEqual([]);
    expect(executor.calls.map((call) => call.id)).toEqual(['database', 'tables']);
  });

  it('a dry run plans without running', async () => {
    const executor = createFakeExecutor({
      database: [{ name: 'ErpDemo', isCdcEnabled: true }],
      tables: [table('dbo', 'Item', false, 'PK_Item')],
    });
    const plan = await planEnableCdc(executor, { database: 'ErpDemo', tables: [item], roleName: 'readers' });
    expect(plan.statements).toEqual([
      'USE [ErpDemo];',
      "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Item', @role_name = N'readers', @supports_net_changes = 1;",
    ]);
    expect(executor.calls.map((call) => call.id)).toEqual(['database', 'tables']);
  });

  it.each([
    [[], 'Table dbo.Item not found in database ErpDemo (--tables)'],
    [
      [table('dbo', 'Item', false, null)],
      'Table dbo.Item in database ErpDemo has no primary key; @supports_net_changes = 1 needs one',
    ],
  ])('refuses before running anything: %#', async (tables, message) => {
    const executor = createFakeExecutor({ database: [{ name: 'ErpDemo', isCdcEnabled: false }], tables });
    await expect(enableCdc(executor, { database: 'ErpDemo', tables: [item] })).rejects.toThrow(
      new ConfigError(message),
    );
    expect(executor.calls.map((call) => call.id)).toEqual(['database', 'tables']);
  });

  it('refuses an unknown database', async () => {
    const executor = createFakeExecutor({ database: [] });
    await expect(planEnableCdc(executor, { database: 'Nope', tables: [item] })).rejects.toThrow(
      'Database Nope not found on the server (--database)',
    );
  });
});

describe('the signal table with a FAKE query executor (SQL Server cannot run here)', () => {
  const signal = { database: 'ErpDemo', table: { schema: 'dbo', name: 'DebeziumSignal' }, source: '--signal-table' };
  const CREATE_SIGNAL =
    'CREATE TABLE [dbo].[DebeziumSignal] ([id] VARCHAR(42) NOT NULL CONSTRAINT [PK_DebeziumSignal] PRIMARY KEY, [type] VARCHAR(32) NOT NULL, [data] VARCHAR(2048) NULL);';
  const ENABLE_SIGNAL =
    "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'DebeziumSignal', @role_name = N'readers', @supports_net_changes = 1;";
  const ENABLE_ITEM =
    "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Item', @role_name = N'readers', @supports_net_changes = 1;";

  it("creates it with enable-cdc.sql's columns, quoting every identifier", () => {
    expect(createSignalTableStatement({ schema: 'dbo', name: 'DebeziumSignal' })).toBe(CREATE_SIGNAL);
    expect(createSignalTableStatement({ schema: "s'x", name: 'Sig]; DROP TABLE dbo.Item; --' })).toBe(
      "CREATE TABLE [s'x].[Sig]]; DROP TABLE dbo.Item; --] ([id] VARCHAR(42) NOT NULL CONSTRAINT [PK_Sig]]; DROP TABLE dbo.Item; --] PRIMARY KEY, [type] VARCHAR(32) NOT NULL, [data] VARCHAR(2048) NULL);",
    );
  });

  it.each([
    ['ErpDemo.dbo.DebeziumSignal', { database: 'ErpDemo', table: { schema: 'dbo', name: 'DebeziumSignal' } }],
    ['dbo.DebeziumSignal', { database: 'Target', table: { schema: 'dbo', name: 'DebeziumSignal' } }],
    ['[Other Db].[ops].[Signal]', { database: 'Other Db', table: { schema: 'ops', name: 'Signal' } }],
  ])('parses %s, as database.schema.table or schema.table in the target database', (value, parsed) => {
    expect(parseSignalTable(value, 'Target', '--signal-table')).toEqual({ ...parsed, source: '--signal-table' });
  });

  it.each(['DebeziumSignal', 'a.b.c.d', 'ErpDemo..DebeziumSignal', 'dbo.'])(
    'rejects %j, naming where it came from',
    (value) => {
      expect(() => parseSignalTable(value, 'ErpDemo', '--signal-table')).toThrow(
        new ConfigError(
          `Signal table ${JSON.stringify(value)} in --signal-table is not database.schema.table or schema.table, e.g. ErpDemo.dbo.DebeziumSignal`,
        ),
      );
    },
  );

  it('creates a missing signal table and enables CDC on it under the same role, after the data tables', async () => {
    const executor = createFakeExecutor({
      database: [{ name: 'ErpDemo', isCdcEnabled: false }],
      tables: [table('dbo', 'Item', false, 'PK_Item')],
    });
    const plan = await enableCdc(executor, {
      database: 'ErpDemo',
      tables: [item],
      roleName: 'readers',
      signalTable: signal,
    });
    expect(plan).toEqual({
      statements: ['USE [ErpDemo];', 'EXEC sys.sp_cdc_enable_db;', ENABLE_ITEM, CREATE_SIGNAL, ENABLE_SIGNAL],
      alreadyEnabled: { database: false, tables: [] },
      signalTable: { name: 'ErpDemo.dbo.DebeziumSignal', action: 'create' },
    });
    expect(executor.calls.map((call) => call.text)).toEqual([
      expect.stringContaining('FROM sys.databases'),
      expect.stringContaining('FROM sys.tables'),
      ...plan.statements,
    ]);
  });

  it('only enables CDC on a signal table that exists without it, even when nothing else is missing', async () => {
    const executor = createFakeExecutor({
      database: [{ name: 'ErpDemo', isCdcEnabled: true }],
      tables: [table('dbo', 'Item', true, 'PK_Item'), table('dbo', 'debeziumsignal', false, 'PK_DebeziumSignal')],
    });
    const plan = await enableCdc(executor, {
      database: 'ErpDemo',
      tables: [item],
      roleName: 'readers',
      signalTable: signal,
    });
    expect(plan).toEqual({
      statements: ['USE [ErpDemo];', ENABLE_SIGNAL],
      alreadyEnabled: { database: true, tables: ['dbo.Item'] },
      signalTable: { name: 'ErpDemo.dbo.DebeziumSignal', action: 'enable' },
    });
    expect(executor.calls.map((call) => call.id)).toEqual(['database', 'tables', 'enable[0]', 'enable[1]']);
  });

  it('runs nothing when the signal table exists with CDC enabled, and says so', async () => {
    const executor = createFakeExecutor({
      database: [{ name: 'ErpDemo', isCdcEnabled: true }],
      tables: [table('dbo', 'Item', true, 'PK_Item'), table('dbo', 'DebeziumSignal', true, 'PK_DebeziumSignal')],
    });
    const plan = await enableCdc(executor, { database: 'ErpDemo', tables: [item], signalTable: signal });
    expect(plan).toEqual({
      statements: [],
      alreadyEnabled: { database: true, tables: ['dbo.Item'] },
      signalTable: { name: 'ErpDemo.dbo.DebeziumSignal', action: 'none' },
    });
    expect(executor.calls.map((call) => call.id)).toEqual(['database', 'tables']);
  });

  it('a dry run plans the signal table without running anything', async () => {
    const executor = createFakeExecutor({
      database: [{ name: 'ErpDemo', isCdcEnabled: true }],
      tables: [table('dbo', 'Item', true, 'PK_Item')],
    });
    const plan = await planEnableCdc(executor, {
      database: 'ErpDemo',
      tables: [item],
      roleName: 'readers',
      signalTable: signal,
    });
    expect(plan.statements).toEqual(['USE [ErpDemo];', CREATE_SIGNAL, ENABLE_SIGNAL]);
    expect(executor.calls.map((call) => call.id)).toEqual(['database', 'tables']);
  });

  it('handles a signal table that is also among the tables once, as the signal table', async () => {
    const executor = createFakeExecutor({
      database: [{ name: 'ErpDemo', isCdcEnabled: true }],
      tables: [table('dbo', 'Item', false, 'PK_Item')],
    });
    const plan = await planEnableCdc(executor, {
      database: 'ErpDemo',
      tables: [item, { schema: 'dbo', name: 'DebeziumSignal' }],
      roleName: 'readers',
      signalTable: signal,
    });
    expect(plan.statements).toEqual(['USE [ErpDemo];', ENABLE_ITEM, CREATE_SIGNAL, ENABLE_SIGNAL]);
  });

  it('refuses a signal table in another database before querying anything, naming both databases', async () => {
    const executor = createFakeExecutor({});
    const other = { ...signal, database: 'ErpArchive', source: 'connector.signalDataCollection in pipeline.yaml' };
    await expect(enableCdc(executor, { database: 'ErpDemo', tables: [item], signalTable: other })).rejects.toThrow(
      new ConfigError(
        'Signal table ErpArchive.dbo.DebeziumSignal (connector.signalDataCollection in pipeline.yaml) is in database ErpArchive, not in database ErpDemo where CDC is being enabled; the connector reads signals only from its own database: give --signal-table schema.table for one in ErpDemo, or --no-signal-table',
      ),
    );
    expect(executor.calls).toEqual([]);
  });

  it('refuses an existing signal table without a primary key before running anything', async () => {
    const executor = createFakeExecutor({
      database: [{ name: 'ErpDemo', isCdcEnabled: false }],
      tables: [table('dbo', 'Item', false, 'PK_Item'), table('dbo', 'DebeziumSignal', false, null)],
    });
    await expect(enableCdc(executor, { database: 'ErpDemo', tables: [item], signalTable: signal })).rejects.toThrow(
      new ConfigError(
        'Signal table ErpDemo.dbo.DebeziumSignal (--signal-table) has no primary key; @supports_net_changes = 1 needs one',
      ),
    );
    expect(executor.calls.map((call) => call.id)).toEqual(['database', 'tables']);
  });

  it('leaves the signal table alone without one (--no-signal-table)', async () => {
    const executor = createFakeExecutor({
      database: [{ name: 'ErpDemo', isCdcEnabled: true }],
      tables: [table('dbo', 'Item', false, 'PK_Item')],
    });
    const plan = await planEnableCdc(executor, { database: 'ErpDemo', tables: [item], roleName: 'readers' });
    expect(plan).toEqual({
      statements: ['USE [ErpDemo];', ENABLE_ITEM],
      alreadyEnabled: { database: true, tables: [] },
    });
  });
});
