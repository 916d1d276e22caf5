import { type Logger } from 'pino';
import { type PipelineConfig } from '../pipeline-config.js';
import { ConfigError, DecodeError } from '../../core/errors.js';
import { type DeadLetter, readDeadLetter } from '../../core/runner/dead-letter.js';
import { type SourceRecord } from '../../core/runner/ports.js';
import {
  eachRecord,
  type PartitionOffsets,
  planRanges,
  type RangeProgress,
  readOffsetRanges,
  topicOffsets,
} from '../../connectors/kafka/bounded-reader.js';
import { buildRuntime, type Runtime } from '../runtime.js';
import { createRecordDecoders, deadLetterReaderGroup } from './replay.js';

// `cdc-sync dlq list` and `dlq show`: the dead-letter topic read and grouped, or one dead letter decoded as far as
// it can be.

/** One group of `dlq list`. */
export type DeadLetterGroup = {
  readonly topic: string;
  readonly stage: string;
  readonly errorClass: string;
  readonly count: number;
  /** ISO-8601 times of the earliest and latest dead-lettering in the group. */
  readonly first: string;
  readonly last: string;
  /** How many of them are dead letters of failed replays. */
  readonly replays: number;
};

/** What `dlq list` reports. */
export type DeadLetterListing = {
  readonly topic: string;
  readonly partitions: readonly PartitionOffsets[];
  readonly total: number;
  readonly groups: readonly DeadLetterGroup[];
  /** Records of the topic without cdc-sync's dead-letter headers. */
  readonly unreadable: number;
};

/**
 * Reads the dead-letter topic from its earliest offset to its end at the
 * start and groups the dead letters by original topic, stage and error
 * class, sorted by those. Throws a `ConfigError` when the topic does not exist.
 */
export async function listDeadLetters(
  config: PipelineConfig,
  origin: string,
  logger: Logger,
  options: { readonly onProgress?: (progress: RangeProgress) => void } = {},
): Promise<DeadLetterListing> {
  const topic = config.topics.deadLetter;
  const runtime = buildRuntime(config, origin, logger);
  const kafka = runtime.kafka('debug');
  const partitions = await topicOffsets(kafka, topic);
  if (partitions === undefined) throw missingTopic(config, origin);
  const groups = new Map<string, { -readonly [K in keyof DeadLetterGroup]: DeadLetterGroup[K] }>();
  let total = 0;
  let unreadable = 0;
  const count = (record: SourceRecord) => {
    total++;
    let deadLetter: DeadLetter;
    try {
      deadLetter = readDeadLetter(record);
    } catch (error: unknown) {
      if (!(error instanceof DecodeError)) throw error;
      unreadable++;
      return;
    }
    const key = JSON.stringify([deadLetter.original.topic, deadLetter.stage, deadLetter.errorClass]);
    const group = groups.get(key);
    const at = deadLetter.deadLetteredAt;
    const replay = deadLetter.replayCount > 0 ? 1 : 0;
    if (group === undefined) {
      groups.set(key, {
        topic: deadLetter.original.topic,
        stage: deadLetter.stage,
        errorClass: deadLetter.errorClass,
        count: 1,
        first: at,
        last: at,
        replays: replay,
      });
    } else {
      group.count++;
      group.replays += replay;
      if (at < group.first) group.first = at;
      if (at > group.last) group.last = at;
    }
  };
  await readOffsetRanges(
    kafka,
    planRanges(topic, partitions, new Map()),
    { groupId: deadLetterReaderGroup(), ...options },
    eachRecord(count),
  );
  const sorted = [...groups.values()].sort(
    (a, b) => compare(a.topic, b.topic) || compare(a.stage, b.stage) || compare(a.errorClass, b.errorClass),
  );
  return { topic, partitions, total, groups: sorted, unreadable };
}

/** A value's bytes, as `dlq show` describes them. */
export type BytesInfo = { readonly length: number; readonly hexPrefix: string } | null;

/** What `dlq show` reports about one dead letter. */
export type ShownDeadLetter = {
  readonly location: { readonly topic: string; readonly partition: number; readonly offset: string };
  readonly headers: Readonly<Record<string, string>>;
  /** The dead letter as read; null with `problem` when the headers are not cdc-sync's. */
  readonly deadLetter: {
    readonly original: { readonly topic: string; readonly partition: number; readonly offset: string };
    readonly stage: string;
    readonly errorClass: string;
    readonly errorMessage: string;
    readonly deadLetteredAt: string;
    readonly replayCount: number;
    readonly replayOf: string | null;
  } | null;
  readonly problem: string | null;
  readonly key: BytesInfo;
  readonly value: BytesInfo;
  /** How the original record was decoded: a Debezium source record, or a canonical event. */
  readonly decodedAs: 'debezium' | 'canonical' | null;
  /** The decoded record (bigints as decimal strings, bytes as base64), or null when it did not decode. */
  readonly decoded: unknown;
  /** Why it did not decode. */
  readonly decodeError: string | null;
};

