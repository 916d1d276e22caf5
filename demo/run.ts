import { SAMPLE_ERP_STAGES } from '../transforms/index.js';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Db } from 'mongodb';
import { parsePipelineConfig, type PipelineConfig } from '../ops/pipeline-config.js';
import { readFixtureFile } from '../devtools/fixtures/fixture-file.js';
import { createFixtureProducer, produceFixtures } from '../devtools/fixtures/producer.js';
import { createConnectClient, type ConnectClient } from '../connectors/kafka-connect/client.js';
import { openErpSession, type ErpDatabaseConnection } from '../connectors/postgres/session.js';
import { createErpDatabase, dropErpDatabase, replicationSlotState } from '../devtools/erp/postgres-database.js';
import { readModelSnapshot, type ReadModelSnapshot } from '../sinks/mongo/read-models.js';
import { type StackService } from '../stack/service.js';
import { createKafkaConnectService } from '../stack/services/kafka-connect.js';
import { createPostgresService, postgresUrl } from '../stack/services/postgres.js';
import { createStack, defaultServices, missingPrerequisites } from '../stack/stack.js';
import { createSqlServerErpDatabase, dropSqlServerErpDatabase } from '../devtools/erp/sqlserver-database.js';
import { createMssqlExecutor } from '../connectors/mssql/executor.js';
import { type CdcTarget, resolveCdcTarget } from '../dba/sqlserver/target.js';
import { type DemoEndpoints, demoPipelineConfig } from './config.js';
import {
  dockerUnavailableMessage,
  probeDocker,
  runCommand,
  sqlcmdHint,
  sqlServerDemoConfig,
  sqlServerDemoLogin,
  startComposeSqlServer,
  type ComposeSqlServer,
} from './sqlserver.js';
import { DEMO_LAST_EFFECT, DEMO_TABLES, DEMO_TRAFFIC, demoTraffic, type ErpTrafficStep } from './traffic.js';
import { type Cleanup, type DemoPipeline, startDemoPipeline } from './pipeline.js';
import { describeConnector } from './stall.js';

/** Recorded ERP traffic `--fixtures` replays: one order's lifecycle and a burst of stock moves. */
const SAMPLE_TRAFFIC = ['order-lifecycle.json', 'inventory-burst.json'].map((name) =>
  fileURLToPath(new URL(`../test/fixtures/erp/${name}`, import.meta.url)),
);

/** How long the read models must stay unchanged before the demo calls them in sync. */
const SETTLED_AFTER_MS = 3000;
/** The pause between two steps of live ERP traffic, so each step's effect can be watched. */
const STEP_GAP_MS = 1500;
/** How long `--once` waits for the read models to show the traffic before it gives up. */
const SYNC_TIMEOUT_MS = 120_000;
/** How long `--docker` waits for Debezium's snapshot of the seeded SQL Server database to reach the read models. */
const SNAPSHOT_TIMEOUT_MS = 180_000;
/** The read models' database; dropped at the start of every demo run. */
const DEMO_MONGO_DATABASE = 'cdc_sync_demo';

/** How to run the demo: `--once`, `--fixtures`, `--docker`. */
export type DemoOptions = { readonly once?: boolean; readonly fixtures?: boolean; readonly docker?: boolean };

/** A stop request by signal (SIGINT, SIGTERM), once and for all. */
export type DemoStopSignal = {
  /** Settles with the first stop signal. */
  readonly signalled: Promise<unknown>;
  /** Whether a stop signal has come. */
  stopping(): boolean;
};

/** What the demo prints and how it listens for a stop; the command line gives it its own. */
export type DemoIo = {
  /** Writes one line of the demo's progress. */
  readonly say: (line: string) => void;
  /** The read models as text, printed each time that text changes. */
  readonly formatReadModels: (snapshot: ReadModelSnapshot) => string;
  /** Starts listening for a stop signal, for the rest of the process. */
  readonly listenForStop: () => DemoStopSignal;
  /** Enables CDC where missing, as `cdc-sync cdc enable` does, printing the T-SQL it ran. */
  readonly enableCdc: (
    target: CdcTarget,
    env: NodeJS.ProcessEnv,
    options: { readonly roleName: string; readonly dryRun: boolean },
  ) => Promise<unknown>;
  /** Creates or updates the run's connector, as `cdc-sync connectors apply` does, printing what it did. */
  readonly applyConnector: (config: PipelineConfig, env: NodeJS.ProcessEnv) => Promise<unknown>;
};

type Say = (line: string) => void;

