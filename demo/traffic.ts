import { SAMPLE_ERP_TABLES } from '../connectors/debezium/source-config.js';
import { quoteLiteral, quoteName } from '../connectors/mssql/tsql.js';

/** The SQL dialects the sample ERP exists in (devtools/sql/): PostgreSQL, the local stand-in, and SQL Server. */
export type ErpDialect = 'postgresql' | 'sqlserver';

/** A value that each dialect spells its own way: the current time, or the column's own value plus an amount. */
export type ErpExpression =
  /** `offset`: DATETIMEOFFSET / timestamptz, the time with its offset; `utc`: DATETIME2 / timestamp, zone-less UTC. */
  | { readonly now: 'offset' | 'utc' }
  /** The column being set plus this amount, e.g. `QtyOnHand = QtyOnHand + -20`. Only in `update … set`. */
  | { readonly add: number };

/**
 * A column value: a string is a text literal (also for timestamps, written as ISO-8601 with offset), a number an
 * exact decimal literal as JavaScript prints it, a bigint an integer literal with every digit (BIGINT ids).
 */
export type ErpValue = string | number | bigint | null | ErpExpression;

/** Column values by the SQL Server ERP's PascalCase column names. */
export type ErpRow = Readonly<Record<string, ErpValue>>;

/**
 * One statement against a sample ERP table, named as the SQL Server ERP names it (`SalesOrderHeader`,
 * `OrderNumber`); PostgreSQL's snake_case names are derived from those. `where` columns are compared for equality
 * and joined with AND.
 */
export type ErpOperation =
  | { readonly kind: 'insert'; readonly table: string; readonly rows: readonly ErpRow[] }
  | { readonly kind: 'update'; readonly table: string; readonly set: ErpRow; readonly where: ErpRow }
  | { readonly kind: 'delete'; readonly table: string; readonly where: ErpRow };

/** One step of the demo's live ERP traffic: what the ERP did, in one line, and its statements as one transaction. */
export type ErpTrafficScript = {
  readonly says: string;
  readonly operations: readonly ErpOperation[];
};

/** One step of the demo's live ERP traffic rendered for one dialect: what the ERP did, and the SQL that does it. */
export type ErpTrafficStep = {
  readonly says: string;
  /** One transaction's statements against the sample ERP's tables in the step's dialect. */
  readonly sql: string;
};

/** The current time with its offset: `SYSDATETIMEOFFSET()` on SQL Server, `now()` on PostgreSQL. */
export const NOW: ErpExpression = { now: 'offset' };
/** The current UTC time without zone, for `ModifiedAt`: `SYSUTCDATETIME()`, `timezone('utc', now())`. */
export const UTC_NOW: ErpExpression = { now: 'utc' };

/** `INSERT INTO table (…) VALUES (…), (…)`; every row must name the same columns in the same order. */
export function insert(table: string, ...rows: readonly ErpRow[]): ErpOperation {
  return { kind: 'insert', table, rows };
}

/** `UPDATE table SET … WHERE …`. */
export function update(table: string, set: ErpRow, where: ErpRow): ErpOperation {
  return { kind: 'update', table, set, where };
}

/** `DELETE FROM table WHERE …`. */
export function remove(table: string, where: ErpRow): ErpOperation {
  return { kind: 'delete', table, where };
}

/** Moves quantity on hand and allocated of one SKU at one location by the given amounts (a stock move). */
export function move(sku: string, location: string, onHand: number, allocated = 0): ErpOperation {
  return update(
    'InventoryBalance',
    { QtyOnHand: { add: onHand }, QtyAllocated: { add: allocated }, ModifiedAt: UTC_NOW },
    { Sku: sku, LocationCode: location },
  );
}

/** The captured tables of the sample ERP the demo's pipeline reads, as `schema.table` in the dialect's names. */
export function demoTables(dialect: ErpDialect): string[] {
  return SAMPLE_ERP_TABLES.map((qualified) => qualifiedTable(qualified.split('.')[1]!, dialect, false));
}

/** The PostgreSQL demo's captured tables (`public.inventory_balance`, …). */
export const DEMO_TABLES: readonly string[] = demoTables('postgresql');

