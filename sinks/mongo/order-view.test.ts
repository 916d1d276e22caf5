import { describe, expect, it } from 'vitest';
import { type CanonicalEvent, ORDER_STATUS, type OrderEvent } from '../../core/canonical.js';
import {
  canonicalAt,
  dec,
  expectedSource,
  orderAccepted,
  orderDeleted,
  orderHeaderChanged,
  orderLifecycle,
  shipmentDispatched,
  stockLevelChanged,
} from '../testing.js';
import { orderEventProblem, orderParts, orderViewConfigSchema, planOrders } from './order-view.js';

const life = orderLifecycle('SO-1', 10);

/** The parts an event writes: path, which version wins, and whether it decides "applied". */
function shape(event: CanonicalEvent) {
  return orderParts(event as OrderEvent).map((part) => `${part.path} ${part.wins}${part.primary ? ' primary' : ''}`);
}

describe('order_view config', () => {
  it('defaults to the order_view collection', () => {
    expect(orderViewConfigSchema.parse({})).toEqual({
      collection: 'order_view',
    });
  });
});

describe('orderParts', () => {
  it.each([
    [
      'OrderAccepted',
      life.accepted,
      ['header newest primary', 'statusInfo newest', 'deletion newest', 'milestones.accepted earliest'],
    ],
    ['OrderHeaderChanged', orderHeaderChanged(15, 'SO-1'), ['header newest primary']],
    ['OrderStatusChanged', life.shipped, ['statusInfo newest primary']],
    ['OrderDeleted', orderDeleted(20, 'SO-1'), ['deletion newest primary']],
    ['OrderLineChanged', life.line2, ['lines.2 newest primary']],
    ['PaymentCaptured', life.payment, ['payments.PAY-1 newest primary', 'milestones.paymentCaptured earliest']],
    ['ShipmentDispatched', life.shipment, ['shipments.SHP-1 newest primary', 'milestones.shipped earliest']],
    ['ReturnReceived', life.returned, ['returns.RMA-7 newest primary', 'milestones.returnReceived earliest']],
    ['RefundCompleted', life.refund, ['refunds.RF-9 newest primary', 'milestones.refunded earliest']],
    [
      'OrderCancelled',
      canonicalAt(21, 'OrderCancelled', 'SO-1', { orderNumber: 'SO-1', fromStatus: ORDER_STATUS.accepted }),
      ['statusInfo newest primary'],
    ],
  ])('%s writes its parts', (_type, event, parts) => {
    expect(shape(event)).toEqual(parts);
  });

  it('records the milestone a status change sets, earliest wins, with a null ref', () => {
    const shippedByStatus = canonicalAt(30, 'OrderStatusChanged', 'SO43659', {
      orderNumber: 'SO43659',
      fromStatus: ORDER_STATUS.accepted,
      toStatus: ORDER_STATUS.shipped,
      fromErpStatus: '2',
      toErpStatus: '5',
      milestone: 'shipped',
      milestoneAt: '2011-06-07T00:00:00-07:00',
    });
    expect(shape(shippedByStatus)).toEqual(['statusInfo newest primary', 'milestones.shipped earliest']);
    expect(orderParts(shippedByStatus)[1]!.set).toEqual({
      'milestones.shipped': {
        at: '2011-06-07T00:00:00-07:00',
        time: new Date('2011-06-07T07:00:00.000Z'),
        ref: null,
        source: expectedSource(shippedByStatus, 2),
      },
    });
  });

  it('records the milestone of the status an order is accepted with beside accepted, and accepted only once', () => {
    const accepted = orderAccepted(31, 'SO43659');
    const shippedAlready = {
      ...accepted,
      payload: { ...accepted.payload, milestone: 'shipped', milestoneAt: '2011-06-07T00:00:00-07:00' },
    };
    expect(shape(shippedAlready as OrderEvent)).toEqual([
      'header newest primary',
      'statusInfo newest',
      'deletion newest',
      'milestones.accepted earliest',
      'milestones.shipped earliest',
    ]);
    const acceptedTwice = {
      ...accepted,
      payload: { ...accepted.payload, milestone: 'accepted', milestoneAt: '2011-06-01T00:00:00-07:00' },
    };
    expect(shape(acceptedTwice as OrderEvent)).toEqual([
      'header newest primary',
      'statusInfo newest',
      'deletion newest',
      'milestones.accepted earliest',
    ]);
  });

  it('escapes ids that cannot be field names and keeps the original id in the entry', () => {
    const [part] = orderParts(shipmentDispatched(22, 'SO-1', 'SHP.2', 'T-1'));
    expect(part!.path).toBe('shipments.SHP%2E2');
    expect(part!.set).toEqual({ 'shipments.SHP%2E2': expect.objectContaining({ shipmentId: 'SHP.2' }) });
  });

  it('writes money at scale 4 and quantities at scale 3, mirroring customer and status at the top level', () => {
    const line = canonicalAt(23, 'OrderLineChanged', 'SO-1', {
      ...life.line1.payload,
      quantity: '2',
      unitPrice: '19.99',
    });
    expect(orderParts(line)[0]!.set).toEqual({
      'lines.1': expect.objectContaining({
        quantity: dec('2.000'),
        unitPrice: dec('19.9900'),
        source: expectedSource(line),
      }),
    });
    const [header, status] = orderParts(life.accepted);
    expect(header!.set).toMatchObject({ customerId: 'C-42', header: { orderTotal: dec('59.9700') } });
    expect(status!.set).toMatchObject({ status: 'ACCEPTED', statusInfo: { status: 'ACCEPTED', erpStatus: 'A' } });
  });

  it('writes an OrderHeaderChanged as the whole header and the top-level customer, like OrderAccepted', () => {
    const changed = orderHeaderChanged(24, 'SO-1', { customerId: 'C-43', customerEmail: null, orderTotal: '64.9' });
    expect(orderParts(changed)[0]!.set).toEqual({
      header: {
        customerId: 'C-43',
        customerEmail: null,
        channel: 'web',
        currency: 'EUR',
        orderTotal: dec('64.9000'),
        placedAt: '2026-11-20T09:00:00',
        source: expectedSource(changed),
      },
      customerId: 'C-43',
    });
  });
});

