import { type CanonicalEvent } from '../../core/canonical.js';
import { type SinkWriteError } from '../../core/errors.js';
import { type SinkWriteOutcome } from '../../core/sink.js';

/**
 * Collects the events of one `write` that can never be applied, each once
 * (by object identity: the runner finds a rejected event's record that way),
 * and builds the {@link SinkWriteOutcome} that adds up to the batch.
 */
export class Rejections {
  private readonly byEvent = new Map<CanonicalEvent, SinkWriteError>();

  add(event: CanonicalEvent, error: SinkWriteError): void {
    if (!this.byEvent.has(event)) this.byEvent.set(event, error);
  }

  has(event: CanonicalEvent): boolean {
    return this.byEvent.has(event);
  }

  /**
   * `applied` is what the guarded writes matched; everything else not rejected
   * is stale. A write refused after an event's first write (a follow-up
   * update of the same document) rejects an event that may already count as
   * applied, so `applied` is capped to keep the three counts adding up.
   */
  outcome(total: number, applied: number, contention = 0): SinkWriteOutcome {
    const rejected = [...this.byEvent].map(([event, error]) => ({ event, error }));
    const countedApplied = Math.min(applied, total - rejected.length);
    return {
      applied: countedApplied,
      stale: total - countedApplied - rejected.length,
      rejected,
      ...(contention > 0 ? { contention } : {}),
    };
  }
}
