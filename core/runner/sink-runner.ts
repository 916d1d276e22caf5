import { type Logger } from 'pino';
import { type CanonicalEvent } from '../canonical.js';
import { ConfigError, DecodeError } from '../errors.js';
import { type Sink } from '../sink.js';
import { throwIfAbandoned, unlessAbandoned } from './abandon.js';
import { type BackoffConfig } from './backoff.js';
import { createCounters, type Counters } from './counters.js';
import { batchEndOffset, deadLetterFor } from './dead-letter.js';
import { groupedSinkWrite } from './grouped-sink-write.js';
import {
  type BatchControl,
  type OutputRecord,
  type PlainOutput,
  type RecordBatch,
  type SourceRecord,
} from './ports.js';
import { batchLocation, recordLocation } from './log-fields.js';
import { retryTransient } from './retry.js';
import { createTelemetryTally, NO_TELEMETRY, type RunnerTelemetry, type TelemetryTally } from './telemetry.js';

/** What the sink runner is built from; the composition root wires these. */
export type SinkRunnerDeps = {
  readonly decode: (record: SourceRecord) => Promise<CanonicalEvent>;
  readonly sinks: readonly Sink[];
  readonly output: PlainOutput;
  readonly deadLetterTopic: string;
  readonly backoff: BackoffConfig;
  readonly logger: Logger;
  readonly counters: Counters;
  /** Where committed batches are reported for metrics; nowhere by default. */
  readonly telemetry?: RunnerTelemetry;
  readonly now?: () => Date;
};

/** What one batch attempt tallies; published only when the attempt commits. */
type AttemptTally = { readonly counters: Counters; readonly telemetry: TelemetryTally };

/**
 * Handles one batch of canonical events: decode, hand each sink the events it
 * takes (together with those of batches of other partitions handled at the
 * same time, see {@link groupedSinkWrite}), dead-letter what can never be
 * applied, and only then commit the batch's offset. Sink writes resolve after
 * MongoDB acknowledged them, so an offset is never committed ahead of a
 * durable write. Transient failures pause the partition and retry the whole
 * batch; sinks are idempotent and position-guarded, so re-applying is
 * harmless. A batch abandoned at stop (see `BatchControl.abandoned`) rejects
 * with a `BatchAbandonedError` at once and commits nothing, even when its
 * write completes later.
 *
 * Throws a `ConfigError` at creation when a sink is not idempotent.
 */
export function createSinkBatchHandler(deps: SinkRunnerDeps) {
  const now = deps.now ?? (() => new Date());
  const telemetry = deps.telemetry ?? NO_TELEMETRY;
  for (const sink of deps.sinks) {
    if (!sink.requirements.idempotent) {
      throw new ConfigError(`Sink ${sink.name} is not idempotent; the runner retries whole batches and needs it to be`);
    }
  }

  const writers = new Map(deps.sinks.map((sink) => [sink, groupedSinkWrite(sink)]));

  async function attempt(batch: RecordBatch, tally: AttemptTally, abandoned: AbortSignal): Promise<void> {
    const deadLetters: OutputRecord[] = [];
    const deadLetter = (record: SourceRecord, stage: string, error: Error) => {
      tally.counters.add(`records.dead_lettered.${stage}`);
      tally.telemetry.deadLetter(record.topic, stage, error.name);
      deadLetters.push(deadLetterFor(record, deps.deadLetterTopic, stage, error, now()));
    };
    const decoded: { event: CanonicalEvent; record: SourceRecord }[] = [];
    for (const record of batch.records) {
      try {
        decoded.push({ event: await deps.decode(record), record });
      } catch (error: unknown) {
        if (!(error instanceof DecodeError)) throw error;
        deps.logger.warn(
          { ...recordLocation(record, 'decode'), err: error },
          'Dead-lettering a canonical record that cannot be decoded',
        );
        deadLetter(record, 'decode', error);
      }
    }
    for (const sink of deps.sinks) {
      const mine = decoded.filter(({ event }) => sink.input.includes(event.meta.eventType));
      if (mine.length === 0) continue;
      const started = performance.now();
      const outcome = await writers.get(sink)!(mine.map(({ event }) => event));
      const seconds = (performance.now() - started) / 1000;
      const acknowledgedAt = now();
      tally.counters.add(`sink.${sink.name}.applied`, outcome.applied);
      tally.counters.add(`sink.${sink.name}.stale`, outcome.stale);
      tally.telemetry.stageRecords(sink.name, 'in', mine.length);
      tally.telemetry.stageRecords(sink.name, 'out', outcome.applied);
      tally.telemetry.stageRecords(sink.name, 'skipped', outcome.stale);
      tally.telemetry.stageRecords(sink.name, 'failed', outcome.rejected.length);
      tally.telemetry.sinkWrite(sink.name, seconds);
      if ((outcome.contention ?? 0) > 0) {
        tally.counters.add(`sink.${sink.name}.contention`, outcome.contention!);
        tally.telemetry.sinkContention(sink.name, outcome.contention!);
      }
      deps.logger.debug(
        {
          stage: sink.name,
          ...batchLocation(batch),
          ms: Math.round(seconds * 1000),
          applied: outcome.applied,
          stale: outcome.stale,
          rejected: outcome.rejected.length,
        },
        'Sink batch acknowledged',
      );
      const rejected = new Set(outcome.rejected.map(({ event }) => event));
      tally.telemetry.sinkApplied(
        sink.name,
        mine.filter(({ event }) => !rejected.has(event)).map(({ event }) => event.meta),
        acknowledgedAt,
      );
      for (const { event, error } of outcome.rejected) {
        const record = mine.find((entry) => entry.event === event)!.record;
        tally.counters.add(`sink.${sink.name}.rejected`);
        deps.logger.warn(
          {
            ...recordLocation(record, sink.name),
            eventId: event.meta.eventId,
            eventType: event.meta.eventType,
            err: error,
          },
          'Dead-lettering an event the sink can never apply',
        );
        deadLetter(record, sink.name, error);
      }
    }
    // A write that completes after the batch was abandoned at stop must not move the offset.
    throwIfAbandoned(abandoned, batch);
    if (deadLetters.length > 0) await deps.output.send(deadLetters);
    throwIfAbandoned(abandoned, batch);
    await deps.output.commitOffset({
      topic: batch.topic,
      partition: batch.partition,
      offset: batchEndOffset(batch),
    });
  }

  return async function handleBatch(batch: RecordBatch, control: BatchControl): Promise<void> {
    if (batch.records.length === 0) return;
    const retrying = retryTransient(
      async () => {
        // Counted only once the attempt commits, so retried batches are not counted twice.
        const tally: AttemptTally = { counters: createCounters(), telemetry: createTelemetryTally() };
        await attempt(batch, tally, control.abandoned);
        deps.counters.merge(tally.counters);
        deps.counters.add('records.in', batch.records.length);
        deps.counters.add('batches.committed');
        tally.telemetry.sourceRecords('sink', batch.topic, batch.records.length);
        tally.telemetry.commitTo(telemetry);
      },
      control,
      deps.backoff,
      (error, attemptNo, delayMs) => {
        deps.counters.add('batches.retried');
        deps.logger.warn(
          { ...batchLocation(batch), err: error, attempt: attemptNo, delayMs },
          'Transient failure; partition paused, retrying the batch after backoff',
        );
      },
    );
    await unlessAbandoned(retrying, control.abandoned, batch);
  };
}
