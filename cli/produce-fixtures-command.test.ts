import { describe, expect, it } from 'vitest';
import { ConfigError, SourceUnavailableError } from '../core/errors.js';
import { type Fixture } from '../devtools/fixtures/fixture-file.js';
import { type FixtureProducerConfig, type ProduceResult } from '../devtools/fixtures/producer.js';
import {
  createProduceFixturesCommand,
  formatProduceSummary,
  type ProduceFixturesIo,
} from './produce-fixtures-command.js';

const ORDER_LIFECYCLE = 'test/fixtures/erp/order-lifecycle.json';

const result: ProduceResult = {
  topics: [
    {
      topic: 'erp.ErpDemo.dbo.SalesOrderHeader',
      records: 6,
      partitions: 3,
      lastOffsets: [
        { partition: 0, offset: '11' },
        { partition: 2, offset: '5' },
      ],
      keySchemaId: 1,
      valueSchemaId: 2,
    },
    {
      topic: 'erp.ErpDemo.dbo.Refund',
      records: 2,
      partitions: 1,
      lastOffsets: [{ partition: 0, offset: '1' }],
      keySchemaId: 3,
      valueSchemaId: 4,
    },
  ],
  records: [],
};

/** Runs the command with a fake producer; returns what it printed and how the producer was used. */
async function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  produce?: (fixture: Fixture) => Promise<ProduceResult>,
) {
  const out: string[] = [];
  const err: string[] = [];
  const configs: FixtureProducerConfig[] = [];
  const fixtures: Fixture[] = [];
  let disconnected = 0;
  const io: ProduceFixturesIo = {
    env,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    createProducer: (config) => {
      configs.push(config);
      return {
        produce: async (fixture, options) => {
          fixtures.push(fixture);
          options?.onProgress?.({ sent: fixture.entries.length, total: fixture.entries.length });
          return produce === undefined ? result : produce(fixture);
        },
        disconnect: async () => {
          disconnected += 1;
        },
      };
    },
  };
  const command = createProduceFixturesCommand(io)
    .exitOverride()
    .configureOutput({ writeErr: (text) => err.push(text) });
  const outcome = await command.parseAsync(args, { from: 'user' }).then(
    () => undefined,
    (error: unknown) => error,
  );
  return { outcome, stdout: out.join(''), stderr: err.join(''), configs, fixtures, disconnected };
}

describe('cdc-sync produce-fixtures', () => {
  it('defaults to the local stack when neither options nor environment name the services', async () => {
    const { outcome, configs } = await run([ORDER_LIFECYCLE]);
    expect(outcome).toBeUndefined();
    expect(configs).toEqual([
      { brokers: ['127.0.0.1:9092'], registryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7', partitions: 1 },
    ]);
  });

  it('takes brokers and registry from KAFKA_BROKERS and SCHEMA_REGISTRY_URL', async () => {
    const { configs } = await run([ORDER_LIFECYCLE], {
      KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
      SCHEMA_REGISTRY_URL: 'http://registry:8081',
    });
    expect(configs[0]).toEqual({
      brokers: ['kafka-1:9092', 'kafka-2:9092'],
      registryUrl: 'http://registry:8081',
      partitions: 1,
    });
  });

  it('prefers options over the environment, and renames the server when asked', async () => {
    const { configs, fixtures } = await run(
      [
        ORDER_LIFECYCLE,
        '--brokers',
        'b:9092',
        '--registry',
        'http://r:8081',
        '--partitions',
        '3',
        '--server',
        'erp_test',
      ],
      { KAFKA_BROKERS: 'kafka-1:9092' },
    );
    expect(configs[0]).toEqual({ brokers: ['b:9092'], registryUrl: 'http://r:8081', partitions: 3 });
    expect(fixtures[0]?.entries[0]?.topic).toBe('erp_test.ErpDemo.dbo.SalesOrderHeader');
  });

  it('prints the summary table on stdout and what it did on stderr', async () => {
    const { stdout, stderr, disconnected } = await run([ORDER_LIFECYCLE]);
    expect(stdout).toBe(`${formatProduceSummary(result)}\n`);
    expect(stderr).toBe(
      `Producing 17 records from ${ORDER_LIFECYCLE} to Kafka at 127.0.0.1:9092\nProduced 17 records to 2 topics\n`,
    );
    expect(disconnected).toBe(1);
  });

  it('formats one row per topic with the last offset of each partition', () => {
    expect(formatProduceSummary(result).split('\n')).toEqual([
      'TOPIC                             RECORDS  PARTITIONS  LAST OFFSETS',
      'erp.ErpDemo.dbo.SalesOrderHeader  6        3           0:11 2:5',
      'erp.ErpDemo.dbo.Refund            2        1           0:1',
    ]);
  });

  it('rejects an invalid fixture before connecting, with the validation message', async () => {
    const { outcome, configs } = await run(['test/fixtures/erp/missing.json']);
    expect(outcome).toBeInstanceOf(ConfigError);
    expect((outcome as Error).message).toMatch(/^Cannot read fixture file test\/fixtures\/erp\/missing\.json: ENOENT/);
    expect(configs).toEqual([]);
  });

  it('disconnects and passes the error on when producing fails', async () => {
    const unavailable = new SourceUnavailableError('Kafka at 127.0.0.1:9092 is unavailable: could not connect to it');
    const { outcome, disconnected, stdout } = await run([ORDER_LIFECYCLE], {}, async () => {
      throw unavailable;
    });
    expect(outcome).toBe(unavailable);
    expect(disconnected).toBe(1);
    expect(stdout).toBe('');
  });

  it.each([['0'], ['-1'], ['two'], ['1.5']])('refuses --partitions %s', async (value) => {
    const { outcome, stderr } = await run([ORDER_LIFECYCLE, '--partitions', value]);
    expect(outcome).toMatchObject({ code: 'commander.invalidArgument', exitCode: 1 });
    expect(stderr).toBe(
      `error: option '--partitions <n>' argument '${value}' is invalid. expected a positive integer, got ${value}\n`,
    );
  });
});
