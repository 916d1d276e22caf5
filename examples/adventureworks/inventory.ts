import { COLUMN, constant, fromColumn, stockLevelStage } from 'cdc-sync/stages';

/**
 * `Production.ProductInventory` → `StockLevelChanged`, keyed `<ProductID>@<LocationID>`. AdventureWorks keeps one
 * quantity per product and location and no reservations or safety stock, so those are zero.
 */
export const productInventory = stockLevelStage({
  name: 'aw_product_inventory',
  summary: 'AdventureWorks ProductInventory rows become StockLevelChanged keyed ProductID@LocationID',
  table: 'Production.ProductInventory',
  key: {
    sku: fromColumn('ProductID', COLUMN.integerId),
    location: fromColumn('LocationID', COLUMN.integerId),
  },
  quantities: {
    onHand: fromColumn('Quantity', COLUMN.integerQuantity),
    reserved: constant('0'),
    safetyStock: constant('0'),
  },
});