/**
 * `cdc-sync demo`: the quick start's main job, the real chain. Brings up the
 * local stack with PostgreSQL and Kafka Connect (services whose endpoint is
 * given by env are used as they are), creates and seeds an ERP database of
 * this run's own, registers the Debezium PostgreSQL connector, starts the
 * pipeline, drives live ERP traffic with SQL and prints the read models each
 * time they change. A stop signal stops the pipeline, deletes the
 * connector, drops the run's replication slot and database, and stops the
 * services the demo started. `fixtures` replays recorded Debezium records
 * instead (no PostgreSQL or Connect), as does a machine without PostgreSQL's
 * server, saying so; `docker` runs the same chain on SQL Server 2022 from
 * docker-compose.yml and needs a Docker engine with Compose (without one it
 * fails, saying so).
 */
export async function runDemo(options: DemoOptions, io: DemoIo): Promise<void> {
  const { say } = io;
  if (options.docker === true) return runSqlServerDemo(options, io);
  if (options.fixtures === true) return runFixtureDemo(options, io);
  const [missing] = missingPrerequisites(createPostgresService());
  if (missing !== undefined && !process.env['ERP_POSTGRES_URL']) {
    // Keeps the quick start working on a machine without PostgreSQL's server, and says so.
    say(`PostgreSQL's server is not installed (install it with: ${missing.install}).`);
    say('Running the demo on recorded Debezium records instead of a live ERP database (same as --fixtures).');
    return runFixtureDemo(options, io);
  }
  return runLiveDemo(options, io);
}

/**
 * The demo's services, each with its endpoint: the default stack, plus Connect for a live chain, plus PostgreSQL for
 * the PostgreSQL one (SQL Server comes from Docker Compose).
 */
function demoServices(chain: 'postgresql' | 'sqlserver' | 'fixtures', env: NodeJS.ProcessEnv = process.env) {
  // Connect must reach the broker and registry the pipeline uses, also when those are given by env.
  const connectEnv: NodeJS.ProcessEnv = { ...env };
  const kafkaPort = localPort(env['KAFKA_BROKERS']?.split(',')[0]);
  const registryPort = localPort(env['SCHEMA_REGISTRY_URL'] && new URL(env['SCHEMA_REGISTRY_URL']).host);
  if (kafkaPort !== undefined) connectEnv['CDC_SYNC_KAFKA_PORT'] = kafkaPort;
  if (registryPort !== undefined) connectEnv['CDC_SYNC_SCHEMA_REGISTRY_PORT'] = registryPort;
  const services: readonly StackService[] = [
    ...defaultServices(env),
    ...(chain === 'postgresql' ? [createPostgresService(env)] : []),
    ...(chain === 'fixtures' ? [] : [createKafkaConnectService(connectEnv)]),
  ];
  const endpoint = (name: string): string => {
    const service = services.find((s) => s.name === name)!;
    return env[service.endpointEnv] || service.endpoint;
  };
  return { services, needed: services.filter((service) => !env[service.endpointEnv]), endpoint };
}

/** The endpoints a live chain's config names; `endpoint` is {@link demoServices}' for a chain with Kafka Connect. */
function liveEndpoints(endpoint: (name: string) => string): DemoEndpoints {
  return {
    kafkaBrokers: endpoint('kafka'),
    schemaRegistryUrl: endpoint('schema-registry'),
    mongodbUri: endpoint('mongo-wire'),
    connectUrl: endpoint('kafka-connect'),
  };
}

/** Brings up what is needed; resolves with the names the demo started, to stop exactly those. */
async function bringUp(needed: readonly StackService[], say: Say): Promise<readonly string[]> {
  const results = await createStack(needed).up(say);
  return results.filter((r) => !r.alreadyRunning).map((r) => r.name);
}

async function bringDown(needed: readonly StackService[], started: readonly string[], say: Say): Promise<void> {
  if (started.length === 0) return;
  say(`Stopping what the demo started: ${started.join(', ')}`);
  await createStack(needed.filter((service) => started.includes(service.name))).down(say);
}

