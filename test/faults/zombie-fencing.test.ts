import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { transactionalIdOf } from '../../core/runner/worker-config.js';
import { endCheck, expectClean } from './harness/end-check.js';
import { waitUntil } from './harness/fault-stack.js';
import { describeTransaction } from './harness/kafka-wire.js';
import { type OpenTransaction, openTransaction } from './harness/proofs.js';
import { fixtureScenario } from './harness/scenario.js';
import { LEVEL } from './harness/workers.js';

// Scenario 8: zombie fencing. Transform worker A stalls (frozen) while Kafka shows its transaction open; worker B
// starts with the same transform.transactionalId and takes over: its producer fences A's (the coordinator bumps the
// epoch and aborts A's transaction) and, once A's session expired, the group gives B every partition. Then A wakes
// up and tries to finish its transaction. A must be fenced: nothing it sends may become visible, nothing is published
// twice, A exits (non-zero, so that its supervisor sees it), and B carries on.

const SAMPLES = 400;
/** Kafka's shortest, so that the group gives A's partitions to B without a long wait. */
const SESSION_TIMEOUT_MS = 6_000;

describe('scenario 8: zombie fencing, two transform workers with one transactional id', () => {
  const s = fixtureScenario({ kafka: { maxBytesPerPartition: 4096, sessionTimeoutMs: SESSION_TIMEOUT_MS } });

  afterAll(async () => {
    await s.stack.heal();
    await s.dispose();
  });

  it('fences the older worker: nothing it sent becomes visible, every event once, same read models', async () => {
    await s.feed([...s.erp.snapshot(), ...s.erp.orders(8000, 6, 2)]);
    const sink = s.worker('sink', 'sink');
    const zombie = s.worker('transform-a', 'transform');
    await Promise.all([sink.ready(), zombie.ready()]);
    const broker = s.config.kafka.brokers[0]!;
    const transactionalId = transactionalIdOf(s.config);

    let open: OpenTransaction | undefined;
    for (let sample = 0; sample < SAMPLES && open === undefined; sample++) {
      // Enough traffic that the worker is mid-stream at most samples: it catches up with 1,500 moves in seconds.
      if (sample % 25 === 0) await s.feed(s.erp.stockMoves(1500));
      await sleep(5 + Math.random() * 40);
      zombie.freeze();
      open = await openTransaction(broker, transactionalId);
      if (open === undefined) zombie.thaw();
    }
    expect(open, `a sample of worker A to find its transaction open within ${SAMPLES} tries`).toBeDefined();
    const stalledAt = new Date();

    const successor = s.worker('transform-b', 'transform');
    let fenced = await describeTransaction(broker, transactionalId);
    await waitUntil(
      async () => (fenced = await describeTransaction(broker, transactionalId)).producerEpoch > open!.producerEpoch,
      "worker B's producer to fence A's",
      120_000,
      250,
    );
    await successor.ready();

    const woke = zombie.lines().length;
    zombie.thaw();
    const refusal = await zombie.waitForLine(
      (line) => line.level >= LEVEL.warn && /fenc|epoch/i.test(JSON.stringify(line['err'] ?? '')),
      "the broker's refusal of A's transaction",
      120_000,
      woke,
    );

    // Fenced for good: A stops and exits non-zero rather than staying up with a producer that can never commit.
    expect(await zombie.exit).toBe(1);

    const result = await endCheck({
      report: {
        name: '8 zombie fencing',
        fault: 'worker A frozen mid-transaction, worker B started with the same transactional id, A thawed',
        landed:
          `${stalledAt.toISOString()}: A's transaction Ongoing (epoch ${open!.producerEpoch}, ` +
          `${open!.uncommitted.join(', ')}); B fenced it (epoch ${fenced.producerEpoch}); A, thawed, was refused: ` +
          `${String((refusal['err'] as { message?: string } | undefined)?.message).slice(0, 140)}…, and exited 1`,
      },
      config: s.config,
      erp: s.erp,
      running: [sink, successor],
    });
    expectClean(result);
  });
});
