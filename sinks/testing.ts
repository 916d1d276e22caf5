import { createHash } from 'node:crypto';
import { Decimal128 } from 'mongodb';
import { pino } from 'pino';
import {
  type CanonicalEvent,
  type CanonicalEventType,
  type CanonicalPayloads,
  ORDER_STATUS,
  type OrderHeaderChanged,
} from '../core/canonical.js';
import { subtractDecimals, SCALE } from '../core/decimal.js';
import { sqlServerPosition } from '../core/position.js';
import { type Sink, type SinkContext, type SinkWriteOutcome } from '../core/sink.js';
import { PIPELINE_VERSION } from '../core/version.js';

/**
 * Canonical events for the read-model tests, the one place they are built:
 * "given these events, shuffled and duplicated, expect these documents".
 * Imported only by tests and never registered.
 *
 * An event is placed in source order by a tick `at`: its position is SQL
 * Server commit LSN `00000100:<at>:0001` (change LSN the same, serial 1), it
 * was committed at {@link COMMITTED_AT} + `at` seconds, in transaction
 * `tx-<at>`, and its id is derived from type, key and position as the
 * transforms derive theirs, so a duplicate is byte-for-byte the same event.
 */

/** A read-model decimal as stored, for expected documents: `dec('12.500')`. */
export function dec(text: string): Decimal128 {
  return Decimal128.fromString(text);
}

/** What every projection's `_meta.appliedAt` shows in tests. */
export const FIXED_NOW = new Date('2026-11-27T12:00:00.000Z');

/** Source commit time of tick 0: 2026-11-20T08:00:00Z. */
export const COMMITTED_AT = Date.UTC(2026, 10, 20, 8, 0, 0);

/** A sink context with a silent logger and the fixed clock. */
export function testSinkContext(): SinkContext {
  return { logger: pino({ level: 'silent' }), pipelineVersion: PIPELINE_VERSION, now: () => FIXED_NOW };
}

/** The source position of tick `at`. */
export function positionAt(at: number): string {
  const lsn = `00000100:${at.toString(16).padStart(8, '0')}:0001`;
  return sqlServerPosition({ commitLsn: lsn, changeLsn: lsn, eventSerialNo: 1 });
}

const SOURCE_TABLE = {
  StockLevelChanged: 'InventoryBalance',
  OrderAccepted: 'SalesOrderHeader',
  OrderStatusChanged: 'SalesOrderHeader',
  OrderCancelled: 'SalesOrderHeader',
  OrderDeleted: 'SalesOrderHeader',
  OrderLineChanged: 'SalesOrderLine',
  PaymentCaptured: 'PaymentTransaction',
  ShipmentDispatched: 'Shipment',
  ReturnReceived: 'ReturnAuthorization',
  RefundCompleted: 'Refund',
  OrderHeaderChanged: 'SalesOrderHeader',
} as const satisfies Record<CanonicalEventType, string>;

/** Any canonical event at tick `at`. */
export function canonicalAt<T extends CanonicalEventType>(
  at: number,
  eventType: T,
  aggregateKey: string,
  payload: CanonicalPayloads[T],
): CanonicalEvent<T> {
  const sourcePosition = positionAt(at);
  const eventId = createHash('sha256')
    .update(`${eventType}\0${aggregateKey}\0${sourcePosition}`)
    .digest('hex')
    .slice(0, 32);
  const meta = {
    eventId,
    eventType,
    aggregateKey,
    sourceTable: `erp.ErpDemo.dbo.${SOURCE_TABLE[eventType]}`,
    sourcePosition,
    sourceCommittedAt: COMMITTED_AT + at * 1000,
    correlationId: `tx-${at}`,
  };
  return { meta, payload } as CanonicalEvent<T>;
}

/** A balance at tick `at`; `available` is computed as the transform does. */
export function stockLevelChanged(
  at: number,
  level: {
    readonly sku: string;
    readonly location: string;
    readonly onHand: string;
    readonly reserved: string;
    readonly safetyStock: string;
    readonly removed?: boolean;
  },
): CanonicalEvent<'StockLevelChanged'> {
  const available = subtractDecimals(SCALE.quantity, level.onHand, level.reserved, level.safetyStock);
  return canonicalAt(at, 'StockLevelChanged', `${level.sku}@${level.location}`, {
    sku: level.sku,
    location: level.location,
    onHand: level.onHand,
    reserved: level.reserved,
    safetyStock: level.safetyStock,
    available,
    removed: level.removed ?? false,
  });
}

