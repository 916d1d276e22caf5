import { type Collection, type Document, MongoClient, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  INVENTORY_AVAILABILITY_INDEXES,
  inventoryAvailability,
  type InventoryAvailabilityDocument,
} from '../../sinks/mongo/inventory-availability.js';
import { flaggedLocationsQuery, type StockFlag } from '../../ops/read-side/ops-queries.js';
import { ORDER_VIEW_INDEXES, orderView, type OrderViewDocument } from '../../sinks/mongo/order-view.js';
import {
  findStalledOrders,
  STALLED_STATES,
  type StalledState,
  stalledQuery,
} from '../../ops/read-side/stalled-orders.js';
import { inventoryBurst, orderLifecycle, testSinkContext } from '../../sinks/testing.js';
import { services, uniqueName } from './services.js';

// The read side's queries (the ops dashboard's low-stock and oversold lists and counts, and the stalled-order search
// of the dashboard and `cdc-sync stalled`) read by an index, never by a collection scan. Where the server reports
// plans (MongoDB: the testcontainers route or MONGODB_URI), each query's winning plan is checked. The local stack's
// server has no `explain`: there each test checks that it refuses explain as an unknown command, and that the index
// the query is meant to use exists with its exact keys, as the sinks created it.

const THRESHOLDS = { awaitingPayment: 86_400_000, awaitingShipment: 172_800_000, awaitingRefund: 259_200_000 };
/** After every lifecycle's business timestamps (2026-11-20 … 2026-11-26), so that their waits are old. */
const NOW = new Date('2026-12-31T00:00:00Z');

type Plan = { readonly stages: readonly string[]; readonly indexes: readonly string[] };

/** The stages and index names of every winning plan in an explain answer (find, or aggregate's cursor stage). */
function winningPlans(explain: Document): Plan {
  const stages: string[] = [];
  const indexes: string[] = [];
  const walk = (node: unknown, inWinning: boolean): void => {
    if (Array.isArray(node)) return node.forEach((item) => walk(item, inWinning));
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'rejectedPlans') continue;
      if (inWinning && key === 'stage' && typeof value === 'string') stages.push(value);
      if (inWinning && key === 'indexName' && typeof value === 'string') indexes.push(value);
      walk(value, inWinning || key === 'winningPlan');
    }
  };
  walk(explain, false);
  return { stages, indexes: [...new Set(indexes)] };
}

/** The plan, or `undefined` where the server refuses `explain` as a command it does not know (code 59). */
async function planOf(explain: () => Promise<Document>): Promise<Plan | undefined> {
  try {
    return winningPlans(await explain());
  } catch (error: unknown) {
    if (error instanceof MongoServerError && error.code === 59) {
      expect(error.message).toBe("no such command: 'explain'");
      return undefined;
    }
    throw error;
  }
}

async function expectIndex<T extends Document>(
  collection: Collection<T>,
  name: string,
  definitions: readonly Document[],
): Promise<void> {
  const expected = definitions.find((definition) => definition['name'] === name);
  expect(expected, `an index named ${name} among the sink's indexes`).toBeDefined();
  const existing = (await collection.listIndexes().toArray()).find((index) => index['name'] === name);
  expect(existing?.['key']).toEqual(expected!['key']);
}

describe('read-side query plans, against the MongoDB-wire server', () => {
  const client = new MongoClient(services().mongodbUri);
  const database = uniqueName('read_plans').replace(/-/g, '_');
  let locations: Collection<InventoryAvailabilityDocument>;
  let orders: Collection<OrderViewDocument>;

  beforeAll(async () => {
    await client.connect();
    const db = client.db(database);
    const ctx = { ...testSinkContext(), db };
    await (
      await inventoryAvailability.create(
        { collection: 'inventory_availability', bySkuCollection: 'by_sku', lowStockThreshold: '0.000' },
        ctx,
      )
    ).write(inventoryBurst(1000));
    const orderSink = await orderView.create({ collection: 'order_view' }, ctx);
    // Shipped orders outnumber the waiting ones, as in a real view, so that only an index on the milestones'
    // times answers the stalled search without reading orders that wait for nothing.
    for (let order = 0; order < 60; order++) {
      const life = orderLifecycle(`SO-${2000 + order}`, 100 + order * 100);
      const waiting = order % 20 === 0;
      await orderSink.write(waiting ? [life.accepted] : [...life.all]);
    }
    locations = db.collection<InventoryAvailabilityDocument>('inventory_availability');
    orders = db.collection<OrderViewDocument>('order_view');
  }, 120_000);

  afterAll(async () => {
    await client.db(database).dropDatabase();
    await client.close();
  });

  it.each<StockFlag>(['lowStock', 'oversold'])('lists and counts %s locations by their flag index', async (flag) => {
    const { filter, sort } = flaggedLocationsQuery(flag);
    const index = `${flag}_1__id_1`;
    const list = await planOf(() => locations.find(filter).sort(sort).limit(50).explain('queryPlanner'));
    const count = await planOf(() =>
      locations.aggregate([{ $match: filter }, { $group: { _id: 1, n: { $sum: 1 } } }]).explain('queryPlanner'),
    );
    if (list === undefined || count === undefined) {
      expect([list, count]).toEqual([undefined, undefined]);
      await expectIndex(locations, index, INVENTORY_AVAILABILITY_INDEXES);
      return;
    }
    expect(list.indexes).toEqual([index]);
    // The index holds the order: no sort stage, no scan.
    expect(list.stages).not.toContain('SORT');
    expect(list.stages).not.toContain('COLLSCAN');
    expect(count.indexes).toEqual([index]);
    expect(count.stages).not.toContain('COLLSCAN');
  });

  it.each<StalledState>([...STALLED_STATES])('searches orders %s by an index on milestone times', async (state) => {
    const { filter, index } = stalledQuery(state, THRESHOLDS, NOW);
    const plan = await planOf(() => orders.find(filter).explain('queryPlanner'));
    if (plan === undefined) {
      await expectIndex(orders, index, ORDER_VIEW_INDEXES);
      return;
    }
    expect(plan.indexes).toEqual([index]);
    expect(plan.stages).toContain('IXSCAN');
    expect(plan.stages).not.toContain('COLLSCAN');
  });

  it('finds exactly the stalled orders with those queries', async () => {
    const stalled = await findStalledOrders(client.db(database), {
      collection: 'order_view',
      thresholds: THRESHOLDS,
      now: NOW,
    });
    expect(stalled.map((row) => [row.orderNumber, row.state])).toEqual([
      ['SO-2000', 'awaitingPayment'],
      ['SO-2020', 'awaitingPayment'],
      ['SO-2040', 'awaitingPayment'],
    ]);
    // Refunded returns stay candidates until the ERP closes the order; the code drops them.
    const refundCandidates = await orders.countDocuments(stalledQuery('awaitingRefund', THRESHOLDS, NOW).filter);
    expect(refundCandidates).toBe(57);
  });
});
