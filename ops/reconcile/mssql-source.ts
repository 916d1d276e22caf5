import { type BalanceKey, type ReconcileSource, type SourceBalance, type SourceOrder } from './reconcile.js';
import { type QueryExecutor, type SqlQuery } from '../../connectors/mssql/executor.js';
import { quoteTable, type TableName, tableLabel } from '../../connectors/mssql/tsql.js';

/** Which tables to read; null skips that comparison. */
export type MssqlReconcileTables = {
  /** e.g. `dbo.InventoryBalance` */
  readonly balances: TableName | null;
  /** e.g. `dbo.SalesOrderHeader` */
  readonly orders: TableName | null;
};

/**
 * Byte-wise code point order for NVARCHAR keys, whatever the database's
 * (usually case-insensitive) collation, so pages merge with MongoDB's order.
 *
 * @see https://learn.microsoft.com/sql/relational-databases/collations/collation-and-unicode-support#Binary-collations
 */
const BINARY = 'COLLATE Latin1_General_BIN2';

/** The reconcile statements, by id; the executor names the id in errors, the fake in tests matches on it. */
export function reconcileQueries(tables: MssqlReconcileTables) {
  const balances = tables.balances === null ? null : quoteTable(tables.balances);
  const orders = tables.orders === null ? null : quoteTable(tables.orders);
  // DECIMAL columns travel as text: the driver would turn them into floats.
  const balanceColumns =
    'Sku, LocationCode, CONVERT(varchar(48), QtyOnHand) AS QtyOnHand, ' +
    'CONVERT(varchar(48), QtyAllocated) AS QtyAllocated, CONVERT(varchar(48), SafetyStock) AS SafetyStock';
  const balanceOrder = `ORDER BY Sku ${BINARY}, LocationCode ${BINARY}`;
  return {
    countBalances: { id: 'reconcile.balances.count', text: `SELECT COUNT_BIG(*) AS n FROM ${balances};` },
    firstBalances: {
      id: 'reconcile.balances.first',
      text: `SELECT TOP (@limit) ${balanceColumns} FROM ${balances} ${balanceOrder};`,
    },
    nextBalances: {
      id: 'reconcile.balances.after',
      text:
        `SELECT TOP (@limit) ${balanceColumns} FROM ${balances} ` +
        `WHERE Sku ${BINARY} > @sku OR (Sku = @sku AND LocationCode ${BINARY} > @location) ${balanceOrder};`,
    },
    countOrders: { id: 'reconcile.orders.count', text: `SELECT COUNT_BIG(*) AS n FROM ${orders};` },
    firstOrders: {
      id: 'reconcile.orders.first',
      text: `SELECT TOP (@limit) OrderNumber, RTRIM(StatusCode) AS StatusCode FROM ${orders} ORDER BY OrderNumber ${BINARY};`,
    },
    nextOrders: {
      id: 'reconcile.orders.after',
      text:
        `SELECT TOP (@limit) OrderNumber, RTRIM(StatusCode) AS StatusCode FROM ${orders} ` +
        `WHERE OrderNumber ${BINARY} > @orderNumber ORDER BY OrderNumber ${BINARY};`,
    },
  } as const satisfies Record<string, SqlQuery>;
}

type BalanceRow = {
  Sku: unknown;
  LocationCode: unknown;
  QtyOnHand: unknown;
  QtyAllocated: unknown;
  SafetyStock: unknown;
};
type OrderRow = { OrderNumber: unknown; StatusCode: unknown };

/**
 * The ERP side of a reconciliation on SQL Server, over a connected
 * {@link QueryExecutor} (see `ops/reconcile/reconcile.ts` for the contract): keyset
 * pages ordered `Latin1_General_BIN2`, quantities converted to text in the
 * query, `StatusCode` without CHAR(2) padding. Queries reject with the
 * executor's classified errors. `close` closes the executor.
 */
export function createMssqlReconcileSource(
  executor: QueryExecutor,
  tables: MssqlReconcileTables,
  server: string,
): ReconcileSource {
  const queries = reconcileQueries(tables);
  return {
    description: `SQL Server database ${executor.database} at ${server}`,
    async countBalances() {
      if (tables.balances === null) return 0;
      const [row] = await executor.query<{ n: unknown }>(queries.countBalances);
      return Number(row?.n ?? 0);
    },
    async balancePage(after: BalanceKey | undefined, limit: number): Promise<SourceBalance[]> {
      if (tables.balances === null) return [];
      const rows =
        after === undefined
          ? await executor.query<BalanceRow>(queries.firstBalances, { limit })
          : await executor.query<BalanceRow>(queries.nextBalances, {
              limit,
              sku: after.sku,
              location: after.location,
            });
      const table = tableLabel(tables.balances);
      return rows.map((row) => ({
        sku: text(row.Sku, 'Sku', table),
        location: text(row.LocationCode, 'LocationCode', table),
        onHand: text(row.QtyOnHand, 'QtyOnHand', table),
        reserved: text(row.QtyAllocated, 'QtyAllocated', table),
        safetyStock: text(row.SafetyStock, 'SafetyStock', table),
      }));
    },
    async countOrders() {
      if (tables.orders === null) return 0;
      const [row] = await executor.query<{ n: unknown }>(queries.countOrders);
      return Number(row?.n ?? 0);
    },
    async orderPage(after: string | undefined, limit: number): Promise<SourceOrder[]> {
      if (tables.orders === null) return [];
      const rows =
        after === undefined
          ? await executor.query<OrderRow>(queries.firstOrders, { limit })
          : await executor.query<OrderRow>(queries.nextOrders, { limit, orderNumber: after });
      const table = tableLabel(tables.orders);
      return rows.map((row) => ({
        orderNumber: text(row.OrderNumber, 'OrderNumber', table),
        statusCode: text(row.StatusCode, 'StatusCode', table),
      }));
    },
    async close() {
      await executor.close();
    },
  };
}

function text(value: unknown, column: string, table: string): string {
  if (typeof value !== 'string') {
    throw new TypeError(`Column ${column} of ${table} is ${JSON.stringify(value)}, expected text`);
  }
  return value;
}
