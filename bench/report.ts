import { formatTable } from '../cli/table.js';
import { ratio, round } from './stats.js';

/**
 * The benchmark's report: the figures of one run as JSON (`--json FILE`) with
 * the top-level shape issue #10 fixed so that other tools can read it, and as
 * the table printed at the end of a run.
 */

/** The measured rows of `results`, in the order the table prints them. */
export const RESULT_NAMES = [
  'cdcSync',
  'cdcSyncTransform',
  'cdcSyncSink',
  'mongoKafkaConnector',
  'rawConsumeDecode',
  'rawBulkWrite',
] as const;

export type ResultName = (typeof RESULT_NAMES)[number];

/** What each row measures, as the table names it. */
export const RESULT_LABELS: Readonly<Record<ResultName, string>> = {
  cdcSync: 'cdc-sync run, all roles in one process',
  cdcSyncTransform: 'cdc-sync run --role transform',
  cdcSyncSink: 'cdc-sync run --role sink',
  mongoKafkaConnector: 'MongoDB Kafka sink connector (RdbmsHandler)',
  rawConsumeDecode: 'bound: kafkajs consume + Avro decode',
  rawBulkWrite: 'bound: driver bulk upserts of the final documents',
};

/**
 * One measured row. `eventsPerS` counts the workload's source changes per
 * wall-clock second until the last final document is visible (or, for a
 * stage alone, until its consumer group has committed the last record);
 * `cpuSPer1M` is the measured process's user + system CPU per million of
 * those changes, `serverCpuSPer1M` the same for each server. A row that could
 * not be measured has nulls and `error`.
 */
export type Measurement = {
  readonly eventsPerS: number | null;
  readonly cpuSPer1M: number | null;
  readonly peakRssMB: number | null;
  readonly seconds: number | null;
  readonly events: number;
  readonly serverCpuSPer1M: Readonly<Record<string, number>>;
  readonly processes?: number;
  readonly note?: string;
  readonly error?: string;
};

/** Freshness at a paced source rate: visible in MongoDB minus the source commit time. */
export type Freshness = {
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly rateEventsPerS: number | null;
  readonly seconds: number;
  readonly samples: number;
  /** Samples still not visible when the run ended. */
  readonly unresolved: number;
  readonly pollIntervalMs: number;
  readonly error?: string;
};

/** One scale-out run: `workersPerRole` transform and as many sink processes over `partitions` partitions. */
export type ScaleOutRow = {
  readonly workersPerRole: number;
  readonly partitions: number;
  readonly eventsPerS: number | null;
  readonly cpuSPer1M: number | null;
  /** The largest peak RSS of any one worker. */
  readonly peakRssMB: number | null;
  readonly seconds: number | null;
  readonly error?: string;
};

export type Ratios = {
  /** cdc-sync end to end over the connector, events/s. Target at least 2. */
  readonly cdcSyncVsConnector: number | null;
  /** cdc-sync end to end over min(consume+decode, bulk write), events/s. Target at least 0.5. */
  readonly cdcSyncVsBound: number | null;
  /** Transform CPU per event over bare consume+decode CPU per event. Target at most 3. */
  readonly transformCpuVsDecode: number | null;
};

/** The whole report. Its top-level keys are exactly those of issue #10. */
export type BenchReport = {
  readonly machine: Readonly<Record<string, unknown>>;
  readonly workload: Readonly<Record<string, unknown>>;
  readonly results: Readonly<Record<ResultName, Measurement>>;
  readonly freshness: Freshness;
  readonly scaleOut: readonly ScaleOutRow[];
  readonly ratios: Ratios;
};

/** The ratios of issue #10's targets, from the measured rows; null where a row is missing. */
export function computeRatios(results: Readonly<Record<ResultName, Measurement>>): Ratios {
  const bounds = [results.rawConsumeDecode.eventsPerS, results.rawBulkWrite.eventsPerS];
  const bound = bounds.some((value) => value === null) ? null : Math.min(...(bounds as number[]));
  return {
    cdcSyncVsConnector: nullable(ratio(results.cdcSync.eventsPerS, results.mongoKafkaConnector.eventsPerS)),
    cdcSyncVsBound: nullable(ratio(results.cdcSync.eventsPerS, bound)),
    transformCpuVsDecode: nullable(ratio(results.cdcSyncTransform.cpuSPer1M, results.rawConsumeDecode.cpuSPer1M)),
  };
}

/** One of issue #10's targets, and whether this run meets it. */
export type TargetCheck = { readonly target: string; readonly value: string; readonly met: boolean | null };

