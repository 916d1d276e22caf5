import { describe, expect, it } from 'vitest';
import { type Prerequisite } from '../../stack/service.js';
import { createKafkaConnectService } from '../../stack/services/kafka-connect.js';
import { createPostgresService } from '../../stack/services/postgres.js';
import { defaultServices } from '../../stack/stack.js';
import {
  CHROMIUM,
  checkIntegrationPrerequisites,
  integrationPrerequisites,
  integrationPrerequisitesMessage,
} from '../integration/prerequisites.js';

// What `npm test` says, before any service starts, on a machine that lacks what the integration project needs
// (test/integration/global-setup.ts runs the check). Nothing here runs a probe: the probes are stand-ins.
const allInstalled = (): boolean => true;
const missingOnly =
  (...commands: string[]) =>
  (prerequisite: Prerequisite): boolean =>
    !commands.includes(prerequisite.command);

describe('the integration prerequisites', () => {
  it('are every prerequisite the native stack services declare, by service, and Chromium for the dashboard test', () => {
    const services = [...defaultServices(), createPostgresService(), createKafkaConnectService()];
    expect(services.map((service) => service.name)).toEqual([
      'kafka',
      'schema-registry',
      'mongo-wire',
      'postgres',
      'kafka-connect',
    ]);
    expect(integrationPrerequisites()).toEqual([
      ...services.flatMap((service) =>
        service.prerequisites.map((prerequisite) => ({ prerequisite, neededBy: service.name })),
      ),
      { prerequisite: CHROMIUM, neededBy: 'test/integration/ops-dashboard.test.ts' },
    ]);
  });

  it('pass when everything is installed', () => {
    expect(() => checkIntegrationPrerequisites(process.env, allInstalled)).not.toThrow();
  });

  it('fail without Chromium, saying how to install it', () => {
    expect(() => checkIntegrationPrerequisites(process.env, missingOnly('/usr/bin/chromium'))).toThrow(
      new Error(
        [
          'The integration tests cannot run: 1 program is missing',
          '  - /usr/bin/chromium: apt-get install -y chromium (for test/integration/ops-dashboard.test.ts)',
          "These are needed however Kafka, the schema registry and MongoDB are provided: the stack and Debezium tests run the local stack's services themselves",
          'bash .ci/run installs them too; unit tests alone need none of them: npm test -- --project unit',
        ].join('\n'),
      ),
    );
  });

  it('fail with one message that names every missing program, each with its install command', () => {
    const message = integrationPrerequisitesMessage([
      {
        command: 'java',
        install: ['apt-get install -y openjdk-17-jdk-headless'],
        neededBy: ['kafka', 'schema-registry', 'mongo-wire', 'kafka-connect'],
      },
      {
        command: 'mvn',
        install: ['apt-get install -y maven'],
        neededBy: ['kafka', 'schema-registry', 'mongo-wire', 'kafka-connect'],
      },
      { command: 'javac', install: ['apt-get install -y openjdk-17-jdk-headless'], neededBy: ['mongo-wire'] },
      {
        command: '/usr/lib/postgresql/<version>/bin/postgres',
        install: ['apt-get install -y postgresql'],
        neededBy: ['postgres'],
      },
      {
        command: '/usr/bin/chromium',
        install: ['apt-get install -y chromium'],
        neededBy: ['test/integration/ops-dashboard.test.ts'],
      },
    ]);
    expect(message).toBe(
      [
        'The integration tests cannot run: 5 programs are missing',
        '  - java: apt-get install -y openjdk-17-jdk-headless (for kafka, schema-registry, mongo-wire, kafka-connect)',
        '  - mvn: apt-get install -y maven (for kafka, schema-registry, mongo-wire, kafka-connect)',
        '  - javac: apt-get install -y openjdk-17-jdk-headless (for mongo-wire)',
        '  - /usr/lib/postgresql/<version>/bin/postgres: apt-get install -y postgresql (for postgres)',
        '  - /usr/bin/chromium: apt-get install -y chromium (for test/integration/ops-dashboard.test.ts)',
        'All at once: apt-get update && apt-get install -y openjdk-17-jdk-headless maven postgresql chromium',
        "These are needed however Kafka, the schema registry and MongoDB are provided: the stack and Debezium tests run the local stack's services themselves",
        'bash .ci/run installs them too; unit tests alone need none of them: npm test -- --project unit',
      ].join('\n'),
    );
  });

  it('name java, mvn and javac, in the order the services declare them, when the Java tools are missing', () => {
    expect(() => checkIntegrationPrerequisites(process.env, missingOnly('java', 'javac', 'mvn'))).toThrow(
      [
        'The integration tests cannot run: 3 programs are missing',
        '  - java: apt-get install -y openjdk-17-jdk-headless (for kafka, schema-registry, mongo-wire, kafka-connect)',
        '  - mvn: apt-get install -y maven (for kafka, schema-registry, mongo-wire, kafka-connect)',
        '  - javac: apt-get install -y openjdk-17-jdk-headless (for mongo-wire)',
        'All at once: apt-get update && apt-get install -y openjdk-17-jdk-headless maven',
      ].join('\n'),
    );
  });
});
