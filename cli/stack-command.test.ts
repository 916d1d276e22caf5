import { type Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ServiceStatus } from '../stack/stack.js';
import { createStackCommand, formatStatusTable, parseServiceNames, STACK_USAGE_EXIT } from './stack-command.js';

describe('formatStatusTable', () => {
  it('aligns one row per service with ports, PID, health, endpoint and log', () => {
    const rows: ServiceStatus[] = [
      {
        name: 'kafka',
        summary: 'Apache Kafka',
        ports: [9092, 9093],
        endpoint: '127.0.0.1:9092',
        endpointEnv: 'KAFKA_BROKERS',
        pid: 4242,
        health: { healthy: true },
        logFile: '/s/logs/kafka.log',
      },
      {
        name: 'mongo-wire',
        summary: 'mongo-java-server',
        ports: [27017],
        endpoint: 'mongodb://127.0.0.1:27017/',
        endpointEnv: 'MONGODB_URI',
        pid: undefined,
        health: { healthy: false, reason: 'not running' },
        logFile: '/s/logs/mongo-wire.log',
      },
    ];
    expect(formatStatusTable(rows).split('\n')).toEqual([
      'SERVICE     PORTS      PID   HEALTH             ENDPOINT                                LOG',
      'kafka       9092,9093  4242  healthy            KAFKA_BROKERS=127.0.0.1:9092            /s/logs/kafka.log',
      'mongo-wire  27017      -     down: not running  MONGODB_URI=mongodb://127.0.0.1:27017/  /s/logs/mongo-wire.log',
    ]);
  });
});

const UNKNOWN_HINT =
  'the optional services are postgres, kafka-connect (kafka, schema-registry, mongo-wire always run)';

describe('parseServiceNames', () => {
  it.each([
    ['postgres', [], ['postgres']],
    ['kafka-connect,postgres', [], ['kafka-connect', 'postgres']],
    [' kafka-connect , postgres ', [], ['kafka-connect', 'postgres']],
    ['postgres,postgres', [], ['postgres']],
    ['postgres', ['kafka-connect'], ['kafka-connect', 'postgres']],
    ['kafka-connect', ['kafka-connect'], ['kafka-connect']],
    ['kafka,mongo-wire', [], ['kafka', 'mongo-wire']],
  ] as const)('reads %j after %j as %j', (text, previous, expected) => {
    expect(parseServiceNames(text, previous)).toEqual(expected);
  });

  it.each([
    ['postgress', `Unknown service "postgress"; ${UNKNOWN_HINT}`],
    ['kafka-connect,Postgres', `Unknown service "Postgres"; ${UNKNOWN_HINT}`],
    ['zookeeper', `Unknown service "zookeeper"; ${UNKNOWN_HINT}`],
    ['', 'Expected comma-separated service names, got ""'],
    ['postgres,', 'Expected comma-separated service names, got "postgres,"'],
    ['postgres,,kafka-connect', 'Expected comma-separated service names, got "postgres,,kafka-connect"'],
  ])('refuses %j: %s', (text, message) => {
    expect(() => parseServiceNames(text)).toThrow(message);
  });
});

describe('cdc-sync stack', () => {
  afterEach(() => vi.restoreAllMocks());

  /** The subcommand with its action replaced, so that parsing runs nothing; stderr goes to `errors`. */
  function subcommand(name: string, errors: string[] = []): Command {
    const command = createStackCommand().commands.find((c) => c.name() === name)!;
    return command.action(() => {}).configureOutput({ writeErr: (text) => void errors.push(text) });
  }

  it.each(['up', 'down', 'status'])('%s takes --with, comma-separated and repeated', async (name) => {
    const command = subcommand(name);
    await command.parseAsync(['--with', 'kafka-connect', '--with', 'postgres,kafka-connect'], { from: 'user' });
    expect(command.opts()).toEqual({ with: ['kafka-connect', 'postgres'] });
  });

  it.each(['up', 'down', 'status'])('%s without --with works on the default services only', async (name) => {
    const command = subcommand(name);
    await command.parseAsync([], { from: 'user' });
    expect(command.opts()).toEqual({});
  });

  it.each([
    [
      ['--with', 'kafka-connect,postgress'],
      `error: option '--with <services>' argument 'kafka-connect,postgress' is invalid. Unknown service "postgress"; ${UNKNOWN_HINT}\n`,
    ],
    [['--with'], "error: option '--with <services>' argument missing\n"],
    [['--without', 'postgres'], "error: unknown option '--without'\n(Did you mean --with?)\n"],
  ])('up, down and status exit 2 on %j, naming the error', async (args, message) => {
    expect(STACK_USAGE_EXIT).toBe(2);
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${code}`);
    });
    for (const name of ['up', 'down', 'status']) {
      const errors: string[] = [];
      await expect(subcommand(name, errors).parseAsync(args, { from: 'user' })).rejects.toThrow(
        `exit ${STACK_USAGE_EXIT}`,
      );
      expect(errors).toEqual([message]);
    }
  });

  it('exits 2 on an unknown subcommand too', async () => {
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Error(`exit ${code}`);
    });
    const errors: string[] = [];
    const stack = createStackCommand().configureOutput({ writeErr: (text) => void errors.push(text) });
    await expect(stack.parseAsync(['start'], { from: 'user' })).rejects.toThrow('exit 2');
    expect(errors).toEqual(["error: unknown command 'start'\n(Did you mean status?)\n"]);
  });
});
