import { setTimeout as sleep } from 'node:timers/promises';
import { type Db, MongoClient } from 'mongodb';
import { pino } from 'pino';
import { applyConnector } from '../../cli/connectors-command.js';
import { type RunningPipeline, startPipeline } from '../../ops/pipeline.js';
import { type PipelineConfig } from '../../ops/pipeline-config.js';
import { createConnectClient } from '../../connectors/kafka-connect/client.js';
import { CONFLUENT_COMPAT_PATH } from '../../connectors/kafka-connect/converters.js';
import { createErpDatabase, dropErpDatabase, replicationSlotState } from '../../devtools/erp/postgres-database.js';
import { resolveStackPaths } from '../../stack/paths.js';
import { createStack } from '../../stack/stack.js';
import { createKafkaConnectService } from '../../stack/services/kafka-connect.js';
import {
  POSTGRES_CREDENTIALS,
  POSTGRES_DATABASE,
  createPostgresService,
  type PostgresConnection,
} from '../../stack/services/postgres.js';
import { isolatedPipelineConfig } from './pipeline-harness.js';
import { services } from './services.js';

// PostgreSQL and Kafka Connect of the native stack for tests that run real Debezium captures, as
// stack-debezium.test.ts starts them: already running services are used and left running, others are started and
// stopped afterwards. Each test works in an ERP database of its own, made from devtools/sql/postgres.

/**
 * The environment for the native stack's services with Kafka Connect pointed at the test Kafka and registry. Throws
 * when either is not on 127.0.0.1, which the native Connect worker could not reach, and when the registry is not the
 * native stack's Apicurio registry (its Confluent API under /apis/ccompat/v7): the worker has only Apicurio's Avro
 * converter, so on the testcontainers route, whose registry is Confluent's, these tests need
 * CDC_SYNC_TEST_SERVICES=native.
 */
export function connectWorkerEnv(): NodeJS.ProcessEnv {
  const { kafkaBrokers, schemaRegistryUrl } = services();
  if (!schemaRegistryUrl.replace(/\/+$/, '').endsWith(CONFLUENT_COMPAT_PATH)) {
    throw new Error(
      `The native Kafka Connect worker writes Avro through Apicurio's converter and needs the Apicurio registry of the native stack, got SCHEMA_REGISTRY_URL ${schemaRegistryUrl}; run with CDC_SYNC_TEST_SERVICES=native`,
    );
  }
  return {
    ...process.env,
    CDC_SYNC_KAFKA_PORT: String(localPort(kafkaBrokers[0]!, 'KAFKA_BROKERS')),
    CDC_SYNC_SCHEMA_REGISTRY_PORT: String(localPort(new URL(schemaRegistryUrl).host, 'SCHEMA_REGISTRY_URL')),
  };
}

/** The test stack's PostgreSQL and Connect, pointed at the test Kafka and registry. */
export function debeziumStack() {
  const env = connectWorkerEnv();
  const postgres = createPostgresService(env);
  const connect = createKafkaConnectService(env);
  const stack = createStack([postgres, connect], resolveStackPaths(env));
  const admin: PostgresConnection = {
    host: '127.0.0.1',
    port: postgres.ports[0]!,
    ...POSTGRES_CREDENTIALS,
    database: POSTGRES_DATABASE,
  };
  let startedHere: readonly string[] = [];
  return {
    connectUrl: connect.endpoint,
    admin,
    async up(): Promise<void> {
      const results = await stack.up((line) => process.stderr.write(`${line}\n`));
      startedHere = results.filter((result) => !result.alreadyRunning).map((result) => result.name);
    },
    /** Stops only what `up` started; services that were running before belong to the user. */
    async down(): Promise<void> {
      const ours = stack.services.filter((service) => startedHere.includes(service.name));
      if (ours.length > 0) await createStack(ours, stack.paths).down();
    },
  };
}

// Creating and dropping the ERP databases is the demo's job too; the code lives in devtools/erp.
export { createErpDatabase, dropErpDatabase } from '../../devtools/erp/postgres-database.js';

