import { z } from 'zod';
import {
  type DecimalString,
  ORDER_STATUS,
  type OrderAccepted,
  type OrderHeaderChanged,
  type OrderStatus,
} from '../core/canonical.js';
import { type ChangeEvent, OP } from '../core/envelope.js';
import { TransformError } from '../core/errors.js';
import { defineStage, emit, fail, type NamedTransformDefinition, skip, type StageResult } from '../core/stage.js';
import { type FactoryStageSpec, fieldValue, type FieldSource, valuesReader } from './column-values.js';
import { canonicalEvent } from './event-meta.js';
import { type OrderNumber, orderNumberOf } from './order-number.js';
import { COLUMN, type Image, missingImage, nullable, rowRef, skipRowlessChange } from './rows.js';

/**
 * The settings of an order-header stage, with the defaults its {@link OrderHeaderStageSpec} gives: how the ERP's
 * status codes map onto canonical order statuses. Every code mapped to `CANCELLED` must be listed in
 * `cancelledCodes` and the other way round, so `OrderStatusChanged` and `OrderCancelled` never disagree.
 */
export function orderHeaderStageConfigSchema(defaults: {
  readonly statusColumn: string;
  readonly statusMap: Readonly<Record<string, OrderStatus>>;
  readonly cancelledCodes: readonly string[];
}) {
  return z
    .strictObject({
      statusMap: z
        .record(z.string().min(1), z.enum(ORDER_STATUS))
        .default(() => ({ ...defaults.statusMap }))
        .describe(`ERP ${defaults.statusColumn} → canonical order status; a code missing here fails the change`),
      cancelledCodes: z
        .array(z.string().min(1))
        .default(() => [...defaults.cancelledCodes])
        .describe(`ERP ${defaults.statusColumn}s that mean cancelled: moving to one of them emits OrderCancelled`),
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
}

/** The config schema of an order-header stage. */
export type OrderHeaderStageConfigSchema = ReturnType<typeof orderHeaderStageConfigSchema>;

/** The parsed settings of an order-header stage: a status map and the cancelled codes, consistent with each other. */
export type OrderHeaderStageConfig = z.output<OrderHeaderStageConfigSchema>;

/** What {@link orderHeaderStage} makes a stage from. */
export type OrderHeaderStageSpec<N extends string> = FactoryStageSpec<N> & {
  /** The profile's order number, the same object its line stage gets: see {@link OrderNumber}. */
  readonly orderNumber: OrderNumber;
  /**
   * Where each header field comes from: a column name, read with the type in brackets, or a `ColumnValue`
   * (`fromColumn`, `fromColumns`, `sumOfColumns`, `constant`).
   */
  readonly columns: {
    /** The ERP's status (`COLUMN.code`); a TINYINT status is `fromColumn('Status', COLUMN.integerId)`. */
    readonly status: FieldSource<string>;
    /** `COLUMN.identifier`; an INT customer is `fromColumn('CustomerID', COLUMN.integerId)`. */
    readonly customerId: FieldSource<string>;
    /** `nullable(COLUMN.text)`; `constant(null)` for an ERP that keeps none on the header. */
    readonly customerEmail: FieldSource<string | null>;
    /** `COLUMN.code`. */
    readonly channel: FieldSource<string>;
    /** `COLUMN.code`. */
    readonly currency: FieldSource<string>;
    /** `COLUMN.money`; a computed total is `sumOfColumns('SubTotal', 'TaxAmt', 'Freight')`. */
    readonly total: FieldSource<DecimalString>;
    /** `COLUMN.timestamp`; a zone-less DATETIME is `fromColumn('OrderDate', COLUMN.localDateTime(zone))`. */
    readonly placedAt: FieldSource<string>;
  };
  /** ERP status → canonical status: the default of the `statusMap` setting. */
  readonly statusMap: Readonly<Record<string, OrderStatus>>;
  /** The default of the `cancelledCodes` setting; by default the codes `statusMap` maps to `CANCELLED`. */
  readonly cancelledCodes?: readonly string[];
};

/**
 * Makes a stage that turns an order-header table's changes into order lifecycle events, keyed by order number:
 *
 * - insert or snapshot read → `OrderAccepted` with the mapped status (an order inserted already cancelled is
 *   accepted with status `CANCELLED`, no `OrderCancelled`);
 * - update whose status differs between `before` and `after` → `OrderStatusChanged`, plus `OrderCancelled` when it
 *   moves from a code not in `cancelledCodes` to one in it. The transition is read from before → after, never from
 *   `after` alone: a replayed or reordered `after` cannot fake one;
 * - update where any header field of the canonical payload (customer, e-mail, channel, currency, total, placement
 *   time) differs between `before` and `after` → `OrderHeaderChanged` with the whole header of `after`; after the
 *   status events when the same update also moves the status. Values are compared as the canonical event carries
 *   them (codes trimmed, money at scale 4), so padding or scale alone is no change;
 * - update that changes neither the status nor a header field → skip;
 * - update without a before image → fail (the source must log full before images): emitting only an
 *   `OrderHeaderChanged` would silently drop a status transition the same update may carry;
 * - delete → `OrderDeleted`;
 * - truncate, message → skip. Tombstones never reach the stage (the runner drops them).
 *
 * A status missing from `statusMap` fails, naming the code, the order and the config key. Throws a `TypeError`
 * (from `defineStage`) for a bad name or table, or when two fields read one column with different types.
 */
export function orderHeaderStage<const N extends string>(
  spec: OrderHeaderStageSpec<N>,
): NamedTransformDefinition<OrderHeaderStageConfigSchema, N> {
  const { columns } = spec;
  const values = {
    orderNumber: orderNumberOf(spec.orderNumber, spec.name),
    customerId: fieldValue(columns.customerId, COLUMN.identifier),
    customerEmail: fieldValue(columns.customerEmail, nullable(COLUMN.text)),
    channel: fieldValue(columns.channel, COLUMN.code),
    status: fieldValue(columns.status, COLUMN.code),
    currency: fieldValue(columns.currency, COLUMN.code),
    total: fieldValue(columns.total, COLUMN.money),
    placedAt: fieldValue(columns.placedAt, COLUMN.timestamp),
  };
  const readHeader = valuesReader(values);
  const readStatus = valuesReader({ status: values.status });
  const readOrderNumber = valuesReader({ orderNumber: values.orderNumber });
  const statusLabel = values.status.label;
  const config = orderHeaderStageConfigSchema({
    statusColumn: statusLabel,
    statusMap: spec.statusMap,
    cancelledCodes:
      spec.cancelledCodes ??
      Object.keys(spec.statusMap).filter((code) => spec.statusMap[code] === ORDER_STATUS.cancelled),
  });

  return defineStage({
    name: spec.name,
    summary: spec.summary,
    tables: [spec.table],
    output: ['OrderAccepted', 'OrderHeaderChanged', 'OrderStatusChanged', 'OrderCancelled', 'OrderDeleted'],
    config,
    shared: { orderNumber: spec.orderNumber },
    create(settings, { name }) {
      const cancelled = new Set(settings.cancelledCodes);

      /** The canonical status of an ERP code, or the error naming code, order and config key. */
      function statusOf(
        change: ChangeEvent,
        code: string,
        image: Image,
        orderNumber: string,
      ): OrderStatus | TransformError {
        const status = Object.hasOwn(settings.statusMap, code) ? settings.statusMap[code] : undefined;
        if (status !== undefined) return status;
        const where = image === 'before' ? 'the before image of ' : '';
        return new TransformError(
          `Unknown ${statusLabel} ${JSON.stringify(code)} of order ${orderNumber} in ${where}${rowRef(change)}; map it under transforms.${name}.statusMap in the pipeline config`,
          { stage: name },
        );
      }

      function accepted(change: ChangeEvent): StageResult {
        const read = readHeader(change, 'after', name);
        if (!read.ok) return fail(read.error);
        const order = read.row;
        const status = statusOf(change, order.status, 'after', order.orderNumber);
        if (status instanceof TransformError) return fail(status);
        const payload: OrderAccepted = {
          orderNumber: order.orderNumber,
          customerId: order.customerId,
          customerEmail: order.customerEmail,
          channel: order.channel,
          status,
          erpStatus: order.status,
          currency: order.currency,
          orderTotal: order.total,
          placedAt: order.placedAt,
        };
        return emit(canonicalEvent(change, 'OrderAccepted', order.orderNumber, payload));
      }

      function updated(change: ChangeEvent): StageResult {
        const after = readHeader(change, 'after', name);
        if (!after.ok) return fail(after.error);
        const orderNumber = after.row.orderNumber;
        if (change.before === null) {
          return fail(
            missingImage(
              change,
              'before',
              name,
              `the ${statusLabel} transition of order ${orderNumber} cannot be detected`,
            ),
          );
        }
        // The status first: a before image without it fails naming it, whatever else it lacks.
        const beforeStatus = readStatus(change, 'before', name);
        if (!beforeStatus.ok) return fail(beforeStatus.error);
        const before = readHeader(change, 'before', name);
        if (!before.ok) return fail(before.error);
        const from = before.row.status;
        const to = after.row.status;
        const headerAfter = headerOf(after.row);
        const headerChanged = !sameHeader(headerOf(before.row), headerAfter);
        if (from === to && !headerChanged) return skip(`Neither ${statusLabel} ${to} nor a header field changed`);
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
        return emit(
          changed,
          canonicalEvent(change, 'OrderCancelled', orderNumber, { orderNumber, fromStatus }),
          ...header,
        );
      }

      function deleted(change: ChangeEvent): StageResult {
        const before = readOrderNumber(change, 'before', name);
        if (!before.ok) return fail(before.error);
        const orderNumber = before.row.orderNumber;
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
    },
  });
}

/** Whether two headers are equal field by field; the values are canonical already (codes trimmed, money at scale 4). */
function sameHeader(a: OrderHeaderChanged, b: OrderHeaderChanged): boolean {
  return (Object.keys(a) as (keyof OrderHeaderChanged)[]).every((field) => a[field] === b[field]);
}

/** The header fields a stage reads from one row image. */
type HeaderRow = {
  readonly orderNumber: string;
  readonly customerId: string;
  readonly customerEmail: string | null;
  readonly channel: string;
  readonly currency: string;
  readonly total: DecimalString;
  readonly placedAt: string;
};

/** The `OrderHeaderChanged` payload of a header row: the header fields of `OrderAccepted` without the status. */
function headerOf(row: HeaderRow): OrderHeaderChanged {
  return {
    orderNumber: row.orderNumber,
    customerId: row.customerId,
    customerEmail: row.customerEmail,
    channel: row.channel,
    currency: row.currency,
    orderTotal: row.total,
    placedAt: row.placedAt,
  };
}
