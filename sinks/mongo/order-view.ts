import { type AnyBulkWriteOperation, type Decimal128, type IndexDescription } from 'mongodb';
import { z } from 'zod';
import {
  type CanonicalEvent,
  type DecimalString,
  ORDER_MILESTONES,
  ORDER_STATUS,
  type OrderEvent,
  type OrderMilestone,
  type OrderHeaderChanged,
  type OrderStatus,
  type StatusMilestoneFields,
} from '../../core/canonical.js';
import { formatDecimal, isDecimalString, parseDecimal, SCALE } from '../../core/decimal.js';
import { type Sink, type SinkWriteOutcome } from '../../core/sink.js';
import { bulkWriteIdempotent } from './bulk.js';
import { ensureIndexes } from './connect.js';
import { toDecimal128 } from './decimal128.js';
import { type MongoSinkContext, type SinkDefinition } from './definition.js';
import {
  fieldKey,
  invalidEvent,
  metaProblem,
  projectionMeta,
  type ProjectionMeta,
  type SourceStamp,
  sourceStamp,
  storedNewerThan,
  storedOlderThan,
  type Version,
} from './guard.js';
import { Rejections } from './write-outcome.js';

export const orderViewConfigSchema = z.object({
  collection: z
    .string()
    .min(1)
    .default('order_view')
    .describe('Collection with one document per order, _id the order number'),
});

export type OrderViewConfig = z.output<typeof orderViewConfigSchema>;

/** Every order event type; the view is assembled from all of them. */
export const ORDER_VIEW_INPUT = [
  'OrderAccepted',
  'OrderHeaderChanged',
  'OrderStatusChanged',
  'OrderCancelled',
  'OrderDeleted',
  'OrderLineChanged',
  'PaymentCaptured',
  'ShipmentDispatched',
  'ReturnReceived',
  'RefundCompleted',
] as const satisfies readonly OrderEvent['meta']['eventType'][];

/**
 * `order_view`: one order's whole truth for service agents, one document per
 * order number ({@link OrderViewDocument}), assembled from events that arrive
 * in any order across topics and partitions (a line before its header, a
 * refund before its payment).
 *
 * Each part of the document (header, status, deletion marker, each line,
 * payment, shipment, return and refund, each milestone) stores the version of
 * the event that wrote it and is written only by a single-document update
 * whose filter checks that version, so parts never go back in time,
 * whatever the order, duplication or concurrency of writers.
 *
 * - Before any header event the order exists with `status: null`,
 *   `header: null` and whatever parts already arrived: an agent sees "header
 *   not synchronised yet" rather than a guessed status.
 * - `OrderDeleted` sets `deleted: true` with its version in `deletion`; older
 *   events that arrive later still land in their own parts (so the document
 *   is the same whatever the order) but never clear `deleted`. Only a newer
 *   `OrderAccepted` (the ERP re-inserted the order number) does.
 * - `OrderHeaderChanged` replaces the header (and the top-level
 *   `customerId`) exactly as `OrderAccepted` does, under the same guard, so
 *   whichever of the two is newest wins; it touches neither the status, the
 *   deletion marker nor the milestones.
 * - Milestones record the earliest event by version, once; duplicates and
 *   later events change nothing. Besides the events of their own, an
 *   `OrderAccepted` or `OrderStatusChanged` whose status sets a milestone
 *   (its `milestone` and `milestoneAt`) records it the same way, with a null `ref`.
 */
export const orderView = {
  name: 'order_view',
  summary:
    'Every order event becomes one document per order: header, status, lines, payments, shipments, returns, refunds and milestones',
  input: ORDER_VIEW_INPUT,
  requirements: { idempotent: true, keyed: false },
  configSchema: orderViewConfigSchema,
  create: createOrderViewSink,
} as const satisfies SinkDefinition<typeof orderViewConfigSchema>;

/** A created `order_view` sink. */
export type OrderViewSink = Sink;

