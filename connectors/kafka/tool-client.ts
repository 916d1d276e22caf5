import { type ICustomPartitioner, Kafka, logLevel, Partitioners } from 'kafkajs';

/** What a command-line tool's Kafka client needs: who it is, where Kafka is, how long one request may take. */
export type ToolKafkaSettings = {
  readonly clientId: string;
  readonly brokers: readonly string[];
  readonly requestTimeoutMs: number;
};

/**
 * A kafkajs client for a tool that fails fast and says why (the fixture producer): silent, connecting within
 * `requestTimeoutMs` or 3 s, whichever is shorter, and retrying a request three times; the pipeline's runner is what
 * retries patiently.
 *
 * @see https://kafka.js.org/docs/configuration
 */
export function createToolKafkaClient(settings: ToolKafkaSettings): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(settings.requestTimeoutMs, 3_000),
    requestTimeout: settings.requestTimeoutMs,
    retry: { retries: 3 },
  });
}

/** kafkajs' default partitioner: murmur2 of the key, the partition Kafka's Java producer chooses. */
export const defaultPartitioner: ICustomPartitioner = Partitioners.DefaultPartitioner;
