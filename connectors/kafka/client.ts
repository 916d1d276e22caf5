import { Kafka, logLevel, type LogEntry, type logCreator, type SASLOptions } from 'kafkajs';
import { type Logger } from 'pino';
import { z } from 'zod';

/**
 * The pipeline's `kafka` section: the brokers and how to reach them, and the consumer's and producer's limits. The
 * composed pipeline config takes it as it is, so its keys and defaults are declared here once.
 */
export const kafkaConfigSchema = z.object({
  brokers: z.array(z.string().min(1)).min(1).default(['127.0.0.1:9092']).describe('Bootstrap brokers, host:port'),
  clientId: z.string().min(1).default('cdc-sync').describe('Kafka client id'),
  topicPartitions: z
    .number()
    .int()
    .positive()
    .default(1)
    .describe('Partitions of topics the pipeline creates because they are missing at start-up'),
  maxBytesPerPartition: z
    .number()
    .int()
    .positive()
    .default(1_048_576)
    .describe(
      'Most bytes fetched per partition at once; bounds the size of one batch (the batches of one fetch share a transaction or a write)',
    ),
  partitionsConsumedConcurrently: z
    .number()
    .int()
    .positive()
    .default(32)
    .describe(
      "Partitions whose batches a worker handles at once, per role. One fetch brings a batch for each partition with new records (every source table's topic has its own); handled together, the transform commits them in one Kafka transaction and the sink writes them in one write per read model, instead of one each. Batches of one partition always go one after the other. More than a worker's partitions costs nothing; fewer holds fewer decoded events in memory at once",
    ),
  maxRequestBytes: z
    .number()
    .int()
    .positive()
    .default(1_048_576)
    .describe(
      "Most bytes of records one produce request carries, as the Java producer's max.request.size; a batch's outputs are split into requests within it and within each topic's max.message.bytes, and a record larger on its own is dead-lettered",
    ),
  sessionTimeoutMs: z
    .number()
    .int()
    .min(6_000)
    .default(30_000)
    .describe(
      "Consumer group session timeout: a worker whose heartbeats stop this long is evicted from its group and its partitions go to the others; at least the broker's group.min.session.timeout.ms (6 s by default)",
    ),
  ssl: z.boolean().default(false).describe('Connect to the brokers over TLS'),
  sasl: z
    .object({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).describe('SASL mechanism'),
      username: z.string().min(1).describe('SASL user name'),
      password: z
        .string()
        .min(1)
        .describe('SASL password; write ${KAFKA_SASL_PASSWORD} so it stays out of the file. Redacted in logs'),
    })
    .strict()
    .optional()
    .describe('SASL authentication to the brokers; none when absent'),
});

/** The validated `kafka` section. */
export type KafkaConfig = z.output<typeof kafkaConfigSchema>;

/** Settings for {@link createKafkaClient}: the connection part of the `kafka` section. */
export type KafkaClientConfig = Readonly<Pick<KafkaConfig, 'clientId'> & Partial<Pick<KafkaConfig, 'ssl' | 'sasl'>>> & {
  readonly brokers: readonly string[];
};

/**
 * A kafkajs client whose own log lines go through the pipeline's pino logger
 * (component `kafkajs`), so every line is structured JSON. kafkajs reports
 * the retries it makes itself as errors and warnings; a long-running worker
 * logs them as warnings, while a one-shot command (`kafkaLogLevel: 'debug'`)
 * keeps them out of the user's way: it ends with one error line of its own
 * if the retries do not help.
 */
export function createKafkaClient(
  config: KafkaClientConfig,
  logger: Logger,
  kafkaLogLevel: 'warn' | 'debug' = 'warn',
): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  const creator: logCreator =
    () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...fields } = entry;
      // kafkajs reports retried, recoverable conditions at ERROR; they are warnings for the pipeline.
      if (level === logLevel.ERROR || level === logLevel.WARN) log[kafkaLogLevel](fields, message);
      else if (level === logLevel.INFO) log.debug(fields, message);
    };
  return new Kafka({
    brokers: [...config.brokers],
    clientId: config.clientId,
    ...(config.ssl === true ? { ssl: true } : {}),
    ...(config.sasl === undefined ? {} : { sasl: saslOptions(config.sasl) }),
    logCreator: creator,
    logLevel: logLevel.INFO,
  });
}

/** kafkajs' SASL options; its union type needs each mechanism spelled out. */
function saslOptions(sasl: NonNullable<KafkaClientConfig['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}
