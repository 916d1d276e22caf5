import { Command, InvalidArgumentError, Option } from 'commander';
import { pino, type Logger } from 'pino';
import { createLogger } from '../core/logger.js';
import { type PipelineConfig } from '../ops/pipeline-config.js';
import { ConfigError } from '../core/errors.js';
import { type RangeProgress } from '../connectors/kafka/bounded-reader.js';
import { configOption, loadCommandConfig, parseOffset, parsePositiveInteger } from './command-options.js';
import {
  type BytesInfo,
  type DeadLetterListing,
  HEX_PREFIX_BYTES,
  listDeadLetters,
  showDeadLetter,
  type ShownDeadLetter,
} from '../ops/dlq/inspect.js';
import { type DlqReplaySummary, replayDeadLetters } from '../ops/dlq/replay.js';
import { type ProgressFactory } from '../ops/progress.js';
import { createProgress } from './progress.js';
import { listenForStopSignal } from './stop-signal.js';
import { formatTable } from './table.js';

/** Where the DLQ commands read their environment and write their output; tests replace these. */
export type DlqCommandIo = {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (text: string) => void;
  readonly progress: ProgressFactory;
  /** The logger for Kafka's and the runner's own lines; default JSON lines on stderr at the config's level. */
  readonly logger?: (config: PipelineConfig) => Logger;
};

/** Reads of fewer offsets than this finish quickly and show no progress. */
export const PROGRESS_MIN_OFFSETS = 1000;

/**
 * `cdc-sync dlq list|show|replay`: inspects and replays the dead-letter
 * topic (`topics.deadLetter`). `list` groups dead letters by original topic,
 * stage and error class; `show` decodes one; `replay` sends dead letters
 * back through the current config's stages and sinks.
 */
export function createDlqCommand(overrides: Partial<DlqCommandIo> = {}): Command {
  const io: DlqCommandIo = {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    progress: createProgress,
    ...overrides,
  };
  const command = new Command('dlq').description(
    'Inspect and replay the dead-letter topic (topics.deadLetter): records that could not be decoded, transformed or written',
  );
  const context = async (path: string | undefined) => {
    const { config, origin } = await loadCommandConfig(path, io.env);
    return { config, origin, logger: io.logger?.(config) ?? stderrLogger(config) };
  };

  command
    .command('list')
    .description(
      'Count dead letters by original topic, stage and error class, with the first and last time; reads the topic from its earliest offset to its end at the start',
    )
    .addOption(configOption())
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { config?: string; json?: boolean }) => {
      const { config, origin, logger } = await context(options.config);
      const listing = await listDeadLetters(config, origin, logger, readProgress(io, 'Reading dead letters'));
      io.stdout(`${options.json === true ? JSON.stringify(listing, null, 2) : formatDeadLetterListing(listing)}\n`);
    });

  command
    .command('show')
    .description(
      'Decode one dead letter: every header, the error, and the original record through the source decoder or the canonical codec',
    )
    .argument('[position]', 'partition:offset in the dead-letter topic, e.g. 0:42', parsePosition)
    .addOption(configOption())
    .option('--partition <n>', 'partition of the dead letter (instead of partition:offset)', parseWholeNumber)
    .option('--offset <n>', 'offset of the dead letter (instead of partition:offset)', parseOffset)
    .option('--json', 'print JSON instead of text')
    .action(
      async (
        position: { partition: number; offset: string } | undefined,
        options: { config?: string; partition?: number; offset?: string; json?: boolean },
      ) => {
        const where = positionOf(position, options);
        const { config, origin, logger } = await context(options.config);
        const shown = await showDeadLetter(config, origin, logger, where);
        io.stdout(`${options.json === true ? JSON.stringify(shown, null, 2) : formatShownDeadLetter(shown)}\n`);
      },
    );

  command
    .command('replay')
    .description(
      'Send dead letters back through the stages and sinks of the current config, in original per-key order, and publish the results transactionally; each dead letter is replayed once (tracked by the consumer group cdc-sync-dlq-replay.<topic>), and not again once its replays failed --max-attempts times',
    )
    .addOption(configOption())
    .option('--topic <topic>', 'only dead letters of this original topic')
    .option('--stage <name>', 'only dead letters of this stage: decode, a transform or a sink name')
    .option('--error-class <name>', 'only dead letters of this error class, e.g. TransformError')
    .addOption(
      new Option(
        '--from-offset <n>',
        'read from this offset of every partition instead of where the last replay stopped, replaying again what was replayed',
      )
        .argParser(parseOffset)
        .conflicts('fromBeginning'),
    )
    .option('--from-beginning', 'start over: read from the earliest offset, replaying again what was replayed')
    .option('--dry-run', 'list what would be replayed and change nothing')
    .option(
      '--max-attempts <n>',
      'do not replay a dead letter whose replays failed this often',
      parsePositiveInteger,
      3,
    )
    .option('--json', 'print the summary as JSON')
    .action(
      async (options: {
        config?: string;
        topic?: string;
        stage?: string;
        errorClass?: string;
        fromOffset?: string;
        fromBeginning?: boolean;
        dryRun?: boolean;
        maxAttempts: number;
        json?: boolean;
      }) => {
        const { config, origin, logger } = await context(options.config);
        const stop = listenForStopSignal();
        try {
          const summary = await replayDeadLetters(config, origin, logger, {
            ...pick(options, ['topic', 'stage', 'errorClass', 'fromOffset']),
            fromBeginning: options.fromBeginning === true,
            dryRun: options.dryRun === true,
            maxAttempts: options.maxAttempts,
            isRunning: () => !stop.stopping(),
            ...readProgress(io, 'Reading dead letters'),
          });
          io.stdout(`${options.json === true ? JSON.stringify(summary, null, 2) : formatReplaySummary(summary)}\n`);
        } finally {
          stop.dispose();
        }
      },
    );
  return command;
}