/** Header details from `OrderAccepted` or `OrderHeaderChanged`; newest wins. Money is `Decimal128` with 4 decimals. */
export type OrderHeaderEntry = {
  readonly customerId: string;
  readonly customerEmail: string | null;
  readonly channel: string;
  readonly currency: string;
  readonly orderTotal: Decimal128;
  readonly placedAt: string;
  readonly source: SourceStamp;
};

/** The canonical status from `OrderAccepted`, `OrderStatusChanged` or `OrderCancelled`; newest wins. */
export type OrderStatusEntry = {
  readonly status: OrderStatus;
  /** The ERP's code; null when set by an `OrderCancelled`, which does not carry it. */
  readonly erpStatus: string | null;
  readonly source: SourceStamp;
};

/** Whether the ERP deleted the order header, from `OrderDeleted` (true) or `OrderAccepted` (false); newest wins. */
export type OrderDeletionEntry = { readonly deleted: boolean; readonly source: SourceStamp };

export type OrderLineEntry = {
  readonly lineNo: number;
  readonly sku: string;
  readonly quantity: Decimal128;
  readonly unitPrice: Decimal128;
  readonly lineStatus: string;
  readonly location: string | null;
  /** The ERP deleted the line; kept as a tombstone so an older change cannot bring it back. */
  readonly removed: boolean;
  readonly source: SourceStamp;
};

export type OrderPaymentEntry = {
  readonly paymentId: string;
  readonly amount: Decimal128;
  readonly currency: string;
  readonly pspReference: string | null;
  readonly capturedAt: string;
  readonly source: SourceStamp;
};

export type OrderShipmentEntry = {
  readonly shipmentId: string;
  readonly carrier: string;
  readonly trackingNumber: string;
  readonly location: string;
  readonly shippedAt: string;
  readonly source: SourceStamp;
};

export type OrderReturnEntry = {
  readonly rmaNumber: string;
  readonly reason: string | null;
  readonly receivedAt: string;
  readonly source: SourceStamp;
};

export type OrderRefundEntry = {
  readonly refundId: string;
  readonly rmaNumber: string | null;
  readonly amount: Decimal128;
  readonly currency: string;
  readonly completedAt: string;
  readonly source: SourceStamp;
};

/** The milestone timeline, in business order (`ORDER_MILESTONES` of the canonical events). */
export const MILESTONES = ORDER_MILESTONES;

export type MilestoneName = OrderMilestone;

/** The first time something happened to the order; earliest version wins. */
export type MilestoneEntry = {
  /**
   * The business timestamp, as the ERP holds it (placedAt, capturedAt, shippedAt, receivedAt, completedAt, or the
   * `milestoneAt` of the status that set it).
   */
  readonly at: string;
  /** `at` as an instant, which MongoDB compares and indexes (the `stalled` queries range over it). */
  readonly time: Date;
  /** The payment, shipment, RMA or refund id; null for `accepted` and for a milestone an order status set. */
  readonly ref: string | null;
  /** Its `committedAt` is the source commit time, its `eventId` the event's. */
  readonly source: SourceStamp;
};

/**
 * One order. Sub-entities live in maps keyed by their ids (escaped with
 * `fieldKey`; lines by line number), each entry with its own `source`.
 * `customerId`, `status` and `deleted` repeat their parts' values at the top
 * level, written in the same update, for indexes and simple queries.
 */
export type OrderViewDocument = {
  readonly _id: string;
  readonly orderNumber: string;
  readonly customerId: string | null;
  readonly status: OrderStatus | null;
  readonly deleted: boolean;
  /** Every tracking number ever dispatched for the order, sorted; indexed (a map's values cannot be). */
  readonly trackingNumbers: readonly string[];
  readonly header: OrderHeaderEntry | null;
  readonly statusInfo: OrderStatusEntry | null;
  readonly deletion: OrderDeletionEntry | null;
  readonly lines: Readonly<Record<string, OrderLineEntry>>;
  readonly payments: Readonly<Record<string, OrderPaymentEntry>>;
  readonly shipments: Readonly<Record<string, OrderShipmentEntry>>;
  readonly returns: Readonly<Record<string, OrderReturnEntry>>;
  readonly refunds: Readonly<Record<string, OrderRefundEntry>>;
  readonly milestones: Readonly<Partial<Record<MilestoneName, MilestoneEntry>>>;
  /** Absent only while no event has been applied yet. */
  readonly _meta?: ProjectionMeta;
};

