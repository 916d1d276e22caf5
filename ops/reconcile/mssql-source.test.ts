import { describe, expect, it } from 'vitest';
import { SourceUnavailableError } from '../../core/errors.js';
import {
  compareBalances,
  compareOrderStatuses,
  sourceBalances,
  sourceOrders,
  type ViewBalance,
  type ViewOrder,
} from './reconcile.js';
import { createMssqlReconcileSource, reconcileQueries } from './mssql-source.js';
import { createFakeExecutor } from '../../connectors/mssql/testing.js';

// SQL Server cannot run here: the reconcile source runs over canned result sets keyed by query id. Rows are
// shaped as the mssql driver returns them for the queries' column lists (DECIMAL converted to varchar in SQL).

const TABLES = {
  balances: { schema: 'dbo', name: 'InventoryBalance' },
  orders: { schema: 'dbo', name: 'SalesOrderHeader' },
};

async function* items<T>(values: readonly T[]): AsyncGenerator<T> {
  yield* values;
}

const balanceRow = (Sku: string, LocationCode: string, QtyOnHand: string) => ({
  Sku,
  LocationCode,
  QtyOnHand,
  QtyAllocated: '0.000',
  SafetyStock: '5.000',
});

describe('the SQL Server reconcile source', () => {
  it('reads balances in keyset pages, binary-collated, with exact decimal text', async () => {
    const executor = createFakeExecutor({
      'reconcile.balances.count': [{ n: '3' }],
      'reconcile.balances.first': [balanceRow('MUG', 'WH-EAST', '960.000'), balanceRow('MUG', 'WH-WEST', '12.500')],
      'reconcile.balances.after': [balanceRow('TSHIRT', 'WH-EAST', '480.000')],
    });
    const source = createMssqlReconcileSource(executor, TABLES, 'erp-db:1433');
    const view: ViewBalance[] = [
      { sku: 'MUG', location: 'WH-EAST', onHand: '960.000', reserved: '0.000', safetyStock: '5.000', removed: false },
      { sku: 'MUG', location: 'WH-WEST', onHand: '12.000', reserved: '0.000', safetyStock: '5.000', removed: false },
      {
        sku: 'TSHIRT',
        location: 'WH-EAST',
        onHand: '480.000',
        reserved: '0.000',
        safetyStock: '5.000',
        removed: false,
      },
    ];

    expect(source.description).toBe('SQL Server database ErpDemo at erp-db:1433');
    expect(await source.countBalances()).toBe(3);
    const report = await compareBalances(sourceBalances(source, 2), items(view), { samples: 5 });

    expect(report).toEqual({
      subject: 'inventory balances',
      sourceRows: 3,
      viewDocuments: 3,
      inSync: 2,
      missingInView: 0,
      missingInSource: 0,
      different: 1,
      samples: [
        { kind: 'different', key: 'MUG@WH-WEST', fields: [{ field: 'onHand', source: '12.500', view: '12.000' }] },
      ],
    });
    expect(executor.calls.map(({ id, params }) => ({ id, params }))).toEqual([
      { id: 'reconcile.balances.count', params: {} },
      { id: 'reconcile.balances.first', params: { limit: 2 } },
      { id: 'reconcile.balances.after', params: { limit: 2, sku: 'MUG', location: 'WH-WEST' } },
    ]);
  });

  it('reads order statuses without CHAR(2) padding, in keyset pages', async () => {
    const executor = createFakeExecutor({
      'reconcile.orders.first': [
        { OrderNumber: 'SO-1', StatusCode: 'AC' },
        { OrderNumber: 'SO-2', StatusCode: 'SH' },
      ],
      'reconcile.orders.after': [],
    });
    const source = createMssqlReconcileSource(executor, TABLES, 'erp-db:1433');
    const view: ViewOrder[] = [
      { orderNumber: 'SO-1', status: 'ACCEPTED', deleted: false },
      { orderNumber: 'SO-2', status: 'PICKING', deleted: false },
    ];
    const statusOf = (code: string) => ({ AC: 'ACCEPTED', SH: 'SHIPPED' })[code];
    const report = await compareOrderStatuses(sourceOrders(source, 2), items(view), statusOf, { samples: 5 });

    expect(report.different).toBe(1);
    expect(report.samples).toEqual([
      {
        kind: 'different',
        key: 'SO-2',
        fields: [{ field: 'status', source: 'SHIPPED', view: 'PICKING' }],
        note: 'ERP StatusCode SH',
      },
    ]);
    expect(executor.calls.map(({ id, params }) => ({ id, params }))).toEqual([
      { id: 'reconcile.orders.first', params: { limit: 2 } },
      { id: 'reconcile.orders.after', params: { limit: 2, orderNumber: 'SO-2' } },
    ]);
  });

  it('orders and compares keys binary-collated and sends decimals as text', () => {
    const queries = reconcileQueries(TABLES);
    expect(queries.nextBalances.text).toBe(
      'SELECT TOP (@limit) Sku, LocationCode, CONVERT(varchar(48), QtyOnHand) AS QtyOnHand, ' +
        'CONVERT(varchar(48), QtyAllocated) AS QtyAllocated, CONVERT(varchar(48), SafetyStock) AS SafetyStock ' +
        'FROM [dbo].[InventoryBalance] WHERE Sku COLLATE Latin1_General_BIN2 > @sku OR ' +
        '(Sku = @sku AND LocationCode COLLATE Latin1_General_BIN2 > @location) ' +
        'ORDER BY Sku COLLATE Latin1_General_BIN2, LocationCode COLLATE Latin1_General_BIN2;',
    );
    expect(queries.nextOrders.text).toBe(
      'SELECT TOP (@limit) OrderNumber, RTRIM(StatusCode) AS StatusCode FROM [dbo].[SalesOrderHeader] ' +
        'WHERE OrderNumber COLLATE Latin1_General_BIN2 > @orderNumber ORDER BY OrderNumber COLLATE Latin1_General_BIN2;',
    );
  });

  it('passes the executor’s classified errors through', async () => {
    const lost = new SourceUnavailableError('SQL Server at erp-db:1433 is unreachable');
    const source = createMssqlReconcileSource(
      createFakeExecutor({ 'reconcile.orders.first': { error: lost } }),
      TABLES,
      'erp-db:1433',
    );
    await expect(source.orderPage(undefined, 10)).rejects.toBe(lost);
  });

  it('fails naming the column and table for a value the driver did not return as text', async () => {
    const source = createMssqlReconcileSource(
      createFakeExecutor({ 'reconcile.balances.first': [{ ...balanceRow('A', 'L', '1.000'), QtyOnHand: 1 }] }),
      TABLES,
      'erp-db:1433',
    );
    await expect(source.balancePage(undefined, 10)).rejects.toThrow(
      'Column QtyOnHand of dbo.InventoryBalance is 1, expected text',
    );
  });

  it('reads nothing for a skipped table', async () => {
    const executor = createFakeExecutor({});
    const source = createMssqlReconcileSource(executor, { balances: null, orders: null }, 'erp-db:1433');
    expect(await source.balancePage(undefined, 10)).toEqual([]);
    expect(await source.countOrders()).toBe(0);
    expect(executor.calls).toEqual([]);
  });
});
