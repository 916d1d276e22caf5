import { type Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  type AcknowledgedEvent,
  type RunnerRole,
  type RunnerTelemetry,
  type StageOutcome,
} from '../runner/telemetry.js';

/**
 * The pipeline's Prometheus metrics, exactly as the metrics contract names
 * them (the dashboard parses these names: do not rename). Every pipeline
 * gets a registry of its own, never prom-client's global one, so several
 * pipelines in one process (tests) keep their numbers apart.
 *
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/
 */
export const METRIC = {
  sourceRecords: 'cdc_sync_source_records_total',
  stageRecords: 'cdc_sync_stage_records_total',
  canonicalEvents: 'cdc_sync_canonical_events_total',
  deadLetters: 'cdc_sync_dead_letters_total',
  sinkWriteSeconds: 'cdc_sync_sink_write_seconds',
  sinkContentionRounds: 'cdc_sync_sink_contention_rounds_total',
  freshnessSeconds: 'cdc_sync_freshness_seconds',
  readModelFreshnessSeconds: 'cdc_sync_read_model_freshness_seconds',
  readModelAsOfTimestampSeconds: 'cdc_sync_read_model_as_of_timestamp_seconds',
  readModelAsOfPositionInfo: 'cdc_sync_read_model_as_of_position_info',
  consumerLag: 'cdc_sync_consumer_lag',
  pausedPartitions: 'cdc_sync_paused_partitions',
  registryCacheRequests: 'cdc_sync_registry_cache_requests_total',
  orderMilestoneLatencySeconds: 'cdc_sync_order_milestone_latency_seconds',
  dependencyUp: 'cdc_sync_dependency_up',
  ready: 'cdc_sync_ready',
} as const;

/** Prefix of prom-client's default process metrics, e.g. `cdc_sync_process_cpu_seconds_total`. */
export const DEFAULT_METRICS_PREFIX = 'cdc_sync_';

/** Bucket bounds in seconds. Sink writes take milliseconds to seconds. */
export const SINK_WRITE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Source commit to read model: sub-second when live, hours or days when replaying or catching up. */
export const FRESHNESS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400, 604_800];
/** Business waits between order milestones: minutes to weeks. */
export const MILESTONE_LATENCY_BUCKETS = [
  60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 43_200, 86_400, 172_800, 345_600, 604_800, 1_209_600,
];

/** A dependency whose reachability readiness probes. */
export type DependencyName = 'kafka' | 'schema_registry' | 'mongodb';

/** One partition's consumer lag, as `connectors/kafka/consumer-lag.ts` reads it. */
export type ConsumerLagSample = {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  readonly lag: number;
};

/** One order's wait between two milestones, as `ops/read-side/milestone-latency.ts` computes it. */
export type MilestoneLatencySample = { readonly from: string; readonly to: string; readonly seconds: number };

/**
 * The metrics of one pipeline and the typed calls that feed them. The
 * runners see only its {@link RunnerTelemetry} part; the batch consumer its
 * `partitionPaused`; the decoders `registryCacheLookup`; readiness
 * `dependencyUp` and `ready`. Consumer lag and milestone latencies are read
 * when scraped, from the readers set with `readConsumerLagFrom` and
 * `readMilestoneLatenciesFrom`.
 */
export type PipelineMetrics = RunnerTelemetry & {
  readonly registry: Registry;
  /** The exposition format's content type, for the `/metrics` response. */
  readonly contentType: string;
  partitionPaused(group: string, topic: string, partition: number, paused: boolean): void;
  registryCacheLookup(result: 'hit' | 'miss'): void;
  dependencyUp(dependency: DependencyName, up: boolean): void;
  ready(ready: boolean): void;
  /**
   * Consumer lag is read from `reader` on every scrape and replaces the
   * previous values. A reader that fails keeps the last values (logged at
   * debug): Kafka being down shows in `cdc_sync_dependency_up`.
   */
  readConsumerLagFrom(reader: () => Promise<readonly ConsumerLagSample[]>): void;
  /**
   * Milestone latencies are read from `reader` on every scrape: the
   * histogram is reset and every sample observed again, so a replayed order
   * is never counted twice. `pairs` get a zero series even with no samples.
   * A reader that fails keeps the last histogram (logged at debug).
   */
  readMilestoneLatenciesFrom(
    reader: () => Promise<readonly MilestoneLatencySample[]>,
    pairs: readonly { readonly from: string; readonly to: string }[],
  ): void;
  /** The whole registry in the Prometheus text format, scrape-time readers refreshed first. */
  text(): Promise<string>;
};

