import { type Logger } from 'pino';
import { type CanonicalEvent } from '../canonical.js';
import { ConfigError, DecodeError } from '../errors.js';
import { type Sink } from '../sink.js';
import { type BackoffConfig } from './backoff.js';
import { createCounters, type Counters } from './counters.js';
import { deadLetterFor, nextOffset } from './dead-letter.js';
import {
  type BatchControl,
  type OutputRecord,
  type PlainOutput,
  type RecordBatch,
  type SourceRecord,
} from './ports.js';
import { retryTransient } from './retry.js';

/** What the sink runner is built from; the composition root wires these. */
export type SinkRunnerDeps = {
  readonly decode: (record: SourceRecord) => Promise<CanonicalEvent>;
  readonly sinks: readonly Sink[];
  readonly output: PlainOutput;
  readonly deadLetterTopic: string;
  readonly backoff: BackoffConfig;
  readonly logger: Logger;
  readonly counters: Counters;
  readonly now?: () => Date;
};

/**
 * Handles one batch of canonical events: decode, hand each sink the events it
 * takes, dead-letter what can never be applied, and only then commit the
 * batch's offset. Sink writes resolve after MongoDB acknowledged them, so an
 * offset is never committed ahead of a durable write. Transient failures pause
 * the partition and retry the whole batch; sinks are idempotent and
 * position-guarded, so re-applying is harmless.
 *
 * Throws a `ConfigError` at creation when a sink is not idempotent.
 */
export function createSinkBatchHandler(deps: SinkRunnerDeps) {
  const now = deps.now ?? (() => new Date());
  for (const sink of deps.sinks) {
    if (!sink.requirements.idempotent) {
      throw new ConfigError(`Sink ${sink.name} is not idempotent; the runner retries whole batches and needs it to be`);
    }
  }

  async function attempt(batch: RecordBatch, tally: Counters): Promise<void> {
    const deadLetters: OutputRecord[] = [];
    const decoded: { event: CanonicalEvent; record: SourceRecord }[] = [];
    for (const record of batch.records) {
      try {
        decoded.push({ event: await deps.decode(record), record });
      } catch (error: unknown) {
        if (!(error instanceof DecodeError)) throw error;
        tally.add('records.dead_lettered.decode');
        deps.logger.warn(
          { topic: record.topic, partition: record.partition, offset: record.offset, stage: 'decode', err: error },
          'Dead-lettering a canonical record that cannot be decoded',
        );
        deadLetters.push(deadLetterFor(record, deps.deadLetterTopic, 'decode', error, now()));
      }
    }
    for (const sink of deps.sinks) {
      const mine = decoded.filter(({ event }) => sink.input.includes(event.meta.eventType));
      if (mine.length === 0) continue;
      const started = Date.now();
      const outcome = await sink.write(mine.map(({ event }) => event));
      tally.add(`sink.${sink.name}.applied`, outcome.applied);
      tally.add(`sink.${sink.name}.stale`, outcome.stale);
      deps.logger.debug(
        { stage: sink.name, topic: batch.topic, partition: batch.partition, ms: Date.now() - started, ...outcome },
        'Sink batch acknowledged',
      );
      for (const { event, error } of outcome.rejected) {
        const record = mine.find((entry) => entry.event === event)!.record;
        tally.add(`sink.${sink.name}.rejected`);
        tally.add(`records.dead_lettered.${sink.name}`);
        deps.logger.warn(
          {
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            stage: sink.name,
            eventId: event.meta.eventId,
            err: error,
          },
          'Dead-lettering an event the sink can never apply',
        );
        deadLetters.push(deadLetterFor(record, deps.deadLetterTopic, sink.name, error, now()));
      }
    }
    if (deadLetters.length > 0) await deps.output.send(deadLetters);
    await deps.output.commitOffset({
      topic: batch.topic,
      partition: batch.partition,
      offset: nextOffset(batch.records),
    });
  }

  return async function handleBatch(batch: RecordBatch, control: BatchControl): Promise<void> {
    if (batch.records.length === 0) return;
    await retryTransient(
      async () => {
        const tally = createCounters();
        await attempt(batch, tally);
        deps.counters.merge(tally);
        deps.counters.add('records.in', batch.records.length);
        deps.counters.add('batches.committed');
      },
      control,
      deps.backoff,
      (error, attemptNo, delayMs) => {
        deps.counters.add('batches.retried');
        deps.logger.warn(
          { topic: batch.topic, partition: batch.partition, err: error, attempt: attemptNo, delayMs },
          'Transient failure; partition paused, retrying the batch after backoff',
        );
      },
    );
  };
}
