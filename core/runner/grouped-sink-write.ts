import { type CanonicalEvent } from '../canonical.js';
import { type Sink, type SinkWriteOutcome } from '../sink.js';
import { createGroupQueue } from './group-queue.js';

/**
 * A sink's `write`, grouped: batches of other partitions whose events come
 * while a write is under way wait for it, then go to the sink together in
 * one write. Sinks keep the newest event per document and guard by
 * version, so events of several partitions (distinct keys) may be written
 * together in any order. A failed write fails every batch in it, and each
 * is retried on its own.
 *
 * Each batch gets its own outcome: the events the sink rejected of its own,
 * and a share of the write's `applied` and `stale` counts, which the sink
 * reports for the write as a whole: in order, each batch counts its events
 * the sink did not reject as applied while the write's applied count lasts,
 * then as stale. The totals are the sink's; contention goes to the first
 * batch.
 */
export function groupedSinkWrite(sink: Sink): (events: readonly CanonicalEvent[]) => Promise<SinkWriteOutcome> {
  const queue = createGroupQueue<readonly CanonicalEvent[], SinkWriteOutcome>(async (group) => {
    const outcome = await sink.write(group.flatMap((pending) => pending.item));
    let applied = outcome.applied;
    for (const [index, pending] of group.entries()) {
      const mine = new Set(pending.item);
      const rejected = outcome.rejected.filter(({ event }) => mine.has(event));
      const kept = pending.item.length - rejected.length;
      const share = Math.min(applied, kept);
      applied -= share;
      pending.resolve({
        applied: share,
        stale: kept - share,
        rejected,
        ...(index === 0 && outcome.contention !== undefined ? { contention: outcome.contention } : {}),
      });
    }
  });
  return (events) => queue.add(events);
}