/**
 * The indexes agents look orders up by (the order number is `_id`), and the two the stalled-order queries range over
 * (see `ops/read-side/stalled-orders.ts`).
 */
export const ORDER_VIEW_INDEXES: readonly IndexDescription[] = [
  { key: { customerId: 1 }, name: 'customerId_1' },
  { key: { trackingNumbers: 1 }, name: 'trackingNumbers_1' },
  { key: { status: 1 }, name: 'status_1' },
  {
    key: {
      'milestones.shipped.time': 1,
      'milestones.paymentCaptured.time': 1,
      status: 1,
      'milestones.accepted.time': 1,
    },
    name: 'stalled_awaiting_payment_or_shipment',
  },
  { key: { 'milestones.returnReceived.time': 1, status: 1 }, name: 'stalled_awaiting_refund' },
];

/**
 * Creates the sink: ensures {@link ORDER_VIEW_INDEXES}. `write` rejects events it can
 * never apply, keeps per order and part only the winning event of the batch
 * (newest; earliest for milestones), and then per order, in this order:
 *
 * 1. the empty document, where it is missing (an `$setOnInsert` upsert);
 * 2. each event's primary part (the header for `OrderAccepted` and
 *    `OrderHeaderChanged`, the line for
 *    `OrderLineChanged`, …): `$set` guarded by the part's stored version,
 *    plus `$max` of `_meta.version`, in one update; a match counts the
 *    event as applied;
 * 3. the secondary parts (an `OrderAccepted`'s status and deletion marker,
 *    milestones), guarded the same way, and `_meta`'s other fields, set only
 *    where `_meta.version` is the batch's newest applied event's;
 * 4. each new tracking number, pushed into the sorted array unless present.
 *
 * Only step 1 upserts, and it filters on `_id` alone: a guarded upsert would
 * raise a duplicate key error for every stale event. Resolves after MongoDB
 * acknowledged every write.
 */
