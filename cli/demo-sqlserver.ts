import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePipelineConfig, SAMPLE_ERP_TABLES, type PipelineConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { createMssqlExecutor, type QueryExecutor, type SqlServerConnection } from '../connectors/mssql/executor.js';
import { quoteLiteral, quoteName } from '../connectors/mssql/tsql.js';

// The SQL Server side of `cdc-sync demo --docker`: SQL Server 2022 from docker-compose.yml's `sqlserver` service, an
// ERP database of the run's own made from connectors/sql/sqlserver, and the run's pipeline config. The rest of the
// chain (Kafka, registry, MongoDB-wire, Kafka Connect with Debezium) is the native stack, as on the PostgreSQL path.

/** The compose file whose `sqlserver` service the demo starts. */
export const COMPOSE_FILE = fileURLToPath(new URL('../docker-compose.yml', import.meta.url));
/** The compose service running SQL Server 2022 with SQL Server Agent (CDC's capture jobs run in the Agent). */
export const SQLSERVER_SERVICE = 'sqlserver';
/** Where docker-compose.yml publishes SQL Server: `127.0.0.1:1433:1433`. */
export const SQLSERVER_PORT = 1433;
/** docker-compose.yml's SA password when `MSSQL_SA_PASSWORD` is unset (`x-mssql-sa-password`); a test keeps them equal. */
export const DEFAULT_SA_PASSWORD = 'CdcSync!Dev-2025';
/** The environment variable both docker-compose.yml and the demo read the SA password from. */
export const SA_PASSWORD_ENV = 'MSSQL_SA_PASSWORD';

/** The sample ERP scripts, in the order they run; enable-cdc.sql is not among them: the demo enables CDC itself. */
const ERP_SCRIPTS = ['erp-schema.sql', 'seed.sql'] as const;
/** The database name the sample scripts use; replaced by the run's. */
const SAMPLE_DATABASE = 'ErpDemo';

/** What a finished command printed and how it ended; `code` is null when it could not start or was killed. */
export type CommandResult = { readonly code: number | null; readonly stdout: string; readonly stderr: string };

/**
 * Runs a program without a shell and resolves when it ends; never rejects. With `echo`, each output line is also
 * passed on as it comes, so a long `docker compose up` shows its progress.
 */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  options?: { readonly echo?: (line: string) => void },
) => Promise<CommandResult>;

/** Whether a Docker engine answers (`docker info`) and whether Docker Compose v2 is installed (`docker compose version`). */
export type DockerProbe = { readonly engine: boolean; readonly compose: boolean };

/** SQL Server's address and login, without a database. The password is only handed to the driver. */
export type SqlServerLogin = Omit<SqlServerConnection, 'database'>;

/** SQL Server started (or found running) through Docker Compose, and how to undo exactly what the demo did. */
export type ComposeSqlServer = {
  /** False when the service already ran: it belongs to the user and is left running. */
  readonly startedHere: boolean;
  /** The teardown command, or undefined when there is nothing to tear down. */
  readonly teardown: readonly string[] | undefined;
  stop(): Promise<void>;
};

/** {@link CommandRunner} on `child_process.spawn`. */
export const runCommand: CommandRunner = (command, args, options = {}) =>
  new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (chunk: Buffer): void => {
      for (const line of chunk.toString().split(/\r?\n/)) if (line.trim() !== '') options.echo?.(line);
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      forward(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      forward(chunk);
    });
    child.once('error', (error) => resolve({ code: null, stdout, stderr: `${stderr}${error.message}` }));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });

/** `docker compose --file <file> <args…>` as the argument list of `docker`. */
export function composeArgs(args: readonly string[], file: string = COMPOSE_FILE): string[] {
  return ['compose', '--file', file, ...args];
}

/** Asks `docker info` whether an engine answers, then `docker compose version` whether Compose v2 is there. */
export async function probeDocker(run: CommandRunner): Promise<DockerProbe> {
  const engine = (await run('docker', ['info', '--format', '{{.ServerVersion}}'])).code === 0;
  if (!engine) return { engine, compose: false };
  return { engine, compose: (await run('docker', ['compose', 'version', '--short'])).code === 0 };
}

