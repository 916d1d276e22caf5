import { type Db } from 'mongodb';
import { type Logger } from 'pino';
import { EVENT_STREAM } from '../../core/canonical.js';
import { parseWithSchema } from '../../core/config.js';
import { type PipelineConfig } from '../pipeline-config.js';
import { ConfigError } from '../../core/errors.js';
import { createCounters, type Counters } from '../../core/runner/counters.js';
import { type PlainOutput } from '../../core/runner/ports.js';
import { createSinkBatchHandler } from '../../core/runner/sink-runner.js';
import { type Sink } from '../../core/sink.js';
import {
  type OffsetRange,
  planOffsetRanges,
  type RangeStart,
  readOffsetRanges,
  type ReadSummary,
} from '../../connectors/kafka/bounded-reader.js';
import { sinks as sinkRegistry, type SinkName } from '../../sinks/index.js';
import { type CollectionDiff, diffCollections, isIdentical, RUN_DEPENDENT_PATHS } from './collection-diff.js';
import {
  collectionExists,
  dropCollections,
  type RebuildCollection,
  rebuildCollections,
  rebuildStamp,
  type SwappedCollection,
  swapCollections,
} from './collections.js';
import { buildRuntime } from '../runtime.js';
import { type ProgressFactory } from '../progress.js';

/** What `rebuild` does besides reading and writing the read model. */
export type RebuildOptions = {
  /** Re-consume from the first offset at or after this time instead of the earliest kept offset. */
  readonly fromTimestamp?: Date;
  /** Swap the shadow in under the live name, keep the old live collection as the backup, then catch up. */
  readonly swap: boolean;
  /** Without `swap`: keep the shadow collections for inspection instead of dropping them. */
  readonly keepShadow: boolean;
  /** Most diff samples per kind; default 5. */
  readonly samples?: number;
};

/** Where `rebuild` writes and what it is built with; tests replace these. */
export type RebuildIo = {
  /** One line of the report, on stdout. */
  readonly write: (line: string) => void;
  readonly progress: ProgressFactory;
  readonly logger: Logger;
  /** The clock naming the shadow and backup collections. */
  readonly now?: () => Date;
  /**
   * Runs after the diff, right before the swap. The live pipeline may apply
   * events to the old live collection at any time in this window; tests use
   * it to make sure some do, so the catch-up has something to bring over.
   */
  readonly beforeSwap?: () => Promise<void>;
};

/** What a rebuild did. */
export type RebuildResult = {
  readonly model: SinkName;
  readonly stamp: string;
  readonly collections: readonly RebuildCollection[];
  readonly topics: readonly string[];
  /** The re-consumed ranges; their stops are where the catch-up starts. */
  readonly rebuild: ReadSummary & { readonly applied: number; readonly stale: number; readonly rejected: number };
  /** Shadow (expected) against live (actual), per collection, before any swap. */
  readonly diffs: readonly CollectionDiff[];
  readonly swap?: {
    readonly collections: readonly SwappedCollection[];
    readonly catchUp: ReadSummary & { readonly applied: number; readonly stale: number };
  };
  /** Shadow collections left in the database (`--keep-shadow`); empty after a swap or a drop. */
  readonly keptShadows: readonly string[];
};

/**
 * Rebuilds read model `model`:
 *
 * 1. re-consumes the canonical topics feeding it, from the earliest offset
 *    (or `fromTimestamp`) up to the end offsets captured at the start, with
 *    a throwaway consumer group (read_committed), through the very sink the
 *    pipeline runs, configured onto shadow collections
 *    `<collection>__rebuild_<stamp>` (its creation ensures the indexes);
 *    events the sink rejects are counted, not dead-lettered again;
 * 2. diffs each shadow against its live collection (missing, extra,
 *    different documents, ignoring `_meta.appliedAt` and
 *    `_meta.pipelineVersion`);
 * 3. with `swap`: swaps each shadow in, keeping the old live collection as
 *    `<collection>__backup_<stamp>` (see `SwapStrategy`), then catches up
 *    the new live collections from the rebuild's stop offsets to the current
 *    end: the events the live pipeline applied to the old collections in
 *    the meantime; the position guard makes re-applying safe. Without it,
 *    drops the shadows unless `keepShadow`.
 *
 * Throws a `ConfigError` for an unknown or disabled read model, and the
 * classified errors of Kafka, the registry and MongoDB.
 */