async function runLiveDemo(options: DemoOptions, io: DemoIo): Promise<void> {
  const { say } = io;
  const { services, needed, endpoint } = demoServices('postgresql');
  const signal = io.listenForStop();
  say(
    '1/5 Bringing up the local stack with PostgreSQL and Kafka Connect (first run downloads and builds; later runs take seconds)',
  );
  const started = await bringUp(needed, say);
  const cleanups: Cleanup[] = [];
  try {
    if (signal.stopping()) return;
    const admin = connectionFromUrl(endpoint('postgres'));
    const run = `demo_${Date.now().toString(36)}`;
    const databaseName = `erp_${run}`;
    const config = liveConfig(run, databaseName, admin, liveEndpoints(endpoint));

    say(`2/5 Creating and seeding the sample ERP database ${databaseName} (devtools/sql/postgres)`);
    cleanups.push({
      what: `database ${databaseName} and slot ${run}`,
      run: () => dropErpDatabase(admin, databaseName, run),
    });
    const erp = await createErpDatabase(admin, databaseName);
    if (signal.stopping()) return;

    say(`3/5 Registering the Debezium PostgreSQL connector ${run} at ${config.connector.connectUrl}`);
    const connect = createConnectClient({ url: config.connector.connectUrl });
    cleanups.push({ what: `connector ${run}`, run: () => connect.remove(run) });
    await io.applyConnector(config, { [config.connector.passwordEnv]: admin.password });
    await waitForStreaming(connect, run, erp, run, signal.stopping);
    if (signal.stopping()) return;

    say('4/5 Starting the pipeline: Debezium topics → transforms → canonical topics → sinks → MongoDB');
    const demo = await startDemoPipeline(config, cleanups, {
      services,
      connector: async () => describeConnector(run, await connect.status(run)),
    });

    say('5/5 Live ERP traffic, and the read models as they change (Ctrl-C stops everything the demo started)');
    const watcher = watchReadModels(demo.db, io.formatReadModels);
    const session = await openErpSession(erp);
    try {
      await playTraffic(DEMO_TRAFFIC, (sql) => session.query(sql), watcher, demo, signal, say);
    } finally {
      await session.close();
    }

    await followUntilInSync(watcher, demo, signal, options, () =>
      say(
        whereToLookNext(config, demo.pipeline.opsUrl, [
          `psql ${postgresUrl(erp)} (tables: devtools/sql/postgres/erp-schema.sql)`,
        ]),
      ),
    );
  } finally {
    // The pipeline, then MongoDB, the connector (releasing the slot), the slot and database.
    await runCleanups(cleanups, say);
    await bringDown(needed, started, say);
  }
}

/**
 * `--docker`: the live chain on SQL Server 2022. Starts docker-compose.yml's `sqlserver` service (unless it runs),
 * creates and seeds an ERP database of the run's own, enables CDC on it with `cdc-sync cdc enable`'s code, brings up
 * the native stack with Kafka Connect, registers the Debezium SQL Server connector, starts the pipeline and drives the
 * same live ERP traffic as the PostgreSQL path, in T-SQL. Stopping deletes the connector, drops the database, stops
 * the services the demo started and `docker compose down`s SQL Server if the demo started it. Without a Docker engine
 * (or Compose) it throws before starting anything, saying what it needs.
 */
