import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveStackPaths } from '../../stack/paths.js';
import { createStack } from '../../stack/stack.js';
import { createKafkaConnectService } from '../../stack/services/kafka-connect.js';
import {
  POSTGRES_CREDENTIALS,
  POSTGRES_DATABASE,
  createPostgresService,
  runPsql,
  type PostgresConnection,
} from '../../stack/services/postgres.js';
import { services } from './services.js';

// PostgreSQL and Kafka Connect of the native stack for tests that run real Debezium captures, as
// stack-debezium.test.ts starts them: already running services are used and left running, others are started and
// stopped afterwards. Each test works in an ERP database of its own, made from connectors/sql/postgres.

const SQL_DIR = join(import.meta.dirname, '..', '..', 'connectors', 'sql', 'postgres');

/** The test stack's PostgreSQL and Connect, pointed at the test Kafka and registry. */
export function debeziumStack() {
  const { kafkaBrokers, schemaRegistryUrl } = services();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CDC_SYNC_KAFKA_PORT: String(localPort(kafkaBrokers[0]!, 'KAFKA_BROKERS')),
    CDC_SYNC_SCHEMA_REGISTRY_PORT: String(localPort(new URL(schemaRegistryUrl).host, 'SCHEMA_REGISTRY_URL')),
  };
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

/** Creates `name` from connectors/sql/postgres/erp-schema.sql (publication dbz_publication included) and seed.sql. */
export async function createErpDatabase(admin: PostgresConnection, name: string): Promise<PostgresConnection> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`Unsafe database name ${name}`);
  // The DDL creates and connects to erp_demo; the same statements create and fill the test's own database.
  const ddl = readFileSync(join(SQL_DIR, 'erp-schema.sql'), 'utf8').replaceAll('erp_demo', name);
  await runPsql(admin, ddl, { timeoutMs: 60_000 });
  const database = { ...admin, database: name };
  await runPsql(database, readFileSync(join(SQL_DIR, 'seed.sql'), 'utf8'), { timeoutMs: 60_000 });
  return database;
}

/** Drops the slot (once Connect's WAL sender let go of it) and the database with everything in it. */
export async function dropErpDatabase(admin: PostgresConnection, name: string, slot: string): Promise<void> {
  const active = async () =>
    (await runPsql(admin, `SELECT active FROM pg_replication_slots WHERE slot_name = '${slot}';`)).trim();
  const deadline = Date.now() + 30_000;
  while ((await active()) === 't' && Date.now() < deadline) await sleep(250);
  await runPsql(
    admin,
    `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '${slot}' AND active;`,
  );
  for (let attempt = 0; (await active()) !== ''; attempt++) {
    try {
      await runPsql(admin, `SELECT pg_drop_replication_slot('${slot}');`);
    } catch (error: unknown) {
      if (attempt > 20) throw error;
      await sleep(500);
    }
  }
  await runPsql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE);`);
}

export async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await sleep(250);
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Waits until the connector and a task run and the slot streams; fails at once, with Connect's trace, when either failed. */
export async function waitForStreaming(
  connectUrl: string,
  name: string,
  database: PostgresConnection,
  slot: string,
): Promise<void> {
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
  await waitFor(
    async () =>
      (await runPsql(database, `SELECT active FROM pg_replication_slots WHERE slot_name = '${slot}';`)).trim() === 't',
    `replication slot ${slot} to become active`,
  );
}

function localPort(hostAndPort: string, name: string): number {
  const match = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(hostAndPort);
  if (match === null) {
    throw new Error(`${name} must point at 127.0.0.1 for the native Connect worker to reach it, got ${hostAndPort}`);
  }
  return Number(match[2]);
}
