import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SAMPLE_ERP_TABLES } from '../connectors/debezium/source-config.js';
import { type PipelineConfig } from '../ops/pipeline-config.js';
import { type SqlServerLogin } from '../devtools/erp/sqlserver-database.js';
import { type DemoEndpoints, demoPipelineConfig } from './config.js';

// The SQL Server side of `cdc-sync demo --docker`: SQL Server 2022 from docker-compose.yml's `sqlserver` service, an
// ERP database of the run's own made from devtools/sql/sqlserver (devtools/erp/sqlserver-database.ts), and the run's
// pipeline config. The rest of the chain (Kafka, registry, MongoDB-wire, Kafka Connect with Debezium) is the native
// stack, as on the PostgreSQL path.

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

/** Everything one `demo --docker` run names: its connector, topics, groups and database. */
export type SqlServerDemoRun = {
  readonly run: string;
  readonly database: string;
  readonly login: SqlServerLogin;
  readonly endpoints: DemoEndpoints;
  readonly mongodbDatabase: string;
};

/**
 * The pipeline and connector config of one SQL Server demo run: source `sqlserver` on the run's database with the
 * sample ERP's captured tables, the Debezium SQL Server connector reaching SQL Server where the host does (the native
 * Connect worker runs on the host) without TLS, Apicurio's converter for the local registry, and topics, groups and
 * a connector of the run's own.
 */
export function sqlServerDemoConfig(input: SqlServerDemoRun): PipelineConfig {
  const { login } = input;
  return demoPipelineConfig(
    {
      run: input.run,
      endpoints: input.endpoints,
      mongodbDatabase: input.mongodbDatabase,
      source: { connector: 'sqlserver', database: input.database, tables: [...SAMPLE_ERP_TABLES] },
      connector: {
        host: login.host,
        port: login.port,
        user: login.user,
        encrypt: login.encrypt,
        converter: 'apicurio',
      },
    },
    'the SQL Server demo',
  );
}

/** How to reach the run's database with sqlcmd inside the container, where SQLCMDPASSWORD already holds the password. */
export function sqlcmdHint(database: string, file: string = COMPOSE_FILE): string {
  return `docker ${composeArgs(['exec', SQLSERVER_SERVICE, '/opt/mssql-tools18/bin/sqlcmd', '-S', 'localhost', '-U', 'sa', '-C', '-d', database], file).join(' ')}`;
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
