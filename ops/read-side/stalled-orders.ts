import { z } from 'zod';
import { type Db, type Filter } from 'mongodb';
import { durationSchema } from '../../core/config.js';
import { ORDER_STATUS, type OrderStatus } from '../../core/canonical.js';
import { DecodeError } from '../../core/errors.js';
import { classifyMongoError } from '../../sinks/mongo/classify-error.js';
import { type OrderViewDocument } from '../../sinks/mongo/order-view.js';

/**
 * Stalled orders: orders of the `order_view` read model that wait in one
 * state longer than its threshold. Read by `cdc-sync stalled` and the ops
 * dashboard.
 */

/** The waiting states, named as the `stalled` config keys are. */
export const STALLED_STATES = ['awaitingPayment', 'awaitingShipment', 'awaitingRefund'] as const;

export type StalledState = (typeof STALLED_STATES)[number];

/** One waiting state's threshold: a duration, or `false` for a profile without that wait. */
function thresholdSchema(fallback: string, description: string) {
  return z
    .union([z.literal(false), durationSchema], {
      // A value that is neither false nor a duration gets the duration's message, naming the forms it takes.
      error: (issue) => (issue.code === 'invalid_union' ? issue.errors[1]?.[0]?.message : undefined),
    })
    .prefault(fallback)
    .describe(`${description}; false when the profile has no such wait`);
}

/**
 * The pipeline's `stalled` section: the thresholds of {@link StalledThresholds}, as durations, or `false` for a wait
 * the profile does not have. The waits a profile has are also the milestone latencies measured
 * (`milestonePairsOf` in `milestone-latency.ts`).
 */
export const stalledConfigSchema = z
  .object({
    awaitingPayment: thresholdSchema('24h', 'An order accepted this long ago without a captured payment is stalled'),
    awaitingShipment: thresholdSchema(
      '48h',
      'An order whose payment was captured this long ago without a shipment is stalled (with awaitingPayment false: accepted this long ago, for an ERP whose orders ship without a captured payment)',
    ),
    awaitingRefund: thresholdSchema('72h', 'A return received this long ago without a refund is stalled'),
  })
  .prefault({})
  .describe(
    'Thresholds per waiting state for `cdc-sync stalled` and the dashboard, as 90s, 30m, 48h or 7d; false turns a wait off, and the waits a profile has are the milestone latencies it measures',
  );

/**
 * Milliseconds an order may wait in each state before it counts as stalled, `false` for a wait the profile does not
 * have; `config.stalled` has this shape.
 */
export type StalledThresholds = Readonly<Record<StalledState, number | false>>;

/** One order (or one return of an order) stuck in a waiting state. */
export type StalledOrder = {
  readonly orderNumber: string;
  readonly state: StalledState;
  /** The ERP business timestamp the wait started at, exactly as the view holds it (placedAt, capturedAt, receivedAt). */
  readonly since: string;
  /** `now − since`, always greater than `thresholdMs`. */
  readonly ageMs: number;
  readonly thresholdMs: number;
  /** What waits: the payment id (awaitingShipment), the RMA number (awaitingRefund); null for awaitingPayment. */
  readonly ref: string | null;
};

/** The fields of an order view document the classification reads. */
export type StalledOrderSource = Pick<
  OrderViewDocument,
  'orderNumber' | 'status' | 'deleted' | 'milestones' | 'returns' | 'refunds'
>;

/** What {@link findStalledOrders} reads and how. */
export type FindStalledOrdersOptions = {
  /** The order view collection, `sinks.order_view.collection` (default `order_view`). */
  readonly collection: string;
  readonly thresholds: StalledThresholds;
  readonly now: Date;
  /** Keep only the `limit` oldest; memory stays bounded by it. Default: all. */
  readonly limit?: number;
  /** Documents fetched per round trip. Default 500. */
  readonly batchSize?: number;
};

const FINISHED_STATUSES: readonly OrderStatus[] = [ORDER_STATUS.cancelled, ORDER_STATUS.closed];

/** One state's server-side query: its filter at `now` and the index meant to serve it (of `ORDER_VIEW_INDEXES`). */
export type StalledQuery = { readonly filter: Filter<OrderViewDocument>; readonly index: string };

/**
 * The server-side part of the search for one waiting state: live orders (not cancelled or closed) that reached the
 * milestone the state waits from before `now − threshold`, and not the milestone that ends the wait where one does.
 * Each ranges over an index on the milestones' `time` (`index`), so the server reads only orders old enough to be
 * stalled, never the collection; the query planner picks it, as it bounds more of the filter than any other. The
 * code then judges each wait exactly ({@link classifyStalledOrder}). `{field: null}` matches a missing milestone,
 * and the index serves it.
 *
 * A state whose threshold is `false` has no query (a `RangeError`). Without a payment wait, awaiting shipment also takes orders
 * accepted before the cutoff, one `$or` branch each served by the same index.
 *
 * Awaiting refund ranges over the first return's time (the earliest by source order): an order with a return
 * received before the cutoff has it there, unless the ERP entered a return later than another that it received
 * earlier. Its candidates include orders whose returns were all refunded, until the ERP closes the order; the code
 * drops them. Documents written before milestones had `time` are found once `cdc-sync rebuild --swap` rewrote them.
 */