/** The final level of each balance in {@link inventoryBurst}. */
export const BURST_FINAL = [
  { sku: 'SKU-A', location: 'WH-1', onHand: '120.000', reserved: '20.000', safetyStock: '10.000' },
  { sku: 'SKU-A', location: 'WH-2', onHand: '12.500', reserved: '7.500', safetyStock: '5.000' },
  { sku: 'SKU-B', location: 'WH-1', onHand: '3.000', reserved: '8.000', safetyStock: '2.000' },
  { sku: 'SKU-B', location: 'WH-2', onHand: '45.250', reserved: '0.000', safetyStock: '5.000' },
  { sku: 'SKU-C', location: 'WH-1', onHand: '7.000', reserved: '1.000', safetyStock: '2.000' },
  { sku: 'SKU-C', location: 'WH-2', onHand: '9.000', reserved: '0.000', safetyStock: '1.000', removed: true },
] as const;

/**
 * Stock moves over 3 SKUs × 2 locations in source order from tick `start`:
 * six rounds of ordinary moves (round r: on hand 50 + 3r + k, reserved r,
 * safety stock 2, for the k-th balance), then a final round with
 * {@link BURST_FINAL}, in which SKU-C@WH-2 is deleted in the ERP.
 */
export function inventoryBurst(start = 1000): CanonicalEvent<'StockLevelChanged'>[] {
  const events: CanonicalEvent<'StockLevelChanged'>[] = [];
  let at = start;
  for (let round = 0; round < 6; round++) {
    for (const [k, { sku, location }] of BURST_FINAL.entries()) {
      events.push(
        stockLevelChanged(at++, {
          sku,
          location,
          onHand: `${50 + 3 * round + k}.000`,
          reserved: `${round}.000`,
          safetyStock: '2.000',
        }),
      );
    }
  }
  for (const level of BURST_FINAL) events.push(stockLevelChanged(at++, level));
  return events;
}

/** The events of one order's life, in source order, by what they are. */
export type OrderLifecycle = {
  readonly accepted: CanonicalEvent<'OrderAccepted'>;
  readonly line1: CanonicalEvent<'OrderLineChanged'>;
  readonly line2: CanonicalEvent<'OrderLineChanged'>;
  readonly payment: CanonicalEvent<'PaymentCaptured'>;
  readonly line1Changed: CanonicalEvent<'OrderLineChanged'>;
  readonly shipment: CanonicalEvent<'ShipmentDispatched'>;
  readonly shipped: CanonicalEvent<'OrderStatusChanged'>;
  readonly returned: CanonicalEvent<'ReturnReceived'>;
  readonly refund: CanonicalEvent<'RefundCompleted'>;
  /** All of the above, in source order. */
  readonly all: readonly CanonicalEvent[];
};

/**
 * SO-1001's life from tick `start`: accepted; lines 1 and 2; payment captured;
 * line 1 changed (quantity 2 → 1, allocated); shipment dispatched; status
 * ACCEPTED → SHIPPED; return received; refund completed.
 */
export function orderLifecycle(orderNumber = 'SO-1001', start = 100): OrderLifecycle {
  const at = (offset: number) => start + offset;
  const line = (tick: number, lineNo: number, fields: { sku: string; quantity: string; lineStatus: string }) =>
    canonicalAt(tick, 'OrderLineChanged', orderNumber, {
      orderNumber,
      lineNo,
      sku: fields.sku,
      quantity: fields.quantity,
      unitPrice: '19.9900',
      lineStatus: fields.lineStatus,
      location: 'WH-1',
      removed: false,
    });
  const accepted = orderAccepted(at(0), orderNumber);
  const line1 = line(at(1), 1, { sku: 'SKU-A', quantity: '2.000', lineStatus: 'OPEN' });
  const line2 = line(at(2), 2, { sku: 'SKU-B', quantity: '1.000', lineStatus: 'OPEN' });
  const payment = canonicalAt(at(3), 'PaymentCaptured', orderNumber, {
    orderNumber,
    paymentId: 'PAY-1',
    amount: '59.9700',
    currency: 'EUR',
    pspReference: 'psp-8841',
    capturedAt: '2026-11-20T09:05:00',
  });
  const line1Changed = line(at(4), 1, { sku: 'SKU-A', quantity: '1.000', lineStatus: 'ALLOCATED' });
  const shipment = shipmentDispatched(at(5), orderNumber, 'SHP-1', '00340434161094042557');
  const shipped = canonicalAt(at(6), 'OrderStatusChanged', orderNumber, {
    orderNumber,
    fromStatus: ORDER_STATUS.accepted,
    toStatus: ORDER_STATUS.shipped,
    fromErpStatus: 'A',
    toErpStatus: 'S',
  });
  const returned = canonicalAt(at(7), 'ReturnReceived', orderNumber, {
    orderNumber,
    rmaNumber: 'RMA-7',
    reason: 'damaged',
    receivedAt: '2026-11-25T10:00:00',
  });
  const refund = canonicalAt(at(8), 'RefundCompleted', orderNumber, {
    orderNumber,
    refundId: 'RF-9',
    rmaNumber: 'RMA-7',
    amount: '19.9900',
    currency: 'EUR',
    completedAt: '2026-11-26T08:00:00',
  });
  return {
    accepted,
    line1,
    line2,
    payment,
    line1Changed,
    shipment,
    shipped,
    returned,
    refund,
    all: [accepted, line1, line2, payment, line1Changed, shipment, shipped, returned, refund],
  };
}