/** `dlq list` as a table, with one line on the topic under it. */
export function formatDeadLetterListing(listing: DeadLetterListing): string {
  const extent = listing.partitions.map((p) => `partition ${p.partition} offsets ${p.low}..${p.high}`).join(', ');
  const summary = `${listing.total} dead ${listing.total === 1 ? 'letter' : 'letters'} in ${listing.topic} (${extent})`;
  const unreadable =
    listing.unreadable > 0 ? `\n${listing.unreadable} records without cdc-sync dead-letter headers` : '';
  if (listing.groups.length === 0) return `${summary}${unreadable}`;
  const rows = listing.groups.map((g) => [
    g.topic,
    g.stage,
    g.errorClass,
    String(g.count),
    String(g.replays),
    g.first,
    g.last,
  ]);
  return `${formatTable([['TOPIC', 'STAGE', 'ERROR', 'COUNT', 'REPLAYS', 'FIRST', 'LAST'], ...rows])}\n\n${summary}${unreadable}`;
}

/** `dlq show` as text: the dead letter, its headers, and the decoded record or why it did not decode. */
export function formatShownDeadLetter(shown: ShownDeadLetter): string {
  const lines = [
    `Dead letter ${shown.location.topic} partition ${shown.location.partition} offset ${shown.location.offset}`,
  ];
  const d = shown.deadLetter;
  if (d === null) {
    lines.push(`  not a cdc-sync dead letter: ${shown.problem}`);
  } else {
    lines.push(
      `  original:   ${d.original.topic} partition ${d.original.partition} offset ${d.original.offset}`,
      `  stage:      ${d.stage}`,
      `  error:      ${d.errorClass}: ${d.errorMessage}`,
      `  at:         ${d.deadLetteredAt}`,
      `  replays:    ${d.replayCount}${d.replayOf === null ? '' : ` (after replaying ${d.replayOf})`}`,
    );
  }
  lines.push('Headers:', ...Object.entries(shown.headers).map(([name, value]) => `  ${name}: ${value}`));
  lines.push(`Key:   ${describeBytes(shown.key)}`, `Value: ${describeBytes(shown.value)}`);
  if (shown.decodedAs !== null) {
    if (shown.decodeError === null) {
      lines.push(`Decoded as a ${shown.decodedAs} record:`, JSON.stringify(shown.decoded, null, 2));
    } else {
      lines.push(`Does not decode as a ${shown.decodedAs} record: ${shown.decodeError}`);
    }
  }
  return lines.join('\n');
}