export async function rebuildReadModel(
  config: PipelineConfig,
  model: string,
  options: RebuildOptions,
  io: RebuildIo,
  origin = 'the pipeline config',
): Promise<RebuildResult> {
  const name = readModelName(config, model, origin);
  const definition = sinkRegistry[name];
  const settings = parseWithSchema(definition.configSchema, config.sinks[name] || {}, ['sinks', name], origin);
  const stamp = rebuildStamp((io.now ?? (() => new Date()))());
  const collections = rebuildCollections(name, settings, stamp);
  const topics = [...new Set(definition.input.map((type) => config.topics[EVENT_STREAM[type]]))];
  const groupBase = `${config.sink.groupId}.rebuild.${name}.${stamp}`;
  const modelOnly = onlySink(config, name);
  const samples = options.samples ?? 5;
  const { write, logger } = io;

  const runtime = buildRuntime(config, origin, logger);
  // The read model's sink alone: the rebuild writes no other read model.
  const modelRuntime = buildRuntime(modelOnly, origin, logger);
  const kafka = runtime.kafka('debug');
  const codec = runtime.codec();
  const mongo = await runtime.mongo('cdc-sync-rebuild');
  try {
    const db = mongo.db(config.mongodb.database);
    for (const collection of collections) {
      if (await collectionExists(db, collection.shadow)) {
        throw new Error(
          `Shadow collection ${collection.shadow} already exists in database ${db.databaseName}; ` +
            'another rebuild of the same second is running or was kept, drop it or wait a second',
        );
      }
    }

    const from: RangeStart =
      options.fromTimestamp === undefined
        ? { kind: 'earliest' }
        : { kind: 'timestamp', timestamp: options.fromTimestamp };
    const ranges = await planOffsetRanges(kafka, topics, from);
    write(
      `Rebuilding ${name} from ${topics.join(', ')} (${describeRanges(ranges)}) into ` +
        `${collections.map((c) => c.shadow).join(', ')} in database ${db.databaseName}`,
    );
    const shadowSinks = await modelRuntime.sinks(db, {
      [name]: Object.fromEntries(collections.map((collection) => [collection.key, collection.shadow])),
    });
    const rebuilt = await consume(`Rebuilding ${name}`, ranges, `${groupBase}.shadow`, shadowSinks);
    write(
      `Rebuilt ${name}: ${rebuilt.records} records, ${rebuilt.applied} events applied, ${rebuilt.stale} stale, ` +
        `${rebuilt.rejected} rejected (counted, not dead-lettered again)`,
    );

    const diffs: CollectionDiff[] = [];
    for (const collection of collections) {
      const diff = await diffOne(db, collection);
      diffs.push(diff);
      for (const line of formatDiff(diff, collection)) write(line);
    }

    if (!options.swap) {
      const keptShadows = options.keepShadow ? collections.map((collection) => collection.shadow) : [];
      if (options.keepShadow) write(`Kept the shadow collections: ${keptShadows.join(', ')}`);
      else {
        await dropCollections(
          db,
          collections.map((collection) => collection.shadow),
        );
        write('Dropped the shadow collections; --keep-shadow keeps them, --swap puts them in place');
      }
      return { model: name, stamp, collections, topics, rebuild: rebuilt, diffs, keptShadows };
    }

    await io.beforeSwap?.();
    const swapped = await swapCollections(db, collections, (step) =>
      write(
        step.kind === 'copy'
          ? `Copying ${step.from} to ${step.to}`
          : `Renaming ${step.from} to ${step.to}${step.dropTarget ? ' (dropTarget, atomic)' : ''}`,
      ),
    );
    for (const entry of swapped) {
      if (entry.indexesAdded.length > 0) {
        write(`Created indexes ${entry.indexesAdded.join(', ')} on the shadow of ${entry.live} before the swap`);
      }
      write(
        entry.backup === null
          ? `${entry.live} now holds the rebuilt documents; there was no live collection to keep`
          : `${entry.live} now holds the rebuilt documents; the old ones are in ${entry.backup}`,
      );
    }

    const catchUpRanges = await planOffsetRanges(kafka, topics, { kind: 'after', ranges });
    const liveSinks = await modelRuntime.sinks(db);
    const caughtUp = await consume(`Catching up ${name}`, catchUpRanges, `${groupBase}.catchup`, liveSinks);
    write(
      `Caught up ${collections.map((collection) => collection.live).join(', ')} from the rebuild's stop offsets ` +
        `(${describeRanges(catchUpRanges)}): ${caughtUp.applied} events applied, ${caughtUp.stale} stale`,
    );
    return {
      model: name,
      stamp,
      collections,
      topics,
      rebuild: rebuilt,
      diffs,
      swap: { collections: swapped, catchUp: caughtUp },
      keptShadows: [],
    };
  } finally {
    await mongo.close();
  }

  async function consume(label: string, ranges: readonly OffsetRange[], groupId: string, sinks: readonly Sink[]) {
    const counters = createCounters();
    const progress = io.progress({ label, unit: 'offsets' });
    const handler = createSinkBatchHandler({
      decode: (record) => codec.decode(record),
      sinks,
      output: countingOutput(counters),
      deadLetterTopic: config.topics.deadLetter,
      backoff: config.backoff,
      logger: logger.child({ component: 'rebuild-runner' }),
      counters,
    });
    try {
      const summary = await readOffsetRanges(
        kafka,
        ranges,
        {
          groupId,
          maxBytesPerPartition: config.kafka.maxBytesPerPartition,
          onProgress: ({ covered, total }) => {
            progress.setTotal(total);
            progress.update(covered);
          },
          onCleanupFailure: (error) => logger.warn({ err: error, groupId }, 'Could not delete the throwaway group'),
        },
        handler,
      );
      return {
        ...summary,
        applied: counters.get(`sink.${name}.applied`),
        stale: counters.get(`sink.${name}.stale`),
        rejected: counters.get(`sink.${name}.rejected`) + counters.get('records.dead_lettered.decode'),
      };
    } finally {
      progress.stop();
    }
  }

  async function diffOne(db: Db, collection: RebuildCollection): Promise<CollectionDiff> {
    const shadow = db.collection(collection.shadow);
    const live = db.collection(collection.live);
    const total = (await shadow.estimatedDocumentCount()) + (await live.estimatedDocumentCount());
    const progress = io.progress({ label: `Diffing ${collection.shadow}`, total, unit: 'documents' });
    try {
      return await diffCollections(shadow, live, {
        samples,
        onProgress: (documents) => progress.update(documents),
      });
    } finally {
      progress.stop();
    }
  }
}

