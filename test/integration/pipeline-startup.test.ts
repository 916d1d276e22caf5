import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startPipeline } from '../../ops/pipeline.js';
import { SourceUnavailableError } from '../../core/errors.js';
import { isolatedPipelineConfig } from './pipeline-harness.js';

describe('pipeline start-up while Kafka is unreachable', () => {
  it('keeps retrying, then gives up with the last error once asked to stop', { timeout: 60_000 }, async () => {
    // Port 1 on the loopback refuses connections at once: a Kafka that is down.
    const config = isolatedPipelineConfig({
      kafka: { brokers: ['127.0.0.1:1'] },
      backoff: { initialMs: 100, maxMs: 200 },
      ops: { enabled: false },
    });
    const messages: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          messages.push(
            ...chunk
              .toString('utf8')
              .trim()
              .split('\n')
              .map((line) => String(JSON.parse(line).msg)),
          );
          done();
        },
      }),
    );
    let stopping = false;
    const started = startPipeline(config, 'all', logger, 'the test', { isStopping: () => stopping });
    const outcome = started.then(
      () => 'started',
      (error: unknown) => error,
    );
    // kafkajs spends a few seconds on its own retries before each of ours.
    await expect
      .poll(() => messages.includes('Kafka unavailable at start-up; retrying'), { timeout: 30_000 })
      .toBe(true);
    stopping = true;
    const error = await outcome;
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect((error as Error).message).toMatch(/^Kafka is unavailable: .*ECONNREFUSED 127\.0\.0\.1:1/);
  });
});
