import { afterAll, describe, expect, it } from 'vitest';
import { groupProgress, pipelineTopics } from '../integration/pipeline-harness.js';
import { canonicalEventIds, endCheck, expectClean, waitPipelineDone } from './harness/end-check.js';
import { fixtureScenario } from './harness/scenario.js';

// Scenario 12: lost offsets. After a complete run both consumer groups are deleted (an operator's mistake, or offsets
// expired under offsets.retention.minutes), and the workers start again: with no committed offsets they replay every
// source record from the start. The replay publishes every canonical event again (same deterministic ids, so each id
// now occurs exactly twice, and never more), the sinks find every one of them stale, and the read models are
// identical to an uninterrupted run's.

describe('scenario 12: lost offsets, the consumer groups deleted and everything replayed', () => {
  const s = fixtureScenario();

  afterAll(() => s.dispose());

  it('replays to identical read models; each event id twice, once per pass', async () => {
    await s.feed([...s.erp.snapshot(), ...s.erp.orders(12000, 6, 2), ...s.erp.stockMoves(800)]);
    const first = [s.worker('transform', 'transform'), s.worker('sink', 'sink')];
    await Promise.all(first.map((worker) => worker.ready()));
    await waitPipelineDone(s.kafka, s.config);
    const firstPass = await canonicalEventIds(s.kafka, s.config);
    for (const worker of first) expect(await worker.stop()).toBe(0);

    const admin = s.kafka.admin();
    await admin.connect();
    const groups = [s.config.transform.groupId, s.config.sink.groupId];
    try {
      await admin.deleteGroups(groups);
    } finally {
      await admin.disconnect();
    }
    const topics = pipelineTopics(s.config);
    const lost = [
      ...Object.values((await groupProgress(s.kafka, groups[0]!, topics.source)).committed),
      ...Object.values((await groupProgress(s.kafka, groups[1]!, topics.canonical)).committed),
    ];
    expect(new Set(lost)).toEqual(new Set(['-1']));
    const deletedAt = new Date();

    // Started again as a supervisor would; nothing tells them where they were.
    const second = [s.worker('transform-again', 'transform'), s.worker('sink-again', 'sink')];
    const result = await endCheck({
      report: {
        name: '12 lost offsets',
        fault: 'both consumer groups deleted after a complete run, workers started again',
        landed: `${deletedAt.toISOString()}: ${lost.length} committed offsets gone (all -1); ${firstPass.size} events replayed`,
      },
      config: s.config,
      erp: s.erp,
      running: second,
      expectedCount: (eventId, uninterrupted) => (firstPass.has(eventId) ? 2 * uninterrupted : uninterrupted),
    });
    expectClean(result);
  });
});
