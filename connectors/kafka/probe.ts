import { Kafka, logLevel } from 'kafkajs';

/**
 * How many brokers the cluster at `endpoint` reports, asked by a short-lived admin client that does not retry.
 * Rejects with the client's error when no answer comes, and after `timeoutMs` at most.
 */
export async function countBrokersAt(endpoint: string, timeoutMs: number): Promise<number> {
  const admin = new Kafka({
    clientId: 'cdc-sync-probe',
    brokers: [endpoint],
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(1000, timeoutMs),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no cluster description within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([
      (async () => {
        await admin.connect();
        return (await admin.describeCluster()).brokers.length;
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