/** Options of {@link createPipelineMetrics}. */
export type PipelineMetricsOptions = {
  /** Gets debug lines when a scrape-time reader fails. */
  readonly logger?: Logger;
  /** Whether to add prom-client's default process metrics (prefixed `cdc_sync_`). Default true. */
  readonly processMetrics?: boolean;
};

/** Creates a pipeline's registry with every metric of the contract, empty. */
export function createPipelineMetrics(options: PipelineMetricsOptions = {}): PipelineMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: DEFAULT_METRICS_PREFIX });
  const { counter, gauge, histogram } = metricFactories(registry);
  let lagReader: (() => Promise<readonly ConsumerLagSample[]>) | undefined;
  let latencyReader: (() => Promise<readonly MilestoneLatencySample[]>) | undefined;
  let latencyPairs: readonly { readonly from: string; readonly to: string }[] = [];

  const sourceRecords = counter(
    METRIC.sourceRecords,
    'Records consumed and committed per input topic: source topics for the transform role, canonical topics for the sink role',
    ['role', 'topic'],
  );
  const stageRecords = counter(
    METRIC.stageRecords,
    'Records per transform stage (in, out = events emitted, skipped, failed) and events per sink (in = handed to the sink, out = applied, skipped = stale, failed = rejected)',
    ['stage', 'outcome'],
  );
  const canonicalEvents = counter(
    METRIC.canonicalEvents,
    'Canonical events published by the transform role, per canonical topic and event type',
    ['topic', 'event_type'],
  );
  const deadLetters = counter(
    METRIC.deadLetters,
    'Dead-lettered records per topic of the record, stage (decode, a transform stage or a sink) and error class',
    ['topic', 'stage', 'reason'],
  );
  const sinkWriteSeconds = histogram(
    METRIC.sinkWriteSeconds,
    'Duration of each acknowledged sink batch write',
    ['read_model'],
    SINK_WRITE_BUCKETS,
  );
  const sinkContentionRounds = counter(
    METRIC.sinkContentionRounds,
    'Compare-and-set rounds a sink lost to concurrent writers of the same documents and redid',
    ['read_model'],
  );
  const freshnessSeconds = histogram(
    METRIC.freshnessSeconds,
    'Per applied event: time from its source commit to the acknowledged read model write',
    ['read_model'],
    FRESHNESS_BUCKETS,
  );
  const readModelFreshness = gauge(
    METRIC.readModelFreshnessSeconds,
    'Freshness of the newest write: time from the source commit of the newest event of the last acknowledged batch to its acknowledgement',
    ['read_model'],
  );
  const asOfTimestamp = gauge(
    METRIC.readModelAsOfTimestampSeconds,
    'Source commit time (epoch seconds) of the newest event applied to the read model',
    ['read_model'],
  );
  const asOfPosition = gauge(
    METRIC.readModelAsOfPositionInfo,
    'Always 1; the position label is the newest source position applied to the read model',
    ['read_model', 'position'],
  );
  const consumerLag = gauge(
    METRIC.consumerLag,
    'High watermark minus committed offset, per consumer group and partition; read when scraped',
    ['group', 'topic', 'partition'],
    () => refreshLag(),
  );
  const pausedPartitions = gauge(
    METRIC.pausedPartitions,
    '1 while the runner has paused the partition to back off from a transient failure, 0 otherwise',
    ['group', 'topic', 'partition'],
  );
  const registryCacheRequests = counter(
    METRIC.registryCacheRequests,
    'Schema lookups by id in the source decoder and the canonical codec: hit = known already, miss = asked the registry',
    ['result'],
  );
  const milestoneLatency = histogram(
    METRIC.orderMilestoneLatencySeconds,
    'Business time between two order milestones, over every order in the order view; recomputed when scraped',
    ['from', 'to'],
    MILESTONE_LATENCY_BUCKETS,
    () => refreshLatencies(),
  );
  const dependencyUp = gauge(
    METRIC.dependencyUp,
    '1 while the last readiness probe of the dependency succeeded, 0 otherwise',
    ['dependency'],
  );
  const ready = gauge(METRIC.ready, '1 while /readyz answers 200, 0 otherwise', []);
  ready.set(0);

  /** The newest applied position and commit time per read model; they only move forward. */
  const newest = new Map<string, { position: string; committedAt: number }>();

  /**
   * Replaces a scrape-time metric's values with what `reader` answers; a reader that fails keeps the last values,
   * logged at debug (the dependency behind it shows in `cdc_sync_dependency_up`).
   */
  async function refreshFrom<T>(
    reader: (() => Promise<T>) | undefined,
    replace: (samples: T) => void,
    what: string,
  ): Promise<void> {
    if (reader === undefined) return;
    try {
      replace(await reader());
    } catch (error: unknown) {
      options.logger?.debug({ err: error }, `Could not read ${what}; keeping the last values`);
    }
  }

  function refreshLag(): Promise<void> {
    return refreshFrom(
      lagReader,
      (samples) => {
        consumerLag.reset();
        for (const { group, topic, partition, lag } of samples) {
          consumerLag.set({ group, topic, partition: String(partition) }, lag);
        }
      },
      'consumer lag',
    );
  }

  function refreshLatencies(): Promise<void> {
    return refreshFrom(
      latencyReader,
      (samples) => {
        milestoneLatency.reset();
        for (const { from, to } of latencyPairs) milestoneLatency.zero({ from, to });
        for (const { from, to, seconds } of samples) milestoneLatency.observe({ from, to }, seconds);
      },
      'order milestone latencies',
    );
  }

  function sinkApplied(readModel: string, events: readonly AcknowledgedEvent[], acknowledgedAt: Date): void {
    if (events.length === 0) return;
    const ackMs = acknowledgedAt.getTime();
    let batchNewest: AcknowledgedEvent = events[0]!;
    for (const event of events) {
      freshnessSeconds.observe({ read_model: readModel }, (ackMs - event.sourceCommittedAt) / 1000);
      if (event.sourcePosition > batchNewest.sourcePosition) batchNewest = event;
    }
    const batchCommittedAt = Math.max(...events.map((event) => event.sourceCommittedAt));
    readModelFreshness.set({ read_model: readModel }, (ackMs - batchCommittedAt) / 1000);
    const previous = newest.get(readModel);
    const committedAt = Math.max(previous?.committedAt ?? -Infinity, batchCommittedAt);
    asOfTimestamp.set({ read_model: readModel }, committedAt / 1000);
    if (previous === undefined || batchNewest.sourcePosition > previous.position) {
      if (previous !== undefined) asOfPosition.remove({ read_model: readModel, position: previous.position });
      asOfPosition.set({ read_model: readModel, position: batchNewest.sourcePosition }, 1);
      newest.set(readModel, { position: batchNewest.sourcePosition, committedAt });
    } else {
      newest.set(readModel, { position: previous.position, committedAt });
    }
  }

  return {
    registry,
    contentType: registry.contentType,
    sourceRecords: (role: RunnerRole, topic, count) => sourceRecords.inc({ role, topic }, count),
    stageRecords: (stage, outcome: StageOutcome, count) => stageRecords.inc({ stage, outcome }, count),
    canonicalEvents: (topic, eventType, count) => canonicalEvents.inc({ topic, event_type: eventType }, count),
    deadLetter: (topic, stage, reason) => deadLetters.inc({ topic, stage, reason }),
    sinkWrite: (readModel, seconds) => sinkWriteSeconds.observe({ read_model: readModel }, seconds),
    sinkContention: (readModel, rounds) => sinkContentionRounds.inc({ read_model: readModel }, rounds),
    sinkApplied,
    partitionPaused: (group, topic, partition, paused) =>
      pausedPartitions.set({ group, topic, partition: String(partition) }, paused ? 1 : 0),
    registryCacheLookup: (result) => registryCacheRequests.inc({ result }),
    dependencyUp: (dependency, up) => dependencyUp.set({ dependency }, up ? 1 : 0),
    ready: (isReady) => ready.set(isReady ? 1 : 0),
    readConsumerLagFrom(reader) {
      lagReader = reader;
    },
    readMilestoneLatenciesFrom(reader, pairs) {
      latencyReader = reader;
      latencyPairs = pairs;
    },
    text: () => registry.metrics(),
  };
}

/**
 * Counters, gauges and histograms registered in `registry` only. `collect` runs before each scrape reads the metric
 * (prom-client awaits it), for values read when scraped.
 */
function metricFactories(registry: Registry) {
  const registers = [registry];
  return {
    counter: <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Counter<L>({ name, help, labelNames, registers }),
    gauge: <L extends string>(name: string, help: string, labelNames: readonly L[], collect?: () => Promise<void>) =>
      new Gauge<L>({ name, help, labelNames, registers, ...(collect === undefined ? {} : { collect }) }),
    histogram: <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      buckets: readonly number[],
      collect?: () => Promise<void>,
    ) =>
      new Histogram<L>({
        name,
        help,
        labelNames,
        buckets: [...buckets],
        registers,
        ...(collect === undefined ? {} : { collect }),
      }),
  };
}