/** How many leading bytes of a key or value `dlq show` prints in hex. */
export const HEX_PREFIX_BYTES = 32;

/**
 * Reads the dead letter at `partition:offset` and decodes it as far as it
 * can. Throws a `ConfigError` when the topic, partition or offset holds no
 * record (also for a transaction marker's offset).
 */
export async function showDeadLetter(
  config: PipelineConfig,
  origin: string,
  logger: Logger,
  where: { readonly partition: number; readonly offset: string },
): Promise<ShownDeadLetter> {
  const topic = config.topics.deadLetter;
  const runtime = buildRuntime(config, origin, logger);
  const kafka = runtime.kafka('debug');
  const partitions = await topicOffsets(kafka, topic);
  if (partitions === undefined) throw missingTopic(config, origin);
  const partition = partitions.find((p) => p.partition === where.partition);
  if (partition === undefined) {
    throw new ConfigError(
      `Dead-letter topic ${topic} has no partition ${where.partition}; it has ${partitions.map((p) => p.partition).join(', ')}`,
    );
  }
  const offset = BigInt(where.offset);
  if (offset < BigInt(partition.low) || offset >= BigInt(partition.high)) {
    throw new ConfigError(
      `No dead letter at ${topic} partition ${where.partition} offset ${where.offset}; the partition holds offsets ${partition.low} to ${BigInt(partition.high) - 1n}`,
    );
  }
  let found: SourceRecord | undefined;
  await readOffsetRanges(
    kafka,
    [{ topic, partition: where.partition, start: where.offset, stop: String(offset + 1n) }],
    { groupId: deadLetterReaderGroup() },
    eachRecord((record) => void (found = record)),
  );
  if (found === undefined) {
    throw new ConfigError(
      `Offset ${where.offset} of ${topic} partition ${where.partition} holds no record (a transaction marker or an aborted record)`,
    );
  }
  return describeDeadLetter(found, runtime);
}

async function describeDeadLetter(record: SourceRecord, runtime: Runtime): Promise<ShownDeadLetter> {
  const base = {
    location: { topic: record.topic, partition: record.partition, offset: record.offset },
    headers: record.headers,
    key: bytesInfo(record.key),
    value: bytesInfo(record.value),
  };
  let deadLetter: DeadLetter;
  try {
    deadLetter = readDeadLetter(record);
  } catch (error: unknown) {
    if (!(error instanceof DecodeError)) throw error;
    return { ...base, deadLetter: null, problem: error.message, decodedAs: null, decoded: null, decodeError: null };
  }
  const { original } = deadLetter;
  const decoders = createRecordDecoders(runtime);
  const decodedAs = decoders.isCanonicalTopic(original.topic) ? 'canonical' : 'debezium';
  let decoded: unknown = null;
  let decodeError: string | null = null;
  try {
    decoded = plain(
      decodedAs === 'canonical' ? await decoders.codec.decode(original) : await decoders.decodeSource(original),
    );
  } catch (error: unknown) {
    decodeError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  return {
    ...base,
    deadLetter: {
      original: { topic: original.topic, partition: original.partition, offset: original.offset },
      stage: deadLetter.stage,
      errorClass: deadLetter.errorClass,
      errorMessage: deadLetter.errorMessage,
      deadLetteredAt: deadLetter.deadLetteredAt,
      replayCount: deadLetter.replayCount,
      replayOf: deadLetter.replayOf,
    },
    problem: null,
    decodedAs,
    decoded,
    decodeError,
  };
}

function missingTopic(config: PipelineConfig, origin: string): ConfigError {
  return new ConfigError(
    `Dead-letter topic ${config.topics.deadLetter} (topics.deadLetter in ${origin}) does not exist; the pipeline creates it at start`,
  );
}

function bytesInfo(bytes: Buffer | null): BytesInfo {
  return bytes === null
    ? null
    : { length: bytes.length, hexPrefix: bytes.subarray(0, HEX_PREFIX_BYTES).toString('hex') };
}

/** A decoded record as JSON can hold it: bigints as decimal strings, bytes as base64. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)]));
  }
  return value;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
