import { type Logger } from 'pino';
import { type CanonicalEvent, type CanonicalEventType } from './canonical.js';
import { type SinkWriteError } from './errors.js';

/** What a sink promises, as data the runner reads instead of guessing. */
export type SinkRequirements = {
  /** Writing the same events again changes nothing, so a whole batch may be retried. */
  readonly idempotent: boolean;
  /** Events must arrive partitioned by aggregate key (Kafka message key). */
  readonly keyed: boolean;
};

/** The outcome of one acknowledged batch. */
export type SinkWriteOutcome = {
  /** Events that changed a projection. */
  readonly applied: number;
  /** Events older than (or equal to) what the projection already holds: duplicates, replays, reordering. */
  readonly stale: number;
  /** Events the sink can never apply (e.g. a document the database refuses); the runner dead-letters them. */
  readonly rejected: readonly { readonly event: CanonicalEvent; readonly error: SinkWriteError }[];
  /**
   * Compare-and-set rounds the sink lost to concurrent writers of the same documents during this write and redid
   * under its contention policy (a bounded number of rounds, then a retriable failure). The runner counts them.
   */
  readonly contention?: number;
};

/** What a sink receives at creation. */
export type SinkContext = {
  readonly logger: Logger;
  /** Written into every projection's `_meta.pipelineVersion`. */
  readonly pipelineVersion: string;
  /** The clock for `_meta.appliedAt`; injectable so tests can assert exact documents. */
  readonly now: () => Date;
};

/**
 * A created sink.
 *
 * `write` resolves only after the database acknowledged every write of the
 * batch, so the runner may then commit the batch's offsets. It is guarded by
 * source position: a stale, duplicated or replayed event never overwrites
 * newer state. It throws a retriable `SinkWriteError` for transient failures
 * (the runner backs off and retries the whole batch) and never for bad events,
 * which come back in `rejected`.
 */
export type Sink = {
  readonly name: string;
  readonly input: readonly CanonicalEventType[];
  readonly requirements: SinkRequirements;
  write(events: readonly CanonicalEvent[]): Promise<SinkWriteOutcome>;
};
