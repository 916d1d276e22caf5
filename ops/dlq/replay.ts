import { randomUUID } from 'node:crypto';
import { type Kafka } from 'kafkajs';
import { type MongoClient } from 'mongodb';
import { type Logger } from 'pino';
import { type PipelineConfig } from '../pipeline-config.js';
import { ConfigError, DecodeError } from '../../core/errors.js';
import { createCounters, type Counters } from '../../core/runner/counters.js';
import {
  DEAD_LETTER_HEADERS,
  DECODE_STAGE,
  type DeadLetter,
  readDeadLetter,
  replayHeaders,
  replayRecordOf,
} from '../../core/runner/dead-letter.js';
import { type BatchControl, type OutputRecord, type SourceRecord } from '../../core/runner/ports.js';
import { createSinkBatchHandler } from '../../core/runner/sink-runner.js';
import { createTransformBatchHandler } from '../../core/runner/transform-runner.js';
import { type Sink } from '../../core/sink.js';
import { type ConfiguredStages, runsSink } from '../components.js';
import { type CanonicalRegistryCodec } from '../../connectors/canonical/registry.js';
import { type createSourceDecoder } from '../../connectors/debezium/source-decoder.js';
import { createBookmarkedOutput, fetchGroupOffsets, type GroupOffset } from '../../connectors/kafka/replay-output.js';
import {
  eachRecord,
  planRanges,
  type RangeProgress,
  readOffsetRanges,
  topicOffsets,
} from '../../connectors/kafka/bounded-reader.js';
import { sinks as sinkRegistry } from '../../sinks/index.js';
import { buildRuntime, type Runtime } from '../runtime.js';
import { advanceLedger, formatLedgerMetadata, isHandled, parseLedger, type ReplayLedger } from './replay-ledger.js';

/** What `cdc-sync dlq replay` replays and how. */
export type DlqReplayOptions = {
  /** Only dead letters of this original topic. */
  readonly topic?: string;
  /** Only dead letters of this stage: `decode`, a transform or a sink name. */
  readonly stage?: string;
  /** Only dead letters of this error class, e.g. `TransformError`. */
  readonly errorClass?: string;
  /** Read from this offset of every partition, replaying what was replayed before too. */
  readonly fromOffset?: string;
  /** Start over: read from the earliest offset, replaying what was replayed before too. */
  readonly fromBeginning?: boolean;
  /** Select and list, change nothing. */
  readonly dryRun?: boolean;
  /** A dead letter whose replays failed this often is no longer replayed. */
  readonly maxAttempts: number;
  /** Dead letters per Kafka transaction. Default 100. */
  readonly chunkSize?: number;
  readonly onProgress?: (progress: RangeProgress) => void;
  /** Polled between transactions and while waiting to retry; false stops after the current transaction. */
  readonly isRunning?: () => boolean;
};

/** One dead letter a replay sends back, in replay order. */
export type ReplayPlanEntry = {
  /** `<dead-letter topic>/<partition>/<offset>`. */
  readonly deadLetter: string;
  /** `<topic>[<partition>]@<offset>` of the original record. */
  readonly original: string;
  readonly stage: string;
  readonly errorClass: string;
  /** This replay's attempt number: 1 for a first dead letter. */
  readonly attempt: number;
};

/** What a replay did (or, with `dryRun`, would do). */
export type DlqReplaySummary = {
  readonly deadLetterTopic: string;
  readonly groupId: string;
  readonly dryRun: boolean;
  /** Dead letters read. */
  readonly read: number;
  /** Sent back through the current stages or sinks without failing again. */
  readonly replayed: number;
  /** Canonical events the replayed records produced. */
  readonly emitted: number;
  /** Canonical events the sinks applied; a sink counts an event older than its stored state as stale instead. */
  readonly reapplied: number;
  readonly stale: number;
  /** Dead-lettered again, with the replay count raised. */
  readonly failedAgain: number;
  /** Not replayed: their replays failed `maxAttempts` times. */
  readonly skippedMaxAttempts: number;
  /** Not replayed: an earlier replay dealt with them. */
  readonly alreadyReplayed: number;
  /** Left pending: outside `--topic`, `--stage` or `--error-class`. */
  readonly notSelected: number;
  /** Left pending: their stage or sink is not in the current config. */
  readonly stageMissing: number;
  /** Not replayed: a newer dead letter of the same record and stage was replayed instead. */
  readonly superseded: number;
  /** Not replayed: records of the topic without cdc-sync's dead-letter headers. */
  readonly unreadable: number;
  /** Offset ranges the ledger could not keep; their dead letters may be replayed again. */
  readonly ledgerRangesDropped: number;
  /** False when a stop signal ended the replay early; what was committed stays committed. */
  readonly complete: boolean;
  /** The selected dead letters in replay order. */
  readonly planned: readonly ReplayPlanEntry[];
};

