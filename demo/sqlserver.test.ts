import { describe, expect, it } from 'vitest';
import { buildConnectorConfig } from '../connectors/kafka-connect/connector-config.js';
import { createFakeExecutor } from '../connectors/mssql/testing.js';
import { resolveCdcTarget } from '../dba/sqlserver/target.js';
import { runEnable } from '../cli/cdc-command.js';
import {
  COMPOSE_FILE,
  type CommandResult,
  type CommandRunner,
  composeArgs,
  DEFAULT_SA_PASSWORD,
  dockerUnavailableMessage,
  probeDocker,
  sqlcmdHint,
  sqlServerDemoConfig,
  sqlServerDemoLogin,
  startComposeSqlServer,
} from './sqlserver.js';

// `demo --docker` needs a Docker engine, which this machine lacks: what can be checked without one is checked here,
// with a recording stand-in for the `docker` command and for SQL Server (canned answers, connectors/mssql/testing.ts).
// The real run is test/integration/mssql-debezium.test.ts (testcontainers, skipped without Docker).

/** Records each command and answers from `answers`, keyed by the arguments after `docker compose --file <file>`. */
function fakeDocker(answers: Readonly<Record<string, Partial<CommandResult>>>) {
  const calls: string[] = [];
  const run: CommandRunner = async (command, args, options = {}) => {
    const key = args[0] === 'compose' && args[1] === '--file' ? args.slice(3).join(' ') : args.join(' ');
    calls.push(`${command} ${key}`);
    const answer = answers[key];
    if (answer === undefined) throw new Error(`Unexpected command ${command} ${args.join(' ')}`);
    for (const line of (answer.stdout ?? '').split('\n')) if (line !== '') options.echo?.(line);
    return { code: 0, stdout: '', stderr: '', ...answer };
  };
  return { run, calls };
}

const login = sqlServerDemoLogin({});

describe('demo --docker without Docker', () => {
  it.each([
    [
      { engine: false, compose: false },
      'The SQL Server demo (--docker) needs a Docker engine for SQL Server 2022 (docker-compose.yml, service sqlserver), and none answers here (`docker info` failed). `npm start` without --docker runs the whole chain on the native PostgreSQL stand-in',
    ],
    [
      { engine: true, compose: false },
      'The SQL Server demo (--docker) needs Docker Compose v2 to start SQL Server from docker-compose.yml, and `docker compose version` failed: install the Compose plugin. `npm start` without --docker runs the whole chain on the native PostgreSQL stand-in',
    ],
    [{ engine: true, compose: true }, undefined],
  ])('for %j says %j', (probe, message) => {
    expect(dockerUnavailableMessage(probe)).toBe(message);
  });

  it.each<[string, Record<string, Partial<CommandResult>>, { engine: boolean; compose: boolean }, string[]]>([
    [
      'no engine',
      { 'info --format {{.ServerVersion}}': { code: 1 } },
      { engine: false, compose: false },
      ['docker info --format {{.ServerVersion}}'],
    ],
    [
      'no docker command at all',
      { 'info --format {{.ServerVersion}}': { code: null, stderr: 'spawn docker ENOENT' } },
      { engine: false, compose: false },
      ['docker info --format {{.ServerVersion}}'],
    ],
    [
      'an engine without Compose',
      { 'info --format {{.ServerVersion}}': { stdout: '28.2.2' }, 'compose version --short': { code: 1 } },
      { engine: true, compose: false },
      ['docker info --format {{.ServerVersion}}', 'docker compose version --short'],
    ],
    [
      'an engine with Compose',
      { 'info --format {{.ServerVersion}}': { stdout: '28.2.2' }, 'compose version --short': { stdout: '2.36.2' } },
      { engine: true, compose: true },
      ['docker info --format {{.ServerVersion}}', 'docker compose version --short'],
    ],
  ])('probes %s', async (_case, answers, probe, calls) => {
    const docker = fakeDocker(answers);
    expect(await probeDocker(docker.run)).toEqual(probe);
    expect(docker.calls).toEqual(calls);
  });
});

