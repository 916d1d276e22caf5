import { afterAll, beforeAll, describe, it } from 'vitest';
import { renderStatements } from '../../demo/traffic.js';
import { runPsql } from '../../stack/services/postgres.js';
import { postgresCapture } from './debezium-stack.js';
import {
  expectedOrder,
  expectScenarioCounters,
  expectScenarioInventory,
  expectScenarioOrder,
  INVENTORY_MOVES,
  ORDER_LIFECYCLE,
} from './erp-scenario.js';

// Real Debezium → pipeline → MongoDB on PostgreSQL: the sample ERP's DDL and seed in a database of this run's own,
// the connector registered by `cdc-sync connectors apply`'s code, the pipeline in-process, then real DML (the scenario
// of erp-scenario.ts: an order from placement to refund, stock moves, a primary-key change and a delete) and the read
// models it must produce. PostgreSQL's snake_case names reach the transforms as the SQL Server ERP's PascalCase
// (source.names), its timestamptz values as UTC ISO strings with six fraction digits and its char(n) codes
// blank-padded. mssql-debezium.test.ts runs the same scenario on SQL Server.

const capture = postgresCapture('erp_e2e', [
  'inventory_balance',
  'sales_order_header',
  'sales_order_line',
  'payment_transaction',
  'shipment',
  'return_authorization',
  'refund',
]);

describe('real Debezium on PostgreSQL → pipeline → MongoDB', () => {
  beforeAll(async () => {
    const database = await capture.start();
    await runPsql(database, renderStatements(ORDER_LIFECYCLE, 'postgresql'));
    await runPsql(database, renderStatements(INVENTORY_MOVES, 'postgresql'));
  });

  afterAll(() => capture.stop());

  it('projects inventory availability from the snapshot, updates, a key change and a delete', async () => {
    await expectScenarioInventory(capture.readModels());
  });

  it("projects the order's whole truth: PascalCase columns from snake_case, UTC timestamps, trimmed char(2) codes", async () => {
    // Debezium's PostgreSQL connector writes timestamptz normalised to UTC with the column's six fraction digits.
    await expectScenarioOrder(
      capture.readModels(),
      expectedOrder({
        placed: '2025-11-27T08:00:00.000000Z',
        shipped: '2025-11-27T16:45:00.000000Z',
        paymentCaptured: '2025-11-27T16:45:09.000000Z',
        returnReceived: '2025-12-03T09:20:00.000000Z',
        refunded: '2025-12-03T11:02:00.000000Z',
      }),
    );
  });

  it('dead-letters nothing and turns every balance change, including the key change, into a stock event', () => {
    expectScenarioCounters(capture.pipeline().counters.snapshot());
  });
});
