import kafkajs, { type Kafka } from 'kafkajs';
import { RecordTooLargeError } from '../../core/errors.js';
import { type OutputRecord } from '../../core/runner/ports.js';
import { withAdmin } from './with-admin.js';

/** Settings for {@link createProduceLimits}. */
export type ProduceLimitsConfig = {
  /**
   * The most bytes of record batches one produce request carries, as the
   * Java producer's `max.request.size`: outputs beyond it go in further
   * requests, and a record larger on its own can never be produced.
   */
  readonly maxRequestBytes: number;
};

/**
 * What the broker takes in one produce, and how a set of records is split to
 * fit it. The broker refuses a record batch (all records of one partition in
 * one request) larger than its topic's `max.message.bytes`, with
 * MESSAGE_TOO_LARGE, which fails the whole request; kafkajs puts everything
 * of one `sendBatch` for a partition into one record batch and never splits.
 */
export type ProduceLimits = {
  /**
   * Resolves when `record` fits a produce request of its own; rejects with a
   * {@link RecordTooLargeError} naming topic, key and size when it never
   * can. Rejects with a retriable `SourceUnavailableError` when the topic's
   * limit cannot be read.
   */
  ensureFits(record: OutputRecord): Promise<void>;
  /**
   * `records` in their order, cut into consecutive groups that each fit one
   * produce request: per topic within `max.message.bytes` (as if every
   * record of the topic went to the same partition, so any partitioning
   * fits), and in all within `maxRequestBytes`. Rejects like
   * {@link ProduceLimits.ensureFits} for a record that fits no request.
   */
  split(records: readonly OutputRecord[]): Promise<OutputRecord[][]>;
};

/**
 * Creates the limits of a producer on `kafka`. A topic's
 * `max.message.bytes` (its own setting, else the broker's
 * `message.max.bytes`) is read once, on its first record. A limit lowered
 * while the worker runs is learnt at its next start; until then the broker
 * refuses a batch over it (MESSAGE_TOO_LARGE, never retried), which stops
 * the worker, and `cdc-sync run` exits 1 to be restarted.
 *
 * @see https://kafka.apache.org/documentation/#topicconfigs_max.message.bytes
 * @see https://kafka.apache.org/documentation/#producerconfigs_max.request.size
 */
export function createProduceLimits(kafka: Kafka, config: ProduceLimitsConfig): ProduceLimits {
  const topicLimits = new Map<string, Promise<number>>();
  const topicLimit = (topic: string): Promise<number> => {
    let limit = topicLimits.get(topic);
    if (limit === undefined) {
      limit = readMaxMessageBytes(kafka, topic);
      // A failed read is not kept: the next record of the topic reads again.
      limit.catch(() => topicLimits.delete(topic));
      topicLimits.set(topic, limit);
    }
    return limit;
  };
  const limitsOf = async (records: readonly OutputRecord[]): Promise<Map<string, number>> => {
    const topics = [...new Set(records.map((record) => record.topic))];
    return new Map(await Promise.all(topics.map(async (topic) => [topic, await topicLimit(topic)] as const)));
  };
  return {
    async ensureFits(record) {
      const refusal = refusalOf(record, await topicLimit(record.topic), config.maxRequestBytes);
      if (refusal !== undefined) throw refusal;
    },
    async split(records) {
      const limits = await limitsOf(records);
      return splitToFit(records, (topic) => limits.get(topic)!, config.maxRequestBytes);
    },
  };
}

/**
 * Cuts `records`, in order, into consecutive groups that each fit one
 * produce request (see {@link ProduceLimits.split}); pure. Throws a
 * {@link RecordTooLargeError} for a record that fits no request.
 */
