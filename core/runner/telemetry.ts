/**
 * What the runners report for metrics, as a narrow port: the runners call
 * these methods and know nothing of Prometheus. `core/observability/metrics.ts`
 * implements it; {@link NO_TELEMETRY} is the default, so a runner built
 * without metrics (unit tests, tools) reports nowhere.
 *
 * The runners report into a {@link TelemetryTally} per batch attempt and
 * replay it into the real telemetry only when the attempt commits, so a
 * retried batch is reported once, exactly like its `Counters`.
 */

/** Which runner consumed a record. */
export type RunnerRole = 'transform' | 'sink';

/**
 * What became of the records a stage or sink was handed: `in` every record
 * (or event) handed to it, `out` events emitted (stages) or applied (sinks),
 * `skipped` skips (stages) or stale events (sinks), `failed` records
 * dead-lettered.
 */
export type StageOutcome = 'in' | 'out' | 'skipped' | 'failed';

/** An event a sink's acknowledged write covered: its version and when its source committed it. */
export type AcknowledgedEvent = {
  /** Fixed-width, so the newest is the greatest string (see `core/position.ts`). */
  readonly sourcePosition: string;
  /** Epoch milliseconds. */
  readonly sourceCommittedAt: number;
};

/** The runners' view of metrics. Every method takes whole counts; none throws. */
export type RunnerTelemetry = {
  /** `count` records of `topic` consumed and committed by the role's runner. */
  sourceRecords(role: RunnerRole, topic: string, count: number): void;
  /** `count` records of a stage (or events of a sink) ended with `outcome`. */
  stageRecords(stage: string, outcome: StageOutcome, count: number): void;
  /** `count` canonical events of `eventType` published to `topic`. */
  canonicalEvents(topic: string, eventType: string, count: number): void;
  /** A record of `topic` dead-lettered by `stage` (`decode`, a stage or a sink) for an error of class `reason`. */
  deadLetter(topic: string, stage: string, reason: string): void;
  /** One acknowledged write of a sink's batch took `seconds`. */
  sinkWrite(readModel: string, seconds: number): void;
  /** A sink's write covering `events` (none rejected) was acknowledged at `acknowledgedAt`. */
  sinkApplied(readModel: string, events: readonly AcknowledgedEvent[], acknowledgedAt: Date): void;
  /** A sink's write lost `rounds` compare-and-set rounds to concurrent writers, and redid them. */
  sinkContention(readModel: string, rounds: number): void;
};

/** Reports nowhere. */
export const NO_TELEMETRY: RunnerTelemetry = {
  sourceRecords: () => {},
  stageRecords: () => {},
  canonicalEvents: () => {},
  deadLetter: () => {},
  sinkWrite: () => {},
  sinkApplied: () => {},
  sinkContention: () => {},
};

/** Telemetry of one batch attempt, held back until {@link TelemetryTally.commitTo}. */
export type TelemetryTally = RunnerTelemetry & {
  /** Replays everything reported so far into `target`, in order. Call once, after the attempt committed. */
  commitTo(target: RunnerTelemetry): void;
};

/** A fresh tally for one batch attempt; an attempt that fails is simply dropped. */
export function createTelemetryTally(): TelemetryTally {
  const calls: ((target: RunnerTelemetry) => void)[] = [];
  return {
    sourceRecords: (role, topic, count) => calls.push((t) => t.sourceRecords(role, topic, count)),
    stageRecords: (stage, outcome, count) => calls.push((t) => t.stageRecords(stage, outcome, count)),
    canonicalEvents: (topic, eventType, count) => calls.push((t) => t.canonicalEvents(topic, eventType, count)),
    deadLetter: (topic, stage, reason) => calls.push((t) => t.deadLetter(topic, stage, reason)),
    sinkWrite: (readModel, seconds) => calls.push((t) => t.sinkWrite(readModel, seconds)),
    sinkApplied: (readModel, events, acknowledgedAt) =>
      calls.push((t) => t.sinkApplied(readModel, events, acknowledgedAt)),
    sinkContention: (readModel, rounds) => calls.push((t) => t.sinkContention(readModel, rounds)),
    commitTo(target) {
      for (const call of calls.splice(0)) call(target);
    },
  };
}
