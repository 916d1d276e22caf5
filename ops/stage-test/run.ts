import { type CanonicalEvent } from '../../core/canonical.js';
import { ConfigError, DecodeError, TransformError } from '../../core/errors.js';
import { applyStage } from '../../core/runner/transform-runner.js';
import { type DecodedSourceRecord } from '../../core/runner/ports.js';
import {
  createConfluentDecoder,
  createRegistryRequest,
  httpSchemaLookup,
  type KafkaLocation,
  parseRegistrySettings,
  type SchemaLookup,
} from '../../connectors/avro/confluent-decoder.js';
import { createCanonicalCodec } from '../../connectors/canonical/codec.js';
import { decodeConnectJson, topicOfSource } from '../../connectors/debezium/connect-json.js';
import { createEnvelopeReader, type EnvelopeReader } from '../../connectors/debezium/envelope.js';
import { createSourceDecoder } from '../../connectors/debezium/source-decoder.js';
import { type PipelineConfig } from '../pipeline-config.js';
import { type ProgressFactory } from '../progress.js';
import { buildRuntime, quietLogger } from '../runtime.js';
import { type TestInput, type TestRecord } from './input.js';

/** A canonical event a stage emitted, with the input record it came from. */
export type StageTestEvent = { readonly where: string; readonly stage: string; readonly event: CanonicalEvent };

/** A record the pipeline would dead-letter: under its stage, or under `decode` when it cannot be decoded. */
export type StageTestDeadLetter = { readonly where: string; readonly stage: string; readonly message: string };

/** A change a stage skipped, with its reason. */
export type StageTestSkip = { readonly where: string; readonly stage: string; readonly reason: string };

/** What the configured stages made of an input, in input order. */
export type StageTestRun = {
  readonly events: readonly StageTestEvent[];
  readonly deadLetters: readonly StageTestDeadLetter[];
  readonly skips: readonly StageTestSkip[];
  /** Records read, and how many were changes, tombstones, ignored (heartbeats, metadata) and changes no stage reads. */
  readonly records: {
    readonly total: number;
    readonly changes: number;
    readonly tombstones: number;
    readonly ignored: number;
    readonly unrouted: number;
  };
  /** Every configured stage in registry order, with the changes routed to it and what it did with them. */
  readonly stages: readonly {
    readonly name: string;
    readonly in: number;
    readonly emitted: number;
    readonly skipped: number;
    readonly failed: number;
  }[];
};

export type StageTestOptions = {
  /** Shows progress for inputs of at least {@link PROGRESS_THRESHOLD} records. */
  readonly progress?: ProgressFactory;
  /** The registry's HTTP client, for schema ids the input does not carry; the global `fetch` by default. */
  readonly fetch?: typeof fetch;
};

/** Inputs this long show progress: shorter ones run in well under a second. */
export const PROGRESS_THRESHOLD = 20_000;

/**
 * Runs the stages `config` lists over `input` as the transform runner would, without Kafka: Avro records through the
 * pipeline's decoder (schemas the input carries first, then the config's registry) and envelope reader
 * (`config.source`), JSON documents through the JsonConverter reading (`connectors/debezium/connect-json.ts`) and the
 * same envelope reader; each change routed to the stages whose tables name it, each stage's events checked against
 * their canonical schemas. Tombstones and ignorable records pass no stage. A record that cannot be decoded, a stage's
 * failure and an event its schema refuses become dead letters, as in the pipeline.
 *
 * Throws a `ConfigError` for an invalid stage config or a JSON document whose topic cannot be told, and a
 * `SourceUnavailableError` when a schema must be fetched from an unreachable registry.
 */