describe('planOrders', () => {
  it('keeps per order and part only the newest event, and the earliest for milestones', () => {
    const second = shipmentDispatched(30, 'SO-1', 'SHP-2', 'T-2');
    const [plan] = planOrders([
      life.line1Changed,
      second,
      life.line1,
      life.shipment,
      structuredClone(life.line1),
    ] as OrderEvent[]);

    expect(plan!.orderNumber).toBe('SO-1');
    expect(plan!.events).toHaveLength(5);
    expect(Object.fromEntries(plan!.parts.map((part) => [part.path, part.event.meta.eventId]))).toEqual({
      'lines.1': life.line1Changed.meta.eventId,
      'shipments.SHP-2': second.meta.eventId,
      'shipments.SHP-1': life.shipment.meta.eventId,
      'milestones.shipped': life.shipment.meta.eventId,
    });
    expect([...plan!.trackingNumbers].sort()).toEqual(['00340434161094042557', 'T-2']);
  });

  it.each([
    ['in source order', [0, 1, 2]],
    ['with the older OrderAccepted last', [2, 1, 0]],
    ['duplicated and shuffled', [1, 2, 0, 2, 1]],
  ])('lets the newest of OrderAccepted and OrderHeaderChanged write the header, %s', (_label, order) => {
    const events = [life.accepted, orderHeaderChanged(40, 'SO-1'), orderHeaderChanged(41, 'SO-1', { channel: 'app' })];
    const [plan] = planOrders(order.map((index) => structuredClone(events[index]!)) as OrderEvent[]);
    const winners = Object.fromEntries(plan!.parts.map((part) => [part.path, part.event.meta.eventId]));
    expect(winners).toEqual({
      header: events[2]!.meta.eventId,
      statusInfo: life.accepted.meta.eventId,
      deletion: life.accepted.meta.eventId,
      'milestones.accepted': life.accepted.meta.eventId,
    });
  });

  it('plans each order on its own', () => {
    const plans = planOrders([
      orderAccepted(1, 'SO-2'),
      orderAccepted(2, 'SO-3'),
      orderDeleted(3, 'SO-2'),
    ] as OrderEvent[]);
    expect(plans.map((plan) => [plan.orderNumber, plan.events.length])).toEqual([
      ['SO-2', 2],
      ['SO-3', 1],
    ]);
    expect(plans[0]!.parts.find((part) => part.path === 'deletion')?.event.meta.eventType).toBe('OrderDeleted');
  });
});