export async function createOrderViewSink(config: OrderViewConfig, ctx: MongoSinkContext): Promise<OrderViewSink> {
  const name = orderView.name;
  const orders = ctx.db.collection<OrderViewDocument>(config.collection);
  await ensureIndexes(orders, ORDER_VIEW_INDEXES);

  async function writeOrders(batches: readonly OrderBatch[], rejected: Rejections): Promise<number> {
    const { refused: refusedOrders } = await bulkWriteIdempotent(
      orders,
      batches.map(({ orderNumber }) => {
        const { _id, ...fields } = emptyOrder(orderNumber);
        return { updateOne: { filter: { _id }, update: { $setOnInsert: fields }, upsert: true } };
      }),
    );
    for (const [index, error] of refusedOrders) for (const event of batches[index]!.events) rejected.add(event, error);
    const live = batches.filter((_batch, index) => !refusedOrders.has(index));

    const primary = live.flatMap((batch) => batch.parts.filter((part) => part.primary));
    const primaryOutcome = await bulkWriteIdempotent(orders, primary.map(partUpdate));
    for (const [index, error] of primaryOutcome.refused) rejected.add(primary[index]!.event, error);

    const secondary: { operation: AnyBulkWriteOperation<OrderViewDocument>; event: OrderEvent }[] = [];
    for (const batch of live) {
      for (const part of batch.parts)
        if (!part.primary) secondary.push({ operation: partUpdate(part), event: part.event });
      const newest = batch.parts
        .filter((part) => part.primary && !rejected.has(part.event))
        .reduce<OrderPart | undefined>((a, b) => (a === undefined || b.version > a.version ? b : a), undefined);
      if (newest !== undefined)
        secondary.push({ operation: metaUpdate(batch.orderNumber, newest, ctx), event: newest.event });
    }
    const secondaryOutcome = await bulkWriteIdempotent(
      orders,
      secondary.map((entry) => entry.operation),
    );
    for (const [index, error] of secondaryOutcome.refused) rejected.add(secondary[index]!.event, error);

    await addTrackingNumbers(live, rejected);
    return primaryOutcome.matched;
  }

  /** Each new tracking number joins the sorted array in one atomic update, a no-op where it is there already. */
  async function addTrackingNumbers(batches: readonly OrderBatch[], rejected: Rejections): Promise<void> {
    const writes = batches.flatMap((batch) =>
      [...batch.trackingNumbers].map((trackingNumber) => ({
        batch,
        operation: {
          updateOne: {
            filter: { _id: batch.orderNumber, trackingNumbers: { $ne: trackingNumber } },
            update: { $push: { trackingNumbers: { $each: [trackingNumber], $sort: 1 } } },
          },
        } satisfies AnyBulkWriteOperation<OrderViewDocument>,
      })),
    );
    const outcome = await bulkWriteIdempotent(
      orders,
      writes.map((write) => write.operation),
    );
    for (const [index, error] of outcome.refused) {
      for (const event of writes[index]!.batch.events) {
        if (event.meta.eventType === 'ShipmentDispatched') rejected.add(event, error);
      }
    }
  }

  return {
    name,
    input: orderView.input,
    requirements: orderView.requirements,
    async write(events): Promise<SinkWriteOutcome> {
      const rejected = new Rejections();
      const valid: OrderEvent[] = [];
      for (const event of events) {
        const problem = orderEventProblem(event);
        if (problem === undefined) valid.push(event as OrderEvent);
        else rejected.add(event, invalidEvent(name, event, problem));
      }
      const applied = await writeOrders(planOrders(valid), rejected);
      return rejected.outcome(events.length, applied);
    },
  };
}

/**
 * One guarded part of an order document as one event would write it.
 * `path` is where the part lives; its guard is `<path>.source.version`.
 */
export type OrderPart = {
  readonly orderNumber: string;
  readonly path: string;
  readonly wins: 'newest' | 'earliest';
  /** The part that decides whether the event counts as applied. */
  readonly primary: boolean;
  /** The `$set` of the part and of the top-level fields that mirror it. */
  readonly set: Readonly<Record<string, unknown>>;
  readonly version: Version;
  readonly event: OrderEvent;
};

/** One order's share of a batch: the winning part per path, and every event behind them. */
export type OrderBatch = {
  readonly orderNumber: string;
  readonly parts: readonly OrderPart[];
  readonly trackingNumbers: ReadonlySet<string>;
  readonly events: readonly OrderEvent[];
};

/**
 * Groups valid events by order and keeps, per order and part, the event that
 * wins: the newest version, or the earliest for milestones. Events whose
 * parts all lose count as stale.
 */
export function planOrders(events: readonly OrderEvent[]): OrderBatch[] {
  const byOrder = new Map<string, { parts: Map<string, OrderPart>; tracking: Set<string>; events: OrderEvent[] }>();
  for (const event of events) {
    const orderNumber = event.payload.orderNumber;
    let order = byOrder.get(orderNumber);
    if (order === undefined) byOrder.set(orderNumber, (order = { parts: new Map(), tracking: new Set(), events: [] }));
    order.events.push(event);
    if (event.meta.eventType === 'ShipmentDispatched') {
      const { trackingNumber } = (event as CanonicalEvent<'ShipmentDispatched'>).payload;
      if (trackingNumber !== '') order.tracking.add(trackingNumber);
    }
    for (const part of orderParts(event)) {
      const current = order.parts.get(part.path);
      const wins =
        current === undefined ||
        (part.wins === 'newest' ? part.version > current.version : part.version < current.version);
      if (wins) order.parts.set(part.path, part);
    }
  }
  return [...byOrder].map(([orderNumber, order]) => ({
    orderNumber,
    parts: [...order.parts.values()],
    trackingNumbers: order.tracking,
    events: order.events,
  }));
}

