import { type SqlServerColumn, type SqlServerTable } from '../../connectors/debezium/sqlserver-schema.js';

/**
 * The sample ERP (`devtools/sql/sqlserver/erp-schema.sql`) as data: every
 * table with its columns in declaration order, their SQL Server types as the
 * DDL writes them (lower-cased), nullability and primary key. Fixtures, the
 * fixture producer and tests build Debezium's schemas from these definitions
 * instead of copying columns by hand; `sample-erp.test.ts` parses the DDL and
 * fails when the two drift apart.
 *
 * Definitions carry no `server` (the connector's `topic.prefix`) or database:
 * {@link sampleErpTables} adds them, so one definition serves every prefix.
 *
 * @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#sqlserver-data-types
 */
export type SqlServerTableDefinition = Omit<SqlServerTable, 'server' | 'database'>;

/** The database the DDL creates; topics are `<topic.prefix>.ErpDemo.dbo.<Table>`. */
export const SAMPLE_ERP_DATABASE = 'ErpDemo';

/** Every table of the sample ERP, in the order the DDL creates them. */
export const SAMPLE_ERP_TABLE_DEFINITIONS: readonly SqlServerTableDefinition[] = [
  table(
    'Item',
    ['ItemId'],
    [
      ['ItemId', 'int'],
      ['Sku', 'nvarchar(40)'],
      ['Description', 'nvarchar(200)', 'null'],
      ['UnitOfMeasure', 'nvarchar(10)'],
      ['ListPrice', 'decimal(19,4)'],
      ['IsActive', 'bit'],
      ['RowGuid', 'uniqueidentifier'],
      ['ModifiedAt', 'datetime2(7)'],
    ],
  ),
  table(
    'Location',
    ['LocationId'],
    [
      ['LocationId', 'int'],
      ['Code', 'nvarchar(20)'],
      ['Name', 'nvarchar(100)'],
      ['Kind', 'nvarchar(20)'],
      ['IsActive', 'bit'],
      ['ModifiedAt', 'datetime2(7)'],
    ],
  ),
  table(
    'InventoryBalance',
    ['Sku', 'LocationCode'],
    [
      ['Sku', 'nvarchar(40)'],
      ['LocationCode', 'nvarchar(20)'],
      ['QtyOnHand', 'decimal(18,3)'],
      ['QtyAllocated', 'decimal(18,3)'],
      ['SafetyStock', 'decimal(18,3)'],
      ['LastCountedAt', 'datetimeoffset(7)', 'null'],
      ['ModifiedAt', 'datetime2(7)'],
    ],
  ),
  table(
    'SalesOrderHeader',
    ['OrderNumber'],
    [
      ['OrderNumber', 'nvarchar(20)'],
      ['CustomerId', 'nvarchar(40)'],
      ['CustomerEmail', 'nvarchar(256)', 'null'],
      ['Channel', 'nvarchar(20)'],
      ['StatusCode', 'char(2)'],
      ['CurrencyCode', 'char(3)'],
      ['OrderTotal', 'money'],
      ['PlacedAt', 'datetimeoffset(7)'],
      ['RowGuid', 'uniqueidentifier'],
      ['ModifiedAt', 'datetime2(7)'],
    ],
  ),
  table(
    'SalesOrderLine',
    ['OrderNumber', 'LineNo'],
    [
      ['OrderNumber', 'nvarchar(20)'],
      ['LineNo', 'int'],
      ['ItemId', 'int'],
      ['Sku', 'nvarchar(40)'],
      ['Qty', 'decimal(18,3)'],
      ['UnitPrice', 'decimal(19,4)'],
      ['LineStatus', 'char(2)'],
      ['LocationCode', 'nvarchar(20)', 'null'],
      ['ModifiedAt', 'datetime2(7)'],
    ],
  ),
  table(
    'PaymentTransaction',
    ['PaymentId'],
    [
      ['PaymentId', 'bigint'],
      ['OrderNumber', 'nvarchar(20)'],
      ['TxnType', 'char(3)'],
      ['Amount', 'decimal(19,4)'],
      ['CurrencyCode', 'char(3)'],
      ['PspReference', 'nvarchar(64)', 'null'],
      ['Status', 'nvarchar(12)'],
      ['ProcessedAt', 'datetimeoffset(7)', 'null'],
      ['ModifiedAt', 'datetime2(7)'],
    ],
  ),
  table(
    'Shipment',
    ['ShipmentId'],
    [
      ['ShipmentId', 'int'],
      ['OrderNumber', 'nvarchar(20)'],
      ['LocationCode', 'nvarchar(20)'],
      ['Carrier', 'nvarchar(40)', 'null'],
      ['TrackingNumber', 'nvarchar(64)', 'null'],
      ['Status', 'char(2)'],
      ['ShippedAt', 'datetimeoffset(7)', 'null'],
      ['ModifiedAt', 'datetime2(7)'],
    ],
  ),
  table(
    'ShipmentLine',
    ['ShipmentId', 'LineNo'],
    [
      ['ShipmentId', 'int'],
      ['LineNo', 'int'],
      ['OrderNumber', 'nvarchar(20)'],
      ['OrderLineNo', 'int'],
      ['Qty', 'decimal(18,3)'],
      ['ModifiedAt', 'datetime2(7)'],
    ],
  ),
  table(
    'ReturnAuthorization',
    ['RmaId'],
    [
      ['RmaId', 'int'],
      ['RmaNumber', 'nvarchar(20)'],
      ['OrderNumber', 'nvarchar(20)'],
      ['Status', 'char(2)'],
      ['Reason', 'nvarchar(200)', 'null'],
      ['ReceivedAt', 'datetimeoffset(7)', 'null'],
      ['ModifiedAt', 'datetime2(7)'],
    ],
  ),
  table(
    'Refund',
    ['RefundId'],
    [
      ['RefundId', 'int'],
      ['OrderNumber', 'nvarchar(20)'],
      ['RmaNumber', 'nvarchar(20)', 'null'],
      ['Amount', 'decimal(19,4)'],
      ['CurrencyCode', 'char(3)'],
      ['Status', 'nvarchar(12)'],
      ['CompletedAt', 'datetimeoffset(7)', 'null'],
      ['ModifiedAt', 'datetime2(7)'],
    ],
  ),
];

/**
 * The sample ERP's tables as one connector captures them: `server` is the
 * connector's `topic.prefix`, `database` the captured database (the DDL's
 * `ErpDemo` unless given). Returns new objects; the definitions are shared.
 */
export function sampleErpTables(server: string, database: string = SAMPLE_ERP_DATABASE): SqlServerTable[] {
  return SAMPLE_ERP_TABLE_DEFINITIONS.map((definition) => ({ server, database, ...definition }));
}

/** `[name, type]` for a NOT NULL column, `[name, type, 'null']` for a nullable one. */
type ColumnSpec = readonly [name: string, type: string, nullable?: 'null'];

function table(name: string, primaryKey: readonly string[], columns: readonly ColumnSpec[]): SqlServerTableDefinition {
  return {
    schema: 'dbo',
    table: name,
    columns: columns.map(([column, type, nullable]): SqlServerColumn => ({
      name: column,
      type,
      nullable: nullable === 'null',
    })),
    primaryKey,
  };
}
