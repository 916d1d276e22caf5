import { describe, expect, it } from 'vitest';
import { PipelineError } from '../errors.js';
import { BatchAbandonedError, throwIfAbandoned, unlessAbandoned } from './abandon.js';
import { type RecordBatch } from './ports.js';

const batch: RecordBatch = {
  topic: 'canonical.order.v1',
  partition: 2,
  records: ['40', '41', '42'].map((offset) => ({
    topic: 'canonical.order.v1',
    partition: 2,
    offset,
    key: null,
    value: null,
    headers: {},
    timestamp: '0',
  })),
};
const abandonedError = new BatchAbandonedError(
  'Abandoned batch canonical.order.v1[2] offsets 40 to 42 at stop; its offsets stay uncommitted',
  { topic: 'canonical.order.v1', partition: 2, offset: '40' },
);

describe('unlessAbandoned', () => {
  it('settles like the work while the batch is not abandoned', async () => {
    const signal = new AbortController().signal;
    await expect(unlessAbandoned(Promise.resolve('done'), signal, batch)).resolves.toBe('done');
    await expect(unlessAbandoned(Promise.reject(new Error('Write failed')), signal, batch)).rejects.toThrow(
      'Write failed',
    );
  });

  it('rejects once the batch is abandoned, while the work still runs', async () => {
    const abandon = new AbortController();
    const pending = unlessAbandoned(new Promise<never>(() => {}), abandon.signal, batch);
    abandon.abort();
    await expect(pending).rejects.toThrow(abandonedError);
  });

  it('rejects at once for a batch abandoned already', async () => {
    const abandon = new AbortController();
    abandon.abort();
    await expect(unlessAbandoned(Promise.resolve('done'), abandon.signal, batch)).rejects.toThrow(abandonedError);
  });
});

describe('BatchAbandonedError', () => {
  it('is a PipelineError that is never retried', () => {
    expect(abandonedError).toBeInstanceOf(PipelineError);
    expect(abandonedError.retriable).toBe(false);
  });
});

describe('throwIfAbandoned', () => {
  it('throws only once the batch is abandoned', () => {
    const abandon = new AbortController();
    expect(() => throwIfAbandoned(abandon.signal, batch)).not.toThrow();
    abandon.abort();
    expect(() => throwIfAbandoned(abandon.signal, batch)).toThrow(abandonedError);
  });
});