describe('SQL Server through Docker Compose', () => {
  it('names the repository compose file', () => {
    expect(COMPOSE_FILE).toMatch(/\/docker-compose\.yml$/);
    expect(composeArgs(['up', '--detach', '--wait', 'sqlserver'], '/repo/docker-compose.yml')).toEqual([
      'compose',
      '--file',
      '/repo/docker-compose.yml',
      'up',
      '--detach',
      '--wait',
      'sqlserver',
    ]);
  });

  it('starts the service when the project runs nothing, and stops it with down', async () => {
    const docker = fakeDocker({
      'ps --services --status running': { stdout: '' },
      'up --detach --wait sqlserver': { stdout: 'Container cdc-sync-sqlserver-1  Healthy' },
      down: {},
    });
    const said: string[] = [];
    const sqlServer = await startComposeSqlServer(docker.run, (line) => said.push(line), '/repo/docker-compose.yml');
    expect(sqlServer.startedHere).toBe(true);
    expect(sqlServer.teardown).toEqual(['compose', '--file', '/repo/docker-compose.yml', 'down']);
    expect(said).toEqual(['Container cdc-sync-sqlserver-1  Healthy']);
    await sqlServer.stop();
    expect(docker.calls).toEqual([
      'docker ps --services --status running',
      'docker up --detach --wait sqlserver',
      'docker down',
    ]);
  });

  it('removes only its own service when other services of the project run', async () => {
    const docker = fakeDocker({
      'ps --services --status running': { stdout: 'kafka\nmongodb\n' },
      'up --detach --wait sqlserver': {},
      'rm --stop --force sqlserver': {},
    });
    const sqlServer = await startComposeSqlServer(docker.run, () => undefined, '/repo/docker-compose.yml');
    await sqlServer.stop();
    expect(docker.calls.at(-1)).toBe('docker rm --stop --force sqlserver');
  });

  it('uses a running SQL Server and leaves it running', async () => {
    const docker = fakeDocker({ 'ps --services --status running': { stdout: 'sqlserver\n' } });
    const said: string[] = [];
    const sqlServer = await startComposeSqlServer(docker.run, (line) => said.push(line), '/repo/docker-compose.yml');
    await sqlServer.stop();
    expect(sqlServer).toMatchObject({ startedHere: false, teardown: undefined });
    expect(said).toEqual([
      'SQL Server already runs (compose service sqlserver); the demo uses it and leaves it running',
    ]);
    expect(docker.calls).toEqual(['docker ps --services --status running']);
  });

  it('undoes a failed start and reports the command with the end of its output', async () => {
    const docker = fakeDocker({
      'ps --services --status running': { stdout: '' },
      'up --detach --wait sqlserver': { code: 1, stderr: 'container cdc-sync-sqlserver-1 is unhealthy\n' },
      down: {},
    });
    await expect(startComposeSqlServer(docker.run, () => undefined, '/repo/docker-compose.yml')).rejects.toThrow(
      'Command docker compose --file /repo/docker-compose.yml up --detach --wait sqlserver exited with code 1:\ncontainer cdc-sync-sqlserver-1 is unhealthy',
    );
    expect(docker.calls).toEqual([
      'docker ps --services --status running',
      'docker up --detach --wait sqlserver',
      'docker down',
    ]);
  });

  it('prints how to open sqlcmd in the container, where the password is already set', () => {
    expect(sqlcmdHint('ErpDemo_x1', '/repo/docker-compose.yml')).toBe(
      'docker compose --file /repo/docker-compose.yml exec sqlserver /opt/mssql-tools18/bin/sqlcmd -S localhost -U sa -C -d ErpDemo_x1',
    );
  });

  it('logs in as sa on loopback without TLS, with MSSQL_SA_PASSWORD or the compose default', () => {
    expect(login).toEqual({
      host: '127.0.0.1',
      port: 1433,
      user: 'sa',
      password: DEFAULT_SA_PASSWORD,
      encrypt: false,
      trustServerCertificate: true,
    });
    expect(sqlServerDemoLogin({ MSSQL_SA_PASSWORD: 'Other!Pass-1' }).password).toBe('Other!Pass-1');
  });
});