/**
 * The operations as one transaction in `dialect`: PostgreSQL's `BEGIN; … COMMIT;`, or T-SQL's
 * `SET XACT_ABORT ON; BEGIN TRANSACTION; … COMMIT TRANSACTION;` (XACT_ABORT so a failing statement rolls the whole
 * transaction back instead of leaving it open on the session).
 */
export function renderTransaction(operations: readonly ErpOperation[], dialect: ErpDialect): string {
  const body = renderStatements(operations, dialect);
  return dialect === 'postgresql'
    ? `BEGIN;\n${body}\nCOMMIT;`
    : `SET XACT_ABORT ON;\nBEGIN TRANSACTION;\n${body}\nCOMMIT TRANSACTION;`;
}

/** The operations as statements in `dialect`, one a line, each autocommitted unless the caller opens a transaction. */
export function renderStatements(operations: readonly ErpOperation[], dialect: ErpDialect): string {
  return operations.map((operation) => renderOperation(operation, dialect)).join('\n');
}

/**
 * One statement in `dialect`. Throws an `Error` naming the table for an insert without rows, rows naming different
 * columns, an `update` or `delete` without `where`, or a value the dialect cannot write (see {@link ErpValue}).
 */
export function renderOperation(operation: ErpOperation, dialect: ErpDialect): string {
  const table = qualifiedTable(operation.table, dialect, true);
  const column = (name: string): string => columnName(name, dialect);
  const where = (row: ErpRow): string => {
    const entries = Object.entries(row);
    if (entries.length === 0) throw new Error(`${operation.kind} on ${operation.table} has no WHERE columns`);
    return entries
      .map(([name, value]) => `${column(name)} = ${renderValue(value, dialect, operation.table, name)}`)
      .join(' AND ');
  };
  switch (operation.kind) {
    case 'insert': {
      const [first] = operation.rows;
      if (first === undefined) throw new Error(`insert into ${operation.table} has no rows`);
      const names = Object.keys(first);
      const tuples = operation.rows.map((row, index) => {
        if (Object.keys(row).join(',') !== names.join(',')) {
          throw new Error(
            `insert into ${operation.table}: row ${index} names columns ${Object.keys(row).join(', ')}, the first row ${names.join(', ')}`,
          );
        }
        return `(${names.map((name) => renderValue(row[name]!, dialect, operation.table, name)).join(', ')})`;
      });
      return `INSERT INTO ${table} (${names.map(column).join(', ')}) VALUES ${tuples.join(', ')};`;
    }
    case 'update': {
      const set = Object.entries(operation.set).map(([name, value]) =>
        isAdd(value)
          ? `${column(name)} = ${column(name)} + ${renderNumber(value.add, operation.table, name)}`
          : `${column(name)} = ${renderValue(value, dialect, operation.table, name)}`,
      );
      return `UPDATE ${table} SET ${set.join(', ')} WHERE ${where(operation.where)};`;
    }
    case 'delete':
      return `DELETE FROM ${table} WHERE ${where(operation.where)};`;
  }
}

/** `SalesOrderHeader` → `sales_order_header`, `LineNo` → `line_no`: the PostgreSQL flavour's names. */
export function pascalToSnake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

function qualifiedTable(table: string, dialect: ErpDialect, quoted: boolean): string {
  if (dialect === 'postgresql') return `public.${pascalToSnake(table)}`;
  return quoted ? `${quoteName('dbo')}.${quoteName(table)}` : `dbo.${table}`;
}

/** Bracket-quoted on SQL Server, where the ERP has a column named after a reserved word (`LineNo`). */
function columnName(name: string, dialect: ErpDialect): string {
  return dialect === 'postgresql' ? pascalToSnake(name) : quoteName(name);
}

function renderValue(value: ErpValue, dialect: ErpDialect, table: string, column: string): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string')
    return dialect === 'postgresql' ? `'${value.replace(/'/g, "''")}'` : quoteLiteral(value);
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'number') return renderNumber(value, table, column);
  if (isAdd(value)) throw new Error(`Column ${table}.${column}: { add } is only allowed in an update's set`);
  if (value.now === 'offset') return dialect === 'postgresql' ? 'now()' : 'SYSDATETIMEOFFSET()';
  return dialect === 'postgresql' ? "timezone('utc', now())" : 'SYSUTCDATETIME()';
}