export function stalledQuery(state: StalledState, thresholds: StalledThresholds, now: Date): StalledQuery {
  const threshold = thresholds[state];
  if (threshold === false) throw new RangeError(`The wait ${state} is off (stalled.${state}: false); it has no query`);
  const before = { $lt: new Date(now.getTime() - threshold) };
  const live = { status: { $nin: [...FINISHED_STATUSES] }, deleted: { $ne: true } };
  const filters: Record<StalledState, StalledQuery> = {
    awaitingPayment: {
      filter: {
        'milestones.shipped.time': null,
        'milestones.paymentCaptured.time': null,
        'milestones.accepted.time': before,
        ...live,
      },
      index: 'stalled_awaiting_payment_or_shipment',
    },
    awaitingShipment: {
      filter:
        thresholds.awaitingPayment === false
          ? {
              'milestones.shipped.time': null,
              $or: [{ 'milestones.paymentCaptured.time': before }, { 'milestones.accepted.time': before }],
              ...live,
            }
          : { 'milestones.shipped.time': null, 'milestones.paymentCaptured.time': before, ...live },
      index: 'stalled_awaiting_payment_or_shipment',
    },
    awaitingRefund: {
      filter: { 'milestones.returnReceived.time': before, ...live },
      index: 'stalled_awaiting_refund',
    },
  };
  return filters[state];
}

const PROJECTION = { orderNumber: 1, status: 1, deleted: 1, milestones: 1, returns: 1, refunds: 1 } as const;

/**
 * Lists the stalled orders of the order view at `now`, oldest wait first
 * (ties by order number, state and ref). Reads each state's candidates
 * ({@link stalledQuery}) with a cursor and keeps only stalled rows (at most
 * `limit` of them), so memory does not grow with the collection. The result does not depend on document order.
 *
 * Throws a `DecodeError` naming the order and field for a business timestamp
 * that is not a date, and a `SinkWriteError` (retriable when MongoDB is
 * unreachable) for a failed read.
 */
export async function findStalledOrders(db: Db, options: FindStalledOrdersOptions): Promise<StalledOrder[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (!(limit >= 1)) throw new RangeError(`Invalid limit ${options.limit}; expected a positive whole number`);
  const nowMs = options.now.getTime();
  const kept: StalledOrder[] = [];
  const orders = db.collection<OrderViewDocument>(options.collection);
  for (const state of STALLED_STATES) {
    if (options.thresholds[state] === false) continue;
    const { filter } = stalledQuery(state, options.thresholds, options.now);
    const cursor = orders.find(filter, { projection: PROJECTION, batchSize: options.batchSize ?? 500 });
    try {
      for await (const document of cursor) {
        const rows = classifyStalledOrder(
          document as StalledOrderSource,
          options.thresholds,
          nowMs,
          options.collection,
        );
        for (const row of rows) if (row.state === state) insertSorted(kept, row, limit);
      }
    } catch (error: unknown) {
      throw classifyMongoError(error, { operation: 'find', collection: options.collection }) ?? error;
    } finally {
      await cursor.close();
    }
  }
  return kept;
}

/**
 * Classifies one order view document; pure. An order is stalled
 *
 * - `awaitingPayment` when it was accepted, no payment was captured and
 *   nothing was shipped yet, for longer than the threshold since `placedAt`
 *   (an order shipped before payment waits for nothing this tool tracks);
 * - `awaitingShipment` when a payment was captured and nothing was shipped,
 *   since the first capture (`capturedAt`), `ref` the payment id; in a
 *   profile without a payment wait (`awaitingPayment: false`), an order
 *   without a capture waits for shipment since it was accepted, `ref` null;
 * - `awaitingRefund` per return received and not refunded, since its
 *   `receivedAt`, `ref` the RMA number. A refund that names an RMA number
 *   refunds that return. Refunds without one (the ERP leaves `RmaNumber`
 *   empty) are matched by time: each covers the earliest return still
 *   unrefunded that was received at or before the refund completed. A
 *   document without return and refund entries falls back to its
 *   `returnReceived` and `refunded` milestones.
 *
 * A state whose threshold is `false` is never reported. A milestone set by an
 * order status (AdventureWorks' header status 5 sets `shipped`) counts as the
 * event's would. Deleted, cancelled and closed orders are never stalled. A wait counts
 * only when strictly longer than its threshold. `collection` only names
 * where the document came from in errors.
 */
