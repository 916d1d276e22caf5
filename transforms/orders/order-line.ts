import { type z } from 'zod';
import { orderLineStage } from '../order-line-stage.js';
import { SAMPLE_ERP_ORDER_NUMBER } from '../sample-erp.js';

/**
 * `SalesOrderLine` changes → `OrderLineChanged`, keyed by order number: an {@link orderLineStage} over the sample
 * ERP's columns, keyed by the same order number as `order_header`.
 *
 * - insert, snapshot read, update: the after image, `removed: false`. Every
 *   update is emitted: the event carries the whole line, so read models apply
 *   it idempotently and no before image is needed;
 * - delete: the before image, `removed: true`;
 * - truncate, message: skip. Tombstones never reach the stage (the runner drops them).
 *
 * `location` is null until the ERP allocates the line to a location.
 */
export const orderLine = orderLineStage({
  name: 'order_line',
  summary: 'SalesOrderLine rows become OrderLineChanged, removed on delete',
  table: 'dbo.SalesOrderLine',
  orderNumber: SAMPLE_ERP_ORDER_NUMBER,
  columns: {
    lineNo: 'LineNo',
    sku: 'Sku',
    quantity: 'Qty',
    unitPrice: 'UnitPrice',
    lineStatus: 'LineStatus',
    location: 'LocationCode',
  },
});

/** order_line has no settings; unknown keys are rejected so a typo does not pass silently. */
export const orderLineConfigSchema = orderLine.configSchema;

/** The parsed order_line config (empty). */
export type OrderLineConfig = z.output<typeof orderLineConfigSchema>;
