import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentProgress } from '../../ops/progress.js';
import { reconcileExitCode } from '../../cli/reconcile-command.js';
import { type ReconcileReport, reconcileReadModels } from '../../ops/reconcile/reconcile-read-models.js';
import { replicationSlotState } from '../../devtools/erp/postgres-database.js';
import { createConnectClient } from '../../connectors/kafka-connect/client.js';
import { runPsql, type PostgresConnection } from '../../stack/services/postgres.js';
import { writeConfigFile } from './config-file.js';
import { postgresCapture, waitFor } from './debezium-stack.js';
import { eventually } from './erp-scenario.js';

// Real Debezium on PostgreSQL builds the read models from the seeded sample ERP (12 balances) and three orders; then
// `reconcile` reads the ERP tables through pg and the read models, and must find no drift. With the connector
// deleted, one balance changes in PostgreSQL that CDC no longer delivers: reconcile must report exactly that one.

const capture = postgresCapture('erp_rc', ['inventory_balance', 'sales_order_header', 'sales_order_line']);
const { stack, run, databaseName, config, env } = capture;
let database: PostgresConnection;

const ORDERS = `
INSERT INTO public.sales_order_header (order_number, customer_id, customer_email, channel, status_code, currency_code,
  order_total, placed_at)
VALUES ('SO-300001', 'CUST-1', NULL, 'WEB', 'NW', 'EUR', 10.00, '2025-11-27 09:00:00+01'),
       ('SO-300002', 'CUST-2', NULL, 'WEB', 'AC', 'EUR', 20.00, '2025-11-27 09:05:00+01'),
       ('SO-300003', 'CUST-3', NULL, 'STORE', 'SH', 'EUR', 30.00, '2025-11-27 09:10:00+01');
`;

function reconcile(pageSize = 5): Promise<ReconcileReport> {
  return reconcileReadModels(config, { pageSize, samples: 5 }, { env, progress: silentProgress }, 'the test');
}

function cli(args: readonly string[], cliEnv: NodeJS.ProcessEnv) {
  return spawnSync(join('node_modules', '.bin', 'tsx'), ['cli/main.ts', 'reconcile', ...args], {
    env: cliEnv,
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('cdc-sync reconcile: PostgreSQL ERP tables against the read models', () => {
  beforeAll(async () => {
    // Three orders the snapshot reads, then streamed changes on top of it.
    database = await capture.start((erp) => runPsql(erp, ORDERS));
    await runPsql(
      database,
      `UPDATE public.sales_order_header SET status_code = 'PK' WHERE order_number = 'SO-300002';
       UPDATE public.inventory_balance SET qty_allocated = 2.5 WHERE sku = 'HOODIE-GRY-L' AND location_code = 'WH-EAST';`,
    );
    await eventually(async () => expect((await reconcile()).drift).toBe(0));
  });

  afterAll(() => capture.stop());

  it('finds no drift once the pipeline has delivered every change, reading both sides in pages', async () => {
    const report = await reconcile(5);
    expect(report).toEqual({
      source: `PostgreSQL database ${databaseName} at 127.0.0.1:${stack.admin.port}`,
      view: `MongoDB database ${run}`,
      drift: 0,
      comparisons: [
        {
          subject: 'inventory balances',
          sourceRows: 12,
          viewDocuments: 12,
          inSync: 12,
          missingInView: 0,
          missingInSource: 0,
          different: 0,
          samples: [],
        },
        {
          subject: 'order statuses',
          sourceRows: 3,
          viewDocuments: 3,
          inSync: 3,
          missingInView: 0,
          missingInSource: 0,
          different: 0,
          samples: [],
        },
      ],
      skipped: [],
    });
    expect(reconcileExitCode(report)).toBe(0);
  });

  it('exits 0 from the command line without drift', () => {
    const result = cli(['--config', writeConfigFile(config)], { ...process.env, ...env });
    expect(result.stderr).not.toContain('cdc-sync reconcile:');
    expect(result.stdout).toContain('No drift');
    expect(result.status).toBe(0);
  });

  it('reports exactly the one balance change CDC did not deliver, and exits 1', async () => {
    await createConnectClient({ url: stack.connectUrl }).remove(run);
    await waitFor(async () => (await replicationSlotState(database, run)) !== 'active', `slot ${run} to go idle`);
    await runPsql(
      database,
      `UPDATE public.inventory_balance SET qty_on_hand = 955 WHERE sku = 'MUG-STONE-350' AND location_code = 'WH-EAST';`,
    );

    const report = await reconcile(4);
    expect(report.drift).toBe(1);
    expect(report.comparisons).toEqual([
      {
        subject: 'inventory balances',
        sourceRows: 12,
        viewDocuments: 12,
        inSync: 11,
        missingInView: 0,
        missingInSource: 0,
        different: 1,
        samples: [
          {
            kind: 'different',
            key: 'MUG-STONE-350@WH-EAST',
            fields: [{ field: 'onHand', source: '955.000', view: '960.000' }],
          },
        ],
      },
      expect.objectContaining({
        subject: 'order statuses',
        inSync: 3,
        different: 0,
        missingInView: 0,
        missingInSource: 0,
      }),
    ]);
    expect(reconcileExitCode(report)).toBe(1);

    const result = cli(['--config', writeConfigFile(config), '--json'], { ...process.env, ...env });
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ drift: 1, comparisons: report.comparisons });
  });

  it('exits 2 naming the variable when the password is not in the environment', () => {
    const { ERP_DB_PASSWORD: _unset, ...without } = process.env;
    const result = cli(['--config', writeConfigFile(config)], without);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('cdc-sync reconcile: Environment variable ERP_DB_PASSWORD is not set');
    expect(result.stdout).toBe('');
  });
});