export function splitToFit(
  records: readonly OutputRecord[],
  maxMessageBytesOf: (topic: string) => number,
  maxRequestBytes: number,
): OutputRecord[][] {
  const groups: OutputRecord[][] = [];
  let group: OutputRecord[] = [];
  /** Per topic of the group: its records so far and the bytes of their record batch. */
  let batches = new Map<string, { count: number; bytes: number }>();
  let requestBytes = 0;
  for (const record of records) {
    const refusal = refusalOf(record, maxMessageBytesOf(record.topic), maxRequestBytes);
    if (refusal !== undefined) throw refusal;
    let batch = batches.get(record.topic);
    // The record's offset delta in its batch is at most the number of records of its topic before it.
    let added = batch === undefined ? soloBatchBytes(record) : recordBytes(record, batch.count);
    const batchBytes = (batch?.bytes ?? 0) + added;
    if (group.length > 0 && (batchBytes > maxMessageBytesOf(record.topic) || requestBytes + added > maxRequestBytes)) {
      groups.push(group);
      group = [];
      batches = new Map();
      requestBytes = 0;
      batch = undefined;
      added = soloBatchBytes(record);
    }
    group.push(record);
    batches.set(record.topic, { count: (batch?.count ?? 0) + 1, bytes: (batch?.bytes ?? 0) + added });
    requestBytes += added;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * Bytes of a v2 record batch around its records: base offset, length,
 * partition leader epoch, magic, CRC, attributes, last offset delta, first
 * and max timestamp, producer id and epoch, base sequence, record count.
 *
 * @see https://kafka.apache.org/documentation/#recordbatch
 */
export const RECORD_BATCH_OVERHEAD_BYTES = 61;

/**
 * The exact bytes `record` takes as a record batch of its own, which the
 * broker compares with the topic's `max.message.bytes`: uncompressed, as the
 * pipeline produces, without a timestamp of its own, as the outputs send it.
 */
export function soloBatchBytes(record: OutputRecord): number {
  return RECORD_BATCH_OVERHEAD_BYTES + recordBytes(record, 0);
}

/**
 * The bytes of `record` in a record batch, at offset delta `offsetDelta`
 * (kafkajs' encoding: the timestamp delta is 0 for records without a
 * timestamp, so one byte).
 */
function recordBytes(record: OutputRecord, offsetDelta: number): number {
  let headers = 0;
  const entries = Object.entries(record.headers ?? {});
  headers += varIntBytes(entries.length);
  for (const [name, value] of entries) {
    headers += lengthPrefixedBytes(Buffer.byteLength(name)) + lengthPrefixedBytes(Buffer.byteLength(value));
  }
  const body =
    1 + // attributes
    1 + // timestamp delta
    varIntBytes(offsetDelta) +
    nullableBytes(record.key) +
    nullableBytes(record.value) +
    headers;
  return varIntBytes(body) + body;
}

function nullableBytes(value: Buffer | string | null): number {
  if (value === null) return varIntBytes(-1);
  return lengthPrefixedBytes(typeof value === 'string' ? Buffer.byteLength(value) : value.length);
}

function lengthPrefixedBytes(length: number): number {
  return varIntBytes(length) + length;
}

/** The bytes of a zig-zag encoded varint. */
function varIntBytes(value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while ((zigzag >>>= 7) !== 0) bytes++;
  return bytes;
}

/** Why `record` can never be produced, or undefined when it fits a request of its own. */
function refusalOf(
  record: OutputRecord,
  maxMessageBytes: number,
  maxRequestBytes: number,
): RecordTooLargeError | undefined {
  const bytes = soloBatchBytes(record);
  const [limit, setting] =
    maxMessageBytes <= maxRequestBytes
      ? [maxMessageBytes, 'max.message.bytes']
      : [maxRequestBytes, 'kafka.maxRequestBytes'];
  if (bytes <= limit) return undefined;
  const key = describeKey(record.key);
  const where = setting === 'max.message.bytes' ? 'the topic takes' : 'a produce request takes';
  return new RecordTooLargeError(
    `Record for topic ${record.topic} with key ${key} takes ${bytes} bytes as a record batch of its own; ${where} at most ${limit} (${setting})`,
    { topic: record.topic },
  );
}

/** A key as text for messages: itself when printable, else its bytes in hex. */
function describeKey(key: Buffer | string | null): string {
  if (key === null) return 'null';
  const text = typeof key === 'string' ? key : key.toString('utf8');
  // Control characters are what this looks for (and U+FFFD, where the bytes were not UTF-8), so the lint rule against
  // control characters in a regular expression does not apply here.
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f\ufffd]/.test(text)) return text;
  return `0x${(typeof key === 'string' ? Buffer.from(key) : key).toString('hex')}`;
}

/** The topic's `max.message.bytes` as the broker applies it: the topic's own, else the broker's default. */
async function readMaxMessageBytes(kafka: Kafka, topic: string): Promise<number> {
  return withAdmin(
    kafka,
    async (admin) => {
      const { resources } = await admin.describeConfigs({
        resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
        includeSynonyms: false,
      });
      const value = resources[0]?.configEntries.find((entry) => entry.configName === 'max.message.bytes')?.configValue;
      const bytes = Number(value);
      if (!Number.isSafeInteger(bytes) || bytes <= 0) {
        throw new Error(`Topic ${topic} reports max.message.bytes ${JSON.stringify(value)}, not a positive number`);
      }
      return bytes;
    },
    { topic },
  );
}