async function runSqlServerDemo(options: DemoOptions, io: DemoIo): Promise<void> {
  const { say } = io;
  const unavailable = dockerUnavailableMessage(await probeDocker(runCommand));
  if (unavailable !== undefined) throw new Error(unavailable);
  const signal = io.listenForStop();
  const login = sqlServerDemoLogin(process.env);
  const id = Date.now().toString(36);
  const run = `demo_${id}`;
  const databaseName = `ErpDemo_${id}`;
  const { services, needed, endpoint } = demoServices('sqlserver');
  const config = sqlServerDemoConfig({
    run,
    database: databaseName,
    login,
    endpoints: liveEndpoints(endpoint),
    mongodbDatabase: DEMO_MONGO_DATABASE,
  });
  const env = { [config.connector.passwordEnv]: login.password };

  say(
    '1/6 Starting SQL Server 2022 with SQL Server Agent through Docker Compose (docker-compose.yml, service sqlserver)',
  );
  const sqlServer: ComposeSqlServer = await startComposeSqlServer(runCommand, say);
  let started: readonly string[] = [];
  const cleanups: Cleanup[] = [];
  try {
    if (signal.stopping()) return;
    say(
      `2/6 Creating and seeding the sample ERP database ${databaseName} (devtools/sql/sqlserver), enabling CDC on it`,
    );
    cleanups.push({ what: `database ${databaseName}`, run: () => dropSqlServerErpDatabase(login, databaseName) });
    const erp = await createSqlServerErpDatabase(login, databaseName);
    // `cdc-sync cdc enable --config …` with this run's config: it prints the T-SQL it ran.
    await io.enableCdc(resolveCdcTarget({ trustServerCertificate: login.trustServerCertificate }, config, env), env, {
      roleName: 'cdc_reader',
      dryRun: false,
    });
    if (signal.stopping()) return;

    say('3/6 Bringing up the local stack with Kafka Connect (first run downloads and builds; later runs take seconds)');
    started = await bringUp(needed, say);
    if (signal.stopping()) return;

    say(`4/6 Registering the Debezium SQL Server connector ${run} at ${config.connector.connectUrl}`);
    const connect = createConnectClient({ url: config.connector.connectUrl });
    cleanups.push({ what: `connector ${run}`, run: () => connect.remove(run) });
    await io.applyConnector(config, env);

    say('5/6 Starting the pipeline: Debezium topics → transforms → canonical topics → sinks → MongoDB');
    const demo = await startDemoPipeline(config, cleanups, {
      services,
      connector: async () => describeConnector(run, await connect.status(run)),
    });
    const watcher = watchReadModels(demo.db, io.formatReadModels);
    const session = await createMssqlExecutor(erp);
    cleanups.push({ what: `session on ${databaseName}`, run: () => session.close() });
    // Traffic waits for the snapshot: SQL Server has no slot to watch, but the snapshot's end shows in the read models.
    const counted = await session.query<{ balances: number }>({
      id: 'count balances',
      text: 'SELECT COUNT(*) AS balances FROM dbo.InventoryBalance;',
    });
    const balances = counted[0]?.balances ?? 0;
    await waitForSnapshot(
      connect,
      run,
      async () => (await watcher.poll()).availability.length >= balances,
      demo,
      signal,
    );
    if (signal.stopping()) return;

    say('6/6 Live ERP traffic, and the read models as they change (Ctrl-C stops everything the demo started)');
    await playTraffic(
      demoTraffic('sqlserver'),
      (sql, index) => session.query({ id: `traffic[${index}]`, text: sql }),
      watcher,
      demo,
      signal,
      say,
    );
    await followUntilInSync(watcher, demo, signal, options, () =>
      say(
        whereToLookNext(config, demo.pipeline.opsUrl, [
          `${sqlcmdHint(databaseName)} (tables: devtools/sql/sqlserver/erp-schema.sql)`,
          `CDC as a DBA sees it: ERP_DB_PASSWORD=… cdc-sync cdc status --server ${login.host}:${login.port} --user ${login.user} --no-encrypt --database ${databaseName} --tables ${config.source.tables.join(',')}`,
        ]),
      ),
    );
  } finally {
    // The session, pipeline, MongoDB, the connector (closing its sessions), then the database.
    await runCleanups(cleanups, say);
    await bringDown(needed, started, say);
    if (sqlServer.teardown !== undefined) {
      say(`Stopping SQL Server, which the demo started: docker ${sqlServer.teardown.join(' ')}`);
      await sqlServer.stop().catch((error: unknown) => say(`Could not stop SQL Server: ${messageOf(error)}`));
    }
  }
}

/**
 * Waits until the connector and a task run and `snapshotArrived`; fails at once, with Connect's trace, on FAILED, and
 * saying why (see {@link DemoPipeline.giveUp}) when a worker stops for good or the time is up.
 */
async function waitForSnapshot(
  connect: ConnectClient,
  name: string,
  snapshotArrived: () => Promise<boolean>,
  demo: DemoPipeline,
  signal: DemoStopSignal,
): Promise<void> {
  const deadline = Date.now() + SNAPSHOT_TIMEOUT_MS;
  while (!signal.stopping()) {
    if ((await connectorRunning(connect, name)) && (await snapshotArrived())) return;
    if (Date.now() > deadline) {
      throw await demo.giveUp(
        `Connector ${name}'s snapshot of the seeded balances did not reach the read models within ${SNAPSHOT_TIMEOUT_MS / 1000} s`,
      );
    }
    await demo.pause(500, signal.signalled);
  }
}

/** The pipeline and connector config of one live demo run: topics, slot, groups and connector of its own. */
function liveConfig(
  run: string,
  databaseName: string,
  admin: ErpDatabaseConnection,
  endpoints: DemoEndpoints,
): PipelineConfig {
  return demoPipelineConfig(
    {
      run,
      endpoints,
      mongodbDatabase: DEMO_MONGO_DATABASE,
      source: { connector: 'postgresql', database: databaseName, tables: [...DEMO_TABLES], schemas: { public: 'dbo' } },
      connector: { host: admin.host, port: admin.port, user: admin.user, slotName: run },
    },
    'the demo',
  );
}

