import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../../ops/pipeline-config.js';
import { createOpsQueries, createReadModelsSource } from '../../ops/read-side/ops-queries.js';
import { services, uniqueName } from './services.js';
import { dec } from '../../sinks/testing.js';

const HOUR = 3_600_000;
const now = new Date('2025-12-01T12:00:00.000Z');
const mongo = new MongoClient(services().mongodbUri);
let db: Db;

/** An `inventory_availability` document with the fields the queries read. */
function location(sku: string, where: string, available: string, flags: { lowStock: boolean; oversold: boolean }) {
  return {
    _id: `${sku}@${where}`,
    sku,
    location: where,
    onHand: dec('10.000'),
    reserved: dec('2.000'),
    safetyStock: dec('1.000'),
    available: dec(available),
    removed: false,
    ...flags,
  };
}

/** An `order_view` document accepted at `placedAt`, with a payment captured at `capturedAt` if given. */
function order(orderNumber: string, placedAt: string, capturedAt?: string) {
  return {
    _id: orderNumber,
    orderNumber,
    status: 'ACCEPTED',
    deleted: false,
    returns: {},
    refunds: {},
    milestones: {
      accepted: { at: placedAt, time: new Date(placedAt), ref: null },
      ...(capturedAt === undefined
        ? {}
        : { paymentCaptured: { at: capturedAt, time: new Date(capturedAt), ref: 'PAY-1' } }),
    },
  };
}

describe('the ops dashboard read-model queries, against the MongoDB-wire server', () => {
  beforeAll(async () => {
    await mongo.connect();
    db = mongo.db(uniqueName('ops_queries').replace(/-/g, '_'));
    await db
      .collection('stock')
      .insertMany([
        location('A', 'WH', '5.000', { lowStock: false, oversold: false }),
        location('B', 'WH', '0.000', { lowStock: true, oversold: false }),
        location('C', 'ST', '-2.000', { lowStock: true, oversold: true }),
        location('C', 'WH', '-1.000', { lowStock: true, oversold: true }),
      ] as never[]);
    await db.collection('orders').insertMany([
      // Waits for payment 30 h (threshold 24 h): stalled.
      order('SO-1', '2025-11-30T06:00:00.000Z'),
      // Waits for payment 2 h: not yet.
      order('SO-2', '2025-12-01T10:00:00.000Z'),
      // Paid 3 days ago, not shipped (threshold 48 h): stalled, the oldest wait.
      order('SO-3', '2025-11-28T09:00:00.000Z', '2025-11-28T12:00:00.000Z'),
    ] as never[]);
  });

  afterAll(async () => {
    await db.dropDatabase();
    await mongo.close();
  });

  const config = parsePipelineConfig(
    { sinks: { inventory_availability: { collection: 'stock' }, order_view: { collection: 'orders' } } },
    'the test',
    {},
  );

  it('lists low-stock and oversold locations and stalled orders, with exact counts', async () => {
    expect(await createOpsQueries(db, config).readModels(now)).toEqual({
      asOf: '2025-12-01T12:00:00.000Z',
      inventory: {
        collection: 'stock',
        documents: 4,
        lowStockCount: 3,
        oversoldCount: 2,
        lowStock: [stock('B', 'WH', '0.000'), stock('C', 'ST', '-2.000'), stock('C', 'WH', '-1.000')],
        oversold: [stock('C', 'ST', '-2.000'), stock('C', 'WH', '-1.000')],
      },
      orders: {
        collection: 'orders',
        documents: 3,
        stalledLimit: 50,
        stalled: [
          {
            orderNumber: 'SO-3',
            state: 'awaitingShipment',
            since: '2025-11-28T12:00:00.000Z',
            ageMs: 72 * HOUR,
            thresholdMs: 48 * HOUR,
            ref: 'PAY-1',
          },
          {
            orderNumber: 'SO-1',
            state: 'awaitingPayment',
            since: '2025-11-30T06:00:00.000Z',
            ageMs: 30 * HOUR,
            thresholdMs: 24 * HOUR,
            ref: null,
          },
        ],
      },
    });
  });

  it('caps the lists at the limit but counts everything', async () => {
    const report = await createOpsQueries(db, config, 'the test', 1).readModels(now);
    expect(report.inventory).toMatchObject({ lowStockCount: 3, oversoldCount: 2 });
    expect(report.inventory?.lowStock.map((row) => `${row.sku}@${row.location}`)).toEqual(['B@WH']);
    expect(report.inventory?.oversold.map((row) => `${row.sku}@${row.location}`)).toEqual(['C@ST']);
    expect(report.orders?.stalled.map((row) => row.orderNumber)).toEqual(['SO-3']);
    expect(report.orders?.stalledLimit).toBe(1);
  });

  it('leaves out the section of a disabled sink', async () => {
    const withoutOrders = parsePipelineConfig(
      { sinks: { inventory_availability: { collection: 'stock' }, order_view: false } },
      'the test',
      {},
    );
    const report = await createOpsQueries(db, withoutOrders).readModels(now);
    expect(Object.keys(report)).toEqual(['asOf', 'inventory']);
  });

  it('names the key path of an invalid sink setting', () => {
    const bad = parsePipelineConfig({ sinks: { order_view: { collection: '' } } }, 'the test', {});
    expect(() => createOpsQueries(db, bad, 'pipeline.yaml')).toThrow(
      'Invalid config at sinks.order_view.collection in pipeline.yaml: Too small: expected string to have >=1 characters (got "")',
    );
  });

  it('answers undefined until the database is connected', async () => {
    let connected: Db | undefined = undefined;
    const source = createReadModelsSource(() => connected, config);
    expect(await source()).toBeUndefined();
    connected = db;
    expect((await source())?.inventory?.documents).toBe(4);
  });
});

function stock(sku: string, where: string, available: string) {
  return { sku, location: where, onHand: '10.000', reserved: '2.000', safetyStock: '1.000', available };
}
