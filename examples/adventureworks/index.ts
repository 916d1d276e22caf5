import { defineStagePackage } from 'cdc-sync/stages';
import { productInventory } from './inventory.ts';
import { salesOrderDetail, salesOrderHeader } from './orders.ts';
import { ADVENTUREWORKS_TABLES } from './tables.ts';

/**
 * cdc-sync's stages for Microsoft's AdventureWorks OLTP database: stock from `Production.ProductInventory`, orders
 * from `Sales.SalesOrderHeader` and `Sales.SalesOrderDetail`. A pipeline loads it with `stages.modules` and lists the
 * stages it runs under `transforms` (see pipeline.yaml).
 */
export default defineStagePackage({
  name: 'adventureworks',
  stages: [productInventory, salesOrderHeader, salesOrderDetail],
  tables: ADVENTUREWORKS_TABLES,
});
