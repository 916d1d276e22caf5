import { z } from 'zod';
import { type OrderLineChanged } from '../../core/canonical.js';
import { type ChangeEvent, OP } from '../../core/envelope.js';
import { defineStage, emit, fail, type StageResult } from '../../core/stage.js';
import { canonicalEvent } from '../event-meta.js';
import { COLUMN, type Image, nullable, readColumns, skipRowlessChange } from '../rows.js';

/** order_line has no settings; unknown keys are rejected so a typo does not pass silently. */
export const orderLineConfigSchema = z.strictObject({});

/** The parsed order_line config (empty). */
export type OrderLineConfig = z.output<typeof orderLineConfigSchema>;

/**
 * `SalesOrderLine` changes → `OrderLineChanged`, keyed by order number.
 *
 * - insert, snapshot read, update: the after image, `removed: false`. Every
 *   update is emitted: the event carries the whole line, so read models apply
 *   it idempotently and no before image is needed;
 * - delete: the before image, `removed: true`;
 * - truncate, message: skip. Tombstones never reach the stage (the runner drops them).
 *
 * `location` is null until the ERP allocates the line to a location.
 */
export const orderLine = defineStage({
  name: 'order_line',
  summary: 'SalesOrderLine rows become OrderLineChanged, removed on delete',
  tables: ['dbo.SalesOrderLine'],
  output: ['OrderLineChanged'],
  config: orderLineConfigSchema,
  create: () => applyOrderLine,
});

const LINE_COLUMNS = {
  OrderNumber: COLUMN.identifier,
  LineNo: COLUMN.integer,
  Sku: COLUMN.identifier,
  Qty: COLUMN.quantity,
  UnitPrice: COLUMN.money,
  LineStatus: COLUMN.code,
  LocationCode: nullable(COLUMN.identifier),
} as const;

function applyOrderLine(change: ChangeEvent): StageResult {
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
}

function lineFrom(change: ChangeEvent, image: Image, removed: boolean): StageResult {
  const read = readColumns(change, image, LINE_COLUMNS, orderLine.name);
  if (!read.ok) return fail(read.error);
  const line = read.row;
  const payload: OrderLineChanged = {
    orderNumber: line.OrderNumber,
    lineNo: line.LineNo,
    sku: line.Sku,
    quantity: line.Qty,
    unitPrice: line.UnitPrice,
    lineStatus: line.LineStatus,
    location: line.LocationCode,
    removed,
  };
  return emit(canonicalEvent(change, 'OrderLineChanged', line.OrderNumber, payload));
}
