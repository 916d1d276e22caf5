import { z } from 'zod';
import { type StockLevelChanged } from '../../core/canonical.js';
import { SCALE, subtractDecimals } from '../../core/decimal.js';
import { type ChangeEvent, OP } from '../../core/envelope.js';
import { defineStage, emit, fail, skip, type StageResult } from '../../core/stage.js';
import { canonicalEvent } from '../event-meta.js';
import { COLUMN, type Image, type RowOf, readColumns, sameDecimal, skipRowlessChange } from '../rows.js';

/** stock_level has no settings; unknown keys are rejected so a typo does not pass silently. */
export const stockLevelConfigSchema = z.strictObject({});

/** The parsed stock_level config (empty). */
export type StockLevelConfig = z.output<typeof stockLevelConfigSchema>;

/**
 * `InventoryBalance` changes → `StockLevelChanged`, keyed `sku@location`.
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
export const stockLevel = defineStage({
  name: 'stock_level',
  summary: 'InventoryBalance rows become StockLevelChanged with available = on hand − allocated − safety stock',
  tables: ['dbo.InventoryBalance'],
  output: ['StockLevelChanged'],
  config: stockLevelConfigSchema,
  create: () => applyStockLevel,
});

const BALANCE_COLUMNS = {
  Sku: COLUMN.identifier,
  LocationCode: COLUMN.identifier,
  QtyOnHand: COLUMN.quantity,
  QtyAllocated: COLUMN.quantity,
  SafetyStock: COLUMN.quantity,
} as const;

type Balance = RowOf<typeof BALANCE_COLUMNS>;

const QUANTITY_COLUMNS = ['QtyOnHand', 'QtyAllocated', 'SafetyStock'] as const;

function applyStockLevel(change: ChangeEvent): StageResult {
  switch (change.op) {
    case OP.create:
    case OP.read:
      return stockLevelFrom(change, 'after', false);
    case OP.update: {
      if (change.before !== null) {
        const before = readColumns(change, 'before', BALANCE_COLUMNS, stockLevel.name);
        if (!before.ok) return fail(before.error);
        const after = readColumns(change, 'after', BALANCE_COLUMNS, stockLevel.name);
        if (!after.ok) return fail(after.error);
        if (sameQuantities(before.row, after.row)) return skip(`${QUANTITY_COLUMNS.join(', ')} unchanged`);
      }
      return stockLevelFrom(change, 'after', false);
    }
    case OP.delete:
      return stockLevelFrom(change, 'before', true);
    case OP.truncate:
    case OP.message:
      return skipRowlessChange(change);
  }
}

function stockLevelFrom(change: ChangeEvent, image: Image, removed: boolean): StageResult {
  const read = readColumns(change, image, BALANCE_COLUMNS, stockLevel.name);
  if (!read.ok) return fail(read.error);
  const { Sku, LocationCode, QtyOnHand, QtyAllocated, SafetyStock } = read.row;
  const payload: StockLevelChanged = {
    sku: Sku,
    location: LocationCode,
    onHand: QtyOnHand,
    reserved: QtyAllocated,
    safetyStock: SafetyStock,
    available: subtractDecimals(SCALE.quantity, QtyOnHand, QtyAllocated, SafetyStock),
    removed,
  };
  return emit(canonicalEvent(change, 'StockLevelChanged', stockAggregateKey(Sku, LocationCode), payload));
}

/** The inventory stream's key: one aggregate per SKU and location. */
function stockAggregateKey(sku: string, location: string): string {
  return `${sku}@${location}`;
}

/** Same SKU, location and quantities; a changed key is never "unchanged", whatever the quantities. */
function sameQuantities(before: Balance, after: Balance): boolean {
  return (
    before.Sku === after.Sku &&
    before.LocationCode === after.LocationCode &&
    QUANTITY_COLUMNS.every((column) => sameDecimal(before[column], after[column]))
  );
}
