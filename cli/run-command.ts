import { Command, Option } from 'commander';
import { loadConfigFile, requiredConfigOption } from './command-options.js';
import { createPipelineLogger, type PipelineRole, startPipeline, type StopOutcome } from '../ops/pipeline.js';
import { listenForStopSignal } from './stop-signal.js';

/**
 * `cdc-sync run --config <file> [--role transform|sink]`: runs the transform
 * and sink workers until SIGTERM or SIGINT, then finishes the in-flight
 * batches, commits, and exits 0. A stop that `stopTimeoutMs` cuts short
 * abandons the batches still in flight without committing them, logs them,
 * and exits 1. When a worker's consumer stops for good on an error, it stops
 * the rest and exits 1, so that a supervisor restarts it.
 */
export function createRunCommand(): Command {
  return new Command('run')
    .description('Run the pipeline workers: Debezium topics → transforms → canonical topics → sinks → MongoDB')
    .addOption(requiredConfigOption())
    .addOption(
      new Option('-r, --role <role>', 'run one side only, to scale it as its own consumer group')
        .choices(['all', 'transform', 'sink'])
        .default('all'),
    )
    .action(async (options: { config: string; role: PipelineRole }) => {
      const config = await loadConfigFile(options.config);
      const logger = createPipelineLogger(config, options.role);
      const stop = listenForStopSignal((signal) => logger.info({ signal }, 'Already stopping'));
      let running;
      try {
        running = await startPipeline(config, options.role, logger, options.config, { isStopping: stop.stopping });
      } catch (error: unknown) {
        if (!stop.stopping()) throw error;
        logger.info({ err: error }, 'Stopped before the pipeline finished starting');
        return;
      }
      const outcome = await Promise.race([
        stop.signalled.then((signal) => ({ signal })),
        running.halted.then((error) => ({ error })),
      ]);
      if ('error' in outcome) {
        logger.fatal({ err: outcome.error }, 'A worker stopped for good; exiting so that the process is restarted');
        exitAfter(await running.stop(), 1);
        return;
      }
      logger.info(
        { signal: outcome.signal, stopTimeoutMs: config.stopTimeoutMs },
        'Stopping: finishing in-flight batches and committing',
      );
      const stopped = await running.stop();
      if (stopped.complete) logger.info({ counters: running.counters.snapshot() }, 'Stopped');
      exitAfter(stopped, 0);
    });
}

/**
 * Ends the process with `code`, or 1 when the stop gave up on in-flight
 * batches: then connections may still hang (a stalled MongoDB), and the
 * process exits now instead of waiting for them.
 */
function exitAfter(stopped: StopOutcome, code: number): void {
  if (stopped.complete) {
    process.exitCode = code;
    return;
  }
  process.exit(1);
}
