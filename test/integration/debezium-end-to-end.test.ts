import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPipeline, startPipeline } from '../../cli/pipeline.js';
import { applyConnector } from '../../cli/connectors-command.js';
import { createConnectClient } from '../../connectors/kafka-connect/client.js';
import { runPsql, type PostgresConnection } from '../../stack/services/postgres.js';
import { createErpDatabase, debeziumStack, dropErpDatabase, waitForStreaming } from './debezium-stack.js';
import { expectedBalance, isolatedPipelineConfig, readAvailability } from './pipeline-harness.js';

// Real Debezium → pipeline → MongoDB on PostgreSQL: the sample ERP's DDL and seed in a database of this run's own,
// the connector registered by `cdc-sync connectors apply`'s code, the pipeline in-process, then real DML (an order
// from placement to refund, stock moves, a primary-key change and a delete) and the read models it must produce.
// PostgreSQL's snake_case names reach the transforms as the SQL Server ERP's PascalCase (source.names), its
// timestamptz values as UTC ISO strings with six fraction digits and its char(n) codes blank-padded.

const stack = debeziumStack();
const TABLES = [
  'inventory_balance',
  'sales_order_header',
  'sales_order_line',
  'payment_transaction',
  'shipment',
  'return_authorization',
  'refund',
];
const base = isolatedPipelineConfig();
const run = base.source.topicPrefix;
const databaseName = `erp_e2e_${run}`;
const config = isolatedPipelineConfig({
  source: {
    connector: 'postgresql',
    topicPrefix: run,
    database: databaseName,
    tables: TABLES.map((table) => `public.${table}`),
  },
  connector: {
    name: run,
    connectUrl: stack.connectUrl,
    port: stack.admin.port,
    slotName: run,
    heartbeatIntervalMs: 1000,
  },
  mongodb: { database: run },
});
const mongo = new MongoClient(config.mongodb.uri);
let database: PostgresConnection;
let pipeline: RunningPipeline | undefined;

const ORDER_DML = `
INSERT INTO public.sales_order_header (order_number, customer_id, customer_email, channel, status_code, currency_code,
  order_total, placed_at, row_guid)
VALUES ('SO-100234', 'CUST-0042', 'ada@example.com', 'WEB', 'NW', 'EUR', 48.23, '2025-11-27 09:00:00+01',
  '3f2504e0-4f89-41d3-9a0c-0305e82c3301');
INSERT INTO public.sales_order_line (order_number, line_no, item_id, sku, qty, unit_price, line_status)
VALUES ('SO-100234', 1, 1001, 'TSHIRT-ORG-BLK-M', 2, 19.99, 'NW');
INSERT INTO public.sales_order_line (order_number, line_no, item_id, sku, qty, unit_price, line_status)
VALUES ('SO-100234', 2, 1003, 'MUG-STONE-350', 1, 8.25, 'NW');
UPDATE public.sales_order_line SET qty = 3 WHERE order_number = 'SO-100234' AND line_no = 2;
UPDATE public.sales_order_header SET order_total = 64.73 WHERE order_number = 'SO-100234';
UPDATE public.sales_order_header SET status_code = 'AC' WHERE order_number = 'SO-100234';
UPDATE public.sales_order_header SET status_code = 'PK' WHERE order_number = 'SO-100234';
INSERT INTO public.shipment (shipment_id, order_number, location_code, status)
VALUES (5001, 'SO-100234', 'WH-EAST', 'PK');
UPDATE public.shipment SET status = 'SH', carrier = 'DHL', tracking_number = '00340434161094042557',
  shipped_at = '2025-11-27 17:45:00+01' WHERE shipment_id = 5001;
UPDATE public.sales_order_header SET status_code = 'SH' WHERE order_number = 'SO-100234';
INSERT INTO public.payment_transaction (payment_id, order_number, txn_type, amount, currency_code, status)
VALUES (4200000000000000002, 'SO-100234', 'CAP', 64.73, 'EUR', 'PENDING');
UPDATE public.payment_transaction SET status = 'SUCCEEDED', psp_reference = 'psp_cap_Q7m1Zt',
  processed_at = '2025-11-27 17:45:09+01' WHERE payment_id = 4200000000000000002;
INSERT INTO public.return_authorization (rma_id, rma_number, order_number, status, reason)
VALUES (7001, 'RMA-000871', 'SO-100234', 'AU', 'T-shirt too small');
UPDATE public.return_authorization SET status = 'RC', received_at = '2025-12-03 10:20:00+01' WHERE rma_id = 7001;
INSERT INTO public.refund (refund_id, order_number, rma_number, amount, currency_code, status)
VALUES (8001, 'SO-100234', 'RMA-000871', 19.99, 'EUR', 'PENDING');
UPDATE public.refund SET status = 'COMPLETED', completed_at = '2025-12-03 12:02:00+01' WHERE refund_id = 8001;
`;