/** The consumer group whose committed offsets record what replays of this dead-letter topic dealt with. */
export function replayGroupId(config: PipelineConfig): string {
  return `cdc-sync-dlq-replay.${config.topics.deadLetter}`;
}

/** A throwaway consumer group for one read of the dead-letter topic; it commits nothing and is deleted afterwards. */
export function deadLetterReaderGroup(): string {
  return `cdc-sync-dlq-reader-${randomUUID()}`;
}

/** The decoders a dead letter's original record needs, from the current config. */
export type RecordDecoders = {
  /** Whether a topic is one of the canonical topics (else it is a Debezium source topic). */
  readonly isCanonicalTopic: (topic: string) => boolean;
  readonly decodeSource: ReturnType<typeof createSourceDecoder>;
  readonly codec: CanonicalRegistryCodec;
};

/** The source decoder and the canonical codec of the runtime, exactly as the pipeline builds them. */
export function createRecordDecoders(runtime: Runtime): RecordDecoders {
  return { isCanonicalTopic: runtime.isCanonicalTopic, decodeSource: runtime.sourceDecoder(), codec: runtime.codec() };
}

/**
 * Replays dead letters through the current config's components.
 *
 * Reads the dead-letter topic from where the last replay left off (the
 * replay group's ledger; `fromOffset`/`fromBeginning` start elsewhere and
 * replay again what was replayed before) up to its end at the start. Selects
 * by original topic, stage and error class; skips dead letters whose replays
 * failed `maxAttempts` times; replays each original record once, in original
 * per-key order (topic, partition, offset):
 *
 * - a record of a Debezium topic goes through the source decoder and, when
 *   it failed in a transform stage, that stage as `createStages` builds it
 *   now; when it failed to decode, every stage of its table. Canonical
 *   events go to the canonical topics;
 * - a record of a canonical topic is re-applied through the sink that
 *   rejected it, as `createSinks` builds it now (every sink, when it failed
 *   to decode). It is not republished: only the failed sink sees it again,
 *   and the summary can say whether it failed again. The sinks' position
 *   guard keeps newer state safe;
 * - a record that fails again is dead-lettered again with the replay count
 *   raised, by the same runner code the pipeline uses.
 *
 * Every record a replay produces carries `cdc-sync.replay.count` and
 * `cdc-sync.replay.of`. Outputs, new dead letters and the ledger are
 * committed in one Kafka transaction per `chunkSize` dead letters; sink
 * writes are acknowledged before their transaction commits. Throws a
 * `ConfigError` when the dead-letter topic does not exist.
 */
