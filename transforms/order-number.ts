import { type ColumnValue, fieldValue, type FieldSource } from './column-values.js';
import { COLUMN } from './rows.js';

/**
 * How an ERP row names its order: the aggregate key of every order event. Made once with {@link defineOrderNumber}
 * and passed to every order stage of a profile (`orderHeaderStage`, `orderLineStage`), so the header and its lines
 * can never be keyed differently; a registry or stage package whose stages hold two different definitions is refused
 * (`SharedSettings` in `core/stage.ts`).
 */
export type OrderNumber = {
  readonly kind: 'cdc-sync.order-number';
  /** The order number's columns and how they make it. */
  readonly value: ColumnValue<string>;
};

/**
 * The order number of a profile: a column (`defineOrderNumber('OrderNumber')`, read as `COLUMN.identifier`) or a
 * format over columns, e.g. AdventureWorks' `SO43659`:
 * `defineOrderNumber(fromColumns({ SalesOrderID: COLUMN.integerId }, (row) => `SO${row.SalesOrderID}`))`.
 */
export function defineOrderNumber(source: FieldSource<string>): OrderNumber {
  return { kind: 'cdc-sync.order-number', value: fieldValue(source, COLUMN.identifier) };
}

/**
 * The order number's value of a stage spec; throws a `TypeError` naming the stage when `orderNumber` was not made by
 * {@link defineOrderNumber} (a column name or a format of the stage's own would be a second copy).
 */
export function orderNumberOf(definition: OrderNumber, stage: string): ColumnValue<string> {
  if ((definition as Partial<OrderNumber> | undefined)?.kind !== 'cdc-sync.order-number') {
    throw new TypeError(
      `Stage ${stage} needs an orderNumber made once by defineOrderNumber(…) and shared by every order stage, got ${JSON.stringify(definition)}`,
    );
  }
  return definition.value;
}