/** Issue #10's targets against this run's figures; `met` is null where a figure is missing. */
export function checkTargets(report: BenchReport): TargetCheck[] {
  const { ratios, freshness, results, scaleOut } = report;
  const rss = [
    results.cdcSync.peakRssMB,
    results.cdcSyncTransform.peakRssMB,
    results.cdcSyncSink.peakRssMB,
    ...scaleOut.map((row) => row.peakRssMB),
  ].filter((value): value is number => value !== null);
  const check = (target: string, value: number | null, met: (v: number) => boolean, unit = ''): TargetCheck => ({
    target,
    value: value === null ? 'n/a' : `${round(value)}${unit}`,
    met: value === null ? null : met(value),
  });
  return [
    check('end to end ≥ 2× the MongoDB Kafka connector', ratios.cdcSyncVsConnector, (v) => v >= 2, '×'),
    check('end to end ≥ 50% of min(consume+decode, bulk write)', ratios.cdcSyncVsBound, (v) => v >= 0.5, '×'),
    check('transform CPU ≤ 3× bare consume+decode per event', ratios.transformCpuVsDecode, (v) => v <= 3, '×'),
    check('p99 freshness ≤ 250 ms at half load', freshness.p99Ms, (v) => v <= 250, ' ms'),
    check('RSS ≤ 300 MB per worker', rss.length === 0 ? null : Math.max(...rss), (v) => v <= 300, ' MB'),
  ];
}

/**
 * The paths of every figure the report should have but lacks (null, not a
 * finite number, or a row with an error), e.g. `results.cdcSync.eventsPerS`.
 * Empty for a complete report; the quick run in CI fails on anything else.
 */
export function missingFigures(report: BenchReport): string[] {
  const missing: string[] = [];
  const need = (path: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) missing.push(path);
  };
  for (const key of ['machine', 'workload'] as const) {
    if (typeof report[key] !== 'object' || report[key] === null) missing.push(key);
  }
  for (const name of RESULT_NAMES) {
    const row = report.results[name];
    if (row === undefined) {
      missing.push(`results.${name}`);
      continue;
    }
    for (const field of ['eventsPerS', 'cpuSPer1M', 'peakRssMB'] as const) need(`results.${name}.${field}`, row[field]);
    if (row.error !== undefined) missing.push(`results.${name}.error`);
  }
  for (const field of ['p50Ms', 'p99Ms', 'rateEventsPerS'] as const)
    need(`freshness.${field}`, report.freshness[field]);
  if (report.scaleOut.length === 0) missing.push('scaleOut');
  report.scaleOut.forEach((row, i) => {
    for (const field of ['eventsPerS', 'cpuSPer1M', 'peakRssMB'] as const) need(`scaleOut[${i}].${field}`, row[field]);
  });
  for (const field of ['cdcSyncVsConnector', 'cdcSyncVsBound', 'transformCpuVsDecode'] as const) {
    need(`ratios.${field}`, report.ratios[field]);
  }
  return missing;
}

/** The report as the plain-text tables printed at the end of a run. */
export function formatReport(report: BenchReport): string {
  const servers = ['kafka', 'schemaRegistry', 'mongoWire'];
  const serverHeads = ['kafka', 'registry', 'mongo-wire'];
  const results = formatTable([
    ['WHAT', 'EVENTS/S', 'CPU-S/1M', ...serverHeads.map((name) => `${name} CPU-S/1M`), 'PEAK RSS MB', 'SECONDS'],
    ...RESULT_NAMES.map((name) => {
      const row = report.results[name];
      return [
        RESULT_LABELS[name],
        show(row.eventsPerS),
        show(row.cpuSPer1M),
        ...servers.map((server) => show(row.serverCpuSPer1M[server])),
        show(row.peakRssMB),
        show(row.seconds),
      ];
    }),
  ]);
  const notes = RESULT_NAMES.flatMap((name) => {
    const row = report.results[name];
    return row.note === undefined ? [] : [`  ${RESULT_LABELS[name]}: ${row.note}`];
  });
  const errors = RESULT_NAMES.flatMap((name) => {
    const row = report.results[name];
    return row.error === undefined ? [] : [`  ${RESULT_LABELS[name]}: ${row.error}`];
  });
  const { freshness } = report;
  const freshnessLine =
    `Freshness at ${show(freshness.rateEventsPerS)} events/s for ${freshness.seconds} s: ` +
    `p50 ${show(freshness.p50Ms)} ms, p99 ${show(freshness.p99Ms)} ms ` +
    `(${freshness.samples} samples, polled every ${freshness.pollIntervalMs} ms, ${freshness.unresolved} not visible at the end)` +
    (freshness.error === undefined ? '' : `; ${freshness.error}`);
  const scale = formatTable([
    ['WORKERS PER ROLE', 'PARTITIONS', 'EVENTS/S', 'CPU-S/1M (ALL WORKERS)', 'PEAK RSS MB (ONE WORKER)'],
    ...report.scaleOut.map((row) => [
      String(row.workersPerRole),
      String(row.partitions),
      show(row.eventsPerS) + (row.error === undefined ? '' : ` (${row.error})`),
      show(row.cpuSPer1M),
      show(row.peakRssMB),
    ]),
  ]);
  const targets = formatTable([
    ['TARGET (ISSUE #10)', 'THIS RUN', 'MET'],
    ...checkTargets(report).map((check) => [
      check.target,
      check.value,
      check.met === null ? 'n/a' : check.met ? 'yes' : 'no',
    ]),
  ]);
  return [
    results,
    ...(notes.length === 0 ? [] : ['', 'Notes:', ...notes]),
    ...(errors.length === 0 ? [] : ['', 'Rows that could not be measured:', ...errors]),
    '',
    freshnessLine,
    '',
    scale,
    '',
    targets,
  ].join('\n');
}

function show(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : String(round(value));
}

function nullable(value: number | undefined): number | null {
  return value === undefined ? null : value;
}
