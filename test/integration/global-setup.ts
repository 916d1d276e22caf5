import { getContainerRuntimeClient } from 'testcontainers';
import { type TestProject } from 'vitest/node';
import { createStack, defaultServices } from '../../stack/stack.js';
import { startContainers } from './containers.js';
import { checkIntegrationPrerequisites } from './prerequisites.js';
import { type ServiceEndpoints, type ServiceKey, type ServiceOrigin } from './services.js';

/** The environment variable that names each service's endpoint, as in the README. */
const ENDPOINT_ENV = {
  kafka: 'KAFKA_BROKERS',
  schemaRegistry: 'SCHEMA_REGISTRY_URL',
  mongodb: 'MONGODB_URI',
} as const satisfies Record<ServiceKey, string>;

/** The native stack service behind each key. */
const STACK_SERVICE = {
  kafka: 'kafka',
  schemaRegistry: 'schema-registry',
  mongodb: 'mongo-wire',
} as const satisfies Record<ServiceKey, string>;

const HOW_TO_GET_SERVICES = [
  'Integration tests need a Kafka broker, a schema registry and a MongoDB-wire server. Any of these gets them:',
  '  - start the local stack: npm run stack:up (needs java, javac and mvn; see README, "Troubleshooting")',
  '  - point KAFKA_BROKERS, SCHEMA_REGISTRY_URL and MONGODB_URI at running services',
  '  - run where a Docker engine answers, so testcontainers can start them',
  'Unit tests alone need no services: npm test -- --project unit',
].join('\n');

/**
 * First checks every program the integration project needs and fails with one
 * message naming all that are missing (test/integration/prerequisites.ts).
 * Then chooses the services for the integration project, in this order:
 * endpoints given by env; testcontainers where a Docker engine answers;
 * otherwise the native local stack, started here and stopped afterwards unless
 * it was already running. `CDC_SYNC_TEST_SERVICES=native|docker` forces a
 * route. Failing to get a service fails the run; nothing is skipped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  checkIntegrationPrerequisites();
  const given: Partial<Record<ServiceKey, string>> = {};
  for (const key of Object.keys(ENDPOINT_ENV) as ServiceKey[]) {
    const value = process.env[ENDPOINT_ENV[key]];
    if (value !== undefined && value !== '') given[key] = value;
  }
  const missing = (Object.keys(ENDPOINT_ENV) as ServiceKey[]).filter((key) => given[key] === undefined);
  const origin: Record<ServiceKey, ServiceOrigin> = { kafka: 'env', schemaRegistry: 'env', mongodb: 'env' };
  let teardown = async (): Promise<void> => {};

  if (missing.length > 0) {
    const route = await chooseRoute();
    try {
      if (route === 'testcontainers') {
        const containers = await startContainers(missing);
        Object.assign(given, containers.endpoints);
        teardown = containers.stop;
      } else {
        teardown = await startNativeStack(missing, given);
      }
    } catch (error: unknown) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`Could not start services through ${route}: ${reason}\n\n${HOW_TO_GET_SERVICES}`, {
        cause: error,
      });
    }
    for (const key of missing) origin[key] = route;
  }

  const endpoints: ServiceEndpoints = {
    kafkaBrokers: given.kafka!.split(',').map((broker) => broker.trim()),
    schemaRegistryUrl: given.schemaRegistry!,
    mongodbUri: given.mongodb!,
    origin,
  };
  process.stderr.write(
    `Integration services: Kafka ${endpoints.kafkaBrokers.join(',')} (${origin.kafka}), ` +
      `registry ${endpoints.schemaRegistryUrl} (${origin.schemaRegistry}), MongoDB ${endpoints.mongodbUri} (${origin.mongodb})\n`,
  );
  project.provide('services', endpoints);
  return teardown;
}

async function chooseRoute(): Promise<Exclude<ServiceOrigin, 'env'>> {
  const forced = process.env['CDC_SYNC_TEST_SERVICES'];
  if (forced === 'native') return 'native-stack';
  if (forced === 'docker') return 'testcontainers';
  if (forced !== undefined && forced !== '') {
    throw new Error(`Invalid CDC_SYNC_TEST_SERVICES ${JSON.stringify(forced)}; expected native or docker`);
  }
  try {
    await getContainerRuntimeClient();
    return 'testcontainers';
  } catch {
    return 'native-stack';
  }
}

async function startNativeStack(
  missing: readonly ServiceKey[],
  endpoints: Partial<Record<ServiceKey, string>>,
): Promise<() => Promise<void>> {
  const wanted = new Set<string>(missing.map((key) => STACK_SERVICE[key]));
  const services = defaultServices().filter((service) => wanted.has(service.name));
  const stack = createStack(services);
  const results = await stack.up((line) => process.stderr.write(`${line}\n`));
  for (const key of missing) {
    endpoints[key] = services.find((service) => service.name === STACK_SERVICE[key])!.endpoint;
  }
  const startedHere = new Set(results.filter((r) => !r.alreadyRunning).map((r) => r.name));
  if (startedHere.size === 0) return async () => {};
  // Services that were up before the run belong to the user; only what this run started is stopped.
  const ours = createStack(
    services.filter((service) => startedHere.has(service.name)),
    stack.paths,
  );
  return () => ours.down();
}
