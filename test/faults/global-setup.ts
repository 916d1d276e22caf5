import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type TestProject } from 'vitest/node';
import { type ServiceEndpoints } from '../integration/services.js';
import {
  allocateFaultStack,
  CORE_SERVICES,
  faultStack,
  type FaultStackSettings,
  SERVICE_NAMES,
} from './harness/fault-stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    faultStack: FaultStackSettings;
  }
}

/**
 * Starts the fault suite's own stack (Kafka, the registry and the MongoDB-wire server; PostgreSQL and Kafka Connect
 * start with the Debezium scenarios) in a fresh folder on free ports, and removes it all afterwards.
 *
 * `CDC_SYNC_FAULTS_KEEP=<file>` keeps the stack between runs while working on the suite: its settings are written to
 * the file, read back by the next run, and nothing is stopped.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const keep = process.env['CDC_SYNC_FAULTS_KEEP'];
  const settings: FaultStackSettings =
    keep !== undefined && keep !== '' && existsSync(keep)
      ? (JSON.parse(readFileSync(keep, 'utf8')) as FaultStackSettings)
      : await allocateFaultStack();
  if (keep !== undefined && keep !== '') writeFileSync(keep, JSON.stringify(settings));
  const stack = faultStack(settings);
  const started = Date.now();
  await stack.up(CORE_SERVICES);
  process.stderr.write(
    `Fault stack up in ${((Date.now() - started) / 1000).toFixed(0)} s: Kafka ${stack.endpoints.kafkaBrokers[0]}, ` +
      `registry ${stack.endpoints.schemaRegistryUrl}, MongoDB ${stack.endpoints.mongodbUri}; folder ${settings.stackDir}\n`,
  );
  const endpoints: ServiceEndpoints = {
    ...stack.endpoints,
    origin: { kafka: 'native-stack', schemaRegistry: 'native-stack', mongodb: 'native-stack' },
  };
  // The integration tests' helpers (test/integration/pipeline-harness.ts) read their endpoints from `services`.
  project.provide('services', endpoints);
  project.provide('faultStack', settings);
  return async () => {
    if (keep !== undefined && keep !== '') return;
    await stack.down([...SERVICE_NAMES].reverse());
    rmSync(settings.stackDir, { recursive: true, force: true });
  };
}