/** The parts one event writes, its primary part first. */
export function orderParts(event: OrderEvent): OrderPart[] {
  const source = sourceStamp(event);
  const parts: OrderPart[] = [];
  const add = (path: string, wins: OrderPart['wins'], set: Record<string, unknown>) =>
    parts.push({
      orderNumber: event.payload.orderNumber,
      path,
      wins,
      primary: parts.length === 0,
      set,
      version: source.version,
      event,
    });
  const milestone = (name: MilestoneName, at: string, ref: string | null) =>
    add(`milestones.${name}`, 'earliest', {
      [`milestones.${name}`]: { at, time: new Date(Date.parse(at)), ref, source } satisfies MilestoneEntry,
    });
  // The milestone a status sets is recorded like any other: earliest version wins. orderEventProblem has refused a
  // half-set or unknown one, so the early return only skips an event whose status sets none. When the event sets the
  // same milestone itself (OrderAccepted's `accepted`, from placedAt), that write stands and the status's is skipped:
  // one update may not set one path twice, and both carry the event's own version, so neither could win over the other.
  const statusMilestone = (p: StatusMilestoneFields) => {
    if (p.milestone == null || p.milestoneAt == null) return;
    if (!parts.some((part) => part.path === `milestones.${p.milestone}`)) milestone(p.milestone, p.milestoneAt, null);
  };

  switch (event.meta.eventType) {
    case 'OrderAccepted': {
      const p = (event as CanonicalEvent<'OrderAccepted'>).payload;
      add('header', 'newest', { header: headerEntry(p, source), customerId: p.customerId });
      add('statusInfo', 'newest', { statusInfo: status(p.status, p.erpStatus, source), status: p.status });
      add('deletion', 'newest', { deletion: { deleted: false, source } satisfies OrderDeletionEntry, deleted: false });
      milestone('accepted', p.placedAt, null);
      statusMilestone(p);
      break;
    }
    case 'OrderHeaderChanged': {
      const p = (event as CanonicalEvent<'OrderHeaderChanged'>).payload;
      add('header', 'newest', { header: headerEntry(p, source), customerId: p.customerId });
      break;
    }
    case 'OrderStatusChanged': {
      const p = (event as CanonicalEvent<'OrderStatusChanged'>).payload;
      add('statusInfo', 'newest', { statusInfo: status(p.toStatus, p.toErpStatus, source), status: p.toStatus });
      statusMilestone(p);
      break;
    }
    case 'OrderCancelled': {
      add('statusInfo', 'newest', {
        statusInfo: status(ORDER_STATUS.cancelled, null, source),
        status: ORDER_STATUS.cancelled,
      });
      break;
    }
    case 'OrderDeleted': {
      add('deletion', 'newest', { deletion: { deleted: true, source } satisfies OrderDeletionEntry, deleted: true });
      break;
    }
    case 'OrderLineChanged': {
      const p = (event as CanonicalEvent<'OrderLineChanged'>).payload;
      const line: OrderLineEntry = {
        lineNo: p.lineNo,
        sku: p.sku,
        quantity: toDecimal128(formatDecimal(parseDecimal(p.quantity, 'quantity'), SCALE.quantity)),
        unitPrice: money(p.unitPrice),
        lineStatus: p.lineStatus,
        location: p.location,
        removed: p.removed,
        source,
      };
      add(`lines.${p.lineNo}`, 'newest', { [`lines.${p.lineNo}`]: line });
      break;
    }
    case 'PaymentCaptured': {
      const p = (event as CanonicalEvent<'PaymentCaptured'>).payload;
      const payment: OrderPaymentEntry = {
        paymentId: p.paymentId,
        amount: money(p.amount),
        currency: p.currency,
        pspReference: p.pspReference,
        capturedAt: p.capturedAt,
        source,
      };
      add(`payments.${fieldKey(p.paymentId)}`, 'newest', { [`payments.${fieldKey(p.paymentId)}`]: payment });
      milestone('paymentCaptured', p.capturedAt, p.paymentId);
      break;
    }
    case 'ShipmentDispatched': {
      const p = (event as CanonicalEvent<'ShipmentDispatched'>).payload;
      const shipment: OrderShipmentEntry = {
        shipmentId: p.shipmentId,
        carrier: p.carrier,
        trackingNumber: p.trackingNumber,
        location: p.location,
        shippedAt: p.shippedAt,
        source,
      };
      add(`shipments.${fieldKey(p.shipmentId)}`, 'newest', { [`shipments.${fieldKey(p.shipmentId)}`]: shipment });
      milestone('shipped', p.shippedAt, p.shipmentId);
      break;
    }
    case 'ReturnReceived': {
      const p = (event as CanonicalEvent<'ReturnReceived'>).payload;
      const received: OrderReturnEntry = { rmaNumber: p.rmaNumber, reason: p.reason, receivedAt: p.receivedAt, source };
      add(`returns.${fieldKey(p.rmaNumber)}`, 'newest', { [`returns.${fieldKey(p.rmaNumber)}`]: received });
      milestone('returnReceived', p.receivedAt, p.rmaNumber);
      break;
    }
    case 'RefundCompleted': {
      const p = (event as CanonicalEvent<'RefundCompleted'>).payload;
      const refund: OrderRefundEntry = {
        refundId: p.refundId,
        rmaNumber: p.rmaNumber,
        amount: money(p.amount),
        currency: p.currency,
        completedAt: p.completedAt,
        source,
      };
      add(`refunds.${fieldKey(p.refundId)}`, 'newest', { [`refunds.${fieldKey(p.refundId)}`]: refund });
      milestone('refunded', p.completedAt, p.refundId);
      break;
    }
  }
  return parts;
}

