import { Command } from 'commander';
import { type PipelineConfig } from '../ops/pipeline-config.js';
import { type ApplyOutcome, type ConnectorStatus } from '../connectors/kafka-connect/client.js';
import {
  applyConnectorConfig,
  hasFailed,
  readConnectorStatus,
  redactedConnector,
  requestSnapshot,
  restartFailed,
} from '../connectors/kafka-connect/connector-admin.js';
import { type SnapshotSignal } from '../connectors/kafka-connect/signal.js';
import { loadConfigFile, requiredConfigOption } from './command-options.js';

/** What the connector subcommands need besides the config: the environment, an output line writer, and a `fetch`. */
export type ConnectorsCommandIo = {
  readonly env: NodeJS.ProcessEnv;
  readonly write: (line: string) => void;
  readonly fetch?: typeof fetch;
};

/**
 * `cdc-sync connectors apply|status|restart|snapshot <table>`: manages the
 * Debezium source connector in Kafka Connect from the pipeline config, so the
 * topics Debezium writes and the topics the pipeline reads come from one file.
 * The database password comes from the environment variable named by
 * `connector.passwordEnv` and is never printed.
 */
export function createConnectorsCommand(): Command {
  const command = new Command('connectors').description(
    'Manage the Debezium source connector in Kafka Connect, generated from the pipeline config',
  );
  const io: ConnectorsCommandIo = { env: process.env, write: (line) => process.stdout.write(`${line}\n`) };

  command
    .command('apply')
    .description('Create or update the connector (PUT /connectors/{name}/config); prints created, updated or unchanged')
    .addOption(requiredConfigOption())
    .option('--dry-run', 'print the generated connector config, password redacted, and change nothing')
    .action(async (options: { config: string; dryRun?: boolean }) => {
      await applyConnector(await loadConfigFile(options.config), io, { dryRun: options.dryRun === true });
    });
  command
    .command('status')
    .description("Print the connector's and its tasks' states, with a failed task's trace; exits 1 when one failed")
    .addOption(requiredConfigOption())
    .action(async (options: { config: string }) => {
      const status = await connectorStatus(await loadConfigFile(options.config), io);
      if (hasFailed(status)) process.exitCode = 1;
    });
  command
    .command('restart')
    .description('Restart the failed connector and failed tasks (POST /connectors/{name}/restart?onlyFailed=true)')
    .addOption(requiredConfigOption())
    .action(async (options: { config: string }) => {
      await restartConnector(await loadConfigFile(options.config), io);
    });
  command
    .command('snapshot')
    .description(
      'Trigger an incremental snapshot of one captured table by inserting an execute-snapshot row into the signal table',
    )
    .argument('<table>', 'a captured table as schema.table, as in source.tables')
    .addOption(requiredConfigOption())
    .action(async (table: string, options: { config: string }) => {
      await snapshotTable(await loadConfigFile(options.config), table, io);
    });
  return command;
}

/**
 * Applies the generated config; with `dryRun`, prints it (password redacted)
 * and applies nothing. Needs the password only when applying.
 */
export async function applyConnector(
  config: PipelineConfig,
  io: ConnectorsCommandIo,
  options: { readonly dryRun?: boolean } = {},
): Promise<ApplyOutcome | 'dry-run'> {
  if (options.dryRun === true) {
    io.write(JSON.stringify(redactedConnector(config), null, 2));
    return 'dry-run';
  }
  const outcome = await applyConnectorConfig(config, io);
  io.write(`Connector ${config.connector.name} ${outcome} at ${config.connector.connectUrl}`);
  return outcome;
}

/** Prints the connector's and tasks' states, and the trace of each failed one. */
export async function connectorStatus(config: PipelineConfig, io: ConnectorsCommandIo): Promise<ConnectorStatus> {
  const status = await readConnectorStatus(config, io);
  io.write(`Connector ${status.name}: ${status.connector.state}${worker(status.connector.worker_id)}`);
  if (status.connector.state === 'FAILED' && status.connector.trace !== undefined) io.write(status.connector.trace);
  if (status.tasks.length === 0) io.write('  no tasks');
  for (const task of status.tasks) {
    io.write(`  task ${task.id}: ${task.state}${worker(task.worker_id)}`);
    if (task.state === 'FAILED' && task.trace !== undefined) io.write(indent(task.trace));
  }
  return status;
}

/** Restarts the connector, if failed, and its failed tasks; prints what it restarted, or that nothing had failed. */
export async function restartConnector(config: PipelineConfig, io: ConnectorsCommandIo): Promise<readonly string[]> {
  const failed = await restartFailed(config, io);
  const name = config.connector.name;
  io.write(
    failed.length === 0
      ? `Connector ${name}: nothing failed, nothing restarted`
      : `Connector ${name}: restarting ${failed.join(', ')}`,
  );
  return failed;
}

/**
 * Inserts an `execute-snapshot` signal for one captured table (`schema.table`,
 * as listed in `source.tables`) into the signal table, through the database.
 */
export async function snapshotTable(
  config: PipelineConfig,
  table: string,
  io: ConnectorsCommandIo,
): Promise<SnapshotSignal> {
  const { signal, dataCollection, signalTable } = await requestSnapshot(config, table, io.env);
  io.write(`Requested an incremental snapshot of ${dataCollection}: signal ${signal.id} in ${signalTable}`);
  return signal;
}

function worker(id: string | undefined): string {
  return id === undefined ? '' : ` on ${id}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
