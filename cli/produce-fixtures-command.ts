import { Command, InvalidArgumentError } from 'commander';
import { readFixtureFile } from '../devtools/fixtures/fixture-file.js';
import { SAMPLE_ERP_TABLE_DEFINITIONS } from '../devtools/erp/sample-erp.js';
import { stageCatalogOf } from '../ops/components.js';
import { loadConfigFile } from './command-options.js';
import {
  createFixtureProducer,
  type FixtureProducer,
  type FixtureProducerConfig,
  produceFixtures,
  type ProduceResult,
} from '../devtools/fixtures/producer.js';
import { formatTable } from './table.js';
import { localEndpoints } from '../stack/stack.js';

/** Where the command reads its defaults and writes its output; tests replace these. */
export type ProduceFixturesIo = {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly createProducer: (config: FixtureProducerConfig) => FixtureProducer;
};

/**
 * `cdc-sync produce-fixtures <file>`: validates a fixture file
 * (`devtools/fixtures/README.md`) and produces it to Kafka as Debezium
 * would, then prints one row per topic: records written, partitions, and the
 * last offset per partition. Progress goes to stderr, the table to stdout.
 *
 * Brokers and registry default to `KAFKA_BROKERS` and `SCHEMA_REGISTRY_URL`,
 * then to the local stack (on the ports its `CDC_SYNC_*_PORT` variables give). Invalid files and unreachable services reject
 * with a `ConfigError` or `SourceUnavailableError` whose message says what
 * and where; `cli/main.ts` prints it without a stack and exits 1.
 */
export function createProduceFixturesCommand(overrides: Partial<ProduceFixturesIo> = {}): Command {
  const io: ProduceFixturesIo = {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    createProducer: createFixtureProducer,
    ...overrides,
  };
  return new Command('produce-fixtures')
    .description(
      'Produce a fixture file of ERP row changes to Kafka exactly as Debezium (SQL Server, Avro) would, registering its schemas',
    )
    .argument('<file>', 'Fixture file, JSON or YAML (see devtools/fixtures/README.md)')
    .option(
      '--brokers <list>',
      'Kafka bootstrap brokers, comma-separated',
      envOr(io.env, 'KAFKA_BROKERS', localEndpoints(io.env).kafkaBrokers),
    )
    .option(
      '--registry <url>',
      'Schema registry base URL (Confluent API)',
      envOr(io.env, 'SCHEMA_REGISTRY_URL', localEndpoints(io.env).schemaRegistryUrl),
    )
    .option('--partitions <n>', 'Partitions of topics that do not exist yet', positiveInteger, 1)
    .option('--server <prefix>', "Topic prefix to use instead of the file's server, e.g. to keep test runs apart")
    .option(
      '-c, --config <file>',
      "pipeline config whose stage packages (stages.modules) declare the file's tables; the sample ERP's are always known",
    )
    .action(
      async (
        file: string,
        options: { brokers: string; registry: string; partitions: number; server?: string; config?: string },
      ) => {
        const packageTables =
          options.config === undefined ? [] : stageCatalogOf(await loadConfigFile(options.config, io.env)).tables;
        const fixture = readFixtureFile(file, {
          tables: [...SAMPLE_ERP_TABLE_DEFINITIONS, ...packageTables],
          ...(options.server === undefined ? {} : { server: options.server }),
        });
        const brokers = options.brokers
          .split(',')
          .map((broker) => broker.trim())
          .filter((broker) => broker !== '');
        const producer = io.createProducer({ brokers, registryUrl: options.registry, partitions: options.partitions });
        const total = fixture.entries.length;
        io.stderr(`Producing ${total} records from ${file} to Kafka at ${brokers.join(',')}\n`);
        const [result] = await produceFixtures(producer, [fixture], {
          onProgress: ({ sent }) => {
            // A file that fits in one request needs no progress line.
            if (sent < total || total > 500) io.stderr(`  ${sent}/${total} records\n`);
          },
        });
        io.stdout(`${formatProduceSummary(result)}\n`);
        io.stderr(`Produced ${total} records to ${result.topics.length} topics\n`);
      },
    );
}

/** One row per topic: `TOPIC  RECORDS  PARTITIONS  LAST OFFSETS`, the offsets as `partition:offset`. */
export function formatProduceSummary(result: ProduceResult): string {
  const table = [
    ['TOPIC', 'RECORDS', 'PARTITIONS', 'LAST OFFSETS'],
    ...result.topics.map((topic) => [
      topic.topic,
      String(topic.records),
      String(topic.partitions),
      topic.lastOffsets.map(({ partition, offset }) => `${partition}:${offset}`).join(' '),
    ]),
  ];
  return formatTable(table);
}

function envOr(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

function positiveInteger(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new InvalidArgumentError(`expected a positive integer, got ${text}`);
  return Number(text);
}