describe('the SQL Server demo config', () => {
  const config = sqlServerDemoConfig({
    run: 'demo_t1',
    database: 'ErpDemo_t1',
    login,
    endpoints: {
      kafkaBrokers: '127.0.0.1:9092',
      schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
      mongodbUri: 'mongodb://127.0.0.1:27017/',
      connectUrl: 'http://127.0.0.1:8083',
    },
    mongodbDatabase: 'cdc_sync_demo',
  });

  it('generates the Debezium SQL Server connector the native Connect worker runs', () => {
    expect(buildConnectorConfig(config, 'secret')).toEqual({
      'connector.class': 'io.debezium.connector.sqlserver.SqlServerConnector',
      'tasks.max': '1',
      'topic.prefix': 'demo_t1',
      'database.hostname': '127.0.0.1',
      'database.port': '1433',
      'database.user': 'sa',
      'database.password': 'secret',
      'database.names': 'ErpDemo_t1',
      'database.encrypt': 'false',
      'table.include.list':
        'dbo.InventoryBalance,dbo.SalesOrderHeader,dbo.SalesOrderLine,dbo.PaymentTransaction,dbo.Shipment,dbo.ReturnAuthorization,dbo.Refund',
      'snapshot.mode': 'initial',
      'provide.transaction.metadata': 'true',
      'heartbeat.interval.ms': '1000',
      'signal.data.collection': 'ErpDemo_t1.dbo.DebeziumSignal',
      'tombstones.on.delete': 'true',
      'decimal.handling.mode': 'precise',
      'schema.history.internal.kafka.bootstrap.servers': '127.0.0.1:9092',
      'schema.history.internal.kafka.topic': 'demo_t1.schema-history',
      ...Object.fromEntries(
        ['key.converter', 'value.converter'].flatMap((prefix) => [
          [prefix, 'io.apicurio.registry.utils.converter.AvroConverter'],
          [`${prefix}.apicurio.registry.url`, 'http://127.0.0.1:8081/apis/registry/v2'],
          [`${prefix}.apicurio.registry.auto-register`, 'true'],
          [`${prefix}.apicurio.registry.dereference-schema`, 'true'],
          [`${prefix}.apicurio.registry.as-confluent`, 'true'],
          [`${prefix}.apicurio.registry.id-handler`, 'io.apicurio.registry.serde.Legacy4ByteIdHandler'],
          [`${prefix}.apicurio.registry.use-id`, 'contentId'],
          [`${prefix}.apicurio.registry.headers.enabled`, 'false'],
          [
            `${prefix}.apicurio.registry.artifact-resolver-strategy`,
            'io.apicurio.registry.serde.strategy.TopicIdStrategy',
          ],
        ]),
      ),
    });
  });

  it('reads topics, groups and the read models of the run’s own', () => {
    expect(config).toMatchObject({
      source: { connector: 'sqlserver', topicPrefix: 'demo_t1', database: 'ErpDemo_t1' },
      topics: {
        inventory: 'demo_t1.canonical.inventory.v1',
        order: 'demo_t1.canonical.order.v1',
        deadLetter: 'demo_t1.dlq',
      },
      transform: { groupId: 'demo_t1-transform', transactionalId: 'demo_t1-tx' },
      sink: { groupId: 'demo_t1-sink' },
      mongodb: { database: 'cdc_sync_demo' },
    });
  });

  it('gives cdc enable the run’s server, login, database, captured tables and signal table, without TLS', () => {
    const target = resolveCdcTarget({ trustServerCertificate: true }, config, { ERP_DB_PASSWORD: 'secret' });
    expect(target).toEqual({
      connection: { ...login, password: 'secret', database: 'ErpDemo_t1' },
      tables: config.source.tables.map((table) => ({ schema: 'dbo', name: table.slice('dbo.'.length) })),
      passwordEnv: 'ERP_DB_PASSWORD',
      // The connector's signal.data.collection (ErpDemo_t1.dbo.DebeziumSignal, above): cdc enable creates it, so
      // `cdc-sync connectors snapshot` works on the demo too.
      signalTable: {
        database: 'ErpDemo_t1',
        table: { schema: 'dbo', name: 'DebeziumSignal' },
        source: 'the default of connector.signalDataCollection in the pipeline config',
      },
    });
  });

  it('has cdc enable create the signal table in the run’s new database, after its captured tables', async () => {
    const lines: string[] = [];
    const env = { ERP_DB_PASSWORD: 'secret' };
    const tables = config.source.tables.map((table) => ({
      schemaName: 'dbo',
      tableName: table.slice('dbo.'.length),
      isTracked: false,
      primaryKey: `PK_${table.slice('dbo.'.length)}`,
    }));
    const executor = createFakeExecutor({ database: [{ name: 'ErpDemo_t1', isCdcEnabled: false }], tables });
    await runEnable(
      resolveCdcTarget({ trustServerCertificate: true }, config, env),
      { env, write: (line) => lines.push(line), connect: async () => executor },
      { roleName: 'cdc_reader', dryRun: false },
    );
    expect(lines).toEqual([
      '-- Ran on 127.0.0.1:1433 as sa:',
      'USE [ErpDemo_t1];',
      'EXEC sys.sp_cdc_enable_db;',
      ...tables.map(
        ({ tableName }) =>
          `EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'${tableName}', @role_name = N'cdc_reader', @supports_net_changes = 1;`,
      ),
      'CREATE TABLE [dbo].[DebeziumSignal] ([id] VARCHAR(42) NOT NULL CONSTRAINT [PK_DebeziumSignal] PRIMARY KEY, [type] VARCHAR(32) NOT NULL, [data] VARCHAR(2048) NULL);',
      "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'DebeziumSignal', @role_name = N'cdc_reader', @supports_net_changes = 1;",
      '-- Signal table ErpDemo_t1.dbo.DebeziumSignal did not exist: created it and enabled CDC on it',
    ]);
  });
});
