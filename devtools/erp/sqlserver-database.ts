import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../core/errors.js';
import { createMssqlExecutor, type QueryExecutor, type SqlServerConnection } from '../../connectors/mssql/executor.js';
import { quoteLiteral, quoteName } from '../../connectors/mssql/tsql.js';

// The sample ERP on SQL Server (devtools/sql/sqlserver) in a database of the caller's own: what `cdc-sync demo
// --docker` and the SQL Server integration tests create and drop. devtools/erp/postgres-database.ts does the same
// for PostgreSQL.

/** SQL Server's address and login, without a database. The password is only handed to the driver. */
export type SqlServerLogin = Omit<SqlServerConnection, 'database'>;

/** Opens a {@link QueryExecutor} on a connection; {@link createMssqlExecutor} unless a test passes a stand-in. */
export type ExecutorFactory = (connection: SqlServerConnection) => Promise<QueryExecutor>;

/** The sample ERP scripts, in the order they run; enable-cdc.sql is not among them: `cdc-sync cdc enable` enables CDC. */
const ERP_SCRIPTS = ['erp-schema.sql', 'seed.sql'] as const;
/** The database name the sample scripts use; replaced by the caller's. */
const SAMPLE_DATABASE = 'ErpDemo';

/** A T-SQL script's batches: the text between `GO` lines (sqlcmd's batch separator), blank batches left out. */
export function sqlBatches(script: string): string[] {
  return script
    .split(/^[ \t]*GO[ \t]*$/im)
    .map((batch) => batch.trim())
    .filter((batch) => batch !== '');
}

/**
 * The sample ERP's scripts (devtools/sql/sqlserver: erp-schema.sql, then seed.sql) for the database `name`, as
 * batches. Throws `ConfigError` for a name that is not a letter followed by letters, digits and underscores.
 */
export function erpScripts(name: string): { readonly file: string; readonly batches: readonly string[] }[] {
  checkDatabaseName(name);
  return ERP_SCRIPTS.map((file) => {
    const text = readFileSync(fileURLToPath(new URL(`../sql/sqlserver/${file}`, import.meta.url)), 'utf8');
    return { file, batches: sqlBatches(text.replace(new RegExp(`\\b${SAMPLE_DATABASE}\\b`, 'g'), name)) };
  });
}

/**
 * Creates the database `name` on the server of `login` unless it exists, applies the sample ERP's DDL and seed to it
 * (both idempotent, so an existing database is completed, not failed) and resolves with the connection to it. CDC is
 * left to `cdc-sync cdc enable`. The scripts run on a connection opened on the new database, so their `USE` is a no-op
 * and nothing depends on a session keeping its database between batches.
 */
export async function createSqlServerErpDatabase(
  login: SqlServerLogin,
  name: string,
  connect: ExecutorFactory = createMssqlExecutor,
): Promise<SqlServerConnection> {
  const scripts = erpScripts(name);
  await withExecutor(connect, { ...login, database: 'master' }, (master) =>
    master.query({
      id: `create database ${name}`,
      text: `IF DB_ID(${quoteLiteral(name)}) IS NULL CREATE DATABASE ${quoteName(name)};`,
    }),
  );
  const database = { ...login, database: name };
  await withExecutor(connect, database, async (erp) => {
    for (const { file, batches } of scripts) {
      for (const [index, text] of batches.entries()) await erp.query({ id: `${file}[${index}]`, text });
    }
  });
  return database;
}

/**
 * The T-SQL that removes the database `name` if it exists: CDC disabled first (which removes its capture and cleanup
 * Agent jobs), then other sessions rolled back and the database dropped.
 *
 * @see https://learn.microsoft.com/sql/relational-databases/system-stored-procedures/sys-sp-cdc-disable-db-transact-sql
 */
export function dropDatabaseStatement(name: string): string {
  checkDatabaseName(name);
  const literal = quoteLiteral(name);
  const quoted = quoteName(name);
  return [
    `IF EXISTS (SELECT 1 FROM sys.databases WHERE name = ${literal} AND is_cdc_enabled = 1)`,
    `    EXEC ${quoted}.sys.sp_cdc_disable_db;`,
    `IF DB_ID(${literal}) IS NOT NULL`,
    'BEGIN',
    `    ALTER DATABASE ${quoted} SET SINGLE_USER WITH ROLLBACK IMMEDIATE;`,
    `    DROP DATABASE ${quoted};`,
    'END;',
  ].join('\n');
}

/** Removes the database `name` from the server of `login` (see {@link dropDatabaseStatement}). */
export async function dropSqlServerErpDatabase(
  login: SqlServerLogin,
  name: string,
  connect: ExecutorFactory = createMssqlExecutor,
): Promise<void> {
  const text = dropDatabaseStatement(name);
  await withExecutor(connect, { ...login, database: 'master' }, (master) =>
    master.query({ id: `drop database ${name}`, text }),
  );
}

function checkDatabaseName(name: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,99}$/.test(name)) {
    throw new ConfigError(
      `Database name ${JSON.stringify(name)} for the sample ERP must be a letter followed by up to 99 letters, digits and underscores`,
    );
  }
}

async function withExecutor<T>(
  connect: ExecutorFactory,
  connection: SqlServerConnection,
  use: (executor: QueryExecutor) => Promise<T>,
): Promise<T> {
  const executor = await connect(connection);
  try {
    return await use(executor);
  } finally {
    await executor.close();
  }
}
