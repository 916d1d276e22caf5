import { z } from 'zod';
import { ORDER_STATUS, type OrderHeaderChanged, type OrderStatus } from '../../core/canonical.js';
import { type ChangeEvent, OP } from '../../core/envelope.js';
import { TransformError } from '../../core/errors.js';
import { type StageResult, defineStage, emit, fail, skip } from '../../core/stage.js';
import { canonicalEvent } from '../event-meta.js';
import {
  COLUMN,
  type Image,
  missingImage,
  nullable,
  readColumns,
  rowRef,
  type RowOf,
  skipRowlessChange,
} from '../rows.js';

const DEFAULT_STATUS_MAP: Readonly<Record<string, OrderStatus>> = {
  NW: ORDER_STATUS.pending,
  AC: ORDER_STATUS.accepted,
  PK: ORDER_STATUS.picking,
  SH: ORDER_STATUS.shipped,
  CL: ORDER_STATUS.closed,
  CX: ORDER_STATUS.cancelled,
};

/**
 * How the ERP's `StatusCode` values map onto canonical order statuses. Every
 * code mapped to `CANCELLED` must be listed in `cancelledCodes` and the other
 * way round, so `OrderStatusChanged` and `OrderCancelled` never disagree.
 */
export const orderHeaderConfigSchema = z
  .strictObject({
    statusMap: z
      .record(z.string().min(1), z.enum(ORDER_STATUS))
      .default(() => ({ ...DEFAULT_STATUS_MAP }))
      .describe('ERP StatusCode → canonical order status; a code missing here fails the change'),
    cancelledCodes: z
      .array(z.string().min(1))
      .default(() => ['CX'])
      .describe('ERP StatusCodes that mean cancelled: moving to one of them emits OrderCancelled'),
  })
  .superRefine((config, ctx) => {
    for (const [i, code] of config.cancelledCodes.entries()) {
      if (config.statusMap[code] !== ORDER_STATUS.cancelled) {
        ctx.addIssue({
          code: 'custom',
          path: ['cancelledCodes', i],
          message: `Cancelled code ${code} must map to ${ORDER_STATUS.cancelled} in statusMap`,
        });
      }
    }
    for (const [code, status] of Object.entries(config.statusMap)) {
      if (status === ORDER_STATUS.cancelled && !config.cancelledCodes.includes(code)) {
        ctx.addIssue({
          code: 'custom',
          path: ['statusMap', code],
          message: `Code ${code} maps to ${ORDER_STATUS.cancelled} but is not listed in cancelledCodes`,
        });
      }
    }
  });

/** The parsed order_header config: a status map and the cancelled codes, consistent with each other. */
export type OrderHeaderConfig = z.output<typeof orderHeaderConfigSchema>;

/**
 * `SalesOrderHeader` changes → order lifecycle events, keyed by order number.
 *
 * - insert or snapshot read → `OrderAccepted` with the mapped status (an order
 *   inserted already cancelled is accepted with status `CANCELLED`, no `OrderCancelled`);
 * - update whose `StatusCode` differs between `before` and `after` →
 *   `OrderStatusChanged`, plus `OrderCancelled` when it moves from a code not in
 *   `cancelledCodes` to one in it. The transition is read from before → after,
 *   never from `after` alone: a replayed or reordered `after` cannot fake one;
 * - update where any header field of the canonical payload (customer, e-mail,
 *   channel, currency, total, placement time) differs between `before` and
 *   `after` → `OrderHeaderChanged` with the whole header of `after`; after the
 *   status events when the same update also moves the status. Values are
 *   compared as the canonical event carries them (codes trimmed, money at
 *   scale 4), so padding or scale alone is no change;
 * - update that changes neither `StatusCode` nor a header field (`ModifiedAt`,
 *   `RowGuid`, columns outside the canonical header) → skip;
 * - update without a before image → fail (the source must log full before
 *   images). The after image alone would make a complete `OrderHeaderChanged`,
 *   but emitting only that would silently drop a status transition the same
 *   update may carry; failing dead-letters the record visibly instead;
 * - delete → `OrderDeleted`;
 * - truncate, message → skip. Tombstones never reach the stage (the runner drops them).
 *
 * A `StatusCode` missing from `statusMap` fails, naming the code, the order and the config key.
 */
export const orderHeader = defineStage({
  name: 'order_header',
  summary:
    'SalesOrderHeader rows become OrderAccepted, OrderHeaderChanged, OrderStatusChanged, OrderCancelled and OrderDeleted',
  tables: ['dbo.SalesOrderHeader'],
  output: ['OrderAccepted', 'OrderHeaderChanged', 'OrderStatusChanged', 'OrderCancelled', 'OrderDeleted'],
  config: orderHeaderConfigSchema,
  create: (config, { name }) => orderHeaderApply(config, name),
});

