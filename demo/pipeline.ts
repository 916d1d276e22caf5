import { setTimeout as sleep } from 'node:timers/promises';
import { type Db } from 'mongodb';
import { type DestinationStream, pino } from 'pino';
import { type PipelineConfig } from '../ops/pipeline-config.js';
import { createLogger } from '../core/logger.js';
import { createRecentWarnings, type RecentWarning } from '../core/observability/recent-warnings.js';
import { type StackService } from '../stack/service.js';
import { formatStallReport, readStallReport } from './stall.js';
import { type RunningPipeline, startPipeline } from '../ops/pipeline.js';
import { buildRuntime, quietLogger } from '../ops/runtime.js';

/** How many distinct warnings of the pipeline the demo keeps for its give-up message. */
const WARNINGS_KEPT = 12;

/** Something the demo set up and undoes when it stops, in reverse order of setting up. */
export type Cleanup = { readonly what: string; readonly run: () => Promise<unknown> };

/** What {@link startDemoPipeline} needs besides the config. */
export type DemoPipelineOptions = {
  /** The demo's services, whose log files the give-up message names. */
  readonly services: readonly StackService[];
  /** The Debezium connector's line for the give-up message (see `describeConnector`), for a live chain. */
  readonly connector?: () => Promise<string>;
  /** Where the pipeline's errors are written; stderr unless a test captures them. */
  readonly errors?: DestinationStream;
};

/** The demo's running pipeline, with the means to wait on it and to give up on it saying why. */
export type DemoPipeline = {
  /** The read models' database, emptied at start. */
  readonly db: Db;
  readonly pipeline: RunningPipeline;
  /** The pipeline's last distinct warnings and errors, the most recent last. */
  warnings(): readonly RecentWarning[];
  /**
   * Waits `ms`, or until `interrupt` settles (a stop signal). Rejects at once,
   * with {@link DemoPipeline.giveUp}'s error for the worker's failure, when a
   * worker's consumer has stopped for good: nothing would move any more.
   */
  pause(ms: number, interrupt?: Promise<unknown>): Promise<void>;
  /**
   * The error the demo gives up with: `reason`, then why, as
   * `formatStallReport` writes it (lagging consumer groups, the pipeline's
   * last warnings and errors, the connector, the service logs).
   */
  giveUp(reason: string): Promise<Error>;
};

/**
 * Connects to MongoDB, empties the demo's read model database and starts the
 * whole pipeline. The pipeline logs its errors to stderr; its warnings and
 * errors are also kept (the last {@link WARNINGS_KEPT} distinct ones) for
 * the give-up message. The MongoDB connection and the pipeline are added to
 * `cleanups`.
 */
export async function startDemoPipeline(
  config: PipelineConfig,
  cleanups: Cleanup[],
  options: DemoPipelineOptions,
): Promise<DemoPipeline> {
  const mongo = await buildRuntime(config, 'the demo', quietLogger()).mongo('cdc-sync-demo');
  cleanups.push({ what: 'MongoDB connection', run: () => mongo.close() });
  const db = mongo.db(config.mongodb.database);
  await db.dropDatabase();
  const warnings = createRecentWarnings(WARNINGS_KEPT);
  const logger = createLogger(
    { level: 'warn' },
    pino.multistream([
      { level: 'error', stream: options.errors ?? pino.destination(2) },
      { level: 'warn', stream: warnings.stream },
    ]),
  );
  const pipeline = await startPipeline(config, 'all', logger, 'the demo');
  cleanups.push({ what: 'pipeline', run: () => pipeline.stop() });

  let halted: Error | undefined;
  const haltedSignal = pipeline.halted.then((error) => {
    halted = error;
  });
  const giveUp = async (reason: string): Promise<Error> =>
    new Error(
      formatStallReport(
        await readStallReport(reason, {
          config,
          warnings: warnings.list,
          services: options.services,
          ...(options.connector === undefined ? {} : { connector: options.connector }),
        }),
      ),
    );
  return {
    db,
    pipeline,
    warnings: warnings.list,
    async pause(ms, interrupt) {
      const timer = new AbortController();
      try {
        await Promise.race([
          sleep(ms, undefined, { signal: timer.signal }).catch(() => {}),
          haltedSignal,
          ...(interrupt === undefined ? [] : [interrupt]),
        ]);
      } finally {
        timer.abort();
      }
      if (halted !== undefined) throw await giveUp(halted.message);
    },
    giveUp,
  };
}
