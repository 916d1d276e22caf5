import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { groupProgress, pipelineTopics } from '../integration/pipeline-harness.js';
import { endCheck, expectClean, kafkaTolerant } from './harness/end-check.js';
import { waitUntil } from './harness/fault-stack.js';
import { fixtureScenario } from './harness/scenario.js';

// Scenario 3: the Kafka broker is killed mid-stream and started again. It counts as mid-stream when, the moment
// before the kill, the transform group had committed some but not all source records and the sink group some
// canonical ones. The running workers must resume by themselves: no restart by hand.

const DOWN_MS = 20_000;

/** Records a group has committed over its topics, and the topics' end offsets. */
async function progress(s: ReturnType<typeof fixtureScenario>, group: string, topics: readonly string[]) {
  const { committed, ends } = await groupProgress(s.kafka, group, topics);
  const sum = (offsets: Record<string, string>) =>
    Object.values(offsets).reduce((total, offset) => total + Math.max(0, Number(offset)), 0);
  return { committed: sum(committed), end: sum(ends) };
}

describe('scenario 3: Kafka broker SIGKILL mid-stream, then restarted', () => {
  const s = fixtureScenario();

  afterAll(async () => {
    await s.stack.heal();
    await s.dispose();
  });

  it('the running workers resume by themselves: same read models, every event once, nothing dead-lettered', async () => {
    await s.feed([...s.erp.snapshot(), ...s.erp.orders(4000, 6, 2)]);
    const transform = s.worker('transform', 'transform');
    const sink = s.worker('sink', 'sink');
    await Promise.all([transform.ready(), sink.ready()]);
    await s.feed(s.erp.stockMoves(4000));

    const topics = pipelineTopics(s.config);
    let source = { committed: 0, end: 0 };
    let canonical = { committed: 0, end: 0 };
    await waitUntil(
      kafkaTolerant(async () => {
        source = await progress(s, s.config.transform.groupId, topics.source);
        canonical = await progress(s, s.config.sink.groupId, topics.canonical);
        return source.committed > 0 && source.committed < source.end && canonical.committed > 0;
      }),
      'both groups to be mid-stream',
      120_000,
      20,
    );
    const killed = await s.stack.kill('kafka');
    await sleep(DOWN_MS);
    expect([transform.running(), sink.running()], 'the workers stay up while Kafka is down').toEqual([true, true]);
    await s.stack.restart('kafka');

    const result = await endCheck({
      report: {
        name: '3 Kafka broker killed mid-stream',
        fault: `SIGKILL of the broker, down ${DOWN_MS / 1000} s, restarted`,
        landed:
          `${killed.at.toISOString()}: transform group at ${source.committed}/${source.end} source records, ` +
          `sink group at offset ${canonical.committed}/${canonical.end} of the canonical topics`,
      },
      config: s.config,
      erp: s.erp,
      running: [transform, sink],
    });
    expectClean(result);
  });
});