describe('orderEventProblem', () => {
  it.each([
    [
      'a stock event',
      stockLevelChanged(1, { sku: 'A', location: 'B', onHand: '1', reserved: '0', safetyStock: '0' }),
      'Unexpected event type StockLevelChanged',
    ],
    [
      'an empty order number',
      { ...life.line1, payload: { ...life.line1.payload, orderNumber: '' } },
      'Missing orderNumber',
    ],
    [
      'a float amount',
      { ...life.payment, payload: { ...life.payment.payload, amount: 59.97 } },
      'Invalid decimal 59.97 in amount',
    ],
    [
      'a bad order total in a header change',
      orderHeaderChanged(1, 'SO-1', { orderTotal: '64,73' }),
      'Invalid decimal "64,73" in orderTotal',
    ],
    [
      'a bad order total',
      { ...life.accepted, payload: { ...life.accepted.payload, orderTotal: 'n/a' } },
      'Invalid decimal "n/a" in orderTotal',
    ],
    ['a negative line number', { ...life.line1, payload: { ...life.line1.payload, lineNo: -1 } }, 'Invalid lineNo -1'],
    [
      'a missing shipment id',
      { ...life.shipment, payload: { ...life.shipment.payload, shipmentId: '' } },
      'Missing shipmentId',
    ],
    [
      'a missing refund id',
      { ...life.refund, payload: { ...life.refund.payload, refundId: null } },
      'Missing refundId',
    ],
    [
      'a capture time that is no date',
      { ...life.payment, payload: { ...life.payment.payload, capturedAt: '27/11/2025 09:05' } },
      'Invalid business timestamp "27/11/2025 09:05" in capturedAt',
    ],
    [
      'a missing receipt time',
      { ...life.returned, payload: { ...life.returned.payload, receivedAt: null } },
      'Invalid business timestamp null in receivedAt',
    ],
    [
      'a malformed position',
      { ...life.returned, meta: { ...life.returned.meta, sourcePosition: 'mssql:xyz' } },
      'Invalid source position "mssql:xyz"',
    ],
    [
      'a status milestone of no known name',
      {
        ...life.shipped,
        payload: { ...life.shipped.payload, milestone: 'delivered', milestoneAt: '2026-11-21T14:00:00Z' },
      },
      'Unknown milestone "delivered"',
    ],
    [
      'a status milestone without its time',
      { ...life.shipped, payload: { ...life.shipped.payload, milestone: 'shipped', milestoneAt: null } },
      'Invalid business timestamp null in milestoneAt',
    ],
    [
      'a status milestone time without a milestone',
      { ...life.accepted, payload: { ...life.accepted.payload, milestone: null, milestoneAt: 'soon' } },
      'Unknown milestone null',
    ],
  ])('rejects %s', (_label, event, problem) => {
    expect(orderEventProblem(event as unknown as CanonicalEvent)).toBe(problem);
  });

  it.each(life.all.map((event) => [event.meta.eventType, event] as const))(
    'accepts a well-formed %s',
    (_type, event) => {
      expect(orderEventProblem(event)).toBeUndefined();
    },
  );
});
