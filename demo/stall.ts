import { existsSync } from 'node:fs';
import { type PipelineConfig } from '../ops/pipeline-config.js';
import { sourceTopic } from '../connectors/debezium/source-config.js';
import { type RecentWarning } from '../core/observability/recent-warnings.js';
import { type ConnectorStatus } from '../connectors/kafka-connect/client.js';
import { type ConsumerLag, createConsumerLagReader } from '../connectors/kafka/consumer-lag.js';
import { createOpsAdmin } from '../connectors/kafka/ops-admin.js';
import { resolveStackPaths, serviceFiles, type StackPaths } from '../stack/paths.js';
import { type StackService } from '../stack/service.js';

/** How long reading the consumer groups' offsets may take when the demo gives up. */
const LAG_READ_TIMEOUT_MS = 10_000;

/**
 * What the demo knows when it gives up on the read models: why it gives up,
 * where records wait in Kafka, what the pipeline warned about (the terminal
 * shows only its errors), the source connector's state and where each
 * service logs.
 */
export type StallReport = {
  /** The first line: why the demo gives up. */
  readonly reason: string;
  /** Every partition of the pipeline's consumer groups, or why their offsets could not be read. */
  readonly lags: readonly ConsumerLag[] | { readonly unreadable: string };
  /** The pipeline's last distinct warnings and errors, the most recent last. */
  readonly warnings: readonly RecentWarning[];
  /** One line on the Debezium connector, for a live chain. */
  readonly connector?: string;
  /** Each service of the demo and its log file; undefined when the local stack keeps no log of it. */
  readonly serviceLogs: readonly { readonly service: string; readonly logFile: string | undefined }[];
};

/**
 * The demo's give-up message: the reason, then the consumer groups that have
 * not committed up to the end of a partition (committed offset against end
 * offset), the pipeline's last warnings and errors, the connector's state and
 * the service logs, one item a line.
 */
export function formatStallReport(report: StallReport): string {
  return [
    report.reason,
    ...lagLines(report.lags),
    ...warningLines(report.warnings),
    ...(report.connector === undefined ? [] : [report.connector]),
    'Service logs (npm run stack:status):',
    ...report.serviceLogs.map(
      ({ service, logFile }) => `  - ${service}: ${logFile ?? 'no log, the local stack does not run it'}`,
    ),
  ].join('\n');
}

function lagLines(lags: StallReport['lags']): string[] {
  if ('unreadable' in lags) return [`The consumer groups' offsets could not be read: ${lags.unreadable}`];
  const behind = lags.filter((lag) => lag.lag > 0);
  if (behind.length === 0)
    return ['No consumer group is behind the end of its topics: the pipeline consumed everything in Kafka'];
  return [
    'Consumer groups behind the end of their topics:',
    ...behind.map(
      (lag) =>
        `  - ${lag.group} on ${lag.topic}[${lag.partition}]: committed ${lag.committedOffset ?? 'nothing'}, end ${lag.endOffset} (${lag.lag} behind)`,
    ),
  ];
}

function warningLines(warnings: readonly RecentWarning[]): string[] {
  if (warnings.length === 0) return ['The pipeline logged no warnings or errors'];
  return [
    "The pipeline's last warnings and errors (most recent last):",
    ...warnings.map((warning) => {
      const where = [warning.component, warning.where].filter((part) => part !== undefined).join(' ');
      const detail = warning.detail === undefined ? '' : `: ${warning.detail}`;
      const repeats = warning.count === 1 ? '' : ` (${warning.count} times since ${warning.firstAt.toISOString()})`;
      return `  - ${warning.lastAt.toISOString()} ${warning.level.toUpperCase()}${where === '' ? '' : ` ${where}`}: ${warning.message}${detail}${repeats}`;
    }),
  ];
}

/** One line on a Debezium connector: its state and each task's, with the first line of a failure's trace. */
export function describeConnector(name: string, status: ConnectorStatus): string {
  const state = (part: { readonly state: string; readonly trace?: string }) =>
    part.trace === undefined ? part.state : `${part.state} (${part.trace.split('\n')[0]!.trim()})`;
  const tasks = status.tasks.length === 0 ? ['no tasks'] : status.tasks.map((task) => `task ${task.id} ${state(task)}`);
  return `Debezium connector ${name}: connector ${state(status.connector)}, ${tasks.join(', ')}`;
}

/** What {@link readStallReport} reads from. */
export type StallSources = {
  readonly config: PipelineConfig;
  readonly warnings: () => readonly RecentWarning[];
  /** The demo's services, for their log files. */
  readonly services: readonly StackService[];
  /** The connector's line (see {@link describeConnector}), for a live chain. */
  readonly connector?: () => Promise<string>;
  readonly stackPaths?: StackPaths;
};

/**
 * Gathers a {@link StallReport}: the transform group's offsets on the source
 * topics and the sink group's on the canonical topics, read with a Kafka
 * admin of its own (a failure to read them is reported, not thrown), the
 * kept warnings, the connector's line and the log files the local stack
 * writes for the services.
 */
export async function readStallReport(reason: string, sources: StallSources): Promise<StallReport> {
  const { config } = sources;
  const admin = createOpsAdmin(config.kafka, 'demo-diagnosis');
  let lags: StallReport['lags'];
  try {
    lags = await createConsumerLagReader(
      admin,
      [
        { groupId: config.transform.groupId, topics: config.source.tables.map((t) => sourceTopic(config.source, t)) },
        { groupId: config.sink.groupId, topics: [config.topics.inventory, config.topics.order] },
      ],
      LAG_READ_TIMEOUT_MS,
    )();
  } catch (error: unknown) {
    lags = { unreadable: messageOf(error) };
  } finally {
    await admin.close();
  }
  const connector = await sources.connector?.().catch((error: unknown) => `Debezium connector: ${messageOf(error)}`);
  const paths = sources.stackPaths ?? resolveStackPaths();
  return {
    reason,
    lags,
    warnings: sources.warnings(),
    ...(connector === undefined ? {} : { connector }),
    serviceLogs: sources.services.map((service) => {
      const { logFile } = serviceFiles(paths, service.name);
      return { service: service.name, logFile: existsSync(logFile) ? logFile : undefined };
    }),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
