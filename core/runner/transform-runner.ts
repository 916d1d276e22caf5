import { type Logger } from 'pino';
import { type CanonicalEvent } from '../canonical.js';
import { DecodeError, isRetriable, PipelineError, TransformError } from '../errors.js';
import { type Stage } from '../stage.js';
import { type BackoffConfig } from './backoff.js';
import { createCounters, type Counters } from './counters.js';
import { deadLetterFor, nextOffset } from './dead-letter.js';
import {
  type BatchControl,
  type DecodedSourceRecord,
  type OutputRecord,
  type RecordBatch,
  type SourceRecord,
  type TransactionalOutput,
} from './ports.js';
import { retryTransient } from './retry.js';

/** What the transform runner is built from; the composition root wires these. */
export type TransformRunnerDeps = {
  readonly decode: (record: SourceRecord) => Promise<DecodedSourceRecord>;
  /** The stages for a logical table name; none means the record passes through untouched. */
  readonly stagesFor: (table: string) => readonly Stage[];
  readonly encode: (event: CanonicalEvent) => Promise<OutputRecord>;
  readonly output: TransactionalOutput;
  readonly deadLetterTopic: string;
  readonly backoff: BackoffConfig;
  readonly logger: Logger;
  readonly counters: Counters;
  readonly now?: () => Date;
};

/**
 * Handles one batch of Debezium records: decode, route to stages, encode the
 * canonical events, and publish them together with dead letters and the
 * batch's offsets in one Kafka transaction. A transient failure (registry or
 * Kafka unreachable) aborts the attempt, pauses the partition and retries the
 * whole batch after a backoff, so nothing is committed for unapplied records
 * and nothing transient is dead-lettered.
 */
export function createTransformBatchHandler(deps: TransformRunnerDeps) {
  const now = deps.now ?? (() => new Date());

  async function outputsFor(record: SourceRecord, tally: Counters): Promise<OutputRecord[]> {
    const log = deps.logger.child({ topic: record.topic, partition: record.partition, offset: record.offset });
    let decoded: DecodedSourceRecord;
    try {
      decoded = await deps.decode(record);
    } catch (error: unknown) {
      if (error instanceof DecodeError) {
        tally.add('records.dead_lettered.decode');
        log.warn({ stage: 'decode', err: error }, 'Dead-lettering a record that cannot be decoded');
        return [deadLetterFor(record, deps.deadLetterTopic, 'decode', error, now())];
      }
      throw error;
    }
    if (decoded.kind === 'ignored') {
      tally.add(`records.ignored.${decoded.reason}`);
      log.debug({ reason: decoded.reason }, decoded.detail);
      return [];
    }
    if (decoded.kind === 'tombstone') {
      // Debezium follows every delete with a tombstone for log compaction; the delete itself carried the change.
      tally.add('records.tombstones');
      return [];
    }
    const stages = deps.stagesFor(decoded.event.table.table);
    if (stages.length === 0) tally.add('records.unrouted');
    const outputs: OutputRecord[] = [];
    for (const stage of stages) {
      const stageLog = log.child({ stage: stage.name });
      const result = applyStage(stage, decoded.event);
      tally.add(`stage.${stage.name}.in`);
      if (result.kind === 'emit') {
        const encoded = await encodeAll(result.events);
        if (encoded instanceof PipelineError) {
          // An event its schema refuses is the stage's fault for this record: dead-letter the record, keep going.
          tally.add(`stage.${stage.name}.failed`);
          tally.add(`records.dead_lettered.${stage.name}`);
          stageLog.warn({ err: encoded }, 'Dead-lettering a change whose events do not fit their schema');
          outputs.push(deadLetterFor(record, deps.deadLetterTopic, stage.name, encoded, now()));
          continue;
        }
        outputs.push(...encoded);
        for (const event of result.events) {
          stageLog.debug({ eventId: event.meta.eventId, eventType: event.meta.eventType }, 'Emitted canonical event');
        }
        tally.add(`stage.${stage.name}.out`, result.events.length);
      } else if (result.kind === 'skip') {
        tally.add(`stage.${stage.name}.skipped`);
        stageLog.debug({ reason: result.reason }, 'Stage skipped the change');
      } else {
        tally.add(`stage.${stage.name}.failed`);
        tally.add(`records.dead_lettered.${stage.name}`);
        stageLog.warn({ err: result.error }, 'Dead-lettering a change the stage rejected');
        outputs.push(deadLetterFor(record, deps.deadLetterTopic, stage.name, result.error, now()));
      }
    }
    return outputs;
  }

  /** Encodes all events of one stage result, or returns the non-retriable error that refused one of them. */
  async function encodeAll(events: readonly CanonicalEvent[]): Promise<OutputRecord[] | PipelineError> {
    const encoded: OutputRecord[] = [];
    for (const event of events) {
      try {
        encoded.push(await deps.encode(event));
      } catch (error: unknown) {
        if (error instanceof PipelineError && !error.retriable) return error;
        throw error;
      }
    }
    return encoded;
  }

  return async function handleBatch(batch: RecordBatch, control: BatchControl): Promise<void> {
    if (batch.records.length === 0) return;
    const offset = { topic: batch.topic, partition: batch.partition, offset: nextOffset(batch.records) };
    await retryTransient(
      async () => {
        // Counted only once the attempt commits, so retried batches are not counted twice.
        const tally = createCounters();
        const outputs: OutputRecord[] = [];
        for (const record of batch.records) outputs.push(...(await outputsFor(record, tally)));
        await deps.output.commit(outputs, offset);
        deps.counters.merge(tally);
        deps.counters.add('records.in', batch.records.length);
        deps.counters.add('batches.committed');
      },
      control,
      deps.backoff,
      (error, attempt, delayMs) => {
        deps.counters.add('batches.retried');
        deps.logger.warn(
          { topic: batch.topic, partition: batch.partition, err: error, attempt, delayMs },
          'Transient failure; partition paused, retrying the batch after backoff',
        );
      },
    );
  };
}

/** A stage that throws (a bug) fails only the record: it is dead-lettered, never retried. */
function applyStage(stage: Stage, event: Parameters<Stage['apply']>[0]) {
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
