import { ConfigError } from '../../core/errors.js';
import { type ApplyOutcome, type ConnectClient, type ConnectorStatus, createConnectClient } from './client.js';
import {
  buildConnectorConfig,
  type ConnectorConfig,
  connectorPassword,
  type ConnectorSections,
  REDACTED,
  redactConnectorConfig,
  signalDataCollection,
} from './connector-config.js';
import { sendSnapshotSignal, type SnapshotSignal } from './signal.js';

// What `cdc-sync connectors apply|status|restart|snapshot` do to the Debezium source connector the pipeline config
// describes; the CLI prints the results.

/** What managing the connector needs besides the config: the environment (for the password) and a `fetch`. */
export type ConnectorAdminIo = {
  readonly env: NodeJS.ProcessEnv;
  readonly fetch?: typeof fetch;
};

/** The connector's name and its generated config with the password redacted: what a dry run shows. */
export function redactedConnector(config: ConnectorSections): {
  readonly name: string;
  readonly config: ConnectorConfig;
} {
  return { name: config.connector.name, config: redactConnectorConfig(buildConnectorConfig(config, REDACTED)) };
}

/**
 * Creates or updates the connector from the generated config, with the password read from the environment variable
 * `connector.passwordEnv` (a `ConfigError` when it is unset), and says which it did.
 */
export function applyConnectorConfig(config: ConnectorSections, io: ConnectorAdminIo): Promise<ApplyOutcome> {
  const connectorConfig = buildConnectorConfig(config, connectorPassword(config, io.env));
  return connectClient(config, io).apply(config.connector.name, connectorConfig);
}

/** The connector's and its tasks' states. */
export function readConnectorStatus(config: ConnectorSections, io: ConnectorAdminIo): Promise<ConnectorStatus> {
  return connectClient(config, io).status(config.connector.name);
}

/** Whether the connector or one of its tasks failed. */
export function hasFailed(status: ConnectorStatus): boolean {
  return status.connector.state === 'FAILED' || status.tasks.some((task) => task.state === 'FAILED');
}

/**
 * Restarts the connector, if failed, and its failed tasks; returns what it restarted (`connector`, `task 0`, …),
 * nothing and without a restart when nothing had failed.
 */
export async function restartFailed(config: ConnectorSections, io: ConnectorAdminIo): Promise<readonly string[]> {
  const connect = connectClient(config, io);
  const name = config.connector.name;
  const status = await connect.status(name);
  const failed = [
    ...(status.connector.state === 'FAILED' ? ['connector'] : []),
    ...status.tasks.filter((task) => task.state === 'FAILED').map((task) => `task ${task.id}`),
  ];
  if (failed.length > 0) await connect.restart(name, { onlyFailed: true });
  return failed;
}

/** A snapshot signal sent: the signal row, the data collection it names and the signal table it went into. */
export type SnapshotRequest = {
  readonly signal: SnapshotSignal;
  readonly dataCollection: string;
  readonly signalTable: string;
};

/**
 * Inserts an `execute-snapshot` signal for one captured table (`schema.table`, as listed in `source.tables`) into the
 * signal table, through the database. Throws `ConfigError` for a table that is not captured or a connector that
 * cannot be signalled.
 */
export async function requestSnapshot(
  config: ConnectorSections,
  table: string,
  env: NodeJS.ProcessEnv,
): Promise<SnapshotRequest> {
  if (!config.source.tables.includes(table)) {
    throw new ConfigError(`Table ${table} is not captured; source.tables lists ${config.source.tables.join(', ')}`);
  }
  const { connector, database } = config.source;
  if (connector !== 'sqlserver' && connector !== 'postgresql') {
    throw new ConfigError(`Cannot signal a ${connector} connector; supported: sqlserver, postgresql`);
  }
  const dataCollection = connector === 'sqlserver' ? `${database}.${table}` : table;
  const signalTable = signalDataCollection(config);
  const signal = await sendSnapshotSignal(
    {
      connector,
      host: config.connector.host,
      port: config.connector.port ?? (connector === 'sqlserver' ? 1433 : 5432),
      user: config.connector.user,
      password: connectorPassword(config, env),
      database,
    },
    // SQL Server names the signal table with its database; the connection already chose the database.
    connector === 'sqlserver' ? signalTable.split('.').slice(1).join('.') : signalTable,
    [dataCollection],
  );
  return { signal, dataCollection, signalTable };
}

function connectClient(config: ConnectorSections, io: ConnectorAdminIo): ConnectClient {
  return createConnectClient({
    url: config.connector.connectUrl,
    ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
  });
}
