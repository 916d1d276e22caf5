import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePipelineConfig, type PipelineConfig } from '../../ops/pipeline-config.js';
import { ConfigError, SourceUnavailableError } from '../../core/errors.js';
import { type ConnectorStatus, createConnectClient } from '../../connectors/kafka-connect/client.js';
import { runPsql, type PostgresConnection } from '../../stack/services/postgres.js';
import {
  applyConnector,
  connectorStatus,
  restartConnector,
  snapshotTable,
  type ConnectorsCommandIo,
} from '../../cli/connectors-command.js';
import { createErpDatabase, debeziumStack, dropErpDatabase, waitFor, waitForStreaming } from './debezium-stack.js';
import { services, uniqueName } from './services.js';

// `cdc-sync connectors apply|status|restart|snapshot` against the native stack's Kafka Connect worker, capturing an
// ERP database of its own on the stack's PostgreSQL.

const stack = debeziumStack();
const run = uniqueName('conn').replace(/-/g, '_');
const databaseName = `erp_e2e_${run}`;
const { kafkaBrokers, schemaRegistryUrl } = services();

function configFor(overrides: { connectUrl?: string; tables?: string[] } = {}): PipelineConfig {
  return parsePipelineConfig(
    {
      kafka: { brokers: [...kafkaBrokers] },
      schemaRegistry: { url: schemaRegistryUrl },
      source: {
        connector: 'postgresql',
        topicPrefix: run,
        database: databaseName,
        tables: overrides.tables ?? ['public.inventory_balance'],
      },
      connector: {
        name: run,
        connectUrl: overrides.connectUrl ?? stack.connectUrl,
        port: stack.admin.port,
        slotName: run,
        heartbeatIntervalMs: 1000,
      },
    },
    'the test',
    {},
  );
}

const lines: string[] = [];
const io: ConnectorsCommandIo = {
  env: { ERP_DB_PASSWORD: stack.admin.password },
  write: (line) => lines.push(line),
};
let database: PostgresConnection;

describe('cdc-sync connectors against a real Kafka Connect', () => {
  beforeAll(async () => {
    await stack.up();
    database = await createErpDatabase(stack.admin, databaseName);
  });

  afterAll(async () => {
    await createConnectClient({ url: stack.connectUrl })
      .remove(run)
      .catch(() => undefined);
    await dropErpDatabase(stack.admin, databaseName, run).catch((error: unknown) =>
      process.stderr.write(`Could not drop ${databaseName}: ${error}\n`),
    );
    await stack.down();
  });

  it('prints the dry-run config without the password', async () => {
    lines.length = 0;
    await applyConnector(configFor(), { ...io, env: {} }, { dryRun: true });
    expect(lines.join('\n')).toContain('"database.password": "********"');
    // The local password, cdc, is also the user name; only the password's own entry must be hidden.
    expect((JSON.parse(lines.join('\n')) as { config: Record<string, string> }).config).toMatchObject({
      'database.password': '********',
      'database.user': 'cdc',
    });
  });

  it('creates the connector, then leaves it unchanged, then updates it', async () => {
    lines.length = 0;
    expect(await applyConnector(configFor(), io)).toBe('created');
    await waitForStreaming(stack.connectUrl, run, database, run);
    expect(await applyConnector(configFor(), io)).toBe('unchanged');
    expect(lines).toEqual([
      `Connector ${run} created at ${stack.connectUrl}`,
      `Connector ${run} unchanged at ${stack.connectUrl}`,
    ]);
    const wider = configFor({ tables: ['public.inventory_balance', 'public.refund'] });
    expect(await applyConnector(wider, io)).toBe('updated');
    await waitForStreaming(stack.connectUrl, run, database, run);
  });

  it('reports the running connector and restarts nothing', async () => {
    // Connect restarts the connector and its task after the update above, and reports them UNASSIGNED meanwhile.
    let status: ConnectorStatus | undefined;
    await waitFor(async () => {
      lines.length = 0;
      status = await connectorStatus(configFor(), io);
      return status.tasks.length > 0 && [status.connector, ...status.tasks].every((part) => part.state === 'RUNNING');
    }, `connector ${run} and its task to run again after the update`);
    expect(status?.connector.state).toBe('RUNNING');
    expect(status?.tasks.map((task) => task.state)).toEqual(['RUNNING']);
    expect(lines[0]).toMatch(new RegExp(`^Connector ${run}: RUNNING on `));
    lines.length = 0;
    expect(await restartConnector(configFor(), io)).toEqual([]);
    expect(lines).toEqual([`Connector ${run}: nothing failed, nothing restarted`]);
  });

  it('triggers an incremental snapshot that Debezium runs', async () => {
    const signal = await snapshotTable(configFor(), 'public.inventory_balance', io);
    // Debezium opens and closes a snapshot window for each chunk by writing watermark rows into the signal table.
    await waitFor(
      async () =>
        (
          await runPsql(database, "SELECT count(*) FROM public.debezium_signal WHERE type = 'snapshot-window-close';")
        ).trim() !== '0',
      `Debezium to run the incremental snapshot of signal ${signal.id}`,
    );
    const signals = await runPsql(database, `SELECT type, data FROM public.debezium_signal WHERE id = '${signal.id}';`);
    expect(signals.trim()).toBe(
      'execute-snapshot|{"data-collections":["public.inventory_balance"],"type":"incremental"}',
    );
  });

  it('names an unreachable Connect with its URL', async () => {
    const error = await connectorStatus(configFor({ connectUrl: 'http://127.0.0.1:1' }), io).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SourceUnavailableError);
    expect((error as Error).message).toMatch(/^Kafka Connect at http:\/\/127\.0\.0\.1:1 is unreachable: GET /);
  });

  it('reports a config Connect rejects as a ConfigError with the status and message', async () => {
    const client = createConnectClient({ url: stack.connectUrl });
    const error = await client
      .apply(`${run}_bad`, { 'connector.class': 'io.example.NoSuchConnector' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      new RegExp(`^Kafka Connect PUT ${stack.connectUrl}/connectors/${run}_bad/config answered 400: .*NoSuchConnector`),
    );
  });
});
