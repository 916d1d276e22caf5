import { setTimeout as sleep } from 'node:timers/promises';
import { replicationSlotState } from '../../connectors/postgres/erp-database.js';
import { resolveStackPaths } from '../../stack/paths.js';
import { createStack } from '../../stack/stack.js';
import { createKafkaConnectService } from '../../stack/services/kafka-connect.js';
import {
  POSTGRES_CREDENTIALS,
  POSTGRES_DATABASE,
  createPostgresService,
  type PostgresConnection,
} from '../../stack/services/postgres.js';
import { services } from './services.js';

// PostgreSQL and Kafka Connect of the native stack for tests that run real Debezium captures, as
// stack-debezium.test.ts starts them: already running services are used and left running, others are started and
// stopped afterwards. Each test works in an ERP database of its own, made from connectors/sql/postgres.

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

// Creating and dropping the ERP databases is the demo's job too; the code lives in connectors/postgres.
export { createErpDatabase, dropErpDatabase } from '../../connectors/postgres/erp-database.js';

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
    async () => (await replicationSlotState(database, slot)) === 'active',
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