export async function replayDeadLetters(
  config: PipelineConfig,
  origin: string,
  logger: Logger,
  options: DlqReplayOptions,
): Promise<DlqReplaySummary> {
  const deadLetterTopic = config.topics.deadLetter;
  const groupId = replayGroupId(config);
  const runtime = buildRuntime(config, origin, logger);
  const kafka = runtime.kafka('debug');
  const partitions = await topicOffsets(kafka, deadLetterTopic);
  if (partitions === undefined) {
    throw new ConfigError(
      `Dead-letter topic ${deadLetterTopic} (topics.deadLetter in ${origin}) does not exist; the pipeline creates it at start`,
    );
  }
  const committed = new Map((await fetchGroupOffsets(kafka, groupId, deadLetterTopic)).map((o) => [o.partition, o]));
  const ledgers = new Map(
    partitions.map(({ partition }) => {
      const commit = committed.get(partition);
      return [partition, parseLedger(commit?.offset, commit?.metadata ?? null)];
    }),
  );
  const forced = options.fromBeginning === true || options.fromOffset !== undefined;
  const starts = new Map(
    partitions.map(({ partition, low }) => [
      partition,
      options.fromBeginning === true ? low : (options.fromOffset ?? String(ledgers.get(partition)!.watermark)),
    ]),
  );

  const records: SourceRecord[] = [];
  const ranges = planRanges(deadLetterTopic, partitions, starts);
  await readOffsetRanges(
    kafka,
    ranges,
    {
      groupId: deadLetterReaderGroup(),
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    },
    eachRecord((record) => void records.push(record)),
  );

  const components = configuredComponents(runtime);
  const selection = selectDeadLetters(records, {
    ...options,
    forced,
    ledgers,
    hasStage: (deadLetter, canonical) =>
      deadLetter.stage === DECODE_STAGE ||
      (canonical ? components.sinkNames.has(deadLetter.stage) : components.stages.byName.has(deadLetter.stage)),
    isCanonicalTopic: runtime.isCanonicalTopic,
  });
  const summary = {
    deadLetterTopic,
    groupId,
    dryRun: options.dryRun === true,
    read: records.length,
    replayed: 0,
    emitted: 0,
    reapplied: 0,
    stale: 0,
    failedAgain: 0,
    skippedMaxAttempts: selection.skippedMaxAttempts,
    alreadyReplayed: selection.alreadyReplayed,
    notSelected: selection.notSelected,
    stageMissing: selection.stageMissing,
    superseded: selection.superseded,
    unreadable: selection.unreadable,
    ledgerRangesDropped: 0,
    complete: true,
    planned: selection.replay.map(planEntry),
  };
  if (options.dryRun === true) return summary;

  const reads = new Map(
    ranges.map((range) => [
      range.partition,
      {
        start: BigInt(range.start),
        end: BigInt(range.stop),
        offsets: records.filter((r) => r.partition === range.partition).map((r) => BigInt(r.offset)),
      },
    ]),
  );
  const handledNow = new Map<number, Set<bigint>>(ranges.map((range) => [range.partition, new Set()]));
  for (const location of selection.handledWithoutReplay)
    handledNow.get(location.partition)?.add(BigInt(location.offset));
  /** The ledger of every partition read, as it stands with what was handled so far. */
  const nextLedgers = () =>
    new Map(
      [...reads].map(([partition, read]) => [
        partition,
        advanceLedger(ledgers.get(partition)!, read, handledNow.get(partition)!),
      ]),
    );
  const unchanged = (next: ReadonlyMap<number, ReplayLedger>) =>
    [...next].every(([partition, ledger]) => sameLedger(ledger, ledgers.get(partition)!));
  const groupOffsets = (next: ReadonlyMap<number, ReplayLedger>): GroupOffset[] =>
    [...next].map(([partition, ledger]) => {
      const { metadata, dropped } = formatLedgerMetadata(ledger);
      summary.ledgerRangesDropped = Math.max(summary.ledgerRangesDropped, dropped);
      return { partition, offset: String(ledger.watermark), metadata };
    });

  if (selection.replay.length === 0 && unchanged(nextLedgers())) return summary;
  const replayer = await createReplayer(runtime, kafka, {
    needsSinks: selection.replay.some((d) => selection.isCanonical(d)),
    components,
    isRunning: options.isRunning ?? (() => true),
  });
  try {
    const chunkSize = options.chunkSize ?? 100;
    // One pass even without dead letters to replay, to commit those dealt with for good (max attempts, superseded).
    for (let start = 0; start === 0 || start < selection.replay.length; start += chunkSize) {
      if (options.isRunning?.() === false) {
        summary.complete = false;
        break;
      }
      const chunk = selection.replay.slice(start, start + chunkSize);
      const outcome = await replayer.replay(chunk, (d) => selection.isCanonical(d));
      for (const deadLetter of chunk) {
        handledNow.get(deadLetter.location.partition)!.add(BigInt(deadLetter.location.offset));
      }
      const next = nextLedgers();
      if (outcome.outputs.length === 0 && unchanged(next)) continue;
      await replayer.output.commit(outcome.outputs, { topic: deadLetterTopic, partitions: groupOffsets(next) });
      for (const [partition, ledger] of next) ledgers.set(partition, ledger);
      summary.failedAgain += outcome.failed.size;
      summary.replayed += chunk.length - outcome.failed.size;
      summary.emitted += outcome.outputs.filter((record) => record.topic !== deadLetterTopic).length;
      summary.reapplied += outcome.applied;
      summary.stale += outcome.stale;
    }
  } finally {
    await replayer.close();
  }
  if (summary.ledgerRangesDropped > 0) {
    logger.warn(
      { groupId, dropped: summary.ledgerRangesDropped },
      'The replay ledger outgrew the offset metadata; dead letters of the dropped ranges may be replayed again',
    );
  }
  return summary;
}

