import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { pipelineTopics } from '../integration/pipeline-harness.js';
import { endCheck, expectClean, kafkaTolerant } from './harness/end-check.js';
import { type Worker } from './harness/workers.js';
import { fixtureScenario } from './harness/scenario.js';

// Scenario 7: rebalance churn. Source and canonical topics have 3 partitions; one transform and one sink worker run
// throughout while more transform and sink workers (each transform worker with a transactional id of its own) join
// and leave (SIGTERM) every few seconds, under a steady stream of ERP changes. Every join and leave rebalances a
// group mid-stream; partitions move between workers with batches in flight.

const PARTITIONS = 3;
const CHURN_STEPS = 10;
const STEP_MS = 4_000;

describe('scenario 7: rebalance churn, 3 partitions, workers joining and leaving under load', () => {
  const s = fixtureScenario({ kafka: { maxBytesPerPartition: 4096, topicPartitions: PARTITIONS } });

  afterAll(() => s.dispose());

  it('ends with the same read models and every event once', async () => {
    const topics = pipelineTopics(s.config);
    const admin = s.kafka.admin();
    await admin.connect();
    const seen = { transform: new Set<string>(), sink: new Set<string>() };
    const members = async () => {
      const { groups } = await admin.describeGroups([s.config.transform.groupId, s.config.sink.groupId]);
      for (const group of groups) {
        const into = group.groupId === s.config.transform.groupId ? seen.transform : seen.sink;
        for (const member of group.members) into.add(member.memberId);
      }
    };
    try {
      await admin.createTopics({
        topics: [...topics.source, ...topics.canonical].map((topic) => ({ topic, numPartitions: PARTITIONS })),
        waitForLeaders: true,
      });
      await s.feed([...s.erp.snapshot(), ...s.erp.orders(7000, 12, 1)]);
      const steady = [s.worker('transform', 'transform'), s.worker('sink', 'sink')];
      await Promise.all(steady.map((worker) => worker.ready()));

      const extra: Worker[] = [];
      const left: Worker[] = [];
      let joins = 0;
      const started = new Date();
      for (let step = 0; step < CHURN_STEPS; step++) {
        await s.feed([...s.erp.stockMoves(150), ...s.erp.orders(7100 + step * 10, 2)]);
        const role = step % 2 === 0 ? 'transform' : 'sink';
        const leaving = extra.findIndex((worker) => worker.role === role);
        if (leaving >= 0 && step % 4 >= 2) {
          const [worker] = extra.splice(leaving, 1);
          left.push(worker!);
          void worker!.stop();
        } else {
          const name = `${role}-churn-${step}`;
          extra.push(
            role === 'transform'
              ? s.worker(name, 'transform', undefined, {
                  transactionalId: `${s.config.transform.transactionalId}-${step}`,
                })
              : s.worker(name, 'sink'),
          );
          joins += 1;
        }
        await sleep(STEP_MS);
        await kafkaTolerant(async () => (await members(), true))();
      }
      for (const worker of extra.splice(0)) {
        left.push(worker);
        void worker.stop();
      }
      // Every worker that left did so cleanly.
      expect(await Promise.all(left.map((worker) => worker.exit))).toEqual(left.map(() => 0));
      expect(seen.transform.size, 'transform group members seen').toBeGreaterThan(2);
      expect(seen.sink.size, 'sink group members seen').toBeGreaterThan(2);

      const result = await endCheck({
        report: {
          name: '7 rebalance churn',
          fault: `${joins} workers joined and ${left.length} left over ${CHURN_STEPS} steps of ${STEP_MS / 1000} s, ${PARTITIONS} partitions`,
          landed:
            `${started.toISOString()} on: under a steady stream, ${seen.transform.size} transform and ` +
            `${seen.sink.size} sink group members seen`,
        },
        config: s.config,
        erp: s.erp,
        running: steady,
      });
      expectClean(result);
    } finally {
      await admin.disconnect();
    }
  });
});