const INVENTORY_DML = `
UPDATE public.inventory_balance SET qty_on_hand = 600 WHERE sku = 'TSHIRT-ORG-BLK-M' AND location_code = 'WH-EAST';
UPDATE public.inventory_balance SET qty_on_hand = 17 WHERE sku = 'COFFEE-ESP-BULK' AND location_code = 'ST-DOWNTOWN';
-- A primary-key change: Debezium emits a delete of the old key (and its tombstone) and a create of the new one.
UPDATE public.inventory_balance SET location_code = 'ST-AIRPORT'
  WHERE sku = 'COFFEE-ESP-BULK' AND location_code = 'ST-DOWNTOWN';
INSERT INTO public.inventory_balance (sku, location_code, qty_on_hand, qty_allocated, safety_stock)
VALUES ('HOODIE-GRY-L', 'ST-AIRPORT', 5, 0, 2);
UPDATE public.inventory_balance SET qty_allocated = 1.25, last_counted_at = '2025-11-27 09:01:00+01'
  WHERE sku = 'HOODIE-GRY-L' AND location_code = 'ST-AIRPORT';
DELETE FROM public.inventory_balance WHERE sku = 'CABLE-USBC-2M' AND location_code = 'ST-DOWNTOWN';
`;

const expectedInventory = [
  expectedBalance('CABLE-USBC-2M@ST-DOWNTOWN', '3.000', '0.000', '0.000', '3.000', true),
  expectedBalance('CABLE-USBC-2M@WH-EAST', '0.000', '0.000', '0.000', '0.000'),
  expectedBalance('COFFEE-ESP-BULK@ST-AIRPORT', '17.000', '0.750', '5.000', '11.250'),
  expectedBalance('COFFEE-ESP-BULK@ST-DOWNTOWN', '17.000', '0.750', '5.000', '11.250', true),
  expectedBalance('COFFEE-ESP-BULK@WH-EAST', '212.750', '3.500', '25.000', '184.250'),
  expectedBalance('HOODIE-GRY-L@ST-AIRPORT', '5.000', '1.250', '2.000', '1.750'),
  expectedBalance('HOODIE-GRY-L@ST-DOWNTOWN', '7.000', '1.000', '4.000', '2.000'),
  expectedBalance('HOODIE-GRY-L@WH-EAST', '150.000', '0.000', '20.000', '130.000'),
  expectedBalance('MUG-STONE-350@ST-AIRPORT', '36.000', '0.000', '12.000', '24.000'),
  expectedBalance('MUG-STONE-350@WH-EAST', '960.000', '48.000', '100.000', '812.000'),
  expectedBalance('ROPE-DYN-10MM@WH-EAST', '1250.500', '60.000', '200.000', '990.500'),
  expectedBalance('TSHIRT-ORG-BLK-M@ST-AIRPORT', '9.000', '0.000', '6.000', '3.000'),
  expectedBalance('TSHIRT-ORG-BLK-M@ST-DOWNTOWN', '24.000', '2.000', '6.000', '16.000'),
  expectedBalance('TSHIRT-ORG-BLK-M@WH-EAST', '600.000', '12.000', '50.000', '538.000'),
];

async function inventory() {
  return readAvailability(mongo.db(config.mongodb.database));
}

async function order() {
  return mongo
    .db(config.mongodb.database)
    .collection('order_view')
    .findOne({ _id: 'SO-100234' as never });
}

/** Polls until `check` stops throwing; then throws its last assertion error, with its diff, if it never did. */
async function eventually(check: () => Promise<void>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error: unknown) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

