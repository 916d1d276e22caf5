import { type SinkDefinition } from './mongo/definition.js';
import { inventoryAvailability } from './mongo/inventory-availability.js';
import { orderView } from './mongo/order-view.js';

/**
 * Every sink, by registry key. A key is snake_case and names its file in
 * kebab-case (`order_view` ↔ `mongo/order-view.ts`); `index.test.ts` checks
 * that, and that each entry has a summary, a config schema whose defaults
 * parse from `{}`, declared input types and a test beside its file. Adding a
 * read model is one file, its tests and one line here.
 */
export const sinks = {
  inventory_availability: inventoryAvailability,
  order_view: orderView,
} as const satisfies Readonly<Record<string, SinkDefinition>>;

export type SinkName = keyof typeof sinks;

/** A registered sink's definition. */
export type RegisteredSink = (typeof sinks)[SinkName];
