import { z } from 'zod';
import { type DecimalString, type OrderLineChanged } from '../core/canonical.js';
import { type ChangeEvent, OP } from '../core/envelope.js';
import { defineStage, emit, fail, type NamedTransformDefinition, type StageResult } from '../core/stage.js';
import { type FactoryStageSpec, fieldValue, type FieldSource, valuesReader } from './column-values.js';
import { canonicalEvent } from './event-meta.js';
import { type OrderNumber, orderNumberOf } from './order-number.js';
import { COLUMN, type Image, nullable, skipRowlessChange } from './rows.js';

/** An order-line stage has no settings; unknown keys are rejected so a typo does not pass silently. */
export const orderLineStageConfigSchema = z.strictObject({});

/** What {@link orderLineStage} makes a stage from. */
export type OrderLineStageSpec<N extends string> = FactoryStageSpec<N> & {
  /** The profile's order number, the same object its header stage gets: see {@link OrderNumber}. */
  readonly orderNumber: OrderNumber;
  /** Where each line field comes from: a column name, read with the type in brackets, or a `ColumnValue`. */
  readonly columns: {
    /** `COLUMN.integer`: the line's number, unique within its order. */
    readonly lineNo: FieldSource<number>;
    /** `COLUMN.identifier`; an INT product is `fromColumn('ProductID', COLUMN.integerId)`. */
    readonly sku: FieldSource<string>;
    /** `COLUMN.quantity`; a SMALLINT quantity is `fromColumn('OrderQty', COLUMN.integerQuantity)`. */
    readonly quantity: FieldSource<DecimalString>;
    /** `COLUMN.money`. */
    readonly unitPrice: FieldSource<DecimalString>;
    /** `COLUMN.code`; `constant('OPEN')` for an ERP without line statuses. */
    readonly lineStatus: FieldSource<string>;
    /** `nullable(COLUMN.identifier)`: null until the line is allocated; `constant(null)` where lines never are. */
    readonly location: FieldSource<string | null>;
  };
};

/**
 * Makes a stage that turns an order-line table's changes into `OrderLineChanged`, keyed by order number:
 *
 * - insert, snapshot read, update: the after image, `removed: false`. Every update is emitted: the event carries
 *   the whole line, so read models apply it idempotently and no before image is needed;
 * - delete: the before image, `removed: true`;
 * - truncate, message: skip. Tombstones never reach the stage (the runner drops them).
 *
 * A missing or mistyped column fails with a `TransformError` naming column, table and key. Throws a `TypeError`
 * (from `defineStage`) for a bad name or table, or when two fields read one column with different types.
 */
export function orderLineStage<const N extends string>(
  spec: OrderLineStageSpec<N>,
): NamedTransformDefinition<typeof orderLineStageConfigSchema, N> {
  const { columns } = spec;
  const readLine = valuesReader({
    orderNumber: orderNumberOf(spec.orderNumber, spec.name),
    lineNo: fieldValue(columns.lineNo, COLUMN.integer),
    sku: fieldValue(columns.sku, COLUMN.identifier),
    quantity: fieldValue(columns.quantity, COLUMN.quantity),
    unitPrice: fieldValue(columns.unitPrice, COLUMN.money),
    lineStatus: fieldValue(columns.lineStatus, COLUMN.code),
    location: fieldValue(columns.location, nullable(COLUMN.identifier)),
  });

  return defineStage({
    name: spec.name,
    summary: spec.summary,
    tables: [spec.table],
    output: ['OrderLineChanged'],
    config: orderLineStageConfigSchema,
    shared: { orderNumber: spec.orderNumber },
    create(_config, { name }) {
      function lineFrom(change: ChangeEvent, image: Image, removed: boolean): StageResult {
        const read = readLine(change, image, name);
        if (!read.ok) return fail(read.error);
        const payload: OrderLineChanged = { ...read.row, removed };
        return emit(canonicalEvent(change, 'OrderLineChanged', read.row.orderNumber, payload));
      }

      return (change) => {
        switch (change.op) {
          case OP.create:
          case OP.read:
          case OP.update:
            return lineFrom(change, 'after', false);
          case OP.delete:
            return lineFrom(change, 'before', true);
          case OP.truncate:
          case OP.message:
            return skipRowlessChange(change);
        }
      };
    },
  });
}