/** How {@link selectDeadLetters} decides. */
type SelectionRules = Pick<DlqReplayOptions, 'topic' | 'stage' | 'errorClass' | 'maxAttempts'> & {
  readonly forced: boolean;
  readonly ledgers: ReadonlyMap<number, ReplayLedger>;
  readonly hasStage: (deadLetter: DeadLetter, canonical: boolean) => boolean;
  readonly isCanonicalTopic: (topic: string) => boolean;
};

/** The dead letters to replay, in replay order, and how many of the rest were set aside and why. */
export type DeadLetterSelection = {
  readonly replay: readonly DeadLetter[];
  /** Dead letters dealt with for good without a replay: max attempts, superseded, unreadable. */
  readonly handledWithoutReplay: readonly { readonly partition: number; readonly offset: string }[];
  readonly isCanonical: (deadLetter: DeadLetter) => boolean;
  readonly skippedMaxAttempts: number;
  readonly alreadyReplayed: number;
  readonly notSelected: number;
  readonly stageMissing: number;
  readonly superseded: number;
  readonly unreadable: number;
};

/**
 * Decides which dead letters a replay sends back; pure. Of several dead
 * letters of the same original record and stage (a first one and those of
 * failed replays), only the one with the highest replay count is replayed.
 * The replay order is original topic, partition and offset, which is each
 * key's order of changes.
 */
export function selectDeadLetters(records: readonly SourceRecord[], rules: SelectionRules): DeadLetterSelection {
  const handledWithoutReplay: { partition: number; offset: string }[] = [];
  const counts = {
    skippedMaxAttempts: 0,
    alreadyReplayed: 0,
    notSelected: 0,
    stageMissing: 0,
    superseded: 0,
    unreadable: 0,
  };
  const candidates = new Map<string, DeadLetter>();
  for (const record of records) {
    const ledger = rules.ledgers.get(record.partition);
    if (!rules.forced && ledger !== undefined && isHandled(ledger, BigInt(record.offset))) {
      counts.alreadyReplayed++;
      continue;
    }
    let deadLetter: DeadLetter;
    try {
      deadLetter = readDeadLetter(record);
    } catch (error: unknown) {
      if (!(error instanceof DecodeError)) throw error;
      counts.unreadable++;
      handledWithoutReplay.push(record);
      continue;
    }
    const { original } = deadLetter;
    if (
      (rules.topic !== undefined && original.topic !== rules.topic) ||
      (rules.stage !== undefined && deadLetter.stage !== rules.stage) ||
      (rules.errorClass !== undefined && deadLetter.errorClass !== rules.errorClass)
    ) {
      counts.notSelected++;
      continue;
    }
    if (!rules.hasStage(deadLetter, rules.isCanonicalTopic(original.topic))) {
      counts.stageMissing++;
      continue;
    }
    const key = JSON.stringify([original.topic, original.partition, original.offset, deadLetter.stage]);
    const other = candidates.get(key);
    if (other === undefined || newer(deadLetter, other)) candidates.set(key, deadLetter);
    if (other !== undefined) {
      counts.superseded++;
      handledWithoutReplay.push((newer(deadLetter, other) ? other : deadLetter).location);
    }
  }
  // Judged on the newest dead letter of each record, so starting over cannot replay an older attempt.
  for (const [key, deadLetter] of candidates) {
    if (deadLetter.replayCount < rules.maxAttempts) continue;
    counts.skippedMaxAttempts++;
    handledWithoutReplay.push(deadLetter.location);
    candidates.delete(key);
  }
  const replay = [...candidates.values()].sort(compareOriginals);
  return { replay, handledWithoutReplay, isCanonical: (d) => rules.isCanonicalTopic(d.original.topic), ...counts };
}

