import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../core/errors.js';
import { dec } from '../../sinks/testing.js';
import { type SourceStamp } from '../../sinks/mongo/guard.js';
import { type MilestoneEntry, type OrderRefundEntry, type OrderReturnEntry } from '../../sinks/mongo/order-view.js';
import {
  classifyStalledOrder,
  compareStalledOrders,
  stalledConfigSchema,
  stalledQuery,
  type StalledOrder,
  type StalledOrderSource,
  type StalledThresholds,
} from './stalled-orders.js';

const HOUR = 3_600_000;
const thresholds = {
  awaitingPayment: 24 * HOUR,
  awaitingShipment: 48 * HOUR,
  awaitingRefund: 72 * HOUR,
} satisfies StalledThresholds;
const now = Date.parse('2025-12-10T12:00:00Z');
const source = {} as SourceStamp;

/** An ISO timestamp `ms` before `now`, written with a +01:00 offset as the ERP holds it. */
function ago(ms: number): string {
  const local = new Date(now - ms + HOUR).toISOString().replace('Z', '');
  return `${local}0000+01:00`;
}

const milestone = (at: string, ref: string | null = null): MilestoneEntry => ({
  at,
  time: new Date(Date.parse(at)),
  ref,
  source,
});
const returned = (rmaNumber: string, receivedAt: string): OrderReturnEntry => ({
  rmaNumber,
  reason: null,
  receivedAt,
  source,
});
const refund = (refundId: string, rmaNumber: string | null, completedAt: string): OrderRefundEntry => ({
  refundId,
  rmaNumber,
  amount: dec('1.0000'),
  currency: 'EUR',
  completedAt,
  source,
});

function order(overrides: Partial<StalledOrderSource> = {}): StalledOrderSource {
  return {
    orderNumber: 'SO-1',
    status: 'ACCEPTED',
    deleted: false,
    milestones: {},
    returns: {},
    refunds: {},
    ...overrides,
  };
}

function row(state: StalledOrder['state'], since: string, ref: string | null = null, orderNumber = 'SO-1') {
  return { orderNumber, state, since, ageMs: now - Date.parse(since), thresholdMs: thresholds[state], ref };
}

