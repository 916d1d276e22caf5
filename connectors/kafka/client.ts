import { Kafka, logLevel, type LogEntry, type logCreator, type SASLOptions } from 'kafkajs';
import { type Logger } from 'pino';

/** Settings for {@link createKafkaClient}. */
export type KafkaClientConfig = {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl?: boolean;
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
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
