import { createServer } from 'node:net';
import { MongoDBContainer } from '@testcontainers/mongodb';
import { GenericContainer, Network, Wait, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { type ServiceKey } from './services.js';

// Images match docker-compose.yml so both routes test the same servers.
export const CONTAINER_IMAGES = {
  kafka: 'apache/kafka:4.1.0',
  schemaRegistry: 'confluentinc/cp-schema-registry:7.9.0',
  mongodb: 'mongo:7.0',
} as const;

/** Services started in Docker for one test run, and how to stop them. */
export type ContainerServices = {
  readonly endpoints: Partial<Record<ServiceKey, string>>;
  stop(): Promise<void>;
};

/**
 * Starts the wanted services with testcontainers. Used only where a Docker
 * engine answers; this route is not exercised on machines without Docker.
 */
export async function startContainers(wanted: readonly ServiceKey[]): Promise<ContainerServices> {
  const started: StartedTestContainer[] = [];
  let network: StartedNetwork | undefined;
  const endpoints: Partial<Record<ServiceKey, string>> = {};
  try {
    if (wanted.includes('kafka') || wanted.includes('schemaRegistry')) {
      network = await new Network().start();
      // Kafka advertises its host port to clients, so the port must be known before the container starts.
      const hostPort = await freePort();
      const kafka = await new GenericContainer(CONTAINER_IMAGES.kafka)
        .withNetwork(network)
        .withNetworkAliases('kafka')
        .withExposedPorts({ container: 9092, host: hostPort })
        .withEnvironment({
          KAFKA_NODE_ID: '1',
          KAFKA_PROCESS_ROLES: 'broker,controller',
          KAFKA_LISTENERS: 'PLAINTEXT://:9092,BROKER://:19092,CONTROLLER://:9093',
          KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${hostPort},BROKER://kafka:19092`,
          KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
          KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
          KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
          KAFKA_CONTROLLER_QUORUM_VOTERS: '1@kafka:9093',
          KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        })
        .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
        .start();
      started.push(kafka);
      endpoints.kafka = `127.0.0.1:${hostPort}`;
      if (wanted.includes('schemaRegistry')) {
        const registry = await new GenericContainer(CONTAINER_IMAGES.schemaRegistry)
          .withNetwork(network)
          .withExposedPorts(8081)
          .withEnvironment({
            SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
            SCHEMA_REGISTRY_LISTENERS: 'http://0.0.0.0:8081',
            SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'PLAINTEXT://kafka:19092',
          })
          .withWaitStrategy(Wait.forHttp('/subjects', 8081))
          .start();
        started.push(registry);
        endpoints.schemaRegistry = `http://${registry.getHost()}:${registry.getMappedPort(8081)}`;
      }
    }
    if (wanted.includes('mongodb')) {
      const mongo = await new MongoDBContainer(CONTAINER_IMAGES.mongodb).start();
      started.push(mongo);
      endpoints.mongodb = `${mongo.getConnectionString()}?directConnection=true`;
    }
  } catch (error: unknown) {
    await stopAll(started, network);
    throw error;
  }
  return { endpoints, stop: () => stopAll(started, network) };
}

async function stopAll(
  containers: readonly StartedTestContainer[],
  network: StartedNetwork | undefined,
): Promise<void> {
  for (const container of [...containers].reverse()) await container.stop();
  await network?.stop();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('No port')),
      );
    });
  });
}
