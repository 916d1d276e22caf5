import { describe, expect, it } from 'vitest';
import { OP } from '../core/envelope.js';
import { TransformError } from '../core/errors.js';
import { constant, fromColumn } from './column-values.js';
import { COLUMN } from './rows.js';
import { stockLevelStage } from './stock-level-stage.js';
import { changeOf, expectEvent, failureOf, stageOf } from './testing.js';

const TABLE = 'erp.AdventureWorks.Production.ProductInventory';

/** AdventureWorks' inventory: integer keys, a SMALLINT quantity, no reservations or safety stock. */
const productInventory = (reserved = '0') =>
  stockLevelStage({
    name: 'product_inventory',
    summary: 'ProductInventory rows become StockLevelChanged',
    table: 'Production.ProductInventory',
    key: { sku: fromColumn('ProductID', COLUMN.integerId), location: fromColumn('LocationID', COLUMN.integerId) },
    quantities: {
      onHand: fromColumn('Quantity', COLUMN.integerQuantity),
      reserved: constant(reserved),
      safetyStock: constant('0'),
    },
  });

const stage = stageOf(productInventory());
const stockLevelChanged = expectEvent(TABLE, 'StockLevelChanged');

/** Product 1 (Adjustable Race) at location 1 (Tool Crib), as AdventureWorks ships it. */
const race = {
  ProductID: 1,
  LocationID: 1,
  Shelf: 'A',
  Bin: 1,
  Quantity: 408,
  rowguid: '47A24246-6C43-48EB-968F-025738A8A410',
  ModifiedDate: '2014-08-08T00:00:00',
};
const key = { ProductID: 1, LocationID: 1 };

describe('stockLevelStage: given ProductInventory changes, expect StockLevelChanged', () => {
  it.each([
    { given: 'a balance inserted', change: changeOf(TABLE, OP.create, { after: race, key }), onHand: '408.000' },
    {
      given: 'goods taken: the quantity drops',
      change: changeOf(TABLE, OP.update, { before: race, after: { ...race, Quantity: 400 }, key }),
      onHand: '400.000',
    },
    {
      given: 'a balance deleted',
      change: changeOf(TABLE, OP.delete, { before: race, key }),
      onHand: '408.000',
      removed: true,
    },
  ])('$given', ({ change, onHand, removed = false }) => {
    expect(stage.apply(change)).toEqual({
      kind: 'emit',
      events: [
        stockLevelChanged('1@1', {
          sku: '1',
          location: '1',
          onHand,
          reserved: '0.000',
          safetyStock: '0.000',
          available: onHand,
          removed,
        }),
      ],
    });
  });

  it('skips an update that moves the goods to another shelf, naming only the quantity columns it reads', () => {
    const change = changeOf(TABLE, OP.update, { before: race, after: { ...race, Shelf: 'B', Bin: 4 }, key });
    expect(stage.apply(change)).toEqual({ kind: 'skip', reason: 'Quantity unchanged' });
  });

  it.each([
    {
      given: 'a quantity decoded as a decimal string',
      stage,
      after: { ...race, Quantity: '408' },
      message:
        'Invalid column Quantity in AdventureWorks.Production.ProductInventory key {"ProductID":1,"LocationID":1}: expected an integer quantity, got "408"',
    },
    {
      given: 'a constant quantity with more decimals than the canonical scale',
      stage: stageOf(productInventory('0.0001')),
      after: race,
      message:
        'Quantity reserved "0.0001" of AdventureWorks.Production.ProductInventory key {"ProductID":1,"LocationID":1} is not a decimal with at most 3 decimals',
    },
  ])('fails $given', ({ stage: tested, after, message }) => {
    const error = failureOf(tested.apply(changeOf(TABLE, OP.create, { after, key })));
    expect(error).toBeInstanceOf(TransformError);
    expect(error.message).toBe(message);
    expect(error.location).toEqual({ stage: 'product_inventory' });
  });

  it('refuses two fields reading one column with different types', () => {
    expect(() =>
      stockLevelStage({
        name: 'product_inventory',
        summary: 'ProductInventory rows become StockLevelChanged',
        table: 'Production.ProductInventory',
        key: { sku: 'ProductID', location: fromColumn('ProductID', COLUMN.integerId) },
        quantities: { onHand: 'Quantity', reserved: constant('0'), safetyStock: constant('0') },
      }),
    ).toThrow(new TypeError('Column ProductID is read both as a non-blank string and as an integer id'));
  });
});