function sameLedger(a: ReplayLedger, b: ReplayLedger): boolean {
  return (
    a.watermark === b.watermark &&
    a.handled.length === b.handled.length &&
    a.handled.every(([from, to], i) => from === b.handled[i]![0] && to === b.handled[i]![1])
  );
}

function newer(a: DeadLetter, b: DeadLetter): boolean {
  return (
    a.replayCount > b.replayCount ||
    (a.replayCount === b.replayCount &&
      (a.location.partition > b.location.partition ||
        (a.location.partition === b.location.partition && BigInt(a.location.offset) > BigInt(b.location.offset))))
  );
}

function compareOriginals(a: DeadLetter, b: DeadLetter): number {
  const x = a.original;
  const y = b.original;
  if (x.topic !== y.topic) return x.topic < y.topic ? -1 : 1;
  if (x.partition !== y.partition) return x.partition - y.partition;
  const offsets = BigInt(x.offset) - BigInt(y.offset);
  if (offsets !== 0n) return offsets < 0n ? -1 : 1;
  return a.stage < b.stage ? -1 : a.stage > b.stage ? 1 : 0;
}

function planEntry(deadLetter: DeadLetter): ReplayPlanEntry {
  const { original } = deadLetter;
  return {
    deadLetter: replayHeaders(deadLetter)[DEAD_LETTER_HEADERS.replayOf]!,
    original: `${original.topic}[${original.partition}]@${original.offset}`,
    stage: deadLetter.stage,
    errorClass: deadLetter.errorClass,
    attempt: deadLetter.replayCount + 1,
  };
}

/** The configured transform stages, and the configured sink names (sinks are created only when needed). */
function configuredComponents(runtime: Runtime): ConfiguredComponents {
  const { config } = runtime;
  const sinkNames = new Set(Object.keys(sinkRegistry).filter((name) => runsSink(config, name)));
  return { stages: runtime.stages(), sinkNames };
}

type ConfiguredComponents = {
  readonly stages: ConfiguredStages;
  readonly sinkNames: ReadonlySet<string>;
};

/** What one chunk's replay produced. */
type ChunkOutcome = {
  /** Canonical events and new dead letters, to commit in one transaction. */
  readonly outputs: readonly OutputRecord[];
  /** The dead letters (`<topic>/<partition>/<offset>`) whose replay failed again. */
  readonly failed: ReadonlySet<string>;
  readonly applied: number;
  readonly stale: number;
};

type Replayer = {
  readonly output: ReturnType<typeof createBookmarkedOutput>;
  replay(chunk: readonly DeadLetter[], isCanonical: (deadLetter: DeadLetter) => boolean): Promise<ChunkOutcome>;
  close(): Promise<void>;
};

/**
 * Wires the pipeline's own runner code for replays: the transform batch
 * handler for Debezium records and the sink batch handler for canonical
 * records, each over one dead letter's original record (or a run of them, for
 * sinks), with their outputs captured instead of committed.
 */