describe('real Debezium on PostgreSQL → pipeline → MongoDB', () => {
  beforeAll(async () => {
    await stack.up();
    database = await createErpDatabase(stack.admin, databaseName);
    await mongo.connect();
    pipeline = await startPipeline(config, 'all', pino({ level: 'silent' }));
    await applyConnector(config, { env: { ERP_DB_PASSWORD: stack.admin.password }, write: () => undefined });
    await waitForStreaming(stack.connectUrl, run, database, run);
    await runPsql(database, ORDER_DML);
    await runPsql(database, INVENTORY_DML);
  });

  afterAll(async () => {
    await pipeline?.stop();
    await createConnectClient({ url: stack.connectUrl })
      .remove(run)
      .catch(() => undefined);
    await dropErpDatabase(stack.admin, databaseName, run).catch((error: unknown) =>
      process.stderr.write(`Could not drop ${databaseName}: ${error}\n`),
    );
    await mongo
      .db(config.mongodb.database)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
    await stack.down();
  });

  it('projects inventory availability from the snapshot, updates, a key change and a delete', async () => {
    await eventually(async () => expect(await inventory()).toEqual(expectedInventory));
  });

  it("projects the order's whole truth: PascalCase columns from snake_case, UTC timestamps, trimmed char(2) codes", async () => {
    await eventually(async () => expect(businessFields(await order())).toEqual(expectedOrder));
    expect(await mongo.db(config.mongodb.database).collection('order_view').countDocuments()).toBe(1);
  });

  it('dead-letters nothing and turns every balance change, including the key change, into a stock event', () => {
    const counters = pipeline!.counters.snapshot();
    expect(Object.keys(counters).filter((name) => name.includes('dead_letter'))).toEqual([]);
    // 12 snapshot reads, 2 updates, the key change as delete + create, an insert, an update and a delete.
    expect(counters).toMatchObject({
      'stage.stock_level.out': 19,
      'records.tombstones': 2,
      'stage.order_header.out': 5,
    });
  });
});

// Debezium's PostgreSQL connector writes timestamptz normalised to UTC with the column's six fraction digits.
const expectedOrder = {
  _id: 'SO-100234',
  orderNumber: 'SO-100234',
  customerId: 'CUST-0042',
  status: 'SHIPPED',
  deleted: false,
  trackingNumbers: ['00340434161094042557'],
  header: {
    customerId: 'CUST-0042',
    customerEmail: 'ada@example.com',
    channel: 'WEB',
    currency: 'EUR',
    orderTotal: '64.7300',
    placedAt: '2025-11-27T08:00:00.000000Z',
  },
  statusInfo: { status: 'SHIPPED', erpStatus: 'SH' },
  deletion: { deleted: false },
  lines: {
    '1': {
      lineNo: 1,
      sku: 'TSHIRT-ORG-BLK-M',
      quantity: '2.000',
      unitPrice: '19.9900',
      lineStatus: 'NW',
      location: null,
      removed: false,
    },
    '2': {
      lineNo: 2,
      sku: 'MUG-STONE-350',
      quantity: '3.000',
      unitPrice: '8.2500',
      lineStatus: 'NW',
      location: null,
      removed: false,
    },
  },
  payments: {
    '4200000000000000002': {
      paymentId: '4200000000000000002',
      amount: '64.7300',
      currency: 'EUR',
      pspReference: 'psp_cap_Q7m1Zt',
      capturedAt: '2025-11-27T16:45:09.000000Z',
    },
  },
  shipments: {
    '5001': {
      shipmentId: '5001',
      carrier: 'DHL',
      trackingNumber: '00340434161094042557',
      location: 'WH-EAST',
      shippedAt: '2025-11-27T16:45:00.000000Z',
    },
  },
  returns: {
    'RMA-000871': { rmaNumber: 'RMA-000871', reason: 'T-shirt too small', receivedAt: '2025-12-03T09:20:00.000000Z' },
  },
  refunds: {
    '8001': {
      refundId: '8001',
      rmaNumber: 'RMA-000871',
      amount: '19.9900',
      currency: 'EUR',
      completedAt: '2025-12-03T11:02:00.000000Z',
    },
  },
  milestones: {
    accepted: { at: '2025-11-27T08:00:00.000000Z', ref: null },
    shipped: { at: '2025-11-27T16:45:00.000000Z', ref: '5001' },
    paymentCaptured: { at: '2025-11-27T16:45:09.000000Z', ref: '4200000000000000002' },
    returnReceived: { at: '2025-12-03T09:20:00.000000Z', ref: 'RMA-000871' },
    refunded: { at: '2025-12-03T11:02:00.000000Z', ref: '8001' },
  },
};

/** The document without its guards (`source` of each part) and `_meta`: positions, event ids and wall-clock times. */
function businessFields(document: unknown): unknown {
  if (Array.isArray(document)) return document.map(businessFields);
  if (document === null || typeof document !== 'object') return document;
  return Object.fromEntries(
    Object.entries(document)
      .filter(([key]) => key !== 'source' && key !== '_meta')
      .map(([key, value]) => [key, businessFields(value)]),
  );
}