/** An order accepted at tick `at` by customer C-42 through the web shop. */
export function orderAccepted(at: number, orderNumber: string): CanonicalEvent<'OrderAccepted'> {
  return canonicalAt(at, 'OrderAccepted', orderNumber, {
    orderNumber,
    customerId: 'C-42',
    customerEmail: 'ada@example.com',
    channel: 'web',
    status: ORDER_STATUS.accepted,
    erpStatus: 'A',
    currency: 'EUR',
    orderTotal: '59.9700',
    placedAt: '2026-11-20T09:00:00',
  });
}

/**
 * The header of an order accepted by {@link orderAccepted}, changed at tick
 * `at`: by default the total corrected to 64.9600 and a new e-mail address.
 */
export function orderHeaderChanged(
  at: number,
  orderNumber: string,
  changes: Partial<Omit<OrderHeaderChanged, 'orderNumber'>> = {},
): CanonicalEvent<'OrderHeaderChanged'> {
  return canonicalAt(at, 'OrderHeaderChanged', orderNumber, {
    orderNumber,
    customerId: 'C-42',
    customerEmail: 'ada.lovelace@example.com',
    channel: 'web',
    currency: 'EUR',
    orderTotal: '64.9600',
    placedAt: '2026-11-20T09:00:00',
    ...changes,
  });
}

export function shipmentDispatched(
  at: number,
  orderNumber: string,
  shipmentId: string,
  trackingNumber: string,
): CanonicalEvent<'ShipmentDispatched'> {
  return canonicalAt(at, 'ShipmentDispatched', orderNumber, {
    orderNumber,
    shipmentId,
    carrier: 'DHL',
    trackingNumber,
    location: 'WH-1',
    shippedAt: '2026-11-21T14:00:00',
  });
}

export function orderDeleted(at: number, orderNumber: string): CanonicalEvent<'OrderDeleted'> {
  return canonicalAt(at, 'OrderDeleted', orderNumber, { orderNumber });
}

/** What a projection stores as an event's `source`; `rank` is 2 for OrderStatusChanged, 1 for OrderCancelled. */
/** A SKU document's entry for the location a stock event moved, as the sink stores it (quantities as Decimal128). */
export function expectedSkuEntry(event: CanonicalEvent<'StockLevelChanged'>) {
  const { location, onHand, reserved, safetyStock, available, removed } = event.payload;
  return {
    location,
    onHand: dec(onHand),
    reserved: dec(reserved),
    safetyStock: dec(safetyStock),
    available: dec(available),
    removed,
    source: expectedSource(event),
  };
}

export function expectedSource(event: CanonicalEvent, rank = 0) {
  return {
    position: event.meta.sourcePosition,
    version: `${event.meta.sourcePosition}/${rank}`,
    eventId: event.meta.eventId,
    correlationId: event.meta.correlationId,
    committedAt: new Date(event.meta.sourceCommittedAt),
  };
}

/** What a projection stores as `_meta` when `event` is the newest applied, with the fixed clock. */
export function expectedMeta(event: CanonicalEvent, rank = 0) {
  return {
    sourcePosition: event.meta.sourcePosition,
    version: `${event.meta.sourcePosition}/${rank}`,
    sourceCommittedAt: new Date(event.meta.sourceCommittedAt),
    appliedAt: FIXED_NOW,
    pipelineVersion: PIPELINE_VERSION,
    correlationId: event.meta.correlationId,
    eventId: event.meta.eventId,
  };
}

/** A deterministic PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The events in a seeded random order, about `duplicateRate` of them twice
 * (a copy, as a redelivered record decodes to a new object).
 */
export function shuffledWithDuplicates<E>(events: readonly E[], seed: number, duplicateRate = 0.3): E[] {
  const random = seededRandom(seed);
  const out = events.flatMap((event) => (random() < duplicateRate ? [event, structuredClone(event)] : [event]));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Consecutive batches of at most `size` events. */
export function inBatches<E>(events: readonly E[], size: number): E[][] {
  const batches: E[][] = [];
  for (let i = 0; i < events.length; i += size) batches.push(events.slice(i, i + size));
  return batches;
}

/** Hands batch i to worker i mod n; each worker writes its batches in order, all workers at the same time. */
export async function writeConcurrently(
  workers: readonly Sink[],
  batches: readonly (readonly CanonicalEvent[])[],
): Promise<SinkWriteOutcome[]> {
  const lanes = workers.map(async (worker, lane) => {
    const outcomes: SinkWriteOutcome[] = [];
    for (const [i, batch] of batches.entries())
      if (i % workers.length === lane) outcomes.push(await worker.write(batch));
    return outcomes;
  });
  return (await Promise.all(lanes)).flat();
}
