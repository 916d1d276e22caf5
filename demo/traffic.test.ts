import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { snakeToPascal } from '../connectors/debezium/envelope.js';
import {
  DEMO_TABLES,
  DEMO_TRAFFIC,
  DEMO_TRAFFIC_SCRIPT,
  demoTables,
  demoTraffic,
  type ErpOperation,
  insert,
  move,
  NOW,
  pascalToSnake,
  remove,
  renderOperation,
  renderStatements,
  renderTransaction,
  update,
  UTC_NOW,
} from './traffic.js';

// The demo's ERP traffic is written once, in the SQL Server ERP's names, and rendered as PostgreSQL (the local
// stand-in) or T-SQL (`demo --docker`). Neither database runs in unit tests, so the rendered text is checked exactly,
// and every name it uses is checked against both flavours' DDL.
const ddl = (flavour: 'postgres' | 'sqlserver') =>
  readFileSync(new URL(`../devtools/sql/${flavour}/erp-schema.sql`, import.meta.url), 'utf8');

const SHIPPED = DEMO_TRAFFIC_SCRIPT.find((step) => step.says.startsWith('order SO-200101 picked and shipped'))!;

describe('demo traffic', () => {
  it('renders the shipment step as one PostgreSQL transaction', () => {
    expect(renderTransaction(SHIPPED.operations, 'postgresql').split('\n')).toEqual([
      'BEGIN;',
      "UPDATE public.sales_order_header SET status_code = 'PK' WHERE order_number = 'SO-200101';",
      "INSERT INTO public.shipment (shipment_id, order_number, location_code, status) VALUES (5101, 'SO-200101', 'WH-EAST', 'PK');",
      "UPDATE public.shipment SET status = 'SH', carrier = 'DHL', tracking_number = '00340434161094042557', shipped_at = now() WHERE shipment_id = 5101;",
      "UPDATE public.sales_order_header SET status_code = 'SH' WHERE order_number = 'SO-200101';",
      "UPDATE public.inventory_balance SET qty_on_hand = qty_on_hand + -2, qty_allocated = qty_allocated + -2, modified_at = timezone('utc', now()) WHERE sku = 'TSHIRT-ORG-BLK-M' AND location_code = 'WH-EAST';",
      "UPDATE public.inventory_balance SET qty_on_hand = qty_on_hand + -1, qty_allocated = qty_allocated + -1, modified_at = timezone('utc', now()) WHERE sku = 'MUG-STONE-350' AND location_code = 'WH-EAST';",
      'COMMIT;',
    ]);
  });

  it('renders the shipment step as one T-SQL transaction that aborts whole on an error', () => {
    expect(renderTransaction(SHIPPED.operations, 'sqlserver').split('\n')).toEqual([
      'SET XACT_ABORT ON;',
      'BEGIN TRANSACTION;',
      "UPDATE [dbo].[SalesOrderHeader] SET [StatusCode] = N'PK' WHERE [OrderNumber] = N'SO-200101';",
      "INSERT INTO [dbo].[Shipment] ([ShipmentId], [OrderNumber], [LocationCode], [Status]) VALUES (5101, N'SO-200101', N'WH-EAST', N'PK');",
      "UPDATE [dbo].[Shipment] SET [Status] = N'SH', [Carrier] = N'DHL', [TrackingNumber] = N'00340434161094042557', [ShippedAt] = SYSDATETIMEOFFSET() WHERE [ShipmentId] = 5101;",
      "UPDATE [dbo].[SalesOrderHeader] SET [StatusCode] = N'SH' WHERE [OrderNumber] = N'SO-200101';",
      "UPDATE [dbo].[InventoryBalance] SET [QtyOnHand] = [QtyOnHand] + -2, [QtyAllocated] = [QtyAllocated] + -2, [ModifiedAt] = SYSUTCDATETIME() WHERE [Sku] = N'TSHIRT-ORG-BLK-M' AND [LocationCode] = N'WH-EAST';",
      "UPDATE [dbo].[InventoryBalance] SET [QtyOnHand] = [QtyOnHand] + -1, [QtyAllocated] = [QtyAllocated] + -1, [ModifiedAt] = SYSUTCDATETIME() WHERE [Sku] = N'MUG-STONE-350' AND [LocationCode] = N'WH-EAST';",
      'COMMIT TRANSACTION;',
    ]);
  });

  it('renders multi-row inserts, a bracket-quoted LineNo, exact decimals and BIGINT ids', () => {
    const [header, lines] = DEMO_TRAFFIC_SCRIPT[1]!.operations;
    expect(renderOperation(lines!, 'sqlserver')).toBe(
      "INSERT INTO [dbo].[SalesOrderLine] ([OrderNumber], [LineNo], [ItemId], [Sku], [Qty], [UnitPrice], [LineStatus], [LocationCode]) VALUES (N'SO-200102', 1, 1002, N'HOODIE-GRY-L', 1, 54.5, N'NW', N'ST-DOWNTOWN'), (N'SO-200102', 2, 1004, N'COFFEE-ESP-BULK', 1.5, 23.8, N'NW', N'ST-DOWNTOWN');",
    );
    expect(renderOperation(header!, 'postgresql')).toBe(
      "INSERT INTO public.sales_order_header (order_number, customer_id, customer_email, channel, status_code, currency_code, order_total, placed_at) VALUES ('SO-200102', 'CUST-0107', 'grace@example.com', 'STORE', 'NW', 'EUR', 90.2, now());",
    );
    const payment = DEMO_TRAFFIC_SCRIPT[2]!.operations[1]!;
    expect(renderOperation(payment, 'sqlserver')).toBe(
      "UPDATE [dbo].[PaymentTransaction] SET [Status] = N'SUCCEEDED', [PspReference] = N'psp_cap_D3m0x1', [ProcessedAt] = SYSDATETIMEOFFSET() WHERE [PaymentId] = 4200000000000000101;",
    );
  });

  it.each<[string, ErpOperation, string, string]>([
    [
      'a quote in a string',
      update('ReturnAuthorization', { Reason: "didn't fit" }, { RmaId: 1 }),
      "UPDATE public.return_authorization SET reason = 'didn''t fit' WHERE rma_id = 1;",
      "UPDATE [dbo].[ReturnAuthorization] SET [Reason] = N'didn''t fit' WHERE [RmaId] = 1;",
    ],
    [
      'NULL and both clocks',
      update('InventoryBalance', { LastCountedAt: null, ModifiedAt: UTC_NOW }, { Sku: 'S', LocationCode: 'L' }),
      "UPDATE public.inventory_balance SET last_counted_at = NULL, modified_at = timezone('utc', now()) WHERE sku = 'S' AND location_code = 'L';",
      "UPDATE [dbo].[InventoryBalance] SET [LastCountedAt] = NULL, [ModifiedAt] = SYSUTCDATETIME() WHERE [Sku] = N'S' AND [LocationCode] = N'L';",
    ],
    [
      'a delete',
      remove('InventoryBalance', { Sku: 'CABLE-USBC-2M', LocationCode: 'ST-DOWNTOWN' }),
      "DELETE FROM public.inventory_balance WHERE sku = 'CABLE-USBC-2M' AND location_code = 'ST-DOWNTOWN';",
      "DELETE FROM [dbo].[InventoryBalance] WHERE [Sku] = N'CABLE-USBC-2M' AND [LocationCode] = N'ST-DOWNTOWN';",
    ],
    [
      'a stock move with a fractional amount',
      move('COFFEE-ESP-BULK', 'WH-EAST', -0.25),
      "UPDATE public.inventory_balance SET qty_on_hand = qty_on_hand + -0.25, qty_allocated = qty_allocated + 0, modified_at = timezone('utc', now()) WHERE sku = 'COFFEE-ESP-BULK' AND location_code = 'WH-EAST';",
      "UPDATE [dbo].[InventoryBalance] SET [QtyOnHand] = [QtyOnHand] + -0.25, [QtyAllocated] = [QtyAllocated] + 0, [ModifiedAt] = SYSUTCDATETIME() WHERE [Sku] = N'COFFEE-ESP-BULK' AND [LocationCode] = N'WH-EAST';",
    ],
  ])('renders %s in both dialects', (_case, operation, postgresql, sqlserver) => {
    expect(renderOperation(operation, 'postgresql')).toBe(postgresql);
    expect(renderOperation(operation, 'sqlserver')).toBe(sqlserver);
  });

  it.each<[string, ErpOperation, string]>([
    ['an insert without rows', insert('Refund'), 'insert into Refund has no rows'],
    [
      'rows naming different columns',
      insert('Refund', { RefundId: 1, Amount: 2 }, { RefundId: 2 }),
      'insert into Refund: row 1 names columns RefundId, the first row RefundId, Amount',
    ],
    ['an update without WHERE', update('Refund', { Status: 'COMPLETED' }, {}), 'update on Refund has no WHERE columns'],
    ['a delete without WHERE', remove('Refund', {}), 'delete on Refund has no WHERE columns'],
    [
      'a number JavaScript prints with an exponent',
      update('Refund', { Amount: 1e21 }, { RefundId: 1 }),
      'Column Refund.Amount: 1e+21 cannot be written as a decimal literal',
    ],
    [
      'NaN',
      update('Refund', { Amount: Number.NaN }, { RefundId: 1 }),
      'Column Refund.Amount: NaN cannot be written as a decimal literal',
    ],
    [
      'an increment outside SET',
      remove('Refund', { Amount: { add: 1 } }),
      "Column Refund.Amount: { add } is only allowed in an update's set",
    ],
  ])('refuses %s', (_case, operation, message) => {
    expect(() => renderOperation(operation, 'sqlserver')).toThrow(message);
  });

  it('says the same steps in both dialects, each one transaction', () => {
    const postgres = demoTraffic('postgresql');
    const sqlserver = demoTraffic('sqlserver');
    expect(postgres.map((step) => step.says)).toEqual(sqlserver.map((step) => step.says));
    expect(postgres).toHaveLength(8);
    expect(DEMO_TRAFFIC).toEqual(postgres);
    for (const step of postgres) expect(step.sql).toMatch(/^BEGIN;\n[^]*\nCOMMIT;$/);
    for (const step of sqlserver)
      expect(step.sql).toMatch(/^SET XACT_ABORT ON;\nBEGIN TRANSACTION;\n[^]*\nCOMMIT TRANSACTION;$/);
    expect(renderStatements([SHIPPED.operations[0]!], 'postgresql')).not.toContain('BEGIN');
  });

  it('captures the same tables in both dialects', () => {
    expect(DEMO_TABLES).toEqual([
      'public.inventory_balance',
      'public.sales_order_header',
      'public.sales_order_line',
      'public.payment_transaction',
      'public.shipment',
      'public.return_authorization',
      'public.refund',
    ]);
    expect(demoTables('sqlserver')).toEqual([
      'dbo.InventoryBalance',
      'dbo.SalesOrderHeader',
      'dbo.SalesOrderLine',
      'dbo.PaymentTransaction',
      'dbo.Shipment',
      'dbo.ReturnAuthorization',
      'dbo.Refund',
    ]);
  });

  // Every table and column the traffic names exists in both DDL flavours, and PostgreSQL's snake_case name comes back
  // to the PascalCase name transforms expect through the decoder's snake-to-pascal mapping.
  const names = new Set(
    DEMO_TRAFFIC_SCRIPT.flatMap((step) =>
      step.operations.flatMap((operation) => [
        operation.table,
        ...(operation.kind === 'insert' ? operation.rows.flatMap(Object.keys) : []),
        ...(operation.kind === 'update' ? Object.keys(operation.set) : []),
        ...(operation.kind === 'insert' ? [] : Object.keys(operation.where)),
      ]),
    ),
  );
  it.each([...names].sort())('names %s as both DDL flavours do', (name) => {
    expect(ddl('sqlserver')).toMatch(new RegExp(`(\\bdbo\\.${name}\\b|^\\s+\\[?${name}\\]?\\s)`, 'm'));
    expect(ddl('postgres')).toMatch(
      new RegExp(`(\\bpublic\\.${pascalToSnake(name)}\\b|^\\s+${pascalToSnake(name)}\\s)`, 'm'),
    );
    expect(snakeToPascal(pascalToSnake(name))).toBe(name);
  });

  it('reads the clock in each dialect', () => {
    const placed = update('SalesOrderHeader', { PlacedAt: NOW }, { OrderNumber: 'SO-1' });
    expect(renderOperation(placed, 'postgresql')).toContain('placed_at = now()');
    expect(renderOperation(placed, 'sqlserver')).toContain('[PlacedAt] = SYSDATETIMEOFFSET()');
  });
});
