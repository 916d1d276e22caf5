import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createBatchConsumer } from '../../connectors/kafka/batch-consumer.js';
import { createKafkaClient } from '../../connectors/kafka/client.js';
import { services, uniqueName } from './services.js';

// A batch slower than the group's session timeout gets its consumer evicted, so that the batch's offset commit fails
// (UNKNOWN_MEMBER_ID). The consumer must rejoin and get the batch again, not stop for good (the fault suite's
// scenario 9 found it stopping, which made `cdc-sync run` exit).

const SESSION_TIMEOUT_MS = 6_000;

describe('the batch consumer evicted during a slow batch', () => {
  const kafka = createKafkaClient(
    { brokers: services().kafkaBrokers, clientId: 'cdc-sync-test' },
    pino({ level: 'silent' }),
  );
  const topic = uniqueName('eviction');
  const groupId = uniqueName('eviction-group');
  const consumer = createBatchConsumer(kafka, {
    groupId,
    topics: [topic],
    fromBeginning: true,
    maxBytesPerPartition: 1_048_576,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
  });

  afterAll(() => consumer.stop());

  it('rejoins after the failed commit and commits the batch when it comes again', async () => {
    const admin = kafka.admin();
    const producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await producer.send({ topic, messages: [{ key: 'k', value: 'v' }] });

      const attempts: { offset: string; commit: string }[] = [];
      const committed = new Promise<void>((resolve) => {
        void consumer.run(async (batch) => {
          const offset = batch.records[0]!.offset;
          // The first time, the batch takes longer than the session timeout and sends no heartbeat meanwhile.
          if (attempts.length === 0) await sleep(SESSION_TIMEOUT_MS + 3_000);
          try {
            await consumer.commitOffset({ topic, partition: 0, offset: '1' });
            attempts.push({ offset, commit: 'done' });
            resolve();
          } catch (error: unknown) {
            attempts.push({ offset, commit: (error as { type?: string }).type ?? String(error) });
            throw error;
          }
        });
      });
      const outcome = await Promise.race([
        committed.then(() => 'committed'),
        consumer.halted.then((error) => `halted: ${error.message}`),
        sleep(60_000).then(() => 'timed out'),
      ]);

      expect(outcome).toBe('committed');
      expect(attempts).toEqual([
        { offset: '0', commit: 'UNKNOWN_MEMBER_ID' },
        { offset: '0', commit: 'done' },
      ]);
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(offsets!.partitions).toEqual([{ partition: 0, offset: '1', metadata: null }]);
      expect(consumer.membership().state).toBe('joined');
    } finally {
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    }
  });
});
