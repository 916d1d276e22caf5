import { describe, expect, it } from 'vitest';
import { SourceUnavailableError, TransformError } from '../errors.js';
import { type BatchControl } from './ports.js';
import { retryTransient, ShutdownDuringRetryError } from './retry.js';

const backoff = { initialMs: 1, maxMs: 2, multiplier: 2 };

function control(running: () => boolean = () => true) {
  const events: string[] = [];
  const batchControl: BatchControl = {
    heartbeat: async () => {},
    isRunning: running,
    abandoned: new AbortController().signal,
    pause: () => events.push('pause'),
    resume: () => events.push('resume'),
  };
  return { events, batchControl };
}

describe('retryTransient', () => {
  it('never pauses a batch that succeeds at once', async () => {
    const { events, batchControl } = control();
    await expect(
      retryTransient(
        async () => 'done',
        batchControl,
        backoff,
        () => {},
      ),
    ).resolves.toBe('done');
    expect(events).toEqual([]);
  });

  it('pauses once while retrying transient failures and resumes once the work succeeds', async () => {
    const { events, batchControl } = control();
    let failures = 3;
    const retries: number[] = [];
    const result = await retryTransient(
      async () => {
        if (failures-- > 0) throw new SourceUnavailableError('Registry unreachable');
        return 'done';
      },
      batchControl,
      backoff,
      (_error, attempt) => retries.push(attempt),
    );
    expect(result).toBe('done');
    expect(retries).toEqual([0, 1, 2]);
    expect(events).toEqual(['pause', 'resume']);
  });

  it('resumes the partition when the worker stops during the backoff', async () => {
    let running = true;
    const { events, batchControl } = control(() => running);
    const pending = retryTransient(
      async () => {
        throw new SourceUnavailableError('Registry unreachable');
      },
      batchControl,
      { initialMs: 50, maxMs: 50, multiplier: 1 },
      () => {
        running = false;
      },
    );
    await expect(pending).rejects.toBeInstanceOf(ShutdownDuringRetryError);
    expect(events).toEqual(['pause', 'resume']);
  });

  it('resumes the partition when a retried attempt fails for good, and throws that failure unretried', async () => {
    const { events, batchControl } = control();
    let attempts = 0;
    const fatal = new TransformError('Stage order_header threw: boom');
    const pending = retryTransient(
      async () => {
        if (attempts++ === 0) throw new SourceUnavailableError('Kafka is unavailable: connection refused');
        throw fatal;
      },
      batchControl,
      backoff,
      () => {},
    );
    await expect(pending).rejects.toBe(fatal);
    expect(attempts).toBe(2);
    expect(events).toEqual(['pause', 'resume']);
  });
});