async function createReplayer(
  runtime: Runtime,
  kafka: Kafka,
  settings: {
    readonly needsSinks: boolean;
    readonly components: ConfiguredComponents;
    readonly isRunning: () => boolean;
  },
): Promise<Replayer> {
  const { config, logger } = runtime;
  const deadLetterTopic = config.topics.deadLetter;
  const decoders = createRecordDecoders(runtime);
  const log = logger.child({ component: 'dlq-replay' });
  const control: BatchControl = {
    heartbeat: async () => {},
    isRunning: settings.isRunning,
    // A replay stops between transactions; it never abandons one under way.
    abandoned: new AbortController().signal,
    pause: () => {},
    resume: () => {},
  };
  let mongo: MongoClient | undefined;
  let sinks: Sink[] = [];
  const output = createBookmarkedOutput(kafka, {
    transactionalId: replayGroupId(config),
    groupId: replayGroupId(config),
    maxRequestBytes: config.kafka.maxRequestBytes,
  });
  try {
    if (settings.needsSinks) {
      const client = await runtime.mongo('cdc-sync-dlq-replay');
      mongo = client;
      sinks = await runtime.sinks(client.db(config.mongodb.database));
    }
    await decoders.codec.ensureRegistered();
    await output.connect();
  } catch (error: unknown) {
    await mongo?.close().catch(() => {});
    throw error;
  }

  async function throughStages(deadLetter: DeadLetter, counters: Counters): Promise<OutputRecord[]> {
    const captured: OutputRecord[] = [];
    const record = replayRecordOf(deadLetter);
    const headers = replayHeaders(deadLetter);
    const { stages } = settings.components;
    const named = stages.byName.get(deadLetter.stage)?.stage;
    const handler = createTransformBatchHandler({
      decode: decoders.decodeSource,
      // A record that failed to decode never reached a stage: all of its table's stages run now.
      stagesFor: (table) =>
        deadLetter.stage === DECODE_STAGE ? stages.stagesFor(table) : named === undefined ? [] : [named],
      encode: async (event) => ({ ...(await decoders.codec.encode(event)), headers }),
      // The outputs are committed later, with the chunk's, by the same producer: its limits decide what fits.
      output: {
        ensureFits: (record) => output.ensureFits(record),
        commit: async (records) => void captured.push(...records),
      },
      deadLetterTopic,
      backoff: config.backoff,
      logger: log,
      counters,
    });
    await handler({ topic: record.topic, partition: record.partition, records: [record] }, control);
    return captured;
  }

  async function throughSinks(run: readonly DeadLetter[], counters: Counters): Promise<OutputRecord[]> {
    const captured: OutputRecord[] = [];
    const stage = run[0]!.stage;
    const handler = createSinkBatchHandler({
      decode: (record) => decoders.codec.decode(record),
      sinks: stage === DECODE_STAGE ? sinks : sinks.filter((sink) => sink.name === stage),
      output: { send: async (records) => void captured.push(...records), commitOffset: async () => {} },
      deadLetterTopic,
      backoff: config.backoff,
      logger: log,
      counters,
    });
    const records = run.map(replayRecordOf);
    await handler({ topic: records[0]!.topic, partition: records[0]!.partition, records }, control);
    return captured;
  }

  return {
    output,
    async replay(chunk, isCanonical) {
      const counters = createCounters();
      const outputs: OutputRecord[] = [];
      for (let i = 0; i < chunk.length;) {
        const first = chunk[i]!;
        if (!isCanonical(first)) {
          outputs.push(...(await throughStages(first, counters)));
          i++;
          continue;
        }
        // A run of canonical records of one partition and sink goes to the sink as one batch.
        let j = i + 1;
        while (
          j < chunk.length &&
          isCanonical(chunk[j]!) &&
          chunk[j]!.original.topic === first.original.topic &&
          chunk[j]!.original.partition === first.original.partition &&
          chunk[j]!.stage === first.stage
        ) {
          j++;
        }
        outputs.push(...(await throughSinks(chunk.slice(i, j), counters)));
        i = j;
      }
      const failed = new Set(
        outputs.flatMap((record) =>
          record.topic === deadLetterTopic ? [record.headers?.[DEAD_LETTER_HEADERS.replayOf] ?? ''] : [],
        ),
      );
      const totals = counters.snapshot();
      const sum = (suffix: string) =>
        Object.entries(totals)
          .filter(([name]) => name.startsWith('sink.') && name.endsWith(suffix))
          .reduce((total, [, value]) => total + value, 0);
      return { outputs, failed, applied: sum('.applied'), stale: sum('.stale') };
    },
    async close() {
      await output.disconnect().catch((error: unknown) => log.warn({ err: error }, 'Producer did not close cleanly'));
      await mongo?.close().catch((error: unknown) => log.warn({ err: error }, 'MongoDB did not close cleanly'));
    },
  };
}