describe('classifyStalledOrder', () => {
  it('writes the test timestamps as the ERP does', () => {
    expect(ago(HOUR)).toBe('2025-12-10T12:00:00.0000000+01:00');
  });

  it.each([
    ['accepted 1 ms over the payment threshold', { accepted: milestone(ago(24 * HOUR + 1)) }, ['awaitingPayment']],
    ['accepted exactly at the payment threshold', { accepted: milestone(ago(24 * HOUR)) }, []],
    ['accepted 1 ms under the payment threshold', { accepted: milestone(ago(24 * HOUR - 1)) }, []],
    [
      'paid 1 ms over the shipment threshold',
      { accepted: milestone(ago(100 * HOUR)), paymentCaptured: milestone(ago(48 * HOUR + 1), 'PAY-1') },
      ['awaitingShipment'],
    ],
    [
      'paid 1 ms under the shipment threshold',
      { accepted: milestone(ago(100 * HOUR)), paymentCaptured: milestone(ago(48 * HOUR - 1), 'PAY-1') },
      [],
    ],
    ['paid before the header arrived', { paymentCaptured: milestone(ago(49 * HOUR), 'PAY-1') }, ['awaitingShipment']],
    [
      'shipped after payment',
      {
        accepted: milestone(ago(100 * HOUR)),
        paymentCaptured: milestone(ago(99 * HOUR), 'PAY-1'),
        shipped: milestone(ago(98 * HOUR), 'SHP-1'),
      },
      [],
    ],
    [
      'shipped before payment',
      { accepted: milestone(ago(100 * HOUR)), shipped: milestone(ago(98 * HOUR), 'SHP-1') },
      [],
    ],
  ])('%s', (_case, milestones, states) => {
    expect(classifyStalledOrder(order({ milestones }), thresholds, now).map((r) => r.state)).toEqual(states);
  });

  it('reports since, age, threshold and ref exactly', () => {
    const at = ago(50 * HOUR);
    expect(
      classifyStalledOrder(
        order({ milestones: { accepted: milestone(ago(60 * HOUR)), paymentCaptured: milestone(at, 'PAY-7') } }),
        thresholds,
        now,
      ),
    ).toEqual([
      {
        orderNumber: 'SO-1',
        state: 'awaitingShipment',
        since: at,
        ageMs: 50 * HOUR,
        thresholdMs: 48 * HOUR,
        ref: 'PAY-7',
      },
    ]);
  });

  it.each([
    ['cancelled', order({ status: 'CANCELLED', milestones: { accepted: milestone(ago(99 * HOUR)) } })],
    ['closed', order({ status: 'CLOSED', milestones: { accepted: milestone(ago(99 * HOUR)) } })],
    ['deleted', order({ deleted: true, milestones: { accepted: milestone(ago(99 * HOUR)) } })],
  ])('ignores %s orders', (_case, document) => {
    expect(classifyStalledOrder(document, thresholds, now)).toEqual([]);
  });

  it('reports each return not refunded, matching refunds by RMA number', () => {
    const paid = { accepted: milestone(ago(300 * HOUR)), paymentCaptured: milestone(ago(299 * HOUR), 'PAY-1') };
    const shipped = { ...paid, shipped: milestone(ago(298 * HOUR), 'SHP-1') };
    const document = order({
      status: 'SHIPPED',
      milestones: { ...shipped, returnReceived: milestone(ago(200 * HOUR), 'RMA-1') },
      returns: {
        'RMA-1': returned('RMA-1', ago(200 * HOUR)),
        'RMA-2': returned('RMA-2', ago(80 * HOUR)),
        'RMA-3': returned('RMA-3', ago(72 * HOUR - 1)),
        'RMA-4': returned('RMA-4', ago(73 * HOUR)),
      },
      refunds: { 'RF-1': refund('RF-1', 'RMA-1', ago(190 * HOUR)), 'RF-4': refund('RF-4', 'RMA-4', ago(1 * HOUR)) },
    });
    expect(classifyStalledOrder(document, thresholds, now)).toEqual([row('awaitingRefund', ago(80 * HOUR), 'RMA-2')]);
  });

  it('lets a refund without RMA number cover the earliest open return received before it completed', () => {
    const document = order({
      status: 'SHIPPED',
      milestones: { shipped: milestone(ago(400 * HOUR), 'SHP-1'), paymentCaptured: milestone(ago(401 * HOUR), 'P') },
      returns: {
        'RMA-A': returned('RMA-A', ago(300 * HOUR)),
        'RMA-B': returned('RMA-B', ago(200 * HOUR)),
        'RMA-C': returned('RMA-C', ago(100 * HOUR)),
      },
      // RF-1 completed before any return: goodwill, covers nothing. RF-2 covers RMA-A, the earliest open one.
      refunds: { 'RF-1': refund('RF-1', null, ago(350 * HOUR)), 'RF-2': refund('RF-2', null, ago(90 * HOUR)) },
    });
    expect(classifyStalledOrder(document, thresholds, now)).toEqual([
      row('awaitingRefund', ago(200 * HOUR), 'RMA-B'),
      row('awaitingRefund', ago(100 * HOUR), 'RMA-C'),
    ]);
  });

  it('falls back to the return and refund milestones when the entries are missing', () => {
    const received = { shipped: milestone(ago(400 * HOUR), 'S'), returnReceived: milestone(ago(80 * HOUR), 'RMA-9') };
    expect(classifyStalledOrder(order({ milestones: received }), thresholds, now)).toEqual([
      row('awaitingRefund', ago(80 * HOUR), 'RMA-9'),
    ]);
    const refunded = { ...received, refunded: milestone(ago(70 * HOUR), 'RF-9') };
    expect(classifyStalledOrder(order({ milestones: refunded }), thresholds, now)).toEqual([]);
  });

  it('reports several waits of one order', () => {
    const document = order({
      milestones: { paymentCaptured: milestone(ago(60 * HOUR), 'PAY-1') },
      returns: { 'RMA-1': returned('RMA-1', ago(90 * HOUR)) },
    });
    expect(classifyStalledOrder(document, thresholds, now)).toEqual([
      row('awaitingShipment', ago(60 * HOUR), 'PAY-1'),
      row('awaitingRefund', ago(90 * HOUR), 'RMA-1'),
    ]);
  });

  it('names the order and field of a timestamp that is not a date', () => {
    const document = order({ orderNumber: 'SO-9', milestones: { accepted: milestone('yesterday') } });
    expect(() => classifyStalledOrder(document, thresholds, now, 'order_view')).toThrow(
      new DecodeError('Invalid business timestamp "yesterday" at milestones.accepted.at of order SO-9 in order_view'),
    );
    expect(() => classifyStalledOrder(document, thresholds, now)).toThrow(DecodeError);
  });
});