/** The payload field each milestone's `at` comes from. */
const MILESTONE_TIMESTAMPS: Partial<Record<OrderEvent['meta']['eventType'], string>> = {
  OrderAccepted: 'placedAt',
  PaymentCaptured: 'capturedAt',
  ShipmentDispatched: 'shippedAt',
  ReturnReceived: 'receivedAt',
  RefundCompleted: 'completedAt',
};

/** What is wrong with an event for this sink, or `undefined`. */
export function orderEventProblem(event: CanonicalEvent): string | undefined {
  if (!(ORDER_VIEW_INPUT as readonly string[]).includes(event.meta.eventType)) {
    return `Unexpected event type ${event.meta.eventType}`;
  }
  const metaIssue = metaProblem(event);
  if (metaIssue !== undefined) return metaIssue;
  const payload = event.payload as unknown as Record<string, unknown>;
  if (!nonEmpty(payload['orderNumber'])) return `Missing orderNumber`;
  const decimals: Partial<Record<OrderEvent['meta']['eventType'], readonly string[]>> = {
    OrderAccepted: ['orderTotal'],
    OrderHeaderChanged: ['orderTotal'],
    OrderLineChanged: ['quantity', 'unitPrice'],
    PaymentCaptured: ['amount'],
    RefundCompleted: ['amount'],
  };
  const ids: Partial<Record<OrderEvent['meta']['eventType'], string>> = {
    PaymentCaptured: 'paymentId',
    ShipmentDispatched: 'shipmentId',
    ReturnReceived: 'rmaNumber',
    RefundCompleted: 'refundId',
  };
  const type = event.meta.eventType as OrderEvent['meta']['eventType'];
  for (const field of decimals[type] ?? []) {
    if (!isDecimalString(payload[field])) return `Invalid decimal ${JSON.stringify(payload[field])} in ${field}`;
  }
  const milestoneAt = MILESTONE_TIMESTAMPS[type];
  if (milestoneAt !== undefined) {
    const at = payload[milestoneAt];
    if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) {
      return `Invalid business timestamp ${JSON.stringify(at)} in ${milestoneAt}`;
    }
  }
  if (type === 'OrderAccepted' || type === 'OrderStatusChanged') {
    const problem = statusMilestoneProblem(payload['milestone'], payload['milestoneAt']);
    if (problem !== undefined) return problem;
  }
  const id = ids[type];
  if (id !== undefined && !nonEmpty(payload[id])) return `Missing ${id}`;
  if (type === 'OrderLineChanged' && !(Number.isSafeInteger(payload['lineNo']) && Number(payload['lineNo']) >= 0)) {
    return `Invalid lineNo ${JSON.stringify(payload['lineNo'])}`;
  }
  return undefined;
}