/** The stage's function for one status mapping; pure, so one instance serves every partition. */
function orderHeaderApply(config: OrderHeaderConfig, name: string): (change: ChangeEvent) => StageResult {
  const cancelled = new Set(config.cancelledCodes);

  /** The canonical status of an ERP code, or the error naming code, order and config key. */
  function statusOf(
    change: ChangeEvent,
    code: string,
    image: Image,
    orderNumber: string,
  ): OrderStatus | TransformError {
    const status = Object.hasOwn(config.statusMap, code) ? config.statusMap[code] : undefined;
    if (status !== undefined) return status;
    const where = image === 'before' ? 'the before image of ' : '';
    return new TransformError(
      `Unknown StatusCode ${JSON.stringify(code)} of order ${orderNumber} in ${where}${rowRef(change)}; map it under transforms.${name}.statusMap in the pipeline config`,
      { stage: name },
    );
  }

  function accepted(change: ChangeEvent): StageResult {
    const read = readColumns(change, 'after', HEADER_COLUMNS, name);
    if (!read.ok) return fail(read.error);
    const order = read.row;
    const status = statusOf(change, order.StatusCode, 'after', order.OrderNumber);
    if (status instanceof TransformError) return fail(status);
    return emit(
      canonicalEvent(change, 'OrderAccepted', order.OrderNumber, {
        orderNumber: order.OrderNumber,
        customerId: order.CustomerId,
        customerEmail: order.CustomerEmail,
        channel: order.Channel,
        status,
        erpStatus: order.StatusCode,
        currency: order.CurrencyCode,
        orderTotal: order.OrderTotal,
        placedAt: order.PlacedAt,
      }),
    );
  }

  function updated(change: ChangeEvent): StageResult {
    const after = readColumns(change, 'after', HEADER_COLUMNS, name);
    if (!after.ok) return fail(after.error);
    const orderNumber = after.row.OrderNumber;
    if (change.before === null) {
      return fail(
        missingImage(change, 'before', name, `the StatusCode transition of order ${orderNumber} cannot be detected`),
      );
    }
    // StatusCode first: a before image without it fails naming it, whatever else it lacks.
    const beforeStatus = readColumns(change, 'before', { StatusCode: COLUMN.code }, name);
    if (!beforeStatus.ok) return fail(beforeStatus.error);
    const before = readColumns(change, 'before', HEADER_COLUMNS, name);
    if (!before.ok) return fail(before.error);
    const from = before.row.StatusCode;
    const to = after.row.StatusCode;
    const headerAfter = headerOf(after.row);
    const headerChanged = !sameHeader(headerOf(before.row), headerAfter);
    if (from === to && !headerChanged) return skip(`Neither StatusCode ${to} nor a header field changed`);
    const header = headerChanged ? [canonicalEvent(change, 'OrderHeaderChanged', orderNumber, headerAfter)] : [];
    if (from === to) return emit(...header);

    const fromStatus = statusOf(change, from, 'before', orderNumber);
    if (fromStatus instanceof TransformError) return fail(fromStatus);
    const toStatus = statusOf(change, to, 'after', orderNumber);
    if (toStatus instanceof TransformError) return fail(toStatus);

    const changed = canonicalEvent(change, 'OrderStatusChanged', orderNumber, {
      orderNumber,
      fromStatus,
      toStatus,
      fromErpStatus: from,
      toErpStatus: to,
    });
    if (!cancelled.has(to) || cancelled.has(from)) return emit(changed, ...header);
    return emit(changed, canonicalEvent(change, 'OrderCancelled', orderNumber, { orderNumber, fromStatus }), ...header);
  }

  function deleted(change: ChangeEvent): StageResult {
    const before = readColumns(change, 'before', { OrderNumber: COLUMN.identifier }, name);
    if (!before.ok) return fail(before.error);
    const orderNumber = before.row.OrderNumber;
    return emit(canonicalEvent(change, 'OrderDeleted', orderNumber, { orderNumber }));
  }

  return (change) => {
    switch (change.op) {
      case OP.create:
      case OP.read:
        return accepted(change);
      case OP.update:
        return updated(change);
      case OP.delete:
        return deleted(change);
      case OP.truncate:
      case OP.message:
        return skipRowlessChange(change);
    }
  };
}

const HEADER_COLUMNS = {
  OrderNumber: COLUMN.identifier,
  CustomerId: COLUMN.identifier,
  CustomerEmail: nullable(COLUMN.text),
  Channel: COLUMN.code,
  StatusCode: COLUMN.code,
  CurrencyCode: COLUMN.code,
  OrderTotal: COLUMN.money,
  PlacedAt: COLUMN.timestamp,
} as const;

type HeaderRow = RowOf<typeof HEADER_COLUMNS>;

/** The `OrderHeaderChanged` payload of a header row: the header fields of `OrderAccepted` without the status. */
function headerOf(row: HeaderRow): OrderHeaderChanged {
  return {
    orderNumber: row.OrderNumber,
    customerId: row.CustomerId,
    customerEmail: row.CustomerEmail,
    channel: row.Channel,
    currency: row.CurrencyCode,
    orderTotal: row.OrderTotal,
    placedAt: row.PlacedAt,
  };
}

/** Whether two headers are equal field by field; the values are canonical already (codes trimmed, money at scale 4). */
function sameHeader(a: OrderHeaderChanged, b: OrderHeaderChanged): boolean {
  return (Object.keys(a) as (keyof OrderHeaderChanged)[]).every((field) => a[field] === b[field]);
}
