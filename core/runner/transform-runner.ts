import { type Logger } from 'pino';
import { type CanonicalEvent } from '../canonical.js';
import { type TableRef } from '../envelope.js';
import { DecodeError, isRetriable, PipelineError, RecordTooLargeError, TransformError } from '../errors.js';
import { type Stage, type StageResult } from '../stage.js';
import { throwIfAbandoned, unlessAbandoned } from './abandon.js';
import { type BackoffConfig } from './backoff.js';
import { createCounters, type Counters } from './counters.js';
import { batchEndOffset, deadLetterFor } from './dead-letter.js';
import { batchLocation, recordLocation } from './log-fields.js';
import {
  type BatchControl,
  type DecodedSourceRecord,
  type OutputRecord,
  type RecordBatch,
  type SourceRecord,
  type TransactionalOutput,
} from './ports.js';
import { retryTransient } from './retry.js';
import {
  createTelemetryTally,
  NO_TELEMETRY,
  type RunnerTelemetry,
  type StageOutcome,
  type TelemetryTally,
} from './telemetry.js';

/** What the transform runner is built from; the composition root wires these. */
export type TransformRunnerDeps = {
  readonly decode: (record: SourceRecord) => Promise<DecodedSourceRecord>;
  /** The stages that read a change's table (see `stageRouter`); none means the record passes through untouched. */
  readonly stagesFor: (table: TableRef) => readonly Stage[];
  readonly encode: (event: CanonicalEvent) => Promise<OutputRecord>;
  readonly output: TransactionalOutput;
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
 * Handles one batch of Debezium records: decode, route to stages, encode the
 * canonical events, and publish them together with dead letters and the
 * batch's offsets in one Kafka transaction. A change whose event can never
 * be published (its schema refuses it, or it is larger than its topic takes)
 * is dead-lettered under its stage. A transient failure (registry or
 * Kafka unreachable) aborts the attempt, pauses the partition and retries the
 * whole batch after a backoff, so nothing is committed for unapplied records
 * and nothing transient is dead-lettered. A batch abandoned at stop (see
 * `BatchControl.abandoned`) rejects with a `BatchAbandonedError` at once; if
 * its transaction was already committing, Kafka commits or aborts it whole.
 */
export function createTransformBatchHandler(deps: TransformRunnerDeps) {
  const now = deps.now ?? (() => new Date());
  const telemetry = deps.telemetry ?? NO_TELEMETRY;

  /** The dead letter of `record` for `stage`, tallied as such. */
  function deadLetter(record: SourceRecord, stage: string, error: Error, tally: AttemptTally): OutputRecord {
    tally.counters.add(`records.dead_lettered.${stage}`);
    tally.telemetry.deadLetter(record.topic, stage, error.name);
    return deadLetterFor(record, deps.deadLetterTopic, stage, error, now());
  }

  /**
   * The outputs of one record. It logs through the batch's logger with the record's place in each line's own fields,
   * never through a child logger per record: pino builds (and redacts) a child's bindings when it is created, a cost
   * as large as decoding the record, while a line's fields cost only when the line is written. `debug` says whether
   * debug lines are written at all, so that none of their fields are built otherwise.
   */
  async function outputsFor(record: SourceRecord, tally: AttemptTally, debug: boolean): Promise<OutputRecord[]> {
    const log = deps.logger;
    let decoded: DecodedSourceRecord;
    try {
      decoded = await deps.decode(record);
    } catch (error: unknown) {
      if (error instanceof DecodeError) {
        log.warn({ ...recordLocation(record, 'decode'), err: error }, 'Dead-lettering a record that cannot be decoded');
        return [deadLetter(record, 'decode', error, tally)];
      }
      throw error;
    }
    if (decoded.kind === 'ignored') {
      tally.counters.add(`records.ignored.${decoded.reason}`);
      if (debug) log.debug({ ...recordLocation(record, 'decode'), reason: decoded.reason }, decoded.detail);
      return [];
    }
    if (decoded.kind === 'tombstone') {
      // Debezium follows every delete with a tombstone for log compaction; the delete itself carried the change.
      tally.counters.add('records.tombstones');
      return [];
    }
    const stages = deps.stagesFor(decoded.event.table);
    if (stages.length === 0) tally.counters.add('records.unrouted');
    const outputs: OutputRecord[] = [];
    for (const stage of stages) {
      const result = applyStage(stage, decoded.event);
      countStage(tally, stage.name, 'in');
      if (result.kind === 'emit') {
        const encoded = await encodeAll(result.events);
        if ('refused' in encoded) {
          // An event its schema or its topic refuses can never be published: dead-letter the record, keep going.
          countStage(tally, stage.name, 'failed');
          log.warn(
            {
              ...recordLocation(record, stage.name),
              eventId: encoded.refused.meta.eventId,
              eventType: encoded.refused.meta.eventType,
              err: encoded.error,
            },
            encoded.error instanceof RecordTooLargeError
              ? 'Dead-lettering a change whose event is too large to produce'
              : 'Dead-lettering a change whose events do not fit their schema',
          );
          outputs.push(deadLetter(record, stage.name, encoded.error, tally));
          continue;
        }
        outputs.push(...encoded.records);
        for (const [index, event] of result.events.entries()) {
          tally.telemetry.canonicalEvents(encoded.records[index]!.topic, event.meta.eventType, 1);
          if (debug) {
            log.debug(
              { ...recordLocation(record, stage.name), eventId: event.meta.eventId, eventType: event.meta.eventType },
              'Emitted canonical event',
            );
          }
        }
        countStage(tally, stage.name, 'out', result.events.length);
      } else if (result.kind === 'skip') {
        countStage(tally, stage.name, 'skipped');
        if (debug) {
          log.debug({ ...recordLocation(record, stage.name), reason: result.reason }, 'Stage skipped the change');
        }
      } else {
        countStage(tally, stage.name, 'failed');
        log.warn(
          { ...recordLocation(record, stage.name), err: result.error },
          'Dead-lettering a change the stage rejected',
        );
        outputs.push(deadLetter(record, stage.name, result.error, tally));
      }
    }
    return outputs;
  }

  /**
   * Encodes all events of one stage result, each checked to fit a produce request, or names the event a
   * non-retriable error refused (its schema, or its size), and the error.
   */
  async function encodeAll(
    events: readonly CanonicalEvent[],
  ): Promise<{ records: OutputRecord[] } | { refused: CanonicalEvent; error: PipelineError }> {
    const records: OutputRecord[] = [];
    for (const event of events) {
      try {
        const record = await deps.encode(event);
        await deps.output.ensureFits(record);
        records.push(record);
      } catch (error: unknown) {
        if (error instanceof PipelineError && !error.retriable) return { refused: event, error };
        throw error;
      }
    }
    return { records };
  }

  return async function handleBatch(batch: RecordBatch, control: BatchControl): Promise<void> {
    if (batch.records.length === 0) return;
    const offset = { topic: batch.topic, partition: batch.partition, offset: batchEndOffset(batch) };
    const retrying = retryTransient(
      async () => {
        // Counted only once the attempt commits, so retried batches are not counted twice.
        const tally: AttemptTally = { counters: createCounters(), telemetry: createTelemetryTally() };
        const outputs: OutputRecord[] = [];
        const debug = deps.logger.isLevelEnabled('debug');
        for (const record of batch.records) outputs.push(...(await outputsFor(record, tally, debug)));
        // Records that complete after the batch was abandoned at stop must not be committed.
        throwIfAbandoned(control.abandoned, batch);
        await deps.output.commit(outputs, offset);
        deps.counters.merge(tally.counters);
        deps.counters.add('records.in', batch.records.length);
        deps.counters.add('batches.committed');
        tally.telemetry.sourceRecords('transform', batch.topic, batch.records.length);
        tally.telemetry.commitTo(telemetry);
      },
      control,
      deps.backoff,
      (error, attempt, delayMs) => {
        deps.counters.add('batches.retried');
        deps.logger.warn(
          { ...batchLocation(batch), err: error, attempt, delayMs },
          'Transient failure; partition paused, retrying the batch after backoff',
        );
      },
    );
    await unlessAbandoned(retrying, control.abandoned, batch);
  };
}

/** Counts a stage outcome in both the counters (`stage.<name>.<outcome>`) and the telemetry. */
function countStage(tally: AttemptTally, stage: string, outcome: StageOutcome, count = 1): void {
  tally.counters.add(`stage.${stage}.${outcome}`, count);
  tally.telemetry.stageRecords(stage, outcome, count);
}

/**
 * Applies a stage as the runner does: a stage that throws (a bug) fails only the record with a `TransformError`, so
 * it is dead-lettered, never retried; a retriable error is rethrown.
 */
export function applyStage(stage: Stage, event: Parameters<Stage['apply']>[0]): StageResult {
  try {
    return stage.apply(event);
  } catch (error: unknown) {
    if (isRetriable(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return {
      kind: 'fail' as const,
      error: new TransformError(`Stage ${stage.name} threw: ${message}`, { cause: error, stage: stage.name }),
    };
  }
}
