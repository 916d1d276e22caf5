import { z } from 'zod';
import { type DecimalString, type StockLevelChanged } from '../core/canonical.js';
import { formatDecimal, isDecimalString, parseDecimal, SCALE, subtractDecimals } from '../core/decimal.js';
import { type ChangeEvent, OP } from '../core/envelope.js';
import { TransformError } from '../core/errors.js';
import { defineStage, emit, fail, type NamedTransformDefinition, skip, type StageResult } from '../core/stage.js';
import { type FactoryStageSpec, fieldValue, type FieldSource, valuesReader } from './column-values.js';
import { canonicalEvent } from './event-meta.js';
import { COLUMN, type Image, rowRef, sameDecimal, skipRowlessChange } from './rows.js';

/** A stock-level stage has no settings; unknown keys are rejected so a typo does not pass silently. */
export const stockLevelStageConfigSchema = z.strictObject({});

/** What {@link stockLevelStage} makes a stage from: its name and table, and where each field comes from. */
export type StockLevelStageSpec<N extends string> = FactoryStageSpec<N> & {
  /**
   * The balance's SKU and location: a column name is read as `COLUMN.identifier`; an integer key is
   * `fromColumn('ProductID', COLUMN.integerId)`. The events are keyed `<sku>@<location>`.
   */
  readonly key: { readonly sku: FieldSource<string>; readonly location: FieldSource<string> };
  /**
   * The quantities: a column name is read as `COLUMN.quantity`; an integer column is
   * `fromColumn('Quantity', COLUMN.integerQuantity)`, and an ERP that keeps no reservations or safety stock says
   * `constant('0')`. Values are padded to scale 3; one with more decimals fails the change, never rounded.
   */
  readonly quantities: {
    readonly onHand: FieldSource<DecimalString>;
    readonly reserved: FieldSource<DecimalString>;
    readonly safetyStock: FieldSource<DecimalString>;
  };
};

/**
 * Makes a stage that turns a balance table's changes into `StockLevelChanged`, keyed `<sku>@<location>`:
 *
 * - insert, snapshot read, update: the after image's quantities, `available = onHand − reserved − safetyStock` at
 *   scale 3 (negative when oversold);
 * - update that changes neither the key nor a quantity (a recount date, `ModifiedAt`): skip, naming the quantity
 *   columns; without a before image the update is emitted, since the after image is the whole state;
 * - delete: the before image's quantities with `removed: true`;
 * - truncate, message: skip. Tombstones never reach the stage (the runner drops them).
 *
 * A missing or mistyped column fails with a `TransformError` naming column, table and key. Throws a `TypeError`
 * (from `defineStage`) for a bad name or table, or when two fields read one column with different types.
 */
export function stockLevelStage<const N extends string>(
  spec: StockLevelStageSpec<N>,
): NamedTransformDefinition<typeof stockLevelStageConfigSchema, N> {
  const values = {
    sku: fieldValue(spec.key.sku, COLUMN.identifier),
    location: fieldValue(spec.key.location, COLUMN.identifier),
    onHand: fieldValue(spec.quantities.onHand, COLUMN.quantity),
    reserved: fieldValue(spec.quantities.reserved, COLUMN.quantity),
    safetyStock: fieldValue(spec.quantities.safetyStock, COLUMN.quantity),
  };
  const readBalance = valuesReader(values);
  const quantities = [values.onHand, values.reserved, values.safetyStock] as const;
  const unchanged = `${[...new Set(quantities.flatMap((value) => Object.keys(value.columns)))].join(', ')} unchanged`;

  return defineStage({
    name: spec.name,
    summary: spec.summary,
    tables: [spec.table],
    output: ['StockLevelChanged'],
    config: stockLevelStageConfigSchema,
    create(_config, { name }) {
      function stockLevelFrom(change: ChangeEvent, image: Image, removed: boolean): StageResult {
        const read = readBalance(change, image, name);
        if (!read.ok) return fail(read.error);
        const { sku, location } = read.row;
        const scaled = atQuantityScale(change, name, {
          onHand: read.row.onHand,
          reserved: read.row.reserved,
          safetyStock: read.row.safetyStock,
        });
        if (scaled instanceof TransformError) return fail(scaled);
        const { onHand, reserved, safetyStock } = scaled;
        const payload: StockLevelChanged = {
          sku,
          location,
          onHand,
          reserved,
          safetyStock,
          available: subtractDecimals(SCALE.quantity, onHand, reserved, safetyStock),
          removed,
        };
        return emit(canonicalEvent(change, 'StockLevelChanged', `${sku}@${location}`, payload));
      }

      return (change) => {
        switch (change.op) {
          case OP.create:
          case OP.read:
            return stockLevelFrom(change, 'after', false);
          case OP.update: {
            if (change.before !== null) {
              const before = readBalance(change, 'before', name);
              if (!before.ok) return fail(before.error);
              const after = readBalance(change, 'after', name);
              if (!after.ok) return fail(after.error);
              // A changed key is never "unchanged", whatever the quantities.
              const same =
                before.row.sku === after.row.sku &&
                before.row.location === after.row.location &&
                QUANTITY_FIELDS.every((field) => sameDecimal(before.row[field], after.row[field]));
              if (same) return skip(unchanged);
            }
            return stockLevelFrom(change, 'after', false);
          }
          case OP.delete:
            return stockLevelFrom(change, 'before', true);
          case OP.truncate:
          case OP.message:
            return skipRowlessChange(change);
        }
      };
    },
  });
}

const QUANTITY_FIELDS = ['onHand', 'reserved', 'safetyStock'] as const;

type Quantities = Readonly<Record<(typeof QUANTITY_FIELDS)[number], DecimalString>>;

/** The quantities at scale 3, padded; a value with more decimals is an error of the stage's own values. */
function atQuantityScale(change: ChangeEvent, stage: string, quantities: Quantities): Quantities | TransformError {
  const scaled: Record<string, DecimalString> = {};
  for (const field of QUANTITY_FIELDS) {
    const value = quantities[field];
    const padded = isDecimalString(value) ? formatDecimal(parseDecimal(value, field), SCALE.quantity) : undefined;
    if (padded === undefined || !sameDecimal(padded, value)) {
      return new TransformError(
        `Quantity ${field} ${JSON.stringify(value)} of ${rowRef(change)} is not a decimal with at most ${SCALE.quantity} decimals`,
        { stage },
      );
    }
    scaled[field] = padded;
  }
  return scaled as Quantities;
}
