import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type StackPaths } from './paths.js';
import { type StackService } from './service.js';
import {
  localEndpoints,
  createStack,
  DEFAULT_SERVICE_NAMES,
  missingPrerequisites,
  OPTIONAL_SERVICE_NAMES,
  selectServices,
  STACK_SERVICES,
  startWaves,
} from './stack.js';

const scratch = mkdtempSync(join(tmpdir(), 'cdc-sync-stack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A stack instance of its own in the scratch folder. */
function scratchPaths(name: string): StackPaths {
  return { cacheRoot: join(scratch, name, 'cache'), stackRoot: join(scratch, name, 'stack') };
}

/** Only what `startWaves` reads. */
function named(name: string, needs: readonly string[] = []): StackService {
  return { name, needs } as unknown as StackService;
}

const names = (services: readonly StackService[]): string[] => services.map((service) => service.name);

describe('missingPrerequisites', () => {
  it('lists exactly the commands that do not run', () => {
    const service = {
      name: 'probe',
      prerequisites: [
        { command: 'node', versionArgs: ['--version'], install: 'apt-get install -y nodejs' },
        { command: 'cdc-sync-no-such-command', versionArgs: ['--version'], install: 'apt-get install -y nothing' },
        { command: 'node', versionArgs: ['-e', 'process.exit(3)'], install: 'a node that exits 0' },
      ],
    } as unknown as StackService;
    expect(missingPrerequisites(service).map((p) => p.install)).toEqual([
      'apt-get install -y nothing',
      'a node that exits 0',
    ]);
  });
});

describe('the stack services', () => {
  it('are named by their keys, split into default and optional ones, and need only services of the stack', () => {
    const services = Object.entries(STACK_SERVICES).map(([key, create]) => [key, create({})] as const);
    expect(services.map(([key, service]) => [key, service.name])).toEqual(
      Object.keys(STACK_SERVICES).map((key) => [key, key]),
    );
    expect([...DEFAULT_SERVICE_NAMES, ...OPTIONAL_SERVICE_NAMES].sort()).toEqual(Object.keys(STACK_SERVICES).sort());
    expect(Object.fromEntries(services.map(([key, service]) => [key, service.needs]))).toEqual({
      kafka: [],
      'schema-registry': [],
      'mongo-wire': [],
      postgres: [],
      'kafka-connect': ['kafka', 'schema-registry'],
    });
  });
});

describe('selectServices', () => {
  const paths = scratchPaths('select');

  it.each([
    [[], ['kafka', 'schema-registry', 'mongo-wire']],
    [['postgres'], ['kafka', 'schema-registry', 'mongo-wire', 'postgres']],
    [['kafka-connect'], ['kafka', 'schema-registry', 'mongo-wire', 'kafka-connect']],
    [
      ['kafka-connect', 'postgres'],
      ['kafka', 'schema-registry', 'mongo-wire', 'postgres', 'kafka-connect'],
    ],
    [
      ['kafka', 'kafka-connect'],
      ['kafka', 'schema-registry', 'mongo-wire', 'kafka-connect'],
    ],
  ] as const)('with %j works on %j', (withServices, expected) => {
    expect(names(selectServices({ with: withServices, paths, env: {} }))).toEqual(expected);
  });

  it('takes every port from the environment it is given', () => {
    const env = {
      CDC_SYNC_KAFKA_PORT: '19092',
      CDC_SYNC_KAFKA_CONTROLLER_PORT: '19093',
      CDC_SYNC_SCHEMA_REGISTRY_PORT: '18081',
      CDC_SYNC_MONGO_PORT: '17017',
      CDC_SYNC_POSTGRES_PORT: '15432',
      CDC_SYNC_CONNECT_PORT: '18083',
    };
    expect(
      selectServices({ with: ['postgres', 'kafka-connect'], paths, env }).map((service) => [
        service.name,
        service.ports,
      ]),
    ).toEqual([
      ['kafka', [19092, 19093]],
      ['schema-registry', [18081]],
      ['mongo-wire', [17017]],
      ['postgres', [15432]],
      ['kafka-connect', [18083]],
    ]);
  });

  it('reads the port variables of the selected services only', () => {
    const env = { CDC_SYNC_CONNECT_PORT: 'connect' };
    expect(names(selectServices({ with: ['postgres'], paths, env }))).toEqual([
      'kafka',
      'schema-registry',
      'mongo-wire',
      'postgres',
    ]);
    expect(() => selectServices({ with: ['kafka-connect'], paths, env })).toThrow(
      'Invalid port "connect" in environment variable CDC_SYNC_CONNECT_PORT',
    );
  });

  it('with running, adds the optional services whose recorded process is alive, and no stale ones', () => {
    const pids = join(paths.stackRoot, 'pids');
    mkdirSync(pids, { recursive: true });
    // This test's own process stands in for a running Connect worker; a PID that cannot exist for a dead PostgreSQL.
    const record = (pid: number) => JSON.stringify({ pid, command: process.execPath, startedAt: '' });
    writeFileSync(join(pids, 'kafka-connect.pid'), record(process.pid));
    writeFileSync(join(pids, 'postgres.pid'), record(2 ** 22 + 1));
    expect(names(selectServices({ running: true, paths, env: {} }))).toEqual([
      'kafka',
      'schema-registry',
      'mongo-wire',
      'kafka-connect',
    ]);
    expect(names(selectServices({ with: ['postgres'], running: true, paths, env: {} }))).toEqual([
      'kafka',
      'schema-registry',
      'mongo-wire',
      'postgres',
      'kafka-connect',
    ]);
    expect(names(selectServices({ paths, env: {} }))).toEqual(['kafka', 'schema-registry', 'mongo-wire']);
  });
});

describe('startWaves', () => {
  it.each([
    [
      'the whole stack: Connect after Kafka and the registry',
      [
        named('kafka'),
        named('schema-registry'),
        named('mongo-wire'),
        named('postgres'),
        named('kafka-connect', ['kafka', 'schema-registry']),
      ],
      [['kafka', 'schema-registry', 'mongo-wire', 'postgres'], ['kafka-connect']],
    ],
    [
      'a service listed before what it needs',
      [named('kafka-connect', ['kafka', 'schema-registry']), named('schema-registry'), named('kafka')],
      [['schema-registry', 'kafka'], ['kafka-connect']],
    ],
    [
      'needs outside the stack count as there',
      [named('postgres'), named('kafka-connect', ['kafka', 'schema-registry'])],
      [['postgres', 'kafka-connect']],
    ],
    ['a chain', [named('c', ['b']), named('b', ['a']), named('a'), named('d', ['a'])], [['a'], ['b', 'd'], ['c']]],
  ])('%s', (_case, services, expected) => {
    expect(startWaves(services).map(names)).toEqual(expected);
  });

  it('refuses services that need each other, naming the cycle', () => {
    expect(() => startWaves([named('a'), named('b', ['a', 'd']), named('c', ['b']), named('d', ['c'])])).toThrow(
      'Services of the stack need each other in a cycle: b -> d -> c -> b',
    );
  });
});

describe('createStack', () => {
  /**
   * A service whose process is `sleep`, healthy from its second probe on; `events` records starts and health in the
   * order they happen.
   */
  function sleeper(name: string, needs: readonly string[], events: string[]): StackService {
    let probes = 0;
    return {
      name,
      summary: name,
      ports: [],
      endpoint: name,
      endpointEnv: 'UNUSED',
      prerequisites: [],
      needs,
      startTimeoutSeconds: 10,
      install: async () => {},
      prepare: async () => {},
      command: () => {
        events.push(`start ${name}`);
        return { command: 'sleep', args: ['60'] };
      },
      health: async () => {
        if (++probes < 2) return { healthy: false, reason: 'starting' };
        events.push(`healthy ${name}`);
        return { healthy: true };
      },
    };
  }

  it('starts a service once what it needs is healthy, and stops it before that', async () => {
    const events: string[] = [];
    const stack = createStack(
      [sleeper('worker', ['broker'], events), sleeper('broker', [], events), sleeper('database', [], events)],
      scratchPaths('order'),
    );
    const lines: string[] = [];
    try {
      const results = await stack.up();
      expect(results.map((result) => [result.name, result.alreadyRunning])).toEqual([
        ['worker', false],
        ['broker', false],
        ['database', false],
      ]);
      expect(events.slice(0, 2)).toEqual(['start broker', 'start database']);
      expect(events.slice(2, 4).sort()).toEqual(['healthy broker', 'healthy database']);
      expect(events.slice(4)).toEqual(['start worker', 'healthy worker']);
    } finally {
      await stack.down((line) => lines.push(line));
    }
    expect(lines[0]).toMatch(/^\[worker\] stopped \(pid \d+\)$/);
    expect(lines.slice(1).sort()).toEqual([
      expect.stringMatching(/^\[broker\] stopped \(pid \d+\)$/),
      expect.stringMatching(/^\[database\] stopped \(pid \d+\)$/),
    ]);
  });
});

describe('localEndpoints', () => {
  it('follows the ports the CDC_SYNC_*_PORT variables give, and defaults to the standard ones', () => {
    expect(localEndpoints({})).toEqual({
      kafkaBrokers: '127.0.0.1:9092',
      schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
      mongodbUri: 'mongodb://127.0.0.1:27017/',
    });
    expect(
      localEndpoints({
        CDC_SYNC_KAFKA_PORT: '19092',
        CDC_SYNC_SCHEMA_REGISTRY_PORT: '18081',
        CDC_SYNC_MONGO_PORT: '37017',
      }),
    ).toEqual({
      kafkaBrokers: '127.0.0.1:19092',
      schemaRegistryUrl: 'http://127.0.0.1:18081/apis/ccompat/v7',
      mongodbUri: 'mongodb://127.0.0.1:37017/',
    });
  });
});