/** A number as an exact decimal literal; NaN, infinities and numbers JavaScript prints with an exponent are refused. */
function renderNumber(value: number, table: string, column: string): string {
  const text = String(value);
  if (!Number.isFinite(value) || /e/i.test(text)) {
    throw new Error(`Column ${table}.${column}: ${text} cannot be written as a decimal literal`);
  }
  return text;
}

function isAdd(value: ErpValue): value is { readonly add: number } {
  return typeof value === 'object' && value !== null && 'add' in value;
}

/**
 * A few minutes of a small shop's ERP on the sample ERP as seed.sql in devtools/sql/ seeds it: three orders placed
 * (each allocating stock), a payment captured, a goods receipt and a transfer, one order picked and shipped with
 * tracking, a return received and its refund completed. Every step is one transaction, as the ERP would commit it.
 */
export const DEMO_TRAFFIC_SCRIPT: readonly ErpTrafficScript[] = [
  {
    says: 'order SO-200101 placed on the web shop: 2 × TSHIRT-ORG-BLK-M, 1 × MUG-STONE-350 from WH-EAST',
    operations: placeOrder(
      { orderNumber: 'SO-200101', customerId: 'CUST-0042', email: 'ada@example.com', channel: 'WEB', total: 48.23 },
      [
        { itemId: 1001, sku: 'TSHIRT-ORG-BLK-M', qty: 2, unitPrice: 19.99, location: 'WH-EAST' },
        { itemId: 1003, sku: 'MUG-STONE-350', qty: 1, unitPrice: 8.25, location: 'WH-EAST' },
      ],
    ),
  },
  {
    says: 'order SO-200102 placed for store pickup: 1 × HOODIE-GRY-L, 1.5 kg COFFEE-ESP-BULK at ST-DOWNTOWN',
    operations: placeOrder(
      { orderNumber: 'SO-200102', customerId: 'CUST-0107', email: 'grace@example.com', channel: 'STORE', total: 90.2 },
      [
        { itemId: 1002, sku: 'HOODIE-GRY-L', qty: 1, unitPrice: 54.5, location: 'ST-DOWNTOWN' },
        { itemId: 1004, sku: 'COFFEE-ESP-BULK', qty: 1.5, unitPrice: 23.8, location: 'ST-DOWNTOWN' },
      ],
    ),
  },
  {
    says: 'payment captured for SO-200101 (EUR 48.23), order accepted',
    operations: [
      insert('PaymentTransaction', {
        PaymentId: 4200000000000000101n,
        OrderNumber: 'SO-200101',
        TxnType: 'CAP',
        Amount: 48.23,
        CurrencyCode: 'EUR',
        Status: 'PENDING',
      }),
      update(
        'PaymentTransaction',
        { Status: 'SUCCEEDED', PspReference: 'psp_cap_D3m0x1', ProcessedAt: NOW },
        { PaymentId: 4200000000000000101n },
      ),
      update('SalesOrderHeader', { StatusCode: 'AC' }, { OrderNumber: 'SO-200101' }),
    ],
  },
  {
    says: 'order SO-200103 placed by the sales desk: 30 m ROPE-DYN-10MM from WH-EAST',
    operations: placeOrder(
      { orderNumber: 'SO-200103', customerId: 'CUST-0311', email: 'alan@example.com', channel: 'PHONE', total: 112.35 },
      [{ itemId: 1005, sku: 'ROPE-DYN-10MM', qty: 30, unitPrice: 3.745, location: 'WH-EAST' }],
    ),
  },
  {
    says: 'stock moves: 240 × MUG-STONE-350 received at WH-EAST, 20 × TSHIRT-ORG-BLK-M moved WH-EAST → ST-AIRPORT',
    operations: [
      move('MUG-STONE-350', 'WH-EAST', 240),
      move('TSHIRT-ORG-BLK-M', 'WH-EAST', -20),
      move('TSHIRT-ORG-BLK-M', 'ST-AIRPORT', 20),
    ],
  },
  {
    says: 'order SO-200101 picked and shipped from WH-EAST with DHL, tracking 00340434161094042557',
    operations: [
      update('SalesOrderHeader', { StatusCode: 'PK' }, { OrderNumber: 'SO-200101' }),
      insert('Shipment', { ShipmentId: 5101, OrderNumber: 'SO-200101', LocationCode: 'WH-EAST', Status: 'PK' }),
      update(
        'Shipment',
        { Status: 'SH', Carrier: 'DHL', TrackingNumber: '00340434161094042557', ShippedAt: NOW },
        { ShipmentId: 5101 },
      ),
      update('SalesOrderHeader', { StatusCode: 'SH' }, { OrderNumber: 'SO-200101' }),
      move('TSHIRT-ORG-BLK-M', 'WH-EAST', -2, -2),
      move('MUG-STONE-350', 'WH-EAST', -1, -1),
    ],
  },
  {
    says: 'return RMA-000901 received for SO-200101: 1 × TSHIRT-ORG-BLK-M, too small, back in stock at WH-EAST',
    operations: [
      insert('ReturnAuthorization', {
        RmaId: 7101,
        RmaNumber: 'RMA-000901',
        OrderNumber: 'SO-200101',
        Status: 'AU',
        Reason: 'T-shirt too small',
      }),
      update('ReturnAuthorization', { Status: 'RC', ReceivedAt: NOW }, { RmaId: 7101 }),
      move('TSHIRT-ORG-BLK-M', 'WH-EAST', 1),
    ],
  },
  {
    says: 'refund completed for SO-200101 (EUR 19.99 for RMA-000901)',
    operations: [
      insert('Refund', {
        RefundId: 8101,
        OrderNumber: 'SO-200101',
        RmaNumber: 'RMA-000901',
        Amount: 19.99,
        CurrencyCode: 'EUR',
        Status: 'PENDING',
      }),
      update('Refund', { Status: 'COMPLETED', CompletedAt: NOW }, { RefundId: 8101 }),
    ],
  },
];