export async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(250);
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Waits until the connector and a task of it run; fails at once, with Connect's trace, when either failed. */
export async function waitForConnectorRunning(connectUrl: string, name: string): Promise<void> {
  await waitFor(async () => {
    const response = await fetch(`${connectUrl}/connectors/${name}/status`);
    if (!response.ok) return false;
    const status = (await response.json()) as {
      connector: { state: string; trace?: string };
      tasks: { state: string; trace?: string }[];
    };
    const failed = [status.connector, ...status.tasks].find((part) => part.state === 'FAILED');
    if (failed !== undefined) throw new Error(`Connector ${name} failed: ${failed.trace ?? '(no trace)'}`);
    return status.connector.state === 'RUNNING' && status.tasks.some((task) => task.state === 'RUNNING');
  }, `connector ${name} to run`);
}

/** Waits until the connector and a task run and the slot streams; fails at once, with Connect's trace, when either failed. */
export async function waitForStreaming(
  connectUrl: string,
  name: string,
  database: PostgresConnection,
  slot: string,
): Promise<void> {
  await waitForConnectorRunning(connectUrl, name);
  await waitFor(
    async () => (await replicationSlotState(database, slot)) === 'active',
    `replication slot ${slot} to become active`,
  );
}

/**
 * A real Debezium capture of PostgreSQL for one test file: an ERP database of the run's own (`<prefix>_<run>`, the
 * sample ERP's DDL and seed) whose `tables` (in `public`) a connector and slot named after the run capture, registered
 * by `cdc-sync connectors apply`'s code, and the whole pipeline in-process writing to a MongoDB database of the run's
 * own. `start` brings it all up and resolves once the slot streams; `stop` removes it all again.
 */
export function postgresCapture(prefix: string, tables: readonly string[]) {
  const stack = debeziumStack();
  const run = isolatedPipelineConfig().source.topicPrefix;
  const databaseName = `${prefix}_${run}`;
  const config: PipelineConfig = isolatedPipelineConfig({
    source: {
      connector: 'postgresql',
      topicPrefix: run,
      database: databaseName,
      tables: tables.map((table) => `public.${table}`),
      // The sample ERP's stages read its dbo tables; on PostgreSQL they live in public.
      schemas: { public: 'dbo' },
    },
    connector: {
      name: run,
      connectUrl: stack.connectUrl,
      port: stack.admin.port,
      slotName: run,
      heartbeatIntervalMs: 1000,
    },
    mongodb: { database: run },
  });
  /** The connector's password variable, as `cdc-sync connectors apply` and `reconcile` read it. */
  const env = { [config.connector.passwordEnv]: stack.admin.password };
  const mongo = new MongoClient(config.mongodb.uri);
  let database: PostgresConnection | undefined;
  let pipeline: RunningPipeline | undefined;
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`The capture ${run} has no ${what} before start()`);
    return value;
  };

  return {
    stack,
    run,
    databaseName,
    config,
    env,
    /** The run's ERP database. */
    database: () => started(database, 'database'),
    /** The running pipeline. */
    pipeline: () => started(pipeline, 'pipeline'),
    /** The run's read models. */
    readModels: (): Db => mongo.db(config.mongodb.database),
    /**
     * Starts PostgreSQL and Connect (unless running), creates and seeds the ERP database, runs `beforeSnapshot` on it
     * (changes the snapshot is to read), starts the pipeline, registers the connector and waits until the slot streams.
     */
    async start(beforeSnapshot?: (erp: PostgresConnection) => Promise<unknown>): Promise<PostgresConnection> {
      await stack.up();
      database = await createErpDatabase(stack.admin, databaseName);
      await beforeSnapshot?.(database);
      await mongo.connect();
      pipeline = await startPipeline(config, 'all', pino({ level: 'silent' }));
      await applyConnector(config, { env, write: () => undefined });
      await waitForStreaming(stack.connectUrl, run, database, run);
      return database;
    },
    /** Stops the pipeline, removes the connector, slot, ERP database and read models, and what `start` started. */
    async stop(): Promise<void> {
      await pipeline?.stop();
      await createConnectClient({ url: stack.connectUrl })
        .remove(run)
        .catch(() => undefined);
      await dropErpDatabase(stack.admin, databaseName, run).catch((error: unknown) =>
        process.stderr.write(`Could not drop ${databaseName}: ${error}\n`),
      );
      await mongo
        .db(config.mongodb.database)
        .dropDatabase()
        .catch(() => undefined);
      await mongo.close();
      await stack.down();
    },
  };
}

function localPort(hostAndPort: string, name: string): number {
  const match = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(hostAndPort);
  if (match === null) {
    throw new Error(`${name} must point at 127.0.0.1 for the native Connect worker to reach it, got ${hostAndPort}`);
  }
  return Number(match[2]);
}
