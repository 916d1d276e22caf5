import {
  describeMissingPrerequisites,
  findMissingPrerequisites,
  type MissingPrerequisite,
  type PrerequisiteNeed,
} from '../../stack/prerequisites.js';
import { type Prerequisite } from '../../stack/service.js';
import { createKafkaConnectService } from '../../stack/services/kafka-connect.js';
import { createPostgresService } from '../../stack/services/postgres.js';
import { defaultServices, isInstalled } from '../../stack/stack.js';

/** The Chromium that test/integration/ops-dashboard.test.ts drives through playwright-core. */
export const CHROMIUM: Prerequisite = {
  command: '/usr/bin/chromium',
  versionArgs: ['--version'],
  install: 'apt-get install -y chromium',
};

/**
 * Every program the integration project needs on this machine: the prerequisites each service of the native stack
 * declares, and Chromium for the dashboard test.
 *
 * The same on every route of the global setup: stack-lifecycle.test.ts starts a second instance of the default stack,
 * and the stack and Debezium tests start PostgreSQL and Kafka Connect, whether the shared Kafka, registry and MongoDB
 * come from the endpoint variables, testcontainers or the native stack.
 */
export function integrationPrerequisites(env: NodeJS.ProcessEnv = process.env): PrerequisiteNeed[] {
  const services = [...defaultServices(env), createPostgresService(env), createKafkaConnectService(env)];
  return [
    ...services.flatMap((service) =>
      service.prerequisites.map((prerequisite) => ({ prerequisite, neededBy: service.name })),
    ),
    { prerequisite: CHROMIUM, neededBy: 'test/integration/ops-dashboard.test.ts' },
  ];
}

/** The one message that names every missing program with its install command; `missing` must not be empty. */
export function integrationPrerequisitesMessage(missing: readonly MissingPrerequisite[]): string {
  const count = missing.length === 1 ? '1 program is' : `${missing.length} programs are`;
  return [
    `The integration tests cannot run: ${count} missing`,
    ...describeMissingPrerequisites(missing),
    "These are needed however Kafka, the schema registry and MongoDB are provided: the stack and Debezium tests run the local stack's services themselves",
    'bash .ci/run installs them too; unit tests alone need none of them: npm test -- --project unit',
  ].join('\n');
}

/**
 * Throws one error naming every missing program of {@link integrationPrerequisites}, before any service starts, so a
 * run fails at once rather than deep inside a test. Returns when nothing is missing.
 */
export function checkIntegrationPrerequisites(
  env: NodeJS.ProcessEnv = process.env,
  installed: (prerequisite: Prerequisite) => boolean = isInstalled,
): void {
  const missing = findMissingPrerequisites(integrationPrerequisites(env), installed);
  if (missing.length === 0) return;
  const error = new Error(integrationPrerequisitesMessage(missing));
  // The message is the whole story; a stack trace into vitest's own frames would only bury it.
  error.stack = `${error.name}: ${error.message}`;
  throw error;
}
