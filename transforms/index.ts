import { stageRegistry } from '../core/stage.js';
import { shipmentDispatched } from './fulfilment/shipment-dispatched.js';
import { stockLevel } from './inventory/stock-level.js';
import { orderHeader } from './orders/order-header.js';
import { orderLine } from './orders/order-line.js';
import { paymentCaptured } from './payments/payment-captured.js';
import { refundCompleted } from './refunds/refund-completed.js';
import { returnReceived } from './returns/return-received.js';

/**
 * Every transform, by registry key: each definition's `name` (see `defineStage`). A key is snake_case and names its
 * file in kebab-case (`stock_level` ↔ `inventory/stock-level.ts`); `index.test.ts` checks that, and that each entry
 * has a summary, a config schema whose defaults parse from `{}`, declared outputs and a test beside its file. Adding
 * a transform is one file, its test and one entry here (see README.md).
 */
export const transforms = stageRegistry(
  stockLevel,
  orderHeader,
  orderLine,
  paymentCaptured,
  shipmentDispatched,
  returnReceived,
  refundCompleted,
);

/** A registry key, e.g. `stock_level`. */
export type TransformName = keyof typeof transforms;

/** A registered transform's definition. */
export type RegisteredTransform = (typeof transforms)[TransformName];

/**
 * The transforms that read a logical ERP table (e.g. `SalesOrderHeader`), in
 * registry order; empty when none does, and the runner then passes the change
 * through untouched. Each definition's `name` is its registry key.
 */
export function transformsForTable(table: string): readonly RegisteredTransform[] {
  return Object.values(transforms).filter((definition) =>
    (definition.input.tables as readonly string[]).includes(table),
  );
}
