import { type z } from 'zod';
import { stockLevelStage } from '../stock-level-stage.js';

/**
 * `InventoryBalance` changes → `StockLevelChanged`, keyed `sku@location`: a {@link stockLevelStage} over the sample
 * ERP's columns.
 *
 * - insert, snapshot read, update: the after image's quantities;
 *   `available = QtyOnHand − QtyAllocated − SafetyStock` at scale 3 (negative when oversold);
 * - update that changes none of the three quantities (a recount date, `ModifiedAt`): skip;
 *   without a before image the update is emitted, since the after image is the whole state;
 * - delete: the before image's quantities with `removed: true`;
 * - truncate, message: skip. Tombstones never reach the stage (the runner drops them).
 *
 * Missing or mistyped columns fail with a `TransformError` naming column, table and key.
 */
export const stockLevel = stockLevelStage({
  name: 'stock_level',
  summary: 'InventoryBalance rows become StockLevelChanged with available = on hand − allocated − safety stock',
  table: 'dbo.InventoryBalance',
  key: { sku: 'Sku', location: 'LocationCode' },
  quantities: { onHand: 'QtyOnHand', reserved: 'QtyAllocated', safetyStock: 'SafetyStock' },
});

/** stock_level has no settings; unknown keys are rejected so a typo does not pass silently. */
export const stockLevelConfigSchema = stockLevel.configSchema;

/** The parsed stock_level config (empty). */
export type StockLevelConfig = z.output<typeof stockLevelConfigSchema>;