export function classifyStalledOrder(
  order: StalledOrderSource,
  thresholds: StalledThresholds,
  nowMs: number,
  collection = 'the order view',
): StalledOrder[] {
  if (order.deleted === true || (order.status !== null && FINISHED_STATUSES.includes(order.status))) return [];
  const milestones = order.milestones ?? {};
  const time = (text: string, field: string) => businessTime(text, field, order.orderNumber, collection);
  const waits: { state: StalledState; since: string; sinceMs: number; ref: string | null }[] = [];

  const { accepted, paymentCaptured, shipped } = milestones;
  const paymentWait = thresholds.awaitingPayment !== false;
  if (paymentWait && accepted !== undefined && paymentCaptured === undefined && shipped === undefined) {
    waits.push({
      state: 'awaitingPayment',
      since: accepted.at,
      sinceMs: time(accepted.at, 'milestones.accepted.at'),
      ref: null,
    });
  }
  // Without a payment wait, an order without a capture waits for its shipment from its acceptance.
  const [shipmentFrom, field] =
    paymentCaptured !== undefined || paymentWait
      ? [paymentCaptured, 'milestones.paymentCaptured.at']
      : [accepted, 'milestones.accepted.at'];
  if (shipmentFrom !== undefined && shipped === undefined) {
    waits.push({
      state: 'awaitingShipment',
      since: shipmentFrom.at,
      sinceMs: time(shipmentFrom.at, field),
      ref: shipmentFrom.ref,
    });
  }
  for (const open of thresholds.awaitingRefund === false ? [] : unrefundedReturns(order, time)) {
    waits.push({ state: 'awaitingRefund', since: open.receivedAt, sinceMs: open.receivedMs, ref: open.rmaNumber });
  }

  return waits.flatMap((wait) => {
    const thresholdMs = thresholds[wait.state];
    const ageMs = nowMs - wait.sinceMs;
    if (thresholdMs === false || ageMs <= thresholdMs) return [];
    return [
      { orderNumber: order.orderNumber, state: wait.state, since: wait.since, ageMs, thresholdMs, ref: wait.ref },
    ];
  });
}

/** Oldest wait first; then order number, state (in {@link STALLED_STATES} order) and ref. */
export function compareStalledOrders(a: StalledOrder, b: StalledOrder): number {
  return (
    b.ageMs - a.ageMs ||
    compareText(a.orderNumber, b.orderNumber) ||
    STALLED_STATES.indexOf(a.state) - STALLED_STATES.indexOf(b.state) ||
    compareText(a.ref ?? '', b.ref ?? '')
  );
}

type OpenReturn = { readonly rmaNumber: string | null; readonly receivedAt: string; readonly receivedMs: number };

function unrefundedReturns(order: StalledOrderSource, time: (text: string, field: string) => number): OpenReturn[] {
  const { returnReceived, refunded } = order.milestones ?? {};
  const returnEntries = Object.entries(order.returns ?? {});
  const refundEntries = Object.entries(order.refunds ?? {});
  const returns: OpenReturn[] =
    returnEntries.length > 0
      ? returnEntries.map(([key, entry]) => ({
          rmaNumber: entry.rmaNumber,
          receivedAt: entry.receivedAt,
          receivedMs: time(entry.receivedAt, `returns.${key}.receivedAt`),
        }))
      : returnReceived === undefined
        ? []
        : [
            {
              rmaNumber: returnReceived.ref,
              receivedAt: returnReceived.at,
              receivedMs: time(returnReceived.at, 'milestones.returnReceived.at'),
            },
          ];
  const refunds: { rmaNumber: string | null; completedMs: number }[] =
    refundEntries.length > 0
      ? refundEntries.map(([key, entry]) => ({
          rmaNumber: entry.rmaNumber,
          completedMs: time(entry.completedAt, `refunds.${key}.completedAt`),
        }))
      : refunded === undefined
        ? []
        : [{ rmaNumber: null, completedMs: time(refunded.at, 'milestones.refunded.at') }];

  const refundedRmas = new Set(refunds.flatMap((refund) => (refund.rmaNumber === null ? [] : [refund.rmaNumber])));
  const open = returns
    .filter((entry) => entry.rmaNumber === null || !refundedRmas.has(entry.rmaNumber))
    .sort((a, b) => a.receivedMs - b.receivedMs || compareText(a.rmaNumber ?? '', b.rmaNumber ?? ''));
  const withoutRma = refunds
    .filter((refund) => refund.rmaNumber === null)
    .sort((a, b) => a.completedMs - b.completedMs);
  for (const refund of withoutRma) {
    const covered = open.findIndex((entry) => entry.receivedMs <= refund.completedMs);
    if (covered >= 0) open.splice(covered, 1);
  }
  return open;
}

/** Epoch milliseconds of an ISO-8601 business timestamp; a `DecodeError` naming order and field otherwise. */
function businessTime(text: unknown, field: string, orderNumber: string, collection: string): number {
  const ms = typeof text === 'string' ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new DecodeError(
      `Invalid business timestamp ${JSON.stringify(text)} at ${field} of order ${orderNumber} in ${collection}`,
    );
  }
  return ms;
}

/** Inserts `row` in sorted position and drops whatever falls beyond `limit`. */
function insertSorted(rows: StalledOrder[], row: StalledOrder, limit: number): void {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareStalledOrders(rows[middle]!, row) <= 0) low = middle + 1;
    else high = middle;
  }
  if (low >= limit) return;
  rows.splice(low, 0, row);
  if (rows.length > limit) rows.pop();
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
