import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { endCheck, expectClean, waitPipelineDone } from './harness/end-check.js';
import { waitUntil } from './harness/fault-stack.js';
import { queuedBytes } from './harness/proofs.js';
import { fixtureScenario } from './harness/scenario.js';

// Scenario 9: a sink batch slower than the consumer session timeout. MongoDB-wire stalls: it is frozen, and thawed for
// a moment every 9 s, so that each request is answered late but within the driver's time-outs (a server that never
// answers fails the request after 10 s instead, and the runner heartbeats while it backs off, so with the default
// 30 s session timeout no batch gets that slow; the sink here runs with Kafka's shortest, 6 s). The stall starts while
// the sink's write waits on the server and lasts until the group coordinator has evicted the sink's member for missing
// its heartbeats. The worker must then rejoin its group and finish, not die quietly while the process stays up and
// /readyz says ready.

/** More than the driver's monitoring requests (hello, ping) take: a request this large is a write. */
const WRITE_BYTES = 512;
/** Kafka's shortest (group.min.session.timeout.ms): one request answered after a freeze takes longer. */
const SESSION_TIMEOUT_MS = 6_000;
/** The eviction must come well within this. */
const EVICTION_WITHIN_MS = 90_000;
/** Frozen this long, then thawed for {@link THAWED_MS}: under the driver's 10 s monitor and selection time-outs. */
const FROZEN_MS = 9_000;
const THAWED_MS = 15;

describe('scenario 9: a sink batch slower than the session timeout (MongoDB-wire stalled)', () => {
  const s = fixtureScenario({ kafka: { maxBytesPerPartition: 4096, sessionTimeoutMs: SESSION_TIMEOUT_MS } });

  afterAll(async () => {
    await s.stack.heal();
    await s.dispose();
  });

  it('the evicted sink rejoins and finishes: same read models, every event once, nothing dead-lettered', async () => {
    await s.feed([...s.erp.snapshot(), ...s.erp.orders(9000, 6, 2)]);
    const transform = s.worker('transform', 'transform');
    const sink = s.worker('sink', 'sink');
    await Promise.all([transform.ready(), sink.ready()]);
    await waitPipelineDone(s.kafka, s.config);
    const admin = s.kafka.admin();
    await admin.connect();
    try {
      const members = async () => {
        const [group] = (await admin.describeGroups([s.config.sink.groupId])).groups;
        return { state: group!.state, ids: group!.members.map((member) => member.memberId) };
      };
      const before = await members();
      expect(before.ids).toHaveLength(1);

      const mongoPort = s.stack.services['mongo-wire'].ports[0]!;
      const frozen = s.stack.freeze('mongo-wire');
      let request = 0;
      let evicted: { state: string; ids: string[] } | undefined;
      let evictedAt: Date | undefined;
      try {
        await s.feed(s.erp.orders(9100, 4));
        await waitUntil(
          () => (request = Math.max(0, ...queuedBytes(sink.pid, mongoPort).map((q) => q.request))) >= WRITE_BYTES,
          'a write of the sink to wait on the frozen MongoDB-wire server',
          60_000,
          20,
        );
        let stalling = true;
        const stall = (async () => {
          while (stalling) {
            await sleep(FROZEN_MS);
            if (!stalling) break;
            s.stack.thaw('mongo-wire');
            await sleep(THAWED_MS);
            s.stack.freeze('mongo-wire');
          }
        })();
        await waitUntil(
          async () => {
            const now = await members();
            if (now.ids.includes(before.ids[0]!)) return false;
            evicted = now;
            evictedAt = new Date();
            return true;
          },
          `the coordinator to evict sink member ${before.ids[0]} while its batch waits on MongoDB`,
          EVICTION_WITHIN_MS,
          500,
        ).finally(() => {
          stalling = false;
          return stall;
        });
      } finally {
        s.stack.thaw('mongo-wire');
      }
      expect(sink.running(), 'the evicted worker stays up').toBe(true);

      const result = await endCheck({
        report: {
          name: '9 sink batch slower than the session timeout',
          fault: `MongoDB-wire stalled (SIGSTOP, SIGCONT for ${THAWED_MS} ms every ${FROZEN_MS / 1000} s) until the group evicted the sink`,
          landed:
            `${frozen.at.toISOString()}: a ${request}-byte write waiting; member ${before.ids[0]} evicted at ` +
            `${evictedAt!.toISOString()} (group ${evicted!.state}, ${evicted!.ids.length} members), then thawed`,
        },
        config: s.config,
        erp: s.erp,
        running: [transform, sink],
      });
      expectClean(result);
      // Back in the group, and ready.
      const after = await members();
      expect(after.ids).toHaveLength(1);
      expect(after.ids[0]).not.toBe(before.ids[0]);
      expect((await fetch(`${await sink.opsUrl()}/readyz`)).status).toBe(200);
    } finally {
      await admin.disconnect();
    }
  });
});
