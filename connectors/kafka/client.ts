import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import { type Logger } from 'pino';

/** Settings for {@link createKafkaClient}. */
export type KafkaClientConfig = {
  readonly brokers: readonly string[];
  readonly clientId: string;
};

/**
 * A kafkajs client whose own log lines go through the pipeline's pino logger
 * (component `kafkajs`), so every line is structured JSON.
 */
export function createKafkaClient(config: KafkaClientConfig, logger: Logger): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  const creator: logCreator =
    () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...fields } = entry;
      // kafkajs reports retried, recoverable conditions at ERROR; they are warnings for the pipeline.
      if (level === logLevel.ERROR || level === logLevel.WARN) log.warn(fields, message);
      else if (level === logLevel.INFO) log.debug(fields, message);
    };
  return new Kafka({
    brokers: [...config.brokers],
    clientId: config.clientId,
    logCreator: creator,
    logLevel: logLevel.INFO,
  });
}
