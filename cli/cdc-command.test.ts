import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadPipelineConfig } from '../ops/pipeline-config.js';
import { ConfigError } from '../core/errors.js';
import { type SqlServerConnection } from '../connectors/mssql/executor.js';
import { type CannedResult, createFakeExecutor } from '../connectors/mssql/testing.js';
import { resolveCdcTarget } from '../dba/sqlserver/target.js';
import { createCdcCommand } from './cdc-command.js';

const SECRET = 'S3cret-Pa55!';

const READY: Record<string, CannedResult> = {
  server: [
    { majorVersion: 16, productVersion: '16.0.4135.4', edition: 'Developer Edition (64-bit)', engineEdition: 3 },
  ],
  agent: [{ serviceStatus: 'Running', agentSessions: 2 }],
  database: [{ name: 'ErpDemo', isCdcEnabled: false }],
  rights: [{ loginName: 'sa', isSysadmin: 1, isDbOwner: 1 }],
  tables: [{ schemaName: 'dbo', tableName: 'Item', isTracked: false, primaryKey: 'PK_Item' }],
};

/** The cdc command on a FAKE query executor (SQL Server cannot run here); records output and the connection used. */
function harness(results: Record<string, CannedResult> = READY) {
  const lines: string[] = [];
  const connections: SqlServerConnection[] = [];
  const executor = createFakeExecutor(results);
  const command = createCdcCommand({
    env: { ERP_DB_PASSWORD: SECRET, OTHER_PW: SECRET },
    write: (line) => lines.push(line),
    connect: async (connection) => {
      connections.push(connection);
      return executor;
    },
  });
  command.exitOverride();
  let help = '';
  command.configureOutput({ writeOut: (text) => (help += text), writeErr: (text) => (help += text) });
  for (const sub of command.commands) {
    sub.exitOverride();
    sub.configureOutput({ writeOut: (text) => (help += text), writeErr: (text) => (help += text) });
  }
  const run = (...args: string[]) => command.parseAsync(args, { from: 'user' });
  return { lines, connections, executor, command, run, help: () => help };
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('cdc-sync cdc with a FAKE query executor (SQL Server cannot run here)', () => {
  it('preflight prints a table and the fix for each failure, and exits 1', async () => {
    const h = harness();
    await h.run(
      'preflight',
      '--server',
      'erp-db:1444',
      '--database',
      'ErpDemo',
      '--tables',
      'dbo.Item',
      '--user',
      'sa',
    );
    const output = h.lines.join('\n');
    expect(h.lines[0]).toBe('CDC preflight of database ErpDemo on erp-db:1444 as sa');
    expect(output).toMatch(
      /^database cdc\s+FAIL\s+CDC is not enabled on database ErpDemo \(sys.databases.is_cdc_enabled = 0\)$/m,
    );
    expect(output).toMatch(/^version\s+PASS\s+SQL Server 16.0.4135.4, Developer Edition \(64-bit\)$/m);
    expect(output).toContain(
      '  database cdc (fail): cdc-sync cdc enable --database ErpDemo, or in ErpDemo: EXEC sys.sp_cdc_enable_db;',
    );
    expect(h.lines.at(-1)).toBe('4 passed, 0 warnings, 4 failed');
    expect(process.exitCode).toBe(1);
    expect(h.connections[0]).toMatchObject({
      host: 'erp-db',
      port: 1444,
      user: 'sa',
      database: 'ErpDemo',
      encrypt: true,
    });
    expect(output).not.toContain(SECRET);
  });

  it('enable --dry-run prints the exact T-SQL and runs none of it', async () => {
    const h = harness();
    await h.run('enable', '--database', 'ErpDemo', '--tables', 'dbo.Item', '--user', 'sa', '--dry-run', '--no-encrypt');
    expect(h.lines).toEqual([
      '-- Dry run: this T-SQL would run, in order; nothing ran',
      'USE [ErpDemo];',
      'EXEC sys.sp_cdc_enable_db;',
      "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Item', @role_name = N'cdc_reader', @supports_net_changes = 1;",
    ]);
    expect(h.executor.calls.map((call) => call.id)).toEqual(['database', 'tables']);
    expect(h.connections[0]!.encrypt).toBe(false);
  });

  it('enable runs the statements', async () => {
    const h = harness();
    await h.run('enable', '--database', 'ErpDemo', '--tables', 'dbo.Item', '--user', 'sa', '--role', 'readers');
    expect(h.executor.calls.map((call) => call.id)).toEqual([
      'database',
      'tables',
      'enable[0]',
      'enable[1]',
      'enable[2]',
    ]);
    expect(h.lines[0]).toBe('-- Ran on 127.0.0.1:1433 as sa:');
  });

  it('never shows the password in --help', async () => {
    for (const path of [[], ['preflight'], ['enable'], ['status'], ['drift']]) {
      const h = harness();
      await expect(h.run(...path, '--help')).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
      expect(h.help()).toContain(path.length === 0 ? 'preflight' : '--password-env <name>');
      expect(h.help()).not.toContain(SECRET);
      expect(h.help()).not.toMatch(/--password\b(?!-env)/);
    }
  });

  it('takes the password only from the named environment variable, and names it when unset', () => {
    const options = { database: 'ErpDemo', user: 'sa' };
    expect(
      resolveCdcTarget({ ...options, passwordEnv: 'OTHER_PW' }, undefined, { OTHER_PW: SECRET }).connection.password,
    ).toBe(SECRET);
    expect(() => resolveCdcTarget(options, undefined, {})).toThrow(
      new ConfigError(
        'Environment variable ERP_DB_PASSWORD (named by the default) is not set; it must hold the password of login sa',
      ),
    );
  });

  it.each([
    [{ server: 'db:abc', database: 'd', user: 'u' }, 'Server "db:abc" in --server is not host or host:port'],
    [{ user: 'u' }, 'No database: give --database, or --config with source.database'],
    [{ database: 'd', user: 'u', tables: 'Item' }, 'Table "Item" in --tables is not schema.table, e.g. dbo.Item'],
  ])('rejects bad flags, naming them: %j', (options, message) => {
    expect(() => resolveCdcTarget(options, undefined, { ERP_DB_PASSWORD: SECRET })).toThrow(message);
  });

  it('lists cdc among the commands', async () => {
    const { createProgram } = await import('./program.js');
    const cdc = createProgram().commands.find((c: Command) => c.name() === 'cdc');
    expect(cdc?.commands.map((c) => c.name())).toEqual(['preflight', 'enable', 'status', 'drift']);
  });
});

const configDirectories: string[] = [];
afterAll(() => {
  for (const directory of configDirectories) rmSync(directory, { recursive: true, force: true });
});

/** A pipeline config file for SQL Server with `dbo.Item` captured; `connector` keys are added to its section. */
function configFile(connector: Record<string, string> = {}, connectorKind = 'sqlserver'): string {
  const directory = mkdtempSync(join(tmpdir(), 'cdc-command-'));
  configDirectories.push(directory);
  const file = join(directory, 'pipeline.yaml');
  const extra = Object.entries(connector).map(([key, value]) => `  ${key}: ${value}\n`);
  writeFileSync(
    file,
    `source:\n  connector: ${connectorKind}\n  database: ErpDemo\n  tables: [dbo.Item]\nconnector:\n  user: sa\n${extra.join('')}`,
  );
  return file;
}

const ENABLE_ITEM =
  "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Item', @role_name = N'cdc_reader', @supports_net_changes = 1;";
const CREATE_SIGNAL =
  'CREATE TABLE [dbo].[DebeziumSignal] ([id] VARCHAR(42) NOT NULL CONSTRAINT [PK_DebeziumSignal] PRIMARY KEY, [type] VARCHAR(32) NOT NULL, [data] VARCHAR(2048) NULL);';
const ENABLE_SIGNAL =
  "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'DebeziumSignal', @role_name = N'cdc_reader', @supports_net_changes = 1;";
const signalRow = (isTracked: boolean) => ({
  schemaName: 'dbo',
  tableName: 'DebeziumSignal',
  isTracked,
  primaryKey: 'PK_DebeziumSignal',
});

describe("cdc-sync cdc and the connector's signal table, with a FAKE query executor (SQL Server cannot run here)", () => {
  it('enable --config creates the missing signal table and enables CDC on it after the tables', async () => {
    const h = harness();
    await h.run('enable', '--config', configFile());
    expect(h.lines).toEqual([
      '-- Ran on 127.0.0.1:1433 as sa:',
      'USE [ErpDemo];',
      'EXEC sys.sp_cdc_enable_db;',
      ENABLE_ITEM,
      CREATE_SIGNAL,
      ENABLE_SIGNAL,
      '-- Signal table ErpDemo.dbo.DebeziumSignal did not exist: created it and enabled CDC on it',
    ]);
    expect(h.executor.calls.map((call) => call.text).slice(2)).toEqual(h.lines.slice(1, -1));
  });

  it('enable --config --dry-run prints the T-SQL for the signal table too, and runs none of it', async () => {
    const h = harness();
    await h.run('enable', '--config', configFile(), '--dry-run');
    expect(h.lines).toEqual([
      '-- Dry run: this T-SQL would run, in order; nothing ran',
      'USE [ErpDemo];',
      'EXEC sys.sp_cdc_enable_db;',
      ENABLE_ITEM,
      CREATE_SIGNAL,
      ENABLE_SIGNAL,
      '-- Signal table ErpDemo.dbo.DebeziumSignal does not exist: the T-SQL above creates it and enables CDC on it',
    ]);
    expect(h.executor.calls.map((call) => call.id)).toEqual(['database', 'tables']);
  });

  it('enable --signal-table enables CDC on an existing signal table without a config', async () => {
    const h = harness({
      database: [{ name: 'ErpDemo', isCdcEnabled: true }],
      tables: [{ schemaName: 'dbo', tableName: 'Item', isTracked: true, primaryKey: 'PK_Item' }, signalRow(false)],
    });
    await h.run(
      'enable',
      '--database',
      'ErpDemo',
      '--tables',
      'dbo.Item',
      '--user',
      'sa',
      '--signal-table',
      'dbo.DebeziumSignal',
      '--role',
      'readers',
    );
    expect(h.lines).toEqual([
      '-- Already enabled, left alone: database ErpDemo, dbo.Item',
      '-- Ran on 127.0.0.1:1433 as sa:',
      'USE [ErpDemo];',
      "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'DebeziumSignal', @role_name = N'readers', @supports_net_changes = 1;",
      '-- Signal table ErpDemo.dbo.DebeziumSignal already existed: enabled CDC on it',
    ]);
  });

  it('enable runs nothing when the signal table exists with CDC enabled, and says it is already enabled', async () => {
    const h = harness({
      database: [{ name: 'ErpDemo', isCdcEnabled: true }],
      tables: [{ schemaName: 'dbo', tableName: 'Item', isTracked: true, primaryKey: 'PK_Item' }, signalRow(true)],
    });
    await h.run('enable', '--config', configFile());
    expect(h.lines).toEqual([
      '-- Already enabled, left alone: database ErpDemo, dbo.Item, signal table ErpDemo.dbo.DebeziumSignal',
      '-- Nothing to enable',
    ]);
    expect(h.executor.calls.map((call) => call.id)).toEqual(['database', 'tables']);
  });

  it('enable --no-signal-table leaves the signal table out', async () => {
    const h = harness();
    await h.run('enable', '--config', configFile(), '--no-signal-table');
    expect(h.lines).toEqual([
      '-- Ran on 127.0.0.1:1433 as sa:',
      'USE [ErpDemo];',
      'EXEC sys.sp_cdc_enable_db;',
      ENABLE_ITEM,
    ]);
  });

  it.each([
    [
      'connector.signalDataCollection names another database',
      (file: string) => ['--config', file],
      { signalDataCollection: 'ErpArchive.dbo.DebeziumSignal' },
      (file: string) =>
        `Signal table ErpArchive.dbo.DebeziumSignal (connector.signalDataCollection in ${file}) is in database ErpArchive, not in database ErpDemo where CDC is being enabled; the connector reads signals only from its own database: give --signal-table schema.table for one in ErpDemo, or --no-signal-table`,
    ],
    [
      '--database differs from source.database, whose default signal table it is',
      (file: string) => ['--config', file, '--database', 'ErpTest'],
      {},
      (file: string) =>
        `Signal table ErpDemo.dbo.DebeziumSignal (the default of connector.signalDataCollection in ${file}) is in database ErpDemo, not in database ErpTest where CDC is being enabled; the connector reads signals only from its own database: give --signal-table schema.table for one in ErpTest, or --no-signal-table`,
    ],
  ])('enable refuses, running nothing, when %s', async (_, args, connector, message) => {
    const h = harness();
    const file = configFile(connector);
    await expect(h.run('enable', ...args(file))).rejects.toThrow(new ConfigError(message(file)));
    expect(h.executor.calls).toEqual([]);
    expect(h.lines).toEqual([]);
  });

  it('status --config lists the signal table after the tables, marked', async () => {
    const created = new Date('2025-03-01T10:00:00Z');
    const instance = (tableName: string, startLsn: string) => ({
      schemaName: 'dbo',
      tableName,
      captureInstance: `dbo_${tableName}`,
      roleName: 'cdc_reader',
      supportsNetChanges: true,
      startLsn,
      createDate: created,
    });
    const h = harness({
      database: [{ name: 'ErpDemo', isCdcEnabled: true }],
      'capture-instances': [instance('Item', '0x01'), instance('DebeziumSignal', '0x02')],
      'max-lsn': [{ maxLsn: '0x03', maxLsnTime: created }],
      latency: [{ sessionId: 9, endTime: created, latency: 4, errorCount: 0 }],
      jobs: [{ jobType: 'cleanup', retention: 4320 }],
    });
    await h.run('status', '--config', configFile());
    expect(h.lines.at(-1)!.split('\n')).toEqual([
      'TABLE                              CAPTURE INSTANCE    START LSN  CREATED',
      'dbo.Item                           dbo_Item            0x01       2025-03-01T10:00:00.000Z',
      'dbo.DebeziumSignal (signal table)  dbo_DebeziumSignal  0x02       2025-03-01T10:00:00.000Z',
    ]);
  });

  it('preflight --config warns about a missing signal table, with the fix', async () => {
    const h = harness();
    await h.run('preflight', '--config', configFile());
    expect(h.lines).toContain(
      '  signal table (warn): Run cdc-sync cdc enable with the same options: it creates the table and enables CDC on it',
    );
    expect(h.lines.at(-1)).toBe('4 passed, 1 warnings, 4 failed');
  });

  it('takes no signal table from a PostgreSQL config, and names a bad --signal-table', () => {
    const env = { ERP_DB_PASSWORD: SECRET };
    const options = { database: 'ErpDemo', user: 'sa' };
    const postgres = loadPipelineConfig(configFile({}, 'postgresql'), env);
    expect(resolveCdcTarget({}, postgres, env).signalTable).toBeUndefined();
    const sqlServer = loadPipelineConfig(configFile(), env);
    expect(resolveCdcTarget({}, sqlServer, env).signalTable).toEqual({
      database: 'ErpDemo',
      table: { schema: 'dbo', name: 'DebeziumSignal' },
      source: 'the default of connector.signalDataCollection in the pipeline config',
    });
    expect(resolveCdcTarget({ ...options, signalTable: 'ErpDemo.dbo.Sig' }, undefined, env).signalTable).toEqual({
      database: 'ErpDemo',
      table: { schema: 'dbo', name: 'Sig' },
      source: '--signal-table',
    });
    expect(() => resolveCdcTarget({ ...options, signalTable: 'Sig' }, undefined, env)).toThrow(
      new ConfigError(
        'Signal table "Sig" in --signal-table is not database.schema.table or schema.table, e.g. ErpDemo.dbo.DebeziumSignal',
      ),
    );
  });

  it('explains the signal table options in enable --help', async () => {
    const h = harness();
    await expect(h.run('enable', '--help')).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    const help = h.help().replace(/\s+/g, ' ');
    expect(help).toContain('--signal-table <table>');
    expect(help).toContain('--no-signal-table leave the signal table out');
    expect(help).toContain(
      'one in another database than --database is an error, as the connector reads signals only from the database it captures',
    );
  });
});
