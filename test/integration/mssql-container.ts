import { GenericContainer, getContainerRuntimeClient, type StartedTestContainer, Wait } from 'testcontainers';
import { type SqlServerLogin } from '../../devtools/erp/sqlserver-database.js';
import { resolveStackPaths } from '../../stack/paths.js';
import { createKafkaConnectService } from '../../stack/services/kafka-connect.js';
import { createStack } from '../../stack/stack.js';
import { connectWorkerEnv } from './debezium-stack.js';

// SQL Server for the integration tests that need it (mssql-cdc, mssql-debezium). It has no native build for this
// project's machines, so it runs only where a Docker engine answers, through testcontainers; without one those tests
// report as skipped with the reason in their title (issue #4), never as passed.

/** The image docker-compose.yml runs, so both routes test the same server. */
export const MSSQL_IMAGE = 'mcr.microsoft.com/mssql/server:2022-latest';

/** The SA password of the test containers: 8+ characters from 3 classes, as SQL Server requires. */
export const MSSQL_TEST_PASSWORD = 'Cdc-sync-Test-1!';

/** Appended to a skipped suite's title, so the report says why it did not run. */
export const NO_DOCKER_REASON = ' (skipped: no Docker engine answers; SQL Server cannot run natively here)';

/** Whether a container runtime answers; probed by testcontainers the way it would start containers. */
export async function dockerEngineAnswers(): Promise<boolean> {
  return getContainerRuntimeClient().then(
    () => true,
    () => false,
  );
}

/** A SQL Server container with SQL Server Agent running, and the SA login to it from this host. */
export type StartedSqlServer = {
  readonly container: StartedTestContainer;
  /** SA on the mapped port, without TLS (the container's certificate is self-signed). */
  readonly login: SqlServerLogin;
  stop(): Promise<void>;
};

/**
 * Starts SQL Server 2022 (Developer edition) with SQL Server Agent, which runs CDC's capture and cleanup jobs, and
 * resolves once it accepts connections. The login's host is 127.0.0.1 when Docker publishes on this machine, so
 * processes on the host (the native Kafka Connect worker) reach it at the same address as the tests.
 */
export async function startSqlServer(): Promise<StartedSqlServer> {
  const container = await new GenericContainer(MSSQL_IMAGE)
    .withEnvironment({
      ACCEPT_EULA: 'Y',
      MSSQL_SA_PASSWORD: MSSQL_TEST_PASSWORD,
      MSSQL_AGENT_ENABLED: 'true',
      MSSQL_PID: 'Developer',
    })
    .withExposedPorts(1433)
    .withWaitStrategy(Wait.forLogMessage(/SQL Server is now ready for client connections/))
    .withStartupTimeout(240_000)
    .start();
  const host = container.getHost();
  return {
    container,
    login: {
      host: host === 'localhost' ? '127.0.0.1' : host,
      port: container.getMappedPort(1433),
      user: 'sa',
      password: MSSQL_TEST_PASSWORD,
      encrypt: false,
      trustServerCertificate: true,
    },
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * The native stack's Kafka Connect worker (Debezium 3.6 with the SQL Server plugin, Apicurio's Avro converter),
 * pointed at the test Kafka and registry, as test/integration/debezium-stack.ts starts it but without PostgreSQL:
 * a worker that already runs is used and left running, one started here is stopped by `down`.
 *
 * The worker needs the native stack's registry (see `connectWorkerEnv`).
 */
export function connectWorker() {
  const env = connectWorkerEnv();
  const connect = createKafkaConnectService(env);
  const stack = createStack([connect], resolveStackPaths(env));
  let startedHere = false;
  return {
    connectUrl: connect.endpoint,
    async up(): Promise<void> {
      const [result] = await stack.up((line) => process.stderr.write(`${line}\n`));
      startedHere = result !== undefined && !result.alreadyRunning;
    },
    /** Stops the worker only if `up` started it; a worker that was running before belongs to the user. */
    async down(): Promise<void> {
      if (startedHere) await stack.down();
    },
  };
}