/** What is wrong with the milestone a status sets, or `undefined`: a known name and a timestamp, or neither. */
function statusMilestoneProblem(name: unknown, at: unknown): string | undefined {
  if (name == null && at == null) return undefined;
  if (!(ORDER_MILESTONES as readonly unknown[]).includes(name)) return `Unknown milestone ${JSON.stringify(name)}`;
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) {
    return `Invalid business timestamp ${JSON.stringify(at)} in milestoneAt`;
  }
  return undefined;
}

/** The document an order starts as, before any part arrived. */
function emptyOrder(orderNumber: string): OrderViewDocument {
  return {
    _id: orderNumber,
    orderNumber,
    customerId: null,
    status: null,
    deleted: false,
    trackingNumbers: [],
    header: null,
    statusInfo: null,
    deletion: null,
    lines: {},
    payments: {},
    shipments: {},
    returns: {},
    refunds: {},
    milestones: {},
  };
}

/** The guarded update of one part; a primary part also raises `_meta.version`, atomically with the part. */
function partUpdate(part: OrderPart): AnyBulkWriteOperation<OrderViewDocument> {
  const guard = `${part.path}.source.version`;
  return {
    updateOne: {
      filter: {
        _id: part.orderNumber,
        ...(part.wins === 'newest' ? storedOlderThan(guard, part.version) : storedNewerThan(guard, part.version)),
      },
      update: part.primary ? { $set: part.set, $max: { '_meta.version': part.version } } : { $set: part.set },
    },
  };
}

/**
 * `_meta`'s other fields, from the event whose version `_meta.version` holds:
 * matches only if that is this event (so a stale event never touches `_meta`)
 * and `_meta` does not show it already (so a duplicate changes nothing, not
 * even `appliedAt`).
 */
function metaUpdate(
  orderNumber: string,
  part: OrderPart,
  ctx: Pick<MongoSinkContext, 'now' | 'pipelineVersion'>,
): AnyBulkWriteOperation<OrderViewDocument> {
  const { version: _version, ...meta } = projectionMeta(sourceStamp(part.event), ctx);
  return {
    updateOne: {
      filter: { _id: orderNumber, '_meta.version': part.version, '_meta.eventId': { $ne: part.event.meta.eventId } },
      update: { $set: Object.fromEntries(Object.entries(meta).map(([key, value]) => [`_meta.${key}`, value])) },
    },
  };
}

/** The header part, from the header fields `OrderAccepted` and `OrderHeaderChanged` share. */
function headerEntry(p: OrderHeaderChanged, source: SourceStamp): OrderHeaderEntry {
  return {
    customerId: p.customerId,
    customerEmail: p.customerEmail,
    channel: p.channel,
    currency: p.currency,
    orderTotal: money(p.orderTotal),
    placedAt: p.placedAt,
    source,
  };
}

function status(value: OrderStatus, erpStatus: string | null, source: SourceStamp): OrderStatusEntry {
  return { status: value, erpStatus, source };
}

/** An amount as stored: `Decimal128` with 4 decimals. */
function money(value: DecimalString): Decimal128 {
  return toDecimal128(formatDecimal(parseDecimal(value, 'amount'), SCALE.money));
}

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}
