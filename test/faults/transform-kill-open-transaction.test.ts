import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { transactionalIdOf } from '../../core/runner/worker-config.js';
import { endCheck, expectClean } from './harness/end-check.js';
import { describeTransaction } from './harness/kafka-wire.js';
import { type OpenTransaction, openTransaction } from './harness/proofs.js';
import { fixtureScenario } from './harness/scenario.js';
import { waitUntil } from './harness/fault-stack.js';

// Scenario 1: the transform worker dies while a Kafka transaction is open: canonical events sent, not committed.
// The worker is frozen at random moments of a long stream of small batches until Kafka itself (DescribeTransactions
// on the coordinator, and the canonical partitions' high watermark above their last stable offset) shows its
// transaction open with records on the log; only then is it killed. The restarted worker, with the same
// transactional id, fences the old producer, so the coordinator aborts the open transaction.

const SAMPLES = 400;

describe('scenario 1: transform SIGKILL while a Kafka transaction is open', () => {
  const s = fixtureScenario();

  afterAll(async () => {
    await s.stack.heal();
    await s.dispose();
  });

  it('aborts the open transaction on restart: every event once, same read models, nothing dead-lettered', async () => {
    await s.feed([...s.erp.snapshot(), ...s.erp.orders(1000, 6, 2)]);
    const sink = s.worker('sink', 'sink');
    const transform = s.worker('transform', 'transform');
    await Promise.all([sink.ready(), transform.ready()]);
    const broker = s.config.kafka.brokers[0]!;
    const transactionalId = transactionalIdOf(s.config);

    let open: OpenTransaction | undefined;
    let killedAt: Date | undefined;
    for (let sample = 0; sample < SAMPLES && open === undefined; sample++) {
      // Enough traffic that the worker is mid-stream at most samples: it catches up with 1,500 moves in seconds.
      if (sample % 25 === 0) await s.feed(s.erp.stockMoves(1500));
      await sleep(5 + Math.random() * 40);
      transform.freeze();
      open = await openTransaction(broker, transactionalId);
      if (open === undefined) transform.thaw();
      else killedAt = await transform.kill();
    }
    expect(open, `a sample of the frozen worker to find its transaction open within ${SAMPLES} tries`).toBeDefined();

    // A process kill: the supervisor starts the transform again, with the same transactional id.
    const restarted = s.worker('transform-restarted', 'transform');
    await restarted.ready();
    // Its first transaction initialises the producer: the coordinator bumps the epoch and aborts the open one.
    let after = await describeTransaction(broker, transactionalId);
    await waitUntil(
      async () => (after = await describeTransaction(broker, transactionalId)).producerEpoch > open!.producerEpoch,
      'the restarted producer to fence the killed one',
      120_000,
      200,
    );

    const result = await endCheck({
      report: {
        name: '1 transform killed with an open transaction',
        fault: 'SIGKILL of the transform worker',
        landed:
          `${killedAt!.toISOString()}: transaction ${transactionalId} Ongoing (producer ${open!.producerId} epoch ` +
          `${open!.producerEpoch}) with ${open!.uncommitted.join(', ')}; aborted by the restart (epoch ${after.producerEpoch})`,
      },
      config: s.config,
      erp: s.erp,
      running: [sink, restarted],
    });
    expectClean(result);
  });
});
