import { type Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { type SqlServerConnection } from '../connectors/mssql/executor.js';
import { type CannedResult, createFakeExecutor } from '../connectors/mssql/testing.js';
import { createCdcCommand, resolveCdcTarget } from './cdc-command.js';

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