/** The report lines of one diff. */
export function formatDiff(diff: CollectionDiff, collection: Pick<RebuildCollection, 'live' | 'shadow'>): string[] {
  const lines = [
    `Diff of ${collection.shadow} (rebuilt, ${diff.expected.documents} documents) against ${collection.live} ` +
      `(live, ${diff.actual.documents} documents), ignoring ${RUN_DEPENDENT_PATHS.join(' and ')}: ` +
      (isIdentical(diff)
        ? `identical (${diff.identical} documents)`
        : `${diff.identical} identical, ${diff.missing} missing in live, ${diff.extra} extra in live, ` +
          `${diff.different} different`),
  ];
  const label = { missing: 'missing in live', extra: 'extra in live', different: 'different' } as const;
  for (const sample of diff.samples) {
    lines.push(
      `  ${label[sample.kind]}: ${sample.id}${sample.paths.length > 0 ? ` (${sample.paths.join(', ')})` : ''}`,
    );
  }
  return lines;
}

/** The registry name of an enabled read model, or a `ConfigError` naming the choices or the disabling key. */
function readModelName(config: PipelineConfig, model: string, origin: string): SinkName {
  if (!Object.hasOwn(sinkRegistry, model)) {
    throw new ConfigError(
      `Unknown read model ${JSON.stringify(model)}; known: ${Object.keys(sinkRegistry).join(', ')}`,
    );
  }
  if (config.sinks[model] === false) {
    throw new ConfigError(`Read model ${model} is disabled at sinks.${model} in ${origin}; enable it to rebuild it`);
  }
  return model as SinkName;
}

/** The config with every sink but `name` disabled, so only its sink is created. */
function onlySink(config: PipelineConfig, name: SinkName): PipelineConfig {
  return {
    ...config,
    sinks: Object.fromEntries(
      Object.keys(sinkRegistry).map((other) => [other, other === name ? config.sinks[other] || {} : false]),
    ),
  };
}

/**
 * The rebuild's "output": dead letters are counted and dropped, since the
 * live pipeline dead-lettered those records already; offsets of the
 * throwaway group need no commit.
 */
function countingOutput(counters: Counters): PlainOutput {
  return {
    async send(records) {
      counters.add('rebuild.dead_letters_dropped', records.length);
    },
    async commitOffset() {},
  };
}

function describeRanges(ranges: readonly OffsetRange[]): string {
  if (ranges.length === 0) return 'no partitions';
  return ranges.map((range) => `${range.topic}[${range.partition}] ${range.start}..${range.stop}`).join(', ');
}
