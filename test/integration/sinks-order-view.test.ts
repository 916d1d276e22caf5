import { type MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORDER_STATUS, type OrderEvent } from '../../core/canonical.js';
import { SinkWriteError } from '../../core/errors.js';
import { type Sink, type SinkWriteOutcome } from '../../core/sink.js';
import { connectMongo } from '../../sinks/mongo/connect.js';
import { orderView, orderViewConfigSchema } from '../../sinks/mongo/order-view.js';
import {
  dec,
  canonicalAt,
  expectedMeta,
  expectedSource,
  inBatches,
  orderAccepted,
  orderDeleted,
  orderHeaderChanged,
  orderLifecycle,
  type OrderLifecycle,
  positionAt,
  shipmentDispatched,
  shuffledWithDuplicates,
  testSinkContext,
  writeConcurrently,
} from '../../sinks/testing.js';
import { services, uniqueName } from './services.js';
import { createCanonicalCodec } from '../../connectors/canonical/codec.js';
import { OP, type Row } from '../../core/envelope.js';
import { salesOrderHeader } from '../../examples/adventureworks/orders.js';
import { changeOf, eventsOf, stageOf } from '../../transforms/testing.js';

/** SO-1001 and SO-1002 go through the same life, interleaved in source order. */
const first = orderLifecycle('SO-1001', 100);
const second = orderLifecycle('SO-1002', 105);
const EVENTS = [...first.all, ...second.all].sort((a, b) =>
  a.meta.sourcePosition < b.meta.sourcePosition ? -1 : a.meta.sourcePosition > b.meta.sourcePosition ? 1 : 0,
);

/** What an agent sees once an order's whole life has been applied. */
function expectedOrder(life: OrderLifecycle, orderNumber: string) {
  return {
    _id: orderNumber,
    orderNumber,
    customerId: 'C-42',
    status: 'SHIPPED',
    deleted: false,
    trackingNumbers: ['00340434161094042557'],
    header: {
      customerId: 'C-42',
      customerEmail: 'ada@example.com',
      channel: 'web',
      currency: 'EUR',
      orderTotal: dec('59.9700'),
      placedAt: '2026-11-20T09:00:00',
      source: expectedSource(life.accepted),
    },
    statusInfo: { status: 'SHIPPED', erpStatus: 'S', source: expectedSource(life.shipped, 2) },
    deletion: { deleted: false, source: expectedSource(life.accepted) },
    lines: {
      '1': {
        lineNo: 1,
        sku: 'SKU-A',
        quantity: dec('1.000'),
        unitPrice: dec('19.9900'),
        lineStatus: 'ALLOCATED',
        location: 'WH-1',
        removed: false,
        source: expectedSource(life.line1Changed),
      },
      '2': {
        lineNo: 2,
        sku: 'SKU-B',
        quantity: dec('1.000'),
        unitPrice: dec('19.9900'),
        lineStatus: 'OPEN',
        location: 'WH-1',
        removed: false,
        source: expectedSource(life.line2),
      },
    },
    payments: {
      'PAY-1': {
        paymentId: 'PAY-1',
        amount: dec('59.9700'),
        currency: 'EUR',
        pspReference: 'psp-8841',
        capturedAt: '2026-11-20T09:05:00',
        source: expectedSource(life.payment),
      },
    },
    shipments: {
      'SHP-1': {
        shipmentId: 'SHP-1',
        carrier: 'DHL',
        trackingNumber: '00340434161094042557',
        location: 'WH-1',
        shippedAt: '2026-11-21T14:00:00',
        source: expectedSource(life.shipment),
      },
    },
    returns: {
      'RMA-7': {
        rmaNumber: 'RMA-7',
        reason: 'damaged',
        receivedAt: '2026-11-25T10:00:00',
        source: expectedSource(life.returned),
      },
    },
    refunds: {
      'RF-9': {
        refundId: 'RF-9',
        rmaNumber: 'RMA-7',
        amount: dec('19.9900'),
        currency: 'EUR',
        completedAt: '2026-11-26T08:00:00',
        source: expectedSource(life.refund),
      },
    },
    milestones: {
      accepted: {
        at: '2026-11-20T09:00:00',
        time: new Date('2026-11-20T09:00:00'),
        ref: null,
        source: expectedSource(life.accepted),
      },
      paymentCaptured: {
        at: '2026-11-20T09:05:00',
        time: new Date('2026-11-20T09:05:00'),
        ref: 'PAY-1',
        source: expectedSource(life.payment),
      },
      shipped: {
        at: '2026-11-21T14:00:00',
        time: new Date('2026-11-21T14:00:00'),
        ref: 'SHP-1',
        source: expectedSource(life.shipment),
      },
      returnReceived: {
        at: '2026-11-25T10:00:00',
        time: new Date('2026-11-25T10:00:00'),
        ref: 'RMA-7',
        source: expectedSource(life.returned),
      },
      refunded: {
        at: '2026-11-26T08:00:00',
        time: new Date('2026-11-26T08:00:00'),
        ref: 'RF-9',
        source: expectedSource(life.refund),
      },
    },
    _meta: expectedMeta(life.refund),
  };
}

