import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { endCheck, expectClean, waitPipelineDone } from './harness/end-check.js';
import { waitUntil } from './harness/fault-stack.js';
import { queuedBytes } from './harness/proofs.js';
import { fixtureScenario } from './harness/scenario.js';

// Scenario 5: the MongoDB-wire server is killed in the middle of a bulk write, stays down, and is started again.
// The server is frozen while stock moves arrive, so that the sink's bulk write reaches it and waits unread in its
// socket; the server is killed in that state, with the write neither applied nor refused. The running sink must ride
// out the outage on its own (retriable network errors, partition paused) and apply everything once the server is back.

/** More than the driver's monitoring requests (hello, ping) take: a request this large is a write. */
const WRITE_BYTES = 512;
const DOWN_MS = 15_000;

describe('scenario 5: MongoDB-wire SIGKILL mid bulk write, then restarted', () => {
  const s = fixtureScenario();

  afterAll(async () => {
    await s.stack.heal();
    await s.dispose();
  });

  it('the running sink resumes by itself: same read models, every event once, nothing dead-lettered', async () => {
    await s.feed([...s.erp.snapshot(), ...s.erp.orders(3000, 6, 2)]);
    const transform = s.worker('transform', 'transform');
    const sink = s.worker('sink', 'sink');
    await Promise.all([transform.ready(), sink.ready()]);
    await waitPipelineDone(s.kafka, s.config);

    const mongoPort = s.stack.services['mongo-wire'].ports[0]!;
    s.stack.freeze('mongo-wire');
    let request = 0;
    let killed: { pid: number; at: Date } | undefined;
    try {
      await s.feed(s.erp.stockMoves(400));
      await waitUntil(
        () => (request = Math.max(0, ...queuedBytes(sink.pid, mongoPort).map((q) => q.request))) >= WRITE_BYTES,
        'a bulk write of the sink to wait on the frozen MongoDB-wire server',
        60_000,
        20,
      );
      killed = await s.stack.kill('mongo-wire');
    } finally {
      if (killed === undefined) s.stack.thaw('mongo-wire');
    }
    // Meanwhile the ERP goes on: the sink must keep these too.
    await s.feed(s.erp.stockMoves(200));
    await sleep(DOWN_MS);
    expect(sink.running(), 'the sink stays up while MongoDB is down').toBe(true);
    await s.stack.restart('mongo-wire');

    const result = await endCheck({
      report: {
        name: '5 MongoDB-wire killed mid bulk write',
        fault: `SIGKILL of the MongoDB-wire server, down ${DOWN_MS / 1000} s, restarted`,
        landed: `${killed.at.toISOString()}: a ${request}-byte bulk write of the sink unread in the server's socket`,
      },
      config: s.config,
      erp: s.erp,
      running: [transform, sink],
    });
    expectClean(result);
  });
});
