import { type Db } from 'mongodb';
import { expect } from 'vitest';
import { type ErpOperation, insert, remove, update } from '../../demo/traffic.js';
import { dec } from '../../sinks/testing.js';
import { expectedBalance, readAvailability } from './pipeline-harness.js';

// The ERP traffic of the real-Debezium end-to-end tests, written once in the sample ERP's names and rendered for each
// source database by demo/traffic.ts (`renderStatements(…, 'sqlserver' | 'postgresql')`): one order from
// placement to refund, then stock moves with a primary-key change and a delete. Each statement is a transaction of
// its own when run without BEGIN. Timestamps here are ISO-8601 with offset, which both databases read; each source's
// connector writes them back its own way, so the expected order view takes them as arguments.

/** The order SO-100234: placed, a line changed, accepted, picked, shipped with tracking, paid, returned, refunded. */
export const ORDER_LIFECYCLE: readonly ErpOperation[] = [
  insert('SalesOrderHeader', {
    OrderNumber: 'SO-100234',
    CustomerId: 'CUST-0042',
    CustomerEmail: 'ada@example.com',
    Channel: 'WEB',
    StatusCode: 'NW',
    CurrencyCode: 'EUR',
    OrderTotal: 48.23,
    PlacedAt: '2025-11-27T09:00:00+01:00',
    RowGuid: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
  }),
  insert('SalesOrderLine', line(1, 1001, 'TSHIRT-ORG-BLK-M', 2, 19.99)),
  insert('SalesOrderLine', line(2, 1003, 'MUG-STONE-350', 1, 8.25)),
  update('SalesOrderLine', { Qty: 3 }, { OrderNumber: 'SO-100234', LineNo: 2 }),
  update('SalesOrderHeader', { OrderTotal: 64.73 }, { OrderNumber: 'SO-100234' }),
  update('SalesOrderHeader', { StatusCode: 'AC' }, { OrderNumber: 'SO-100234' }),
  update('SalesOrderHeader', { StatusCode: 'PK' }, { OrderNumber: 'SO-100234' }),
  insert('Shipment', { ShipmentId: 5001, OrderNumber: 'SO-100234', LocationCode: 'WH-EAST', Status: 'PK' }),
  update(
    'Shipment',
    {
      Status: 'SH',
      Carrier: 'DHL',
      TrackingNumber: '00340434161094042557',
      ShippedAt: '2025-11-27T17:45:00+01:00',
    },
    { ShipmentId: 5001 },
  ),
  update('SalesOrderHeader', { StatusCode: 'SH' }, { OrderNumber: 'SO-100234' }),
  insert('PaymentTransaction', {
    PaymentId: 4200000000000000002n,
    OrderNumber: 'SO-100234',
    TxnType: 'CAP',
    Amount: 64.73,
    CurrencyCode: 'EUR',
    Status: 'PENDING',
  }),
  update(
    'PaymentTransaction',
    { Status: 'SUCCEEDED', PspReference: 'psp_cap_Q7m1Zt', ProcessedAt: '2025-11-27T17:45:09+01:00' },
    { PaymentId: 4200000000000000002n },
  ),
  insert('ReturnAuthorization', {
    RmaId: 7001,
    RmaNumber: 'RMA-000871',
    OrderNumber: 'SO-100234',
    Status: 'AU',
    Reason: 'T-shirt too small',
  }),
  update('ReturnAuthorization', { Status: 'RC', ReceivedAt: '2025-12-03T10:20:00+01:00' }, { RmaId: 7001 }),
  insert('Refund', {
    RefundId: 8001,
    OrderNumber: 'SO-100234',
    RmaNumber: 'RMA-000871',
    Amount: 19.99,
    CurrencyCode: 'EUR',
    Status: 'PENDING',
  }),
  update('Refund', { Status: 'COMPLETED', CompletedAt: '2025-12-03T12:02:00+01:00' }, { RefundId: 8001 }),
];

/**
 * Stock changes on the seeded balances: two counts, a primary-key change (Debezium emits a delete of the old key, its
 * tombstone and a create of the new one), a new balance and its update, and a delete.
 */
export const INVENTORY_MOVES: readonly ErpOperation[] = [
  update('InventoryBalance', { QtyOnHand: 600 }, { Sku: 'TSHIRT-ORG-BLK-M', LocationCode: 'WH-EAST' }),
  update('InventoryBalance', { QtyOnHand: 17 }, { Sku: 'COFFEE-ESP-BULK', LocationCode: 'ST-DOWNTOWN' }),
  update('InventoryBalance', { LocationCode: 'ST-AIRPORT' }, { Sku: 'COFFEE-ESP-BULK', LocationCode: 'ST-DOWNTOWN' }),
  insert('InventoryBalance', {
    Sku: 'HOODIE-GRY-L',
    LocationCode: 'ST-AIRPORT',
    QtyOnHand: 5,
    QtyAllocated: 0,
    SafetyStock: 2,
  }),
  update(
    'InventoryBalance',
    { QtyAllocated: 1.25, LastCountedAt: '2025-11-27T09:01:00+01:00' },
    { Sku: 'HOODIE-GRY-L', LocationCode: 'ST-AIRPORT' },
  ),
  remove('InventoryBalance', { Sku: 'CABLE-USBC-2M', LocationCode: 'ST-DOWNTOWN' }),
];