const EXPECTED = [expectedOrder(first, 'SO-1001'), expectedOrder(second, 'SO-1002')];
const SEEDS = [1, 7, 42, 1234, 2025];

describe('order_view on the MongoDB-wire server', () => {
  const database = uniqueName('sink_order_view').replace(/-/g, '_');
  let clients: MongoClient[] = [];
  let collections = 0;

  beforeAll(async () => {
    // Two clients, so the "two workers" cases write over separate connection pools.
    clients = await Promise.all([connectMongo(services().mongodbUri), connectMongo(services().mongodbUri)]);
  });

  afterAll(async () => {
    await clients[0]?.db(database).dropDatabase();
    await Promise.all(clients.map((client) => client.close()));
  });

  /** A sink over a fresh collection, or over `collection` again, through client `worker`. */
  async function orderViewSink(collection: string, worker = 0): Promise<Sink> {
    const config = orderViewConfigSchema.parse({ collection });
    return orderView.create(config, { ...testSinkContext(), db: clients[worker]!.db(database) });
  }

  function freshCollection(): string {
    collections += 1;
    return `orders_${collections}`;
  }

  async function documents(collection: string): Promise<unknown[]> {
    return clients[0]!.db(database).collection(collection).find().sort({ _id: 1 }).toArray();
  }

  function expectAddsUp(outcomes: readonly SinkWriteOutcome[], events: number): void {
    const total = outcomes.reduce((sum, o) => sum + o.applied + o.stale + o.rejected.length, 0);
    expect(total).toBe(events);
    expect(outcomes.flatMap((o) => o.rejected)).toEqual([]);
  }

  it('given the lives of two orders in source order in one batch, expects exactly these documents', async () => {
    const collection = freshCollection();
    const outcome = await (await orderViewSink(collection)).write(EVENTS);

    // Line 1's first version is superseded by its change within the batch.
    expect(outcome).toEqual({ applied: 16, stale: 2, rejected: [] });
    expect(await documents(collection)).toEqual(EXPECTED);
  });

  it('given the same events one at a time, applies each once and ends the same', async () => {
    const collection = freshCollection();
    const sink = await orderViewSink(collection);
    const outcomes: SinkWriteOutcome[] = [];
    for (const event of EVENTS) outcomes.push(await sink.write([event]));

    expect(outcomes.every((o) => o.applied === 1 && o.stale === 0)).toBe(true);
    expect(await documents(collection)).toEqual(EXPECTED);
  });

  it.each(SEEDS)('given the events shuffled and duplicated (seed %i) in one batch, expects the same', async (seed) => {
    const collection = freshCollection();
    const events = shuffledWithDuplicates(EVENTS, seed);
    const outcome = await (await orderViewSink(collection)).write(events);

    expectAddsUp([outcome], events.length);
    expect(await documents(collection)).toEqual(EXPECTED);
  });

  it.each(SEEDS)('given them shuffled and duplicated (seed %i) in batches of 4, expects the same', async (seed) => {
    const collection = freshCollection();
    const sink = await orderViewSink(collection);
    const events = shuffledWithDuplicates(EVENTS, seed);
    const outcomes: SinkWriteOutcome[] = [];
    for (const batch of inBatches(events, 4)) outcomes.push(await sink.write(batch));

    expectAddsUp(outcomes, events.length);
    expect(await documents(collection)).toEqual(EXPECTED);
  });

  it.each(SEEDS)(
    'given them shuffled and duplicated (seed %i) across two workers writing concurrently, expects the same',
    async (seed) => {
      const collection = freshCollection();
      const workers = [await orderViewSink(collection, 0), await orderViewSink(collection, 1)];
      const events = shuffledWithDuplicates(EVENTS, seed, 0.5);
      const batches = inBatches(events, 3);

      const outcomes = await writeConcurrently(workers, batches);

      expectAddsUp(outcomes, events.length);
      expect(await documents(collection)).toEqual(EXPECTED);
    },
  );

  it('counts an event older than the stored state as stale and leaves the document unchanged', async () => {
    const collection = freshCollection();
    const sink = await orderViewSink(collection);
    await sink.write(first.all);
    const before = await documents(collection);

    expect(await sink.write([first.line1])).toEqual({ applied: 0, stale: 1, rejected: [] });
    expect(await sink.write([first.refund, first.accepted])).toEqual({ applied: 0, stale: 2, rejected: [] });
    expect(await documents(collection)).toEqual(before);
  });

  it('starts an order from a line that arrives before its header, with no status yet', async () => {
    const collection = freshCollection();
    await (await orderViewSink(collection)).write([first.line2]);

    expect(await documents(collection)).toEqual([
      {
        _id: 'SO-1001',
        orderNumber: 'SO-1001',
        customerId: null,
        status: null,
        deleted: false,
        trackingNumbers: [],
        header: null,
        statusInfo: null,
        deletion: null,
        lines: { '2': expectedOrder(first, 'SO-1001').lines['2'] },
        payments: {},
        shipments: {},
        returns: {},
        refunds: {},
        milestones: {},
        _meta: expectedMeta(first.line2),
      },
    ]);
  });

  it('keeps a deleted order deleted when older events arrive late, in whatever order', async () => {
    const accepted = orderAccepted(300, 'SO-2001');
    const picking = canonicalAt(301, 'OrderStatusChanged', 'SO-2001', {
      orderNumber: 'SO-2001',
      fromStatus: ORDER_STATUS.accepted,
      toStatus: ORDER_STATUS.picking,
      fromErpStatus: 'A',
      toErpStatus: 'P',
    });
    const deleted = orderDeleted(302, 'SO-2001');
    const expected = {
      customerId: 'C-42',
      status: 'PICKING',
      deleted: true,
      statusInfo: { status: 'PICKING', erpStatus: 'P', source: expectedSource(picking, 2) },
      deletion: { deleted: true, source: expectedSource(deleted) },
      _meta: expectedMeta(deleted),
    };

    for (const order of [
      [accepted, picking, deleted],
      [deleted, picking, accepted],
      [deleted, accepted, picking],
    ]) {
      const collection = freshCollection();
      const sink = await orderViewSink(collection);
      for (const event of order) await sink.write([event]);
      expect(await documents(collection)).toEqual([expect.objectContaining(expected)]);
    }
  });

  it('brings a deleted order back only when the ERP re-inserts it later', async () => {
    const collection = freshCollection();
    const sink = await orderViewSink(collection);
    const reinserted = orderAccepted(312, 'SO-2002');
    await sink.write([orderAccepted(310, 'SO-2002'), orderDeleted(311, 'SO-2002')]);

    expect(await sink.write([reinserted])).toEqual({ applied: 1, stale: 0, rejected: [] });
    expect(await documents(collection)).toEqual([
      expect.objectContaining({
        deleted: false,
        deletion: { deleted: false, source: expectedSource(reinserted) },
        // The first acceptance stays the milestone.
        milestones: { accepted: expect.objectContaining({ source: expectedSource(orderAccepted(310, 'SO-2002')) }) },
      }),
    ]);
  });

  it('records each milestone once, from the earliest event, and every tracking number, sorted', async () => {
    const collection = freshCollection();
    const sink = await orderViewSink(collection);
    const early = shipmentDispatched(320, 'SO-3001', 'SHP-1', 'ZZ-2');
    const late = shipmentDispatched(321, 'SO-3001', 'SHP-2', 'AA-1');

    await sink.write([late]);
    await sink.write([early, late]);
    await sink.write([structuredClone(early)]);
    const [order] = (await documents(collection)) as { milestones: unknown; trackingNumbers: unknown }[];

    expect(order!.milestones).toEqual({
      shipped: {
        at: '2026-11-21T14:00:00',
        time: new Date('2026-11-21T14:00:00'),
        ref: 'SHP-1',
        source: expectedSource(early),
      },
    });
    expect(order!.trackingNumbers).toEqual(['AA-1', 'ZZ-2']);
  });

  describe('given a header status that sets a milestone', () => {
    // AdventureWorks' header stage (examples/adventureworks): status 5 sets `shipped` at ShipDate (Pacific time). Its events go through the
    // canonical codec, as the sink worker reads them: a status that sets no milestone decodes with nulls.
    const stage = stageOf(salesOrderHeader);
    const codec = createCanonicalCodec();
    const table = 'erp.AdventureWorks.Sales.SalesOrderHeader';
    const row = {
      SalesOrderID: 43659,
      OrderDate: '2011-05-31T00:00:00',
      ShipDate: null,
      Status: 1,
      OnlineOrderFlag: false,
      CustomerID: 29825,
      SubTotal: '20565.6206',
      TaxAmt: '1971.5149',
      Freight: '616.0984',
      TotalDue: '0.0000',
    };
    const key = { SalesOrderID: 43659 };
    const at = (tick: number) => ({ key, position: positionAt(tick) });
    /** The events of an update at `tick` from the row with `before` to the row with `after`. */
    const update = (tick: number, before: Row, after: Row) =>
      eventsOf(
        stage.apply(
          changeOf(table, OP.update, { before: { ...row, ...before }, after: { ...row, ...after }, ...at(tick) }),
        ),
      );
    const shippedOn = (day: string) => ({ Status: 5, ShipDate: `2011-06-${day}T00:00:00` });
    const events = [
      ...eventsOf(stage.apply(changeOf(table, OP.create, { after: row, ...at(600) }))),
      ...update(601, {}, { Status: 2 }),
      ...update(602, { Status: 2 }, shippedOn('07')),
      // The ERP cancels the shipped order and ships it again: the second ship date is not the milestone.
      ...update(603, shippedOn('07'), { ...shippedOn('07'), Status: 6 }),
      ...update(604, { ...shippedOn('07'), Status: 6 }, shippedOn('09')),
    ].map((event) => codec.decode('order', codec.encode(event).body) as OrderEvent);
    const accepted = events[0]!;
    const shipped = events[2]!;
    const reshipped = events.at(-1)!;

    it.each([
      ['in source order, one at a time', [0, 1, 2, 3, 4, 5]],
      ['shuffled and duplicated, the re-shipment first', [5, 2, 5, 0, 3, 4, 1, 2]],
    ])('records shipped once, from the status change that reached 5 first, %s', async (_label, order) => {
      expect(events.map((event) => event.meta.eventType)).toEqual([
        'OrderAccepted',
        'OrderStatusChanged',
        'OrderStatusChanged',
        'OrderStatusChanged',
        'OrderCancelled',
        'OrderStatusChanged',
      ]);
      expect(shipped.payload).toMatchObject({ milestone: 'shipped', milestoneAt: '2011-06-07T00:00:00-07:00' });
      expect(reshipped.payload).toMatchObject({ milestone: 'shipped', milestoneAt: '2011-06-09T00:00:00-07:00' });
      const collection = freshCollection();
      const sink = await orderViewSink(collection);
      for (const index of order) await sink.write([structuredClone(events[index]!)]);
      const [document] = (await documents(collection)) as { status: unknown; milestones: unknown }[];
      expect(document!.status).toBe('SHIPPED');
      expect(document!.milestones).toEqual({
        accepted: {
          at: '2011-05-31T00:00:00-07:00',
          time: new Date('2011-05-31T07:00:00Z'),
          ref: null,
          source: expectedSource(accepted),
        },
        shipped: {
          at: '2011-06-07T00:00:00-07:00',
          time: new Date('2011-06-07T07:00:00Z'),
          ref: null,
          source: expectedSource(shipped, 2),
        },
      });
    });
  });

  it('lets OrderStatusChanged win over the OrderCancelled of the same change, in either order', async () => {
    const changed = canonicalAt(330, 'OrderStatusChanged', 'SO-4001', {
      orderNumber: 'SO-4001',
      fromStatus: ORDER_STATUS.accepted,
      toStatus: ORDER_STATUS.cancelled,
      fromErpStatus: 'A',
      toErpStatus: 'X',
    });
    const cancelled = canonicalAt(330, 'OrderCancelled', 'SO-4001', {
      orderNumber: 'SO-4001',
      fromStatus: ORDER_STATUS.accepted,
    });

    for (const order of [
      [changed, cancelled],
      [cancelled, changed],
    ]) {
      const collection = freshCollection();
      const sink = await orderViewSink(collection);
      for (const event of order) await sink.write([event]);
      expect(await documents(collection)).toEqual([
        expect.objectContaining({
          status: 'CANCELLED',
          statusInfo: { status: 'CANCELLED', erpStatus: 'X', source: expectedSource(changed, 2) },
          _meta: expectedMeta(changed, 2),
        }),
      ]);
    }
  });

  describe('given header changes after placement', () => {
    const accepted = orderAccepted(400, 'SO-6001');
    // One ERP update moving the status and correcting the e-mail yields both events at one position.
    const picking = canonicalAt(401, 'OrderStatusChanged', 'SO-6001', {
      orderNumber: 'SO-6001',
      fromStatus: ORDER_STATUS.accepted,
      toStatus: ORDER_STATUS.picking,
      fromErpStatus: 'A',
      toErpStatus: 'P',
    });
    const emailCorrected = orderHeaderChanged(401, 'SO-6001', { customerEmail: 'ada.l@example.com' });
    const repriced = orderHeaderChanged(402, 'SO-6001', {
      customerId: 'C-43',
      customerEmail: 'ada.l@example.com',
      orderTotal: '64.73',
    });
    const events = [accepted, picking, emailCorrected, repriced];
    const expected = {
      _id: 'SO-6001',
      orderNumber: 'SO-6001',
      customerId: 'C-43',
      status: 'PICKING',
      deleted: false,
      trackingNumbers: [],
      header: {
        customerId: 'C-43',
        customerEmail: 'ada.l@example.com',
        channel: 'web',
        currency: 'EUR',
        orderTotal: dec('64.7300'),
        placedAt: '2026-11-20T09:00:00',
        source: expectedSource(repriced),
      },
      statusInfo: { status: 'PICKING', erpStatus: 'P', source: expectedSource(picking, 2) },
      deletion: { deleted: false, source: expectedSource(accepted) },
      lines: {},
      payments: {},
      shipments: {},
      returns: {},
      refunds: {},
      milestones: {
        accepted: {
          at: '2026-11-20T09:00:00',
          time: new Date('2026-11-20T09:00:00'),
          ref: null,
          source: expectedSource(accepted),
        },
      },
      _meta: expectedMeta(repriced),
    };

    it('in source order, one at a time, expects the newest header with the status and milestone untouched', async () => {
      const collection = freshCollection();
      const sink = await orderViewSink(collection);
      const outcomes: SinkWriteOutcome[] = [];
      for (const event of events) outcomes.push(await sink.write([event]));

      expect(outcomes.every((o) => o.applied === 1 && o.stale === 0)).toBe(true);
      expect(await documents(collection)).toEqual([expected]);
    });

    it('with an older OrderAccepted after a newer OrderHeaderChanged, keeps the newer header', async () => {
      const collection = freshCollection();
      const sink = await orderViewSink(collection);

      expect(await sink.write([repriced])).toEqual({ applied: 1, stale: 0, rejected: [] });
      // Stale for its primary part, the header; its status, deletion marker and milestone still land.
      expect(await sink.write([accepted])).toEqual({ applied: 0, stale: 1, rejected: [] });
      expect(await sink.write([emailCorrected, picking, structuredClone(accepted)])).toEqual({
        applied: 1,
        stale: 2,
        rejected: [],
      });
      expect(await documents(collection)).toEqual([expected]);
    });

    it.each(SEEDS)('shuffled and duplicated (seed %i), one batch and batches of 2, expects the same', async (seed) => {
      const shuffled = shuffledWithDuplicates(events, seed);
      const whole = freshCollection();
      expectAddsUp([await (await orderViewSink(whole)).write(shuffled)], shuffled.length);
      expect(await documents(whole)).toEqual([expected]);

      const batched = freshCollection();
      const sink = await orderViewSink(batched);
      const outcomes: SinkWriteOutcome[] = [];
      for (const batch of inBatches(shuffled, 2)) outcomes.push(await sink.write(batch));
      expectAddsUp(outcomes, shuffled.length);
      expect(await documents(batched)).toEqual([expected]);
    });
  });

  it('rejects an event it can never apply and applies the rest of the batch', async () => {
    const collection = freshCollection();
    const bad = canonicalAt(340, 'PaymentCaptured', 'SO-5001', {
      orderNumber: 'SO-5001',
      paymentId: 'PAY-9',
      amount: '12,50',
      currency: 'EUR',
      pspReference: null,
      capturedAt: '2026-11-20T09:05:00',
    });
    const good = orderAccepted(341, 'SO-5001');

    const outcome = await (await orderViewSink(collection)).write([bad, good]);

    expect(outcome.applied).toBe(1);
    expect(outcome.stale).toBe(0);
    expect(outcome.rejected).toHaveLength(1);
    expect(outcome.rejected[0]!.event).toBe(bad);
    expect(outcome.rejected[0]!.error).toBeInstanceOf(SinkWriteError);
    expect(outcome.rejected[0]!.error.retriable).toBe(false);
    expect(outcome.rejected[0]!.error.message).toBe(
      `Invalid decimal "12,50" in amount of PaymentCaptured ${bad.meta.eventId} from ` +
        `erp.ErpDemo.dbo.PaymentTransaction@${bad.meta.sourcePosition} (sink order_view)`,
    );
    expect(await documents(collection)).toEqual([expect.objectContaining({ payments: {}, status: 'ACCEPTED' })]);
  });

  it('finds orders by customer, status and tracking number through indexes', async () => {
    const collection = freshCollection();
    await (await orderViewSink(collection)).write(EVENTS);
    // Creating the sink again on the same collection is a no-op for the indexes.
    await orderViewSink(collection);
    const orders = clients[0]!.db(database).collection(collection);

    const names = (await orders.listIndexes().toArray()).map((index) => index.name as string).sort();
    expect(names).toEqual([
      '_id_',
      'customerId_1',
      'stalled_awaiting_payment_or_shipment',
      'stalled_awaiting_refund',
      'status_1',
      'trackingNumbers_1',
    ]);
    expect(await orders.countDocuments({ trackingNumbers: '00340434161094042557' })).toBe(2);
    expect(await orders.countDocuments({ customerId: 'C-42', status: 'SHIPPED' })).toBe(2);
  });
});