/**
 * Whether the connector and a task of it run; false while Connect does not know it yet. Throws, with Connect's
 * trace, when the connector or a task failed: waiting longer would not help.
 */
async function connectorRunning(connect: ConnectClient, name: string): Promise<boolean> {
  const status = await connect.status(name).catch(() => undefined);
  if (status === undefined) return false;
  const failed = [status.connector, ...status.tasks].find((part) => part.state === 'FAILED');
  if (failed !== undefined) throw new Error(`Connector ${name} failed: ${failed.trace ?? '(no trace)'}`);
  return status.connector.state === 'RUNNING' && status.tasks.some((task) => task.state === 'RUNNING');
}

/** Waits until the connector and a task run and the slot streams; fails at once, with Connect's trace, on FAILED. */
async function waitForStreaming(
  connect: ConnectClient,
  name: string,
  database: ErpDatabaseConnection,
  slot: string,
  stopping: () => boolean,
): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (stopping()) return;
    if ((await connectorRunning(connect, name)) && (await replicationSlotState(database, slot)) === 'active') return;
    if (Date.now() > deadline) throw new Error(`Connector ${name} did not start streaming within 90 s`);
    await sleep(250);
  }
}

/**
 * Runs the traffic's steps one after the other, each announced after printing the read models as they are, with a
 * pause after each so its effect can be watched; stops early on a stop signal, and gives up at once when a worker
 * stops for good.
 */
async function playTraffic(
  steps: readonly ErpTrafficStep[],
  execute: (sql: string, index: number) => Promise<unknown>,
  watcher: ReturnType<typeof watchReadModels>,
  demo: DemoPipeline,
  signal: DemoStopSignal,
  say: Say,
): Promise<void> {
  for (const [index, step] of steps.entries()) {
    if (signal.stopping()) return;
    await watcher.poll();
    say(`ERP: ${step.says}`);
    await execute(step.sql, index);
    await demo.pause(STEP_GAP_MS, signal.signalled);
  }
}

/** Undoes `cleanups` newest first; a failing one is reported and the rest still run. */
async function runCleanups(cleanups: readonly Cleanup[], say: Say): Promise<void> {
  for (const cleanup of [...cleanups].reverse()) {
    await cleanup.run().catch((error: unknown) => say(`Could not clean up the ${cleanup.what}: ${messageOf(error)}`));
  }
}

/**
 * Keeps printing the read models as they change; once the traffic's last effect shows and they settled, calls
 * `inSync` (once). With `--once` it returns then, or gives up saying why (see {@link DemoPipeline.giveUp}) when they
 * are not in sync within the timeout; otherwise it runs until a stop signal. Either way it gives up at once when a
 * worker stops for good.
 */
async function followUntilInSync(
  watcher: ReturnType<typeof watchReadModels>,
  demo: DemoPipeline,
  signal: DemoStopSignal,
  options: DemoOptions,
  inSync: () => void,
): Promise<void> {
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  let announced = false;
  while (!signal.stopping()) {
    const current = await watcher.poll();
    if (!announced && arrived(current) && watcher.unchangedFor() > SETTLED_AFTER_MS) {
      announced = true;
      inSync();
      if (options.once === true) return;
    }
    if (!announced && options.once === true && Date.now() > deadline) {
      throw await demo.giveUp(`The read models did not show the ERP traffic within ${SYNC_TIMEOUT_MS / 1000} s`);
    }
    await demo.pause(500, signal.signalled);
  }
}

/** Polls the read models and prints them, as `format` writes them, whenever they changed. */
function watchReadModels(db: Db, format: (snapshot: ReadModelSnapshot) => string) {
  let shown = '';
  let changedAt = Date.now();
  let last: ReadModelSnapshot = { availability: [], orders: [] };
  return {
    async poll(): Promise<ReadModelSnapshot> {
      last = await readModelSnapshot(db);
      const text = format(last);
      if (text !== shown) {
        shown = text;
        changedAt = Date.now();
        process.stdout.write(`\n${text}\n`);
      }
      return last;
    },
    unchangedFor: () => Date.now() - changedAt,
  };
}

/** True once the traffic's last step shows in the read models. */
function arrived(snapshot: ReadModelSnapshot): boolean {
  const order = snapshot.orders.find((row) => row.orderNumber === DEMO_LAST_EFFECT.orderNumber);
  return order?.milestones.includes(DEMO_LAST_EFFECT.milestone) === true;
}