describe('classifyStalledOrder in a profile whose orders ship from a header status, without payments', () => {
  const noPayments = { ...thresholds, awaitingPayment: false } satisfies StalledThresholds;
  /** AdventureWorks: header status 5 set `shipped` at ShipDate, with no ref. */
  const shippedByStatus = { accepted: milestone(ago(200 * HOUR)), shipped: milestone(ago(100 * HOUR)) };

  it.each([
    ['accepted 1 ms over the shipment threshold', { accepted: milestone(ago(48 * HOUR + 1)) }, ['awaitingShipment']],
    ['accepted exactly at the shipment threshold', { accepted: milestone(ago(48 * HOUR)) }, []],
    ['accepted long ago and shipped by its status', shippedByStatus, []],
    [
      'paid anyway, 1 ms over the shipment threshold since the capture',
      { accepted: milestone(ago(100 * HOUR)), paymentCaptured: milestone(ago(48 * HOUR + 1), 'PAY-1') },
      ['awaitingShipment'],
    ],
  ])('%s', (_case, milestones, states) => {
    expect(classifyStalledOrder(order({ milestones }), noPayments, now).map((r) => r.state)).toEqual(states);
  });

  it('reports the shipment wait since acceptance exactly, with no ref', () => {
    const at = ago(50 * HOUR);
    expect(classifyStalledOrder(order({ milestones: { accepted: milestone(at) } }), noPayments, now)).toEqual([
      {
        orderNumber: 'SO-1',
        state: 'awaitingShipment',
        since: at,
        ageMs: 50 * HOUR,
        thresholdMs: 48 * HOUR,
        ref: null,
      },
    ]);
  });

  it('never reports an order shipped by its status as awaiting payment, even with the payment wait on', () => {
    expect(classifyStalledOrder(order({ status: 'SHIPPED', milestones: shippedByStatus }), thresholds, now)).toEqual(
      [],
    );
  });

  it('reports no wait that is off', () => {
    const document = order({
      milestones: { accepted: milestone(ago(300 * HOUR)) },
      returns: { 'RMA-1': returned('RMA-1', ago(300 * HOUR)) },
    });
    const off = { awaitingPayment: false, awaitingShipment: false, awaitingRefund: false } satisfies StalledThresholds;
    expect(classifyStalledOrder(document, off, now)).toEqual([]);
    expect(classifyStalledOrder(document, { ...off, awaitingRefund: 72 * HOUR }, now)).toEqual([
      { ...row('awaitingRefund', ago(300 * HOUR), 'RMA-1') },
    ]);
  });
});

describe('stalledQuery', () => {
  const at = new Date(now);
  const cutoff = (ms: number) => ({ $lt: new Date(now - ms) });
  const live = { status: { $nin: ['CANCELLED', 'CLOSED'] }, deleted: { $ne: true } };

  it('waits for shipment from the capture, or from acceptance in a profile without payments', () => {
    expect(stalledQuery('awaitingShipment', thresholds, at).filter).toEqual({
      'milestones.shipped.time': null,
      'milestones.paymentCaptured.time': cutoff(48 * HOUR),
      ...live,
    });
    expect(stalledQuery('awaitingShipment', { ...thresholds, awaitingPayment: false }, at)).toEqual({
      filter: {
        'milestones.shipped.time': null,
        $or: [
          { 'milestones.paymentCaptured.time': cutoff(48 * HOUR) },
          { 'milestones.accepted.time': cutoff(48 * HOUR) },
        ],
        ...live,
      },
      index: 'stalled_awaiting_payment_or_shipment',
    });
  });

  it('has no query for a wait that is off', () => {
    expect(() => stalledQuery('awaitingPayment', { ...thresholds, awaitingPayment: false }, at)).toThrow(
      new RangeError('The wait awaitingPayment is off (stalled.awaitingPayment: false); it has no query'),
    );
  });
});

describe('stalled config', () => {
  it.each([
    [{}, { awaitingPayment: 24 * HOUR, awaitingShipment: 48 * HOUR, awaitingRefund: 72 * HOUR }],
    [
      { awaitingPayment: false, awaitingRefund: '7d' },
      { awaitingPayment: false, awaitingShipment: 48 * HOUR, awaitingRefund: 7 * 24 * HOUR },
    ],
  ])('parses %j', (input, expected) => {
    expect(stalledConfigSchema.parse(input)).toEqual(expected);
  });

  it('refuses true, which is no threshold', () => {
    expect(stalledConfigSchema.safeParse({ awaitingShipment: true }).success).toBe(false);
  });
});

describe('compareStalledOrders', () => {
  it('sorts the oldest wait first, then by order number, state and ref', () => {
    const rows = [
      row('awaitingRefund', ago(80 * HOUR), 'RMA-2', 'SO-2'),
      row('awaitingRefund', ago(80 * HOUR), 'RMA-1', 'SO-2'),
      row('awaitingShipment', ago(80 * HOUR), 'PAY-1', 'SO-2'),
      row('awaitingPayment', ago(80 * HOUR), null, 'SO-1'),
      row('awaitingPayment', ago(90 * HOUR), null, 'SO-3'),
    ];
    expect([...rows].sort(compareStalledOrders).map((r) => `${r.orderNumber} ${r.state} ${r.ref}`)).toEqual([
      'SO-3 awaitingPayment null',
      'SO-1 awaitingPayment null',
      'SO-2 awaitingShipment PAY-1',
      'SO-2 awaitingRefund RMA-1',
      'SO-2 awaitingRefund RMA-2',
    ]);
  });
});
