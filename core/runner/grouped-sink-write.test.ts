import { describe, expect, it } from 'vitest';
import { type CanonicalEvent } from '../canonical.js';
import { SinkWriteError } from '../errors.js';
import { type Sink, type SinkWriteOutcome } from '../sink.js';
import { groupedSinkWrite } from './grouped-sink-write.js';

function event(id: string): CanonicalEvent {
  return { meta: { eventId: id, eventType: 'StockLevelChanged' } } as unknown as CanonicalEvent;
}

/** A sink that records each write's event ids and answers with `answer`, once `release` is called for it. */
function gatedSink(answer: (events: readonly CanonicalEvent[]) => SinkWriteOutcome) {
  const writes: string[] = [];
  const gates: (() => void)[] = [];
  const sink: Sink = {
    name: 'inventory_availability',
    input: ['StockLevelChanged'],
    requirements: { idempotent: true, keyed: true },
    write: async (events) => {
      writes.push(events.map((e) => e.meta.eventId).join(','));
      await new Promise<void>((resolve) => gates.push(resolve));
      return answer(events);
    },
  };
  return { sink, writes, release: () => gates.shift()!() };
}

/** Lets pending promise callbacks run. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('groupedSinkWrite', () => {
  it('writes the batches that come together in one write, and those that come meanwhile in the next', async () => {
    const [a1, b1, b2, c1, c2, c3] = ['a1', 'b1', 'b2', 'c1', 'c2', 'c3'].map(event);
    const refusal = new SinkWriteError('document too large', { retriable: false });
    const { sink, writes, release } = gatedSink((events) =>
      events.length === 1
        ? { applied: 1, stale: 0, rejected: [] }
        : // Of b1, b2, c1, c2, c3: c2 rejected, 3 applied, 1 stale (superseded within the write).
          { applied: 3, stale: 1, rejected: [{ event: c2!, error: refusal }], contention: 2 },
    );
    const write = groupedSinkWrite(sink);

    const first = write([a1!]);
    await settled();
    expect(writes).toEqual(['a1']);
    const second = write([b1!, b2!]);
    const third = write([c1!, c2!, c3!]);
    release();
    await first;
    await settled();
    expect(writes).toEqual(['a1', 'b1,b2,c1,c2,c3']);
    release();

    expect(await first).toEqual({ applied: 1, stale: 0, rejected: [] });
    expect(await second).toEqual({ applied: 2, stale: 0, rejected: [], contention: 2 });
    expect(await third).toEqual({ applied: 1, stale: 1, rejected: [{ event: c2, error: refusal }] });
  });

  it('fails every batch of a failed write, and writes the next group on its own', async () => {
    let fail = true;
    const { sink, writes, release } = gatedSink(() => {
      if (fail) throw new SinkWriteError('connection refused', { retriable: true });
      return { applied: 1, stale: 0, rejected: [] };
    });
    const write = groupedSinkWrite(sink);
    const both = [write([event('a1')]), write([event('b1')])];
    await settled();
    release();
    for (const outcome of both) await expect(outcome).rejects.toThrow('connection refused');
    fail = false;
    const again = write([event('b1')]);
    await settled();
    release();
    expect(await again).toEqual({ applied: 1, stale: 0, rejected: [] });
    expect(writes).toEqual(['a1,b1', 'b1']);
  });
});
