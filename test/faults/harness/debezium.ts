import { inject } from 'vitest';
import { applyConnector } from '../../../cli/connectors-command.js';
import { type PipelineConfig } from '../../../ops/pipeline-config.js';
import { createConnectClient } from '../../../connectors/kafka-connect/client.js';
import { buildConnectorConfig, connectorPassword } from '../../../connectors/kafka-connect/connector-config.js';
import { type ErpDatabaseConnection, type ErpSession, openErpSession } from '../../../connectors/postgres/session.js';
import { createErpDatabase, dropErpDatabase } from '../../../devtools/erp/postgres-database.js';
import { POSTGRES_CREDENTIALS, POSTGRES_DATABASE } from '../../../stack/services/postgres.js';
import { writeConfigFile } from '../../integration/config-file.js';
import { waitForStreaming } from '../../integration/debezium-stack.js';
import { isolatedPipelineConfig, kafkaFor } from '../../integration/pipeline-harness.js';
import { type BalanceKey } from './workload.js';
import { DEBEZIUM_SERVICES, faultStack } from './fault-stack.js';
import { endCheck, type EndCheckResult, type ScenarioReport } from './end-check.js';
import { killAllWorkers, saveWorkerLogs, startWorker, type Worker, type WorkerRole } from './workers.js';

/** The sample ERP's tables in PostgreSQL, as Debezium captures them. */
export const PG_TABLES = [
  'inventory_balance',
  'sales_order_header',
  'sales_order_line',
  'payment_transaction',
  'shipment',
  'return_authorization',
  'refund',
] as const;

/**
 * One scenario on real Debezium: PostgreSQL and Kafka Connect of the fault stack (started once per file with
 * {@link startDebeziumServices}), an ERP database of the scenario's own from the sample DDL and seed, a connector and
 * replication slot named after the run, and `cdc-sync run` workers writing to a database of the run's own.
 */
export function debeziumScenario(prefix: string, overrides: Record<string, unknown> = {}) {
  const stack = faultStack(inject('faultStack'));
  const postgres = stack.services.postgres;
  const connectUrl = stack.services['kafka-connect'].endpoint;
  const admin: ErpDatabaseConnection = {
    host: '127.0.0.1',
    port: postgres.ports[0]!,
    ...POSTGRES_CREDENTIALS,
    database: POSTGRES_DATABASE,
  };
  const run = isolatedPipelineConfig().source.topicPrefix;
  const databaseName = `${prefix}_${run}`;
  const config: PipelineConfig = isolatedPipelineConfig({
    logLevel: 'info',
    kafka: { maxBytesPerPartition: 4096 },
    source: {
      connector: 'postgresql',
      topicPrefix: run,
      database: databaseName,
      tables: PG_TABLES.map((table) => `public.${table}`),
      // The sample ERP's stages read its dbo tables; on PostgreSQL they live in public.
      schemas: { public: 'dbo' },
    },
    connector: { name: run, connectUrl, port: admin.port, slotName: run, heartbeatIntervalMs: 1000 },
    mongodb: { database: run },
    ...overrides,
  });
  /** The connector's password variable, as `connectors apply` and `reconcile` read it. */
  const env = { ...process.env, [config.connector.passwordEnv]: admin.password };
  const kafka = kafkaFor(config);
  let database: ErpDatabaseConnection | undefined;
  let session: ErpSession | undefined;
  const configFile = writeConfigFile(config);
  const sql = async (statements: string, params?: readonly unknown[]) => {
    if (session === undefined) throw new Error('start() first');
    return session.query(statements, params);
  };
  /** The liveness change on the ERP itself: one balance set to a quantity never used before. */
  const liveness =
    (key: BalanceKey = 'TSHIRT-ORG-BLK-M@WH-EAST') =>
    async (): Promise<{ key: BalanceKey; onHand: string }> => {
      const onHand = `${8000 + Math.floor(Math.random() * 1000)}.375`;
      const [sku, location] = key.split('@');
      await sql('UPDATE public.inventory_balance SET qty_on_hand = $1 WHERE sku = $2 AND location_code = $3', [
        onHand,
        sku,
        location,
      ]);
      return { key, onHand };
    };

  return {
    stack,
    config,
    kafka,
    env,
    connectUrl,
    /** The scenario's ERP database; after `start`. */
    database: (): ErpDatabaseConnection => {
      if (database === undefined) throw new Error(`The ERP database of ${run} is not created yet`);
      return database;
    },
    /**
     * Creates and seeds the ERP database, registers the connector (as `cdc-sync connectors apply` does, plus
     * `connectorSettings` of Debezium's own) and waits until the slot streams.
     */
    async start(connectorSettings: Readonly<Record<string, string>> = {}): Promise<void> {
      database = await createErpDatabase(admin, databaseName);
      session = await openErpSession(database);
      if (Object.keys(connectorSettings).length === 0) await applyConnector(config, { env, write: () => undefined });
      else {
        const generated = buildConnectorConfig(config, connectorPassword(config, env));
        await createConnectClient({ url: connectUrl }).apply(run, { ...generated, ...connectorSettings });
      }
      await waitForStreaming(connectUrl, run, database, run);
    },
    /**
     * The shared end check on this capture: the liveness change is an UPDATE on the ERP database, `cdc-sync reconcile`
     * compares the read models with the ERP tables, and a liveness change that never lands reports the connector's
     * status (with the trace of a failed task).
     */
    endCheck: (report: ScenarioReport, running: readonly Worker[]): Promise<EndCheckResult> =>
      endCheck({
        report,
        config,
        liveness: liveness(),
        running,
        reconcile: { env },
        diagnose: async () =>
          `connector ${run}: ${JSON.stringify(await createConnectClient({ url: connectUrl }).status(run))}`,
      }),
    /** Runs SQL on the ERP database (one session for the scenario). */
    sql,
    worker(name: string, role: WorkerRole) {
      return startWorker(name, configFile, role);
    },
    async dispose(): Promise<void> {
      await killAllWorkers();
      const logs = process.env['CDC_SYNC_FAULTS_LOGS'];
      if (logs !== undefined && logs !== '') saveWorkerLogs(logs);
      await session?.close();
      await createConnectClient({ url: connectUrl })
        .remove(run)
        .catch(() => undefined);
      await dropErpDatabase(admin, databaseName, run).catch((error: unknown) =>
        process.stderr.write(`Could not drop ${databaseName}: ${String(error)}\n`),
      );
    },
  };
}

/** Starts PostgreSQL and Kafka Connect on the fault stack (for `beforeAll` of the Debezium scenarios). */
export async function startDebeziumServices(): Promise<void> {
  await faultStack(inject('faultStack')).up(DEBEZIUM_SERVICES);
}

/** Stops them again, to give the machine back before the next scenarios (for `afterAll`). */
export async function stopDebeziumServices(): Promise<void> {
  await faultStack(inject('faultStack')).down(DEBEZIUM_SERVICES);
}
