import { Command } from 'commander';
import { pino } from 'pino';
import { createLogger } from '../core/logger.js';
import { sinks as sinkRegistry } from '../sinks/index.js';
import { configOption, loadCommandConfig, parseCount, parseInstant } from './command-options.js';
import { createProgress } from './progress.js';
import { rebuildReadModel } from '../ops/rebuild/rebuild-read-model.js';

/**
 * `cdc-sync rebuild <read-model>`: blue/green rebuild of one read model from
 * the canonical topics, while the live pipeline keeps serving.
 */
export function createRebuildCommand(): Command {
  return new Command('rebuild')
    .description(
      'Rebuild a read model from the canonical topics into a shadow collection while the pipeline keeps running, ' +
        'diff it against the live collection, and with --swap put it in place (blue/green)',
    )
    .argument('<read-model>', `the read model (sink) to rebuild: ${Object.keys(sinkRegistry).join(', ')}`)
    .addOption(configOption())
    .option(
      '--from-timestamp <iso>',
      'start at the first offset at or after this time instead of the earliest kept one; the shadow then lacks ' +
        'what came before, which the diff shows as missing',
      parseInstant,
    )
    .option('--swap', 'swap the shadow in under the live name, keep the old live collection as a backup, catch up')
    .option('--keep-shadow', 'without --swap: keep the shadow collections instead of dropping them after the diff')
    .option('--samples <n>', 'most diff samples shown per kind', parseCount, 5)
    .action(
      async (
        model: string,
        options: { config?: string; fromTimestamp?: Date; swap?: boolean; keepShadow?: boolean; samples: number },
      ) => {
        const { config, origin } = await loadCommandConfig(options.config);
        const logger = createLogger(
          { level: config.logLevel, base: { service: 'cdc-sync', command: 'rebuild' } },
          pino.destination({ dest: 2, sync: true }),
        );
        await rebuildReadModel(
          config,
          model,
          {
            ...(options.fromTimestamp === undefined ? {} : { fromTimestamp: options.fromTimestamp }),
            swap: options.swap === true,
            keepShadow: options.keepShadow === true,
            samples: options.samples,
          },
          { write: (line) => process.stdout.write(`${line}\n`), progress: createProgress, logger },
          origin,
        );
      },
    );
}