/** `inventory_availability` after the seed (12 balances, as Debezium's snapshot reads them) and {@link INVENTORY_MOVES}. */
export const EXPECTED_INVENTORY = [
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

/**
 * The pipeline counters the scenario must produce: 12 snapshot reads, 2 counts, the key change as delete + create, an
 * insert, an update and a delete are 19 stock events; the key change and the delete leave 2 tombstones; the header
 * insert and its 4 updates are 5 header changes.
 */
export const EXPECTED_COUNTERS = {
  'stage.stock_level.out': 19,
  'records.tombstones': 2,
  'stage.order_header.out': 5,
} as const;

/** The scenario's times as the source's connector writes them into the order view. */
export type ScenarioTimes = {
  /** `PlacedAt`, also the `accepted` milestone. */
  readonly placed: string;
  readonly shipped: string;
  readonly paymentCaptured: string;
  readonly returnReceived: string;
  readonly refunded: string;
};

/** SO-100234's `order_view` document after {@link ORDER_LIFECYCLE}, without guards and `_meta` ({@link businessFields}). */
export function expectedOrder(at: ScenarioTimes) {
  return {
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
      orderTotal: dec('64.7300'),
      placedAt: at.placed,
    },
    statusInfo: { status: 'SHIPPED', erpStatus: 'SH' },
    deletion: { deleted: false },
    lines: {
      '1': {
        lineNo: 1,
        sku: 'TSHIRT-ORG-BLK-M',
        quantity: dec('2.000'),
        unitPrice: dec('19.9900'),
        lineStatus: 'NW',
        location: null,
        removed: false,
      },
      '2': {
        lineNo: 2,
        sku: 'MUG-STONE-350',
        quantity: dec('3.000'),
        unitPrice: dec('8.2500'),
        lineStatus: 'NW',
        location: null,
        removed: false,
      },
    },
    payments: {
      '4200000000000000002': {
        paymentId: '4200000000000000002',
        amount: dec('64.7300'),
        currency: 'EUR',
        pspReference: 'psp_cap_Q7m1Zt',
        capturedAt: at.paymentCaptured,
      },
    },
    shipments: {
      '5001': {
        shipmentId: '5001',
        carrier: 'DHL',
        trackingNumber: '00340434161094042557',
        location: 'WH-EAST',
        shippedAt: at.shipped,
      },
    },
    returns: {
      'RMA-000871': { rmaNumber: 'RMA-000871', reason: 'T-shirt too small', receivedAt: at.returnReceived },
    },
    refunds: {
      '8001': {
        refundId: '8001',
        rmaNumber: 'RMA-000871',
        amount: dec('19.9900'),
        currency: 'EUR',
        completedAt: at.refunded,
      },
    },
    milestones: {
      accepted: { at: at.placed, time: new Date(at.placed), ref: null },
      shipped: { at: at.shipped, time: new Date(at.shipped), ref: '5001' },
      paymentCaptured: { at: at.paymentCaptured, time: new Date(at.paymentCaptured), ref: '4200000000000000002' },
      returnReceived: { at: at.returnReceived, time: new Date(at.returnReceived), ref: 'RMA-000871' },
      refunded: { at: at.refunded, time: new Date(at.refunded), ref: '8001' },
    },
  };
}

/** Waits until `inventory_availability` in `readModels` is exactly {@link EXPECTED_INVENTORY}; fails with the diff. */
export async function expectScenarioInventory(readModels: Db): Promise<void> {
  await eventually(async () => expect(await readAvailability(readModels)).toEqual(EXPECTED_INVENTORY));
}

/** Waits until SO-100234's view is exactly `expected` (see {@link expectedOrder}), then checks it is the only order. */
export async function expectScenarioOrder(readModels: Db, expected: unknown): Promise<void> {
  const orders = readModels.collection('order_view');
  await eventually(async () =>
    expect(businessFields(await orders.findOne({ _id: 'SO-100234' as never }))).toEqual(expected),
  );
  expect(await orders.countDocuments()).toBe(1);
}

/** No counter names a dead letter, and the counters hold {@link EXPECTED_COUNTERS}. */
export function expectScenarioCounters(counters: Readonly<Record<string, number>>): void {
  expect(Object.keys(counters).filter((name) => name.includes('dead_letter'))).toEqual([]);
  expect(counters).toMatchObject(EXPECTED_COUNTERS);
}

/** Polls until `check` stops throwing; then throws its last assertion error, with its diff, if it never did. */
export async function eventually(check: () => Promise<void>, timeoutMs = 90_000): Promise<void> {
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

/** The document without its guards (`source` of each part) and `_meta`: positions, event ids and wall-clock times. */
export function businessFields(document: unknown): unknown {
  if (Array.isArray(document)) return document.map(businessFields);
  if (document === null || typeof document !== 'object') return document;
  // BSON values (Decimal128 …) and dates are leaves.
  if ('_bsontype' in document || document instanceof Date) return document;
  return Object.fromEntries(
    Object.entries(document)
      .filter(([key]) => key !== 'source' && key !== '_meta')
      .map(([key, value]) => [key, businessFields(value)]),
  );
}

function line(lineNo: number, itemId: number, sku: string, qty: number, unitPrice: number) {
  return {
    OrderNumber: 'SO-100234',
    LineNo: lineNo,
    ItemId: itemId,
    Sku: sku,
    Qty: qty,
    UnitPrice: unitPrice,
    LineStatus: 'NW',
  };
}
