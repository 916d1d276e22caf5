import { z } from 'zod';
import {
  type DecimalString,
  ORDER_STATUS,
  type OrderAccepted,
  type OrderHeaderChanged,
  type OrderMilestone,
  type OrderStatus,
  type StatusMilestoneFields,
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
 * status codes map onto canonical order statuses, and, for a stage that declares milestones, which codes set them.
 * Every code mapped to `CANCELLED` must be listed in `cancelledCodes` and the other way round, so
 * `OrderStatusChanged` and `OrderCancelled` never disagree; every milestone code must be in `statusMap`, and sets one
 * milestone at most.
 */
export function orderHeaderStageConfigSchema(defaults: {
  readonly statusColumn: string;
  readonly statusMap: Readonly<Record<string, OrderStatus>>;
  readonly cancelledCodes: readonly string[];
  readonly milestones?: Readonly<Partial<Record<OrderMilestone, readonly string[]>>>;
}): OrderHeaderStageConfigSchema {
  const base = z.strictObject({
    statusMap: z
      .record(z.string().min(1), z.enum(ORDER_STATUS))
      .default(() => ({ ...defaults.statusMap }))
      .describe(`ERP ${defaults.statusColumn} → canonical order status; a code missing here fails the change`),
    cancelledCodes: z
      .array(z.string().min(1))
      .default(() => [...defaults.cancelledCodes])
      .describe(`ERP ${defaults.statusColumn}s that mean cancelled: moving to one of them emits OrderCancelled`),
  });
  const declared = Object.entries(defaults.milestones ?? {}) as [OrderMilestone, readonly string[]][];
  const schema =
    declared.length === 0
      ? base
      : base.extend({
          milestones: z
            .strictObject(
              Object.fromEntries(
                declared.map(([milestone, codes]) => [milestone, z.array(z.string().min(1)).default(() => [...codes])]),
              ),
            )
            .prefault({})
            .describe(
              `ERP ${defaults.statusColumn}s that set an order milestone, by milestone: reaching one of them puts the milestone and its time on OrderAccepted or OrderStatusChanged`,
            ),
        });
  return schema.superRefine((config: OrderHeaderStageConfig, ctx) => {
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
    const setting = new Map<string, string>();
    for (const [milestone, codes] of Object.entries(config.milestones ?? {})) {
      for (const [i, code] of codes.entries()) {
        const problem = !Object.hasOwn(config.statusMap, code)
          ? `Code ${code} sets milestone ${milestone} but is not in statusMap`
          : setting.has(code)
            ? `Code ${code} sets milestone ${setting.get(code)} already`
            : undefined;
        if (problem !== undefined)
          ctx.addIssue({ code: 'custom', path: ['milestones', milestone, i], message: problem });
        setting.set(code, milestone);
      }
    }
  }) as OrderHeaderStageConfigSchema;
}

/**
 * The parsed settings of an order-header stage: a status map and the cancelled codes, consistent with each other,
 * and the codes of each milestone the stage declares (`milestones` is there exactly when it declares some).
 */
export type OrderHeaderStageConfig = {
  readonly statusMap: Readonly<Record<string, OrderStatus>>;
  readonly cancelledCodes: readonly string[];
  readonly milestones?: Readonly<Partial<Record<OrderMilestone, readonly string[]>>>;
};

/** The config schema of an order-header stage. */
export type OrderHeaderStageConfigSchema = z.ZodType<OrderHeaderStageConfig>;

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
  /**
   * The milestones a status sets, e.g. AdventureWorks' `{ shipped: { codes: ['5'], at: fromColumn('ShipDate',
   * COLUMN.localDateTime(zone)) } }`: the codes (the default of the `milestones` setting) and the business time, read
   * from the after image only when the milestone is reached (`at` as a column name is read as `COLUMN.timestamp`).
   */
  readonly milestones?: Readonly<
    Partial<Record<OrderMilestone, { readonly codes: readonly string[]; readonly at: FieldSource<string> }>>
  >;
};

/**
 * Makes a stage that turns an order-header table's changes into order lifecycle events, keyed by order number:
 *
 * - insert or snapshot read → `OrderAccepted` with the mapped status (an order inserted already cancelled is
 *   accepted with status `CANCELLED`, no `OrderCancelled`);
 * - a status among the codes of a declared milestone (`milestones`) that the status before was not among (an insert
 *   or snapshot read has none before) → `OrderAccepted` or `OrderStatusChanged` carries `milestone` and
 *   `milestoneAt`, read from the after image; the read models record it like the milestone events;
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
  const declared = Object.entries(spec.milestones ?? {}) as [
    OrderMilestone,
    { readonly codes: readonly string[]; readonly at: FieldSource<string> },
  ][];
  const milestoneTimes = new Map(
    declared.map(([milestone, { at }]) => [milestone, valuesReader({ at: fieldValue(at, COLUMN.timestamp) })]),
  );
  const config = orderHeaderStageConfigSchema({
    statusColumn: statusLabel,
    statusMap: spec.statusMap,
    cancelledCodes:
      spec.cancelledCodes ??
      Object.keys(spec.statusMap).filter((code) => spec.statusMap[code] === ORDER_STATUS.cancelled),
    ...(declared.length === 0
      ? {}
      : { milestones: Object.fromEntries(declared.map(([milestone, { codes }]) => [milestone, codes])) }),
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
      const milestoneOfCode = new Map(
        Object.entries(settings.milestones ?? {}).flatMap(([milestone, codes]) =>
          codes.map((code) => [code, milestone as OrderMilestone] as const),
        ),
      );

      /**
       * The milestone fields of an event whose status moves from `from` (null for an insert or snapshot read) to
       * `to`: none unless `to` sets a milestone that `from` did not, else its name and its time from the after image.
       */
      function milestoneOf(
        change: ChangeEvent,
        from: string | null,
        to: string,
      ): StatusMilestoneFields | TransformError {
        const milestone = milestoneOfCode.get(to);
        if (milestone === undefined || (from !== null && milestoneOfCode.get(from) === milestone)) return {};
        const read = milestoneTimes.get(milestone)!(change, 'after', name);
        if (!read.ok) return read.error;
        return { milestone, milestoneAt: read.row.at };
      }

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
        const milestone = milestoneOf(change, null, order.status);
        if (milestone instanceof TransformError) return fail(milestone);
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
          ...milestone,
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
        const milestone = milestoneOf(change, from, to);
        if (milestone instanceof TransformError) return fail(milestone);

        const changed = canonicalEvent(change, 'OrderStatusChanged', orderNumber, {
          orderNumber,
          fromStatus,
          toStatus,
          fromErpStatus: from,
          toErpStatus: to,
          ...milestone,
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