/** Why `demo --docker` cannot run here, saying what it needs and what runs without it; undefined when it can run. */
export function dockerUnavailableMessage(probe: DockerProbe): string | undefined {
  const instead = '`npm start` without --docker runs the whole chain on the native PostgreSQL stand-in';
  if (!probe.engine) {
    return `The SQL Server demo (--docker) needs a Docker engine for SQL Server 2022 (docker-compose.yml, service ${SQLSERVER_SERVICE}), and none answers here (\`docker info\` failed). ${instead}`;
  }
  if (!probe.compose) {
    return `The SQL Server demo (--docker) needs Docker Compose v2 to start SQL Server from docker-compose.yml, and \`docker compose version\` failed: install the Compose plugin. ${instead}`;
  }
  return undefined;
}

/**
 * Starts the compose service `sqlserver` (`up --detach --wait`, which returns once its healthcheck passes) unless it
 * already runs. What `stop` undoes depends on what ran before: nothing when the service already ran; `down` (the
 * project's containers and network; the data volume stays) when no service of the project ran; otherwise only this
 * service (`rm --stop --force sqlserver`), so services the user started keep running. A failed `up` is undone the same
 * way, then reported with the command and the end of its output.
 */
export async function startComposeSqlServer(
  run: CommandRunner,
  say: (line: string) => void,
  file: string = COMPOSE_FILE,
): Promise<ComposeSqlServer> {
  const ps = await run('docker', composeArgs(['ps', '--services', '--status', 'running'], file));
  if (ps.code !== 0) throw commandError(composeArgs(['ps', '--services', '--status', 'running'], file), ps);
  const running = ps.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (running.includes(SQLSERVER_SERVICE)) {
    say(`SQL Server already runs (compose service ${SQLSERVER_SERVICE}); the demo uses it and leaves it running`);
    return { startedHere: false, teardown: undefined, stop: async () => {} };
  }
  const teardown = composeArgs(running.length === 0 ? ['down'] : ['rm', '--stop', '--force', SQLSERVER_SERVICE], file);
  const stop = async (): Promise<void> => {
    const result = await run('docker', teardown);
    if (result.code !== 0) throw commandError(teardown, result);
  };
  const up = composeArgs(['up', '--detach', '--wait', SQLSERVER_SERVICE], file);
  const result = await run('docker', up, { echo: say });
  if (result.code !== 0) {
    await stop().catch(() => undefined);
    throw commandError(up, result);
  }
  return { startedHere: true, teardown, stop };
}

/** The SA login to docker-compose.yml's SQL Server on 127.0.0.1, password from `MSSQL_SA_PASSWORD` or its default. */
export function sqlServerDemoLogin(env: NodeJS.ProcessEnv): SqlServerLogin {
  return {
    host: '127.0.0.1',
    port: SQLSERVER_PORT,
    user: 'sa',
    password: env[SA_PASSWORD_ENV] || DEFAULT_SA_PASSWORD,
    // The container's certificate is self-signed; the demo talks to it on loopback only.
    encrypt: false,
    trustServerCertificate: true,
  };
}

/** A T-SQL script's batches: the text between `GO` lines (sqlcmd's batch separator), blank batches left out. */
export function sqlBatches(script: string): string[] {
  return script
    .split(/^[ \t]*GO[ \t]*$/im)
    .map((batch) => batch.trim())
    .filter((batch) => batch !== '');
}

/**
 * The sample ERP's scripts (connectors/sql/sqlserver: erp-schema.sql, then seed.sql) for the database `name`, as
 * batches. Throws `ConfigError` for a name that is not a letter followed by letters, digits and underscores.
 */
