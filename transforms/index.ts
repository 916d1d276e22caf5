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
 * a transform is one file, its test and one entry here (see README.md); a pipeline runs it once its config lists it.
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
 * The sample ERP's profile: every stage above, each with its default settings. A pipeline runs only the stages its
 * config lists under `transforms`; a pipeline on the sample ERP lists these (config/pipeline.example.yaml does).
 */
export const SAMPLE_ERP_STAGES: Readonly<Record<TransformName, Readonly<Record<string, unknown>>>> = Object.fromEntries(
  Object.keys(transforms).map((name) => [name, {}]),
) as Record<TransformName, Record<string, unknown>>;
