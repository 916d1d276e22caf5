import { type SourceColumn, type SourceTableDefinition } from 'cdc-sync/stages';

/**
 * The AdventureWorks tables the stages read, as Microsoft's `instawdb.sql` declares them (AdventureWorks OLTP):
 * columns in declaration order with their SQL Server types, user-defined types resolved to their base types
 * (`Flag` → bit, `OrderNumber` → nvarchar(25), `AccountNumber` → nvarchar(15)), and the primary keys. Computed
 * columns are declared with the type of their expression: SQL Server CDC captures them as NULL, and Debezium then
 * writes the type's zero (`""`, `0`) while streaming; the stages recompute them.
 */
export const ADVENTUREWORKS_TABLES: readonly SourceTableDefinition[] = [
  table(
    'Production',
    'ProductInventory',
    ['ProductID', 'LocationID'],
    [
      ['ProductID', 'int'],
      ['LocationID', 'smallint'],
      ['Shelf', 'nvarchar(10)'],
      ['Bin', 'tinyint'],
      ['Quantity', 'smallint'],
      ['rowguid', 'uniqueidentifier'],
      ['ModifiedDate', 'datetime'],
    ],
  ),
  table(
    'Sales',
    'SalesOrderHeader',
    ['SalesOrderID'],
    [
      ['SalesOrderID', 'int'],
      ['RevisionNumber', 'tinyint'],
      ['OrderDate', 'datetime'],
      ['DueDate', 'datetime'],
      ['ShipDate', 'datetime', 'null'],
      ['Status', 'tinyint'],
      ['OnlineOrderFlag', 'bit'],
      // Computed: isnull(N'SO' + convert(nvarchar(23), SalesOrderID), N'*** ERROR ***').
      ['SalesOrderNumber', 'nvarchar(25)'],
      ['PurchaseOrderNumber', 'nvarchar(25)', 'null'],
      ['AccountNumber', 'nvarchar(15)', 'null'],
      ['CustomerID', 'int'],
      ['SalesPersonID', 'int', 'null'],
      ['TerritoryID', 'int', 'null'],
      ['BillToAddressID', 'int'],
      ['ShipToAddressID', 'int'],
      ['ShipMethodID', 'int'],
      ['CreditCardID', 'int', 'null'],
      ['CreditCardApprovalCode', 'varchar(15)', 'null'],
      ['CurrencyRateID', 'int', 'null'],
      ['SubTotal', 'money'],
      ['TaxAmt', 'money'],
      ['Freight', 'money'],
      // Computed: isnull((SubTotal + TaxAmt) + Freight, 0).
      ['TotalDue', 'money'],
      ['Comment', 'nvarchar(128)', 'null'],
      ['rowguid', 'uniqueidentifier'],
      ['ModifiedDate', 'datetime'],
    ],
  ),
  table(
    'Sales',
    'SalesOrderDetail',
    ['SalesOrderID', 'SalesOrderDetailID'],
    [
      ['SalesOrderID', 'int'],
      ['SalesOrderDetailID', 'int'],
      ['CarrierTrackingNumber', 'nvarchar(25)', 'null'],
      ['OrderQty', 'smallint'],
      ['ProductID', 'int'],
      ['SpecialOfferID', 'int'],
      ['UnitPrice', 'money'],
      ['UnitPriceDiscount', 'money'],
      // Computed: isnull(UnitPrice * (1.0 - UnitPriceDiscount) * OrderQty, 0.0).
      ['LineTotal', 'numeric(38,6)'],
      ['rowguid', 'uniqueidentifier'],
      ['ModifiedDate', 'datetime'],
    ],
  ),
];

type Column = readonly [name: string, type: string, nullable?: 'null'];

function table(
  schema: string,
  name: string,
  primaryKey: readonly string[],
  columns: readonly Column[],
): SourceTableDefinition {
  return {
    schema,
    table: name,
    columns: columns.map(([column, type, nullable]): SourceColumn => ({
      name: column,
      type,
      nullable: nullable === 'null',
    })),
    primaryKey,
  };
}