/** The replay summary as a person reads it. */
export function formatReplaySummary(summary: DlqReplaySummary): string {
  const lines: string[] = [];
  if (summary.dryRun) {
    lines.push(
      `Dry run: would replay ${summary.planned.length} of ${summary.read} dead letters read from ${summary.deadLetterTopic}`,
    );
    if (summary.planned.length > 0) {
      lines.push(
        formatTable([
          ['DEAD LETTER', 'ORIGINAL', 'STAGE', 'ERROR', 'ATTEMPT'],
          ...summary.planned.map((p) => [p.deadLetter, p.original, p.stage, p.errorClass, String(p.attempt)]),
        ]),
      );
    }
  } else {
    lines.push(
      `Replayed ${summary.replayed} of ${summary.read} dead letters read from ${summary.deadLetterTopic}` +
        (summary.complete ? '' : ' (stopped early; the rest stays pending)'),
      `  emitted events:         ${summary.emitted}`,
      `  re-applied by sinks:    ${summary.reapplied} (stale ${summary.stale})`,
      `  failed again:           ${summary.failedAgain}`,
    );
  }
  lines.push(`  skipped (max attempts): ${summary.skippedMaxAttempts}`);
  const more: [string, number][] = [
    ['already replayed', summary.alreadyReplayed],
    ['not selected', summary.notSelected],
    ['stage not configured', summary.stageMissing],
    ['superseded', summary.superseded],
    ['not cdc-sync dead letters', summary.unreadable],
  ];
  for (const [label, count] of more) if (count > 0) lines.push(`  ${`${label}:`.padEnd(24)}${count}`);
  lines.push(`Progress is kept by consumer group ${summary.groupId}; --from-beginning starts over`);
  return lines.join('\n');
}

function readProgress(io: DlqCommandIo, label: string): { onProgress: (progress: RangeProgress) => void } {
  let progress: ReturnType<ProgressFactory> | undefined;
  return {
    onProgress: ({ covered, total }) => {
      if (progress === undefined && total >= PROGRESS_MIN_OFFSETS) {
        progress = io.progress({ label, total, unit: 'offsets' });
      }
      progress?.update(covered);
      if (covered >= total) progress?.stop();
    },
  };
}

function stderrLogger(config: PipelineConfig): Logger {
  return createLogger({ level: config.logLevel, base: { service: 'cdc-sync', command: 'dlq' } }, pino.destination(2));
}

function describeBytes(info: BytesInfo): string {
  if (info === null) return 'null';
  const more = info.length > HEX_PREFIX_BYTES ? '…' : '';
  return `${info.length} bytes, ${info.hexPrefix}${more}`;
}

function parsePosition(text: string): { partition: number; offset: string } {
  const match = /^(\d+):(\d+)$/.exec(text);
  if (match === null)
    throw new InvalidArgumentError(`expected partition:offset such as 0:42, got ${JSON.stringify(text)}`);
  return { partition: Number(match[1]), offset: BigInt(match[2]!).toString() };
}

function parseWholeNumber(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`expected a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function positionOf(
  position: { partition: number; offset: string } | undefined,
  options: { partition?: number; offset?: string },
): { partition: number; offset: string } {
  if (position !== undefined) {
    if (options.partition !== undefined || options.offset !== undefined) {
      throw new ConfigError(
        'Give the dead letter either as partition:offset or with --partition and --offset, not both',
      );
    }
    return position;
  }
  if (options.offset === undefined) {
    throw new ConfigError('Name the dead letter: partition:offset, or --offset (with --partition, default 0)');
  }
  return { partition: options.partition ?? 0, offset: options.offset };
}

function pick<T extends object, K extends keyof T>(
  object: T,
  keys: readonly K[],
): { [P in K]?: Exclude<T[P], undefined> } {
  return Object.fromEntries(keys.flatMap((key) => (object[key] === undefined ? [] : [[key, object[key]]]))) as {
    [P in K]?: Exclude<T[P], undefined>;
  };
}
