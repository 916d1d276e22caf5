import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import {
  createSqlServerErpDatabase,
  dropDatabaseStatement,
  dropSqlServerErpDatabase,
  erpScripts,
  sqlBatches,
  type SqlServerLogin,
} from './sqlserver-database.js';
import { createFakeExecutor } from '../../connectors/mssql/testing.js';

// SQL Server cannot run where these tests run: the statements are checked against a recording stand-in with canned
// answers (testing.ts). The real runs are test/integration/mssql-cdc.test.ts and mssql-debezium.test.ts.

const login: SqlServerLogin = {
  host: '127.0.0.1',
  port: 1433,
  user: 'sa',
  password: 'secret',
  encrypt: false,
  trustServerCertificate: true,
};

describe('the sample ERP in a SQL Server database of its own', () => {
  it('splits T-SQL scripts on GO lines only', () => {
    expect(sqlBatches('SET NOCOUNT ON;\nGO\n\nUSE ErpDemo;\n  go  \n-- GOOD comment\nSELECT 1;\nGO\n')).toEqual([
      'SET NOCOUNT ON;',
      'USE ErpDemo;',
      '-- GOOD comment\nSELECT 1;',
    ]);
  });

  it('renames the sample database in the DDL and seed, and leaves CDC to cdc enable', () => {
    const scripts = erpScripts('ErpDemo_m3x1');
    expect(scripts.map((script) => script.file)).toEqual(['erp-schema.sql', 'seed.sql']);
    const text = scripts.flatMap((script) => script.batches).join('\nGO\n');
    expect(text).not.toMatch(/\bErpDemo\b/);
    expect(text).toContain("IF DB_ID(N'ErpDemo_m3x1') IS NULL\n    CREATE DATABASE ErpDemo_m3x1;");
    expect(scripts[1]!.batches).toContain('USE ErpDemo_m3x1;');
    expect(text).not.toContain('sp_cdc_enable');
    // 10 tables, plus the SET batch, the CREATE DATABASE and the USE.
    expect(scripts[0]!.batches).toHaveLength(13);
  });

  it.each(['', 'Erp Demo', 'ErpDemo;DROP', '1Erp', 'x'.repeat(101)])('refuses the database name %j', (name) => {
    expect(() => erpScripts(name)).toThrow(ConfigError);
    expect(() => dropDatabaseStatement(name)).toThrow(`Database name ${JSON.stringify(name)} for the sample ERP`);
  });

  it('creates the database from master, then runs every batch in it', async () => {
    const master = createFakeExecutor({ 'create database ErpDemo_t1': [] }, 'master');
    const erp = createFakeExecutor({}, 'ErpDemo_t1');
    const opened: string[] = [];
    const connection = await createSqlServerErpDatabase(login, 'ErpDemo_t1', async (target) => {
      opened.push(target.database);
      return target.database === 'master' ? master : erp;
    });
    expect(connection).toEqual({ ...login, database: 'ErpDemo_t1' });
    expect(opened).toEqual(['master', 'ErpDemo_t1']);
    expect(master.calls.map((call) => call.text)).toEqual([
      "IF DB_ID(N'ErpDemo_t1') IS NULL CREATE DATABASE [ErpDemo_t1];",
    ]);
    const scripts = erpScripts('ErpDemo_t1');
    expect(erp.calls.map((call) => call.id)).toEqual(
      scripts.flatMap(({ file, batches }) => batches.map((_, index) => `${file}[${index}]`)),
    );
    expect(erp.calls.map((call) => call.text)).toEqual(scripts.flatMap((script) => script.batches));
  });

  it('drops the database after disabling CDC and rolling back other sessions', () => {
    expect(dropDatabaseStatement('ErpDemo_t1').split('\n')).toEqual([
      "IF EXISTS (SELECT 1 FROM sys.databases WHERE name = N'ErpDemo_t1' AND is_cdc_enabled = 1)",
      '    EXEC [ErpDemo_t1].sys.sp_cdc_disable_db;',
      "IF DB_ID(N'ErpDemo_t1') IS NOT NULL",
      'BEGIN',
      '    ALTER DATABASE [ErpDemo_t1] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;',
      '    DROP DATABASE [ErpDemo_t1];',
      'END;',
    ]);
  });

  it('drops the database from master with that statement', async () => {
    const master = createFakeExecutor({ 'drop database ErpDemo_t1': [] }, 'master');
    const opened: string[] = [];
    await dropSqlServerErpDatabase(login, 'ErpDemo_t1', async (target) => {
      opened.push(target.database);
      return master;
    });
    expect(opened).toEqual(['master']);
    expect(master.calls).toEqual([
      { id: 'drop database ErpDemo_t1', text: dropDatabaseStatement('ErpDemo_t1'), params: {} },
    ]);
  });
});
