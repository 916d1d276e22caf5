import { type Admin, Kafka, logLevel } from 'kafkajs';
import { withTimeout } from '../../core/observability/with-timeout.js';
import { type KafkaClientConfig } from './client.js';

/**
 * A Kafka admin connection for the ops side (readiness probes, consumer lag),
 * apart from the workers' clients: its own quiet client (a broker that is
 * down must not log a kafkajs line per probe; readiness logs the change
 * once), connected on first use, without kafkajs' own retries, and dropped
 * after any failure so that the next call connects afresh.
 */
export type OpsAdmin = {
  /**
   * Runs `work` on a connected admin. Rejects with the work's error, or with
   * a `TimeoutError` naming `what` when connecting and working took longer
   * than `timeoutMs`.
   */
  use<T>(work: (admin: Admin) => Promise<T>, timeoutMs: number, what: string): Promise<T>;
  /** Resolves once a broker answered a metadata request (describeCluster) within `timeoutMs`. */
  probe(timeoutMs: number): Promise<void>;
  /** Disconnects; later calls connect again. */
  close(): Promise<void>;
};

/** Creates an {@link OpsAdmin} for the brokers of `config`; `purpose` ends up in the client id. */
export function createOpsAdmin(config: KafkaClientConfig, purpose: string): OpsAdmin {
  const kafka = new Kafka({
    brokers: [...config.brokers],
    clientId: `${config.clientId}-${purpose}`,
    logLevel: logLevel.NOTHING,
    // Probes answer within a second or two; kafkajs' defaults (30 s requests) would outlast several of them.
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
  });
  let connected: Promise<Admin> | undefined;

  const drop = () => {
    const stale = connected;
    connected = undefined;
    void stale?.then((admin) => admin.disconnect()).catch(() => {});
  };

  const connect = (): Promise<Admin> => {
    if (connected === undefined) {
      const admin = kafka.admin({ retry: { retries: 0 } });
      connected = admin.connect().then(() => admin);
    }
    return connected;
  };

  const use = async <T>(work: (admin: Admin) => Promise<T>, timeoutMs: number, what: string): Promise<T> => {
    try {
      return await withTimeout(
        connect().then((admin) => work(admin)),
        timeoutMs,
        what,
      );
    } catch (error: unknown) {
      drop();
      throw error;
    }
  };

  return {
    use,
    async probe(timeoutMs) {
      const brokers = config.brokers.join(',');
      const cluster = await use((admin) => admin.describeCluster(), timeoutMs, `Kafka at ${brokers}`);
      if (cluster.brokers.length === 0) throw new Error(`Kafka at ${brokers} answered with no brokers`);
    },
    async close() {
      const current = connected;
      connected = undefined;
      await current?.then((admin) => admin.disconnect()).catch(() => {});
    },
  };
}