export async function runStageTest(
  config: PipelineConfig,
  origin: string,
  input: TestInput,
  options: StageTestOptions = {},
): Promise<StageTestRun> {
  const { byName, stagesFor } = buildRuntime(config, origin, quietLogger()).stages();
  const reader = createEnvelopeReader(config.source);
  const decodeAvro = createSourceDecoder(
    createConfluentDecoder({ lookupSchema: embeddedFirst(input.schemas, config, options.fetch) }),
    reader,
  );
  const codec = createCanonicalCodec({ topics: config.topics });
  const stageCounts = new Map(
    [...byName.keys()].map((name) => [name, { name, in: 0, emitted: 0, skipped: 0, failed: 0 }]),
  );
  const records = { total: input.records.length, changes: 0, tombstones: 0, ignored: 0, unrouted: 0 };
  const events: StageTestEvent[] = [];
  const deadLetters: StageTestDeadLetter[] = [];
  const skips: StageTestSkip[] = [];
  const progress =
    input.records.length >= PROGRESS_THRESHOLD && options.progress !== undefined
      ? options.progress({ label: `Testing stages on ${input.path}`, total: input.records.length, unit: 'records' })
      : undefined;

  for (const [index, record] of input.records.entries()) {
    const { where } = record;
    let decoded: DecodedSourceRecord;
    try {
      decoded =
        record.encoding === 'avro'
          ? await decodeAvro({ ...record, headers: {}, timestamp: '0' })
          : readJsonRecord(record, reader, config.source.connector);
    } catch (error: unknown) {
      if (!(error instanceof DecodeError)) throw error;
      deadLetters.push({ where, stage: 'decode', message: error.message });
      continue;
    }
    if (decoded.kind === 'ignored') records.ignored++;
    else if (decoded.kind === 'tombstone') records.tombstones++;
    else {
      records.changes++;
      const stages = stagesFor(decoded.event.table);
      if (stages.length === 0) records.unrouted++;
      for (const stage of stages) {
        const counts = stageCounts.get(stage.name)!;
        counts.in++;
        const result = applyStage(stage, decoded.event);
        if (result.kind === 'skip') {
          counts.skipped++;
          skips.push({ where, stage: stage.name, reason: result.reason });
          continue;
        }
        const refusal = result.kind === 'fail' ? result.error : refusedEvent(result.events, codec.encode);
        if (refusal !== undefined) {
          counts.failed++;
          deadLetters.push({ where, stage: stage.name, message: refusal.message });
          continue;
        }
        if (result.kind === 'emit') {
          counts.emitted += result.events.length;
          for (const event of result.events) events.push({ where, stage: stage.name, event });
        }
      }
    }
    if ((index + 1) % 1000 === 0) progress?.update(index + 1);
  }
  progress?.update(input.records.length);
  progress?.stop();
  return { events, deadLetters, skips, records, stages: [...stageCounts.values()] };
}

/**
 * The error of the first event its canonical schema refuses, worded as the pipeline's registry codec words it; the
 * runner then dead-letters the record under the stage and publishes none of the stage's events.
 */
function refusedEvent(
  events: readonly CanonicalEvent[],
  encode: (event: CanonicalEvent) => unknown,
): TransformError | undefined {
  for (const event of events) {
    try {
      encode(event);
    } catch (error: unknown) {
      if (!(error instanceof RangeError)) throw error;
      return new TransformError(`Canonical event does not fit its schema: ${error.message}`, { cause: error });
    }
  }
  return undefined;
}

/** Schemas the input carries, then the config's registry (created on first need, so offline inputs need none). */
function embeddedFirst(
  embedded: ReadonlyMap<number, string>,
  config: PipelineConfig,
  doFetch: typeof fetch | undefined,
): SchemaLookup {
  let registry: SchemaLookup | undefined;
  return async (schemaId) => {
    const text = embedded.get(schemaId);
    if (text !== undefined) return text;
    registry ??= httpSchemaLookup(
      createRegistryRequest(parseRegistrySettings({ registryUrl: config.schemaRegistry.url }), doFetch),
    );
    return registry(schemaId);
  };
}

/** A JSON record through the JsonConverter reading and the envelope reader; its topic given or read from `source`. */
function readJsonRecord(
  record: Extract<TestRecord, { encoding: 'json' }>,
  reader: EnvelopeReader,
  connector: PipelineConfig['source']['connector'],
): DecodedSourceRecord {
  const location: KafkaLocation = {
    topic: record.topic || '(unknown topic)',
    partition: record.partition,
    offset: record.offset,
  };
  const value = record.value === null ? null : decodeConnectJson(record.value, location);
  const key = record.key === null ? null : decodeConnectJson(record.key, location);
  const topic = record.topic || (value === null ? undefined : topicOfSource(value.value, connector)) || undefined;
  if (topic === undefined && value?.schemaName === undefined) {
    throw new ConfigError(
      `${record.where}: cannot tell the topic: the document has no source block; write it as {"topic", "key", "value"}`,
    );
  }
  return reader.read({
    topic: topic ?? location.topic,
    partition: record.partition,
    offset: record.offset,
    key: key?.value ?? null,
    value: value?.value ?? null,
    valueSchemaName: value?.schemaName,
  });
}
