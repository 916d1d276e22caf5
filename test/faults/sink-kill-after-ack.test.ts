import { afterAll, describe, expect, it } from 'vitest';
import { endCheck, expectClean, waitPipelineDone } from './harness/end-check.js';
import { waitUntil } from './harness/fault-stack.js';
import { appliedBeyondCommit, queuedBytes } from './harness/proofs.js';
import { fixtureScenario } from './harness/scenario.js';

// Scenario 2: the sink worker dies after MongoDB acknowledged a batch and before the batch's offsets were committed.
// The moment is made exact by stepping through the sink's MongoDB requests: MongoDB-wire is frozen while the sink
// waits on a write, then the sink itself; MongoDB-wire thaws and answers (its launcher makes every write durable
// before it replies) while the sink, frozen, cannot go on to commit. Once the read models hold an inventory event at
// or beyond the sink group's committed offset (written and acknowledged, never committed), the sink is killed;
// otherwise the sink takes one more step.

/** The sink's MongoDB requests stepped through before giving up on the moment. */
const STEPS = 30;
/** More than the driver's monitoring requests (hello, ping) take: a request this large is a write. */
const WRITE_BYTES = 512;

describe('scenario 2: sink SIGKILL after MongoDB acknowledged a batch, before its offset commit', () => {
  const s = fixtureScenario();

  afterAll(async () => {
    await s.stack.heal();
    await s.dispose();
  });

  it('re-applies the batch on restart: same read models, every event once, nothing dead-lettered', async () => {
    await s.feed([...s.erp.snapshot(), ...s.erp.orders(2000, 6, 2)]);
    const transform = s.worker('transform', 'transform');
    await transform.ready();
    const sink = s.worker('sink', 'sink');
    await sink.ready();
    await waitPipelineDone(s.kafka, s.config);

    const mongoPort = s.stack.services['mongo-wire'].ports[0]!;
    const queued = (side: 'request' | 'reply') => Math.max(0, ...queuedBytes(sink.pid, mongoPort).map((q) => q[side]));
    let landed: string | undefined;
    // With the sink idle, MongoDB-wire freezes and stock moves arrive: the sink's first write waits on the server.
    s.stack.freeze('mongo-wire');
    try {
      await s.feed(s.erp.stockMoves(400));
      for (let step = 1; step <= STEPS && landed === undefined; step++) {
        let request = 0;
        await waitUntil(
          () => (request = queued('request')) >= WRITE_BYTES,
          'a write of the sink to wait on the frozen MongoDB-wire server',
          60_000,
          20,
        );
        // One request of the sink at a time: freeze the sink, let the server answer it, look at the read models.
        sink.freeze();
        s.stack.thaw('mongo-wire');
        let reply = 0;
        await waitUntil(
          () => (reply = queued('reply')) > 0,
          "MongoDB-wire's answer in the frozen sink's socket",
          15_000,
          20,
        );
        const proof = await appliedBeyondCommit(s.kafka, s.config);
        if (proof.applied >= proof.committed) {
          const killedAt = await sink.kill();
          landed =
            `${killedAt.toISOString()}, at the sink's MongoDB request ${step}: a ${request}-byte write answered ` +
            `(${reply}-byte acknowledgement unread); the read models hold ${proof.partition}@${proof.applied}, ` +
            `the sink group's committed offset stayed ${proof.committed}`;
        } else {
          s.stack.freeze('mongo-wire');
          sink.thaw();
        }
      }
    } finally {
      s.stack.thaw('mongo-wire');
    }
    expect(landed, `the kill to land after an acknowledged write within ${STEPS} requests`).toBeDefined();

    // A process kill: the supervisor starts the sink again.
    const restarted = s.worker('sink-restarted', 'sink');
    const result = await endCheck({
      report: {
        name: '2 sink killed after MongoDB ack, before offset commit',
        fault: 'SIGKILL of the sink worker',
        landed: landed!,
      },
      config: s.config,
      erp: s.erp,
      running: [transform, restarted],
    });
    expectClean(result);
  });
});
