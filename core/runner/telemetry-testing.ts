import { type RunnerTelemetry } from './telemetry.js';

/** One call a runner made on its telemetry: the method name, then its arguments. */
export type TelemetryCall = readonly [keyof RunnerTelemetry, ...unknown[]];

/** A telemetry that records every call in order, for tests asserting exactly what a runner reported. */
export function recordingTelemetry(): { readonly telemetry: RunnerTelemetry; readonly calls: TelemetryCall[] } {
  const calls: TelemetryCall[] = [];
  const record =
    (method: keyof RunnerTelemetry) =>
    (...args: unknown[]) => {
      calls.push([method, ...args]);
    };
  return {
    calls,
    telemetry: {
      sourceRecords: record('sourceRecords'),
      stageRecords: record('stageRecords'),
      canonicalEvents: record('canonicalEvents'),
      deadLetter: record('deadLetter'),
      sinkWrite: record('sinkWrite'),
      sinkApplied: record('sinkApplied'),
      sinkContention: record('sinkContention'),
    },
  };
}