/** The demo's live ERP traffic as SQL for `dialect`, one transaction a step. */
export function demoTraffic(dialect: ErpDialect): ErpTrafficStep[] {
  return DEMO_TRAFFIC_SCRIPT.map((step) => ({ says: step.says, sql: renderTransaction(step.operations, dialect) }));
}

/** The demo's live ERP traffic on PostgreSQL (devtools/sql/postgres). */
export const DEMO_TRAFFIC: readonly ErpTrafficStep[] = demoTraffic('postgresql');

/** The order whose refund is the traffic's last effect: once its view shows it, the traffic has arrived. */
export const DEMO_LAST_EFFECT = { orderNumber: 'SO-200101', milestone: 'refunded' } as const;

/** A new order of the demo traffic: who placed it (id and e-mail), through which channel, for what total in EUR. */
type NewOrder = {
  readonly orderNumber: string;
  readonly customerId: string;
  readonly email: string;
  readonly channel: string;
  readonly total: number;
};

/** A line of a new order, allocated at `location`. */
type NewOrderLine = {
  readonly itemId: number;
  readonly sku: string;
  readonly qty: number;
  readonly unitPrice: number;
  readonly location: string;
};

/**
 * An order as the ERP places it: the header (status NW, in EUR, placed now), its lines numbered from 1, and each
 * line's quantity allocated at its location.
 */
function placeOrder(order: NewOrder, lines: readonly NewOrderLine[]): ErpOperation[] {
  return [
    insert('SalesOrderHeader', {
      OrderNumber: order.orderNumber,
      CustomerId: order.customerId,
      CustomerEmail: order.email,
      Channel: order.channel,
      StatusCode: 'NW',
      CurrencyCode: 'EUR',
      OrderTotal: order.total,
      PlacedAt: NOW,
    }),
    insert(
      'SalesOrderLine',
      ...lines.map((line, index) => ({
        OrderNumber: order.orderNumber,
        LineNo: index + 1,
        ItemId: line.itemId,
        Sku: line.sku,
        Qty: line.qty,
        UnitPrice: line.unitPrice,
        LineStatus: 'NW',
        LocationCode: line.location,
      })),
    ),
    ...lines.map((line) => move(line.sku, line.location, 0, line.qty)),
  ];
}