export function erpScripts(name: string): { readonly file: string; readonly batches: readonly string[] }[] {
  checkDatabaseName(name);
  return ERP_SCRIPTS.map((file) => {
    const text = readFileSync(fileURLToPath(new URL(`../connectors/sql/sqlserver/${file}`, import.meta.url)), 'utf8');
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
  connect: (connection: SqlServerConnection) => Promise<QueryExecutor> = createMssqlExecutor,
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

/** Removes the run's database (see {@link dropDatabaseStatement}). */
export async function dropSqlServerErpDatabase(
  login: SqlServerLogin,
  name: string,
  connect: (connection: SqlServerConnection) => Promise<QueryExecutor> = createMssqlExecutor,
): Promise<void> {
  const text = dropDatabaseStatement(name);
  await withExecutor(connect, { ...login, database: 'master' }, (master) =>
    master.query({ id: `drop database ${name}`, text }),
  );
}

/** Everything one `demo --docker` run names: its connector, topics, groups and database. */
export type SqlServerDemoRun = {
  readonly run: string;
  readonly database: string;
  readonly login: SqlServerLogin;
  readonly kafkaBrokers: string;
  readonly schemaRegistryUrl: string;
  readonly mongodbUri: string;
  readonly mongodbDatabase: string;
  readonly connectUrl: string;
};

/**
 * The pipeline and connector config of one SQL Server demo run: source `sqlserver` on the run's database with the
 * sample ERP's captured tables, the Debezium SQL Server connector reaching SQL Server where the host does (the native
 * Connect worker runs on the host) without TLS, Apicurio's converter for the local registry, and topics, groups and
 * a connector of the run's own.
 */
export function sqlServerDemoConfig(input: SqlServerDemoRun): PipelineConfig {
  const { run } = input;
  return parsePipelineConfig(
    {
      logLevel: 'error',
      kafka: { brokers: input.kafkaBrokers.split(',') },
      schemaRegistry: { url: input.schemaRegistryUrl },
      mongodb: { uri: input.mongodbUri, database: input.mongodbDatabase },
      source: { connector: 'sqlserver', topicPrefix: run, database: input.database, tables: [...SAMPLE_ERP_TABLES] },
      connector: {
        name: run,
        connectUrl: input.connectUrl,
        host: input.login.host,
        port: input.login.port,
        user: input.login.user,
        encrypt: input.login.encrypt,
        converter: 'apicurio',
        heartbeatIntervalMs: 1000,
      },
      // Canonical topics of the run's own: an earlier run's events would otherwise reach this run's read models.
      topics: {
        inventory: `${run}.canonical.inventory.v1`,
        order: `${run}.canonical.order.v1`,
        deadLetter: `${run}.dlq`,
      },
      transform: { groupId: `${run}-transform`, transactionalId: `${run}-tx` },
      sink: { groupId: `${run}-sink` },
      backoff: { initialMs: 200, maxMs: 2000 },
    },
    'the SQL Server demo',
    {},
  );
}

/** How to reach the run's database with sqlcmd inside the container, where SQLCMDPASSWORD already holds the password. */
export function sqlcmdHint(database: string, file: string = COMPOSE_FILE): string {
  return `docker ${composeArgs(['exec', SQLSERVER_SERVICE, '/opt/mssql-tools18/bin/sqlcmd', '-S', 'localhost', '-U', 'sa', '-C', '-d', database], file).join(' ')}`;
}

function checkDatabaseName(name: string): void {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,99}$/.test(name)) {
    throw new ConfigError(
      `Database name ${JSON.stringify(name)} for the sample ERP must be a letter followed by up to 99 letters, digits and underscores`,
    );
  }
}

async function withExecutor<T>(
  connect: (connection: SqlServerConnection) => Promise<QueryExecutor>,
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

/** `Command docker compose … exited with code 1: <last lines of its output>`. */
function commandError(args: readonly string[], result: CommandResult): Error {
  const output = `${result.stdout}\n${result.stderr}`
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .slice(-10)
    .join('\n');
  const ending = result.code === null ? 'could not run' : `exited with code ${result.code}`;
  return new Error(`Command docker ${args.join(' ')} ${ending}${output === '' ? '' : `:\n${output}`}`);
}