/** `--fixtures`: recorded Debezium records of SQL Server CDC replayed onto Kafka; no PostgreSQL or Connect. */
async function runFixtureDemo(options: DemoOptions, io: DemoIo): Promise<void> {
  const { say } = io;
  const { services, needed, endpoint } = demoServices('fixtures');
  say('1/4 Bringing up the local stack (first run downloads and builds; later runs take seconds)');
  const started = await bringUp(needed, say);
  const signal = io.listenForStop();

  const run = `demo_${Date.now().toString(36)}`;
  const config = parsePipelineConfig(
    {
      logLevel: 'error',
      kafka: { brokers: endpoint('kafka').split(',') },
      schemaRegistry: { url: endpoint('schema-registry') },
      mongodb: { uri: endpoint('mongo-wire'), database: DEMO_MONGO_DATABASE },
      source: { topicPrefix: run },
      transforms: SAMPLE_ERP_STAGES,
      transform: { groupId: `${run}-transform`, transactionalId: `${run}-tx` },
      sink: { groupId: `${run}-sink` },
    },
    'the demo',
  );

  say(`2/4 Replaying recorded ERP traffic as Debezium records on ${run}.ErpDemo.dbo.*`);
  await produceFixtures(
    createFixtureProducer({ brokers: config.kafka.brokers, registryUrl: config.schemaRegistry.url }),
    SAMPLE_TRAFFIC.map((file) => readFixtureFile(file, { server: run })),
  );

  say('3/4 Starting the pipeline: transforms → canonical topics → sinks → MongoDB');
  const cleanups: Cleanup[] = [];
  try {
    const demo = await startDemoPipeline(config, cleanups, { services });

    say('4/4 Read models as they change (Ctrl-C stops everything the demo started)');
    const watcher = watchReadModels(demo.db, io.formatReadModels);
    const deadline = Date.now() + SYNC_TIMEOUT_MS;
    let announced = false;
    while (!signal.stopping()) {
      await watcher.poll();
      const committed = demo.pipeline.counters.get('batches.committed') > 0;
      if (!announced && watcher.unchangedFor() > SETTLED_AFTER_MS && committed) {
        announced = true;
        say(whereToLookNext(config, demo.pipeline.opsUrl));
        if (options.once === true) break;
      }
      if (!announced && options.once === true && Date.now() > deadline) {
        throw await demo.giveUp(
          `The read models did not show the recorded ERP traffic within ${SYNC_TIMEOUT_MS / 1000} s`,
        );
      }
      await demo.pause(1000, signal.signalled);
    }
  } finally {
    await runCleanups(cleanups, say);
    await bringDown(needed, started, say);
  }
}

/**
 * `opsUrl`: the pipeline's ops server (dashboard, metrics), if it serves one. `erpAccess`: how to change the live ERP
 * database (a command and where its tables are); none for recorded traffic.
 */
function whereToLookNext(config: PipelineConfig, opsUrl: string | undefined, erpAccess?: readonly string[]): string {
  const { uri, database } = config.mongodb;
  return [
    '',
    'The read models are in sync. Where to look next:',
    `  - MongoDB ${uri}, database ${database}: inventory_availability, inventory_availability_by_sku, order_view`,
    ...(opsUrl === undefined ? [] : [`  - the ops dashboard: ${opsUrl}/ (metrics: ${opsUrl}/metrics)`]),
    ...(erpAccess === undefined
      ? ['  - try your own ERP changes: cdc-sync produce-fixtures <file> (format: devtools/fixtures/README.md)']
      : [
          `  - make your own ERP changes while the demo runs: ${erpAccess[0]}`,
          ...erpAccess.slice(1).map((line) => `  - ${line}`),
          `  - the Debezium connector: curl ${config.connector.connectUrl}/connectors/${config.connector.name}/status`,
        ]),
    '  - run the pipeline on your config: cdc-sync run --config <file> (docs/configuration.md)',
    '  - the services: npm run stack:status',
  ].join('\n');
}

/** The port of a `127.0.0.1:<port>`/`localhost:<port>` address, as a string; undefined for anything else. */
function localPort(hostAndPort: string | undefined): string | undefined {
  const match = /^(?:127\.0\.0\.1|localhost):(\d+)$/.exec(hostAndPort ?? '');
  return match?.[1];
}

/** A `postgresql://user:password@host:port/database` URL as a connection. */
function connectionFromUrl(url: string): ErpDatabaseConnection {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)) || 'postgres',
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
