import { describe, expect, it } from 'vitest';
import { OP, type OrderStatus, type Row } from 'cdc-sync/stages';
import { changeOf, eventsOf, expectEvent, failureOf, stageOf } from 'cdc-sync/stages/testing';
import { salesOrderDetail, salesOrderHeader } from './orders.ts';

const HEADER = 'AdventureWorks.Sales.SalesOrderHeader';
const DETAIL = 'AdventureWorks.Sales.SalesOrderDetail';

/** Order 43659 as AdventureWorks holds it, captured while streaming: the computed TotalDue and SalesOrderNumber empty. */
const so43659: Row = {
  SalesOrderID: 43659,
  Status: 1,
  OnlineOrderFlag: false,
  SalesOrderNumber: '',
  CustomerID: 29825,
  SubTotal: '20565.6206',
  TaxAmt: '1971.5149',
  Freight: '616.0984',
  TotalDue: '0.0000',
  OrderDate: '2011-05-31T00:00:00.000',
  ShipDate: null,
};

const header = (op: (typeof OP)[keyof typeof OP], rows: { before?: Row; after?: Row }) =>
  changeOf(HEADER, op, { ...rows, key: { SalesOrderID: (rows.after ?? rows.before)!['SalesOrderID'] } });

const orderAccepted = expectEvent(HEADER, 'OrderAccepted');
const orderStatusChanged = expectEvent(HEADER, 'OrderStatusChanged');
const orderCancelled = expectEvent(HEADER, 'OrderCancelled');
const orderLineChanged = expectEvent(DETAIL, 'OrderLineChanged');

describe('aw_sales_order_header', () => {
  const stage = stageOf(salesOrderHeader);

  it('accepts an order keyed SO<SalesOrderID>, its total recomputed from SubTotal + TaxAmt + Freight', () => {
    expect(eventsOf(stage.apply(header(OP.create, { after: so43659 })))).toEqual([
      orderAccepted('SO43659', {
        orderNumber: 'SO43659',
        customerId: '29825',
        customerEmail: null,
        channel: 'SALES_REP',
        status: 'PENDING',
        erpStatus: '1',
        currency: 'USD',
        orderTotal: '23153.2339',
        placedAt: '2011-05-31T00:00:00.000-07:00',
      }),
    ]);
  });

  it.each([
    ['2011-01-15T09:30:00.000', '2011-01-15T09:30:00.000-08:00'],
    ['2011-07-15T09:30:00.000', '2011-07-15T09:30:00.000-07:00'],
    ['2011-03-13T03:30:00.000', '2011-03-13T03:30:00.000-07:00'],
  ])('reads the zone-less OrderDate %s in America/Los_Angeles as %s', (orderDate, placedAt) => {
    const [event] = eventsOf(stage.apply(header(OP.create, { after: { ...so43659, OrderDate: orderDate } })));
    expect(event?.payload).toMatchObject({ placedAt });
  });

  it('ships an order moving to Status 5, setting the shipped milestone at its local ShipDate', () => {
    const shipped = { ...so43659, Status: 5, ShipDate: '2011-06-07T00:00:00.000' };
    expect(eventsOf(stage.apply(header(OP.update, { before: so43659, after: shipped })))).toEqual([
      orderStatusChanged('SO43659', {
        orderNumber: 'SO43659',
        fromStatus: 'PENDING',
        toStatus: 'SHIPPED',
        fromErpStatus: '1',
        toErpStatus: '5',
        milestone: 'shipped',
        milestoneAt: '2011-06-07T00:00:00.000-07:00',
      }),
    ]);
  });

  it.each<[number, number, OrderStatus, OrderStatus]>([
    [1, 2, 'PENDING', 'ACCEPTED'],
    [2, 3, 'ACCEPTED', 'ACCEPTED'],
  ])('maps Status %i → %i to %s → %s', (from, to, fromStatus, toStatus) => {
    const result = stage.apply(
      header(OP.update, { before: { ...so43659, Status: from }, after: { ...so43659, Status: to } }),
    );
    expect(eventsOf(result)).toEqual([
      orderStatusChanged('SO43659', {
        orderNumber: 'SO43659',
        fromStatus,
        toStatus,
        fromErpStatus: String(from),
        toErpStatus: String(to),
      }),
    ]);
  });

  it.each([4, 6])('cancels an order moving to Status %i', (to) => {
    const result = stage.apply(header(OP.update, { before: so43659, after: { ...so43659, Status: to } }));
    expect(eventsOf(result)).toEqual([
      orderStatusChanged('SO43659', {
        orderNumber: 'SO43659',
        fromStatus: 'PENDING',
        toStatus: 'CANCELLED',
        fromErpStatus: '1',
        toErpStatus: String(to),
      }),
      orderCancelled('SO43659', { orderNumber: 'SO43659', fromStatus: 'PENDING' }),
    ]);
  });

  it('fails a Status AdventureWorks does not define, naming it', () => {
    const error = failureOf(stage.apply(header(OP.create, { after: { ...so43659, Status: 9 } })));
    expect(error.message).toBe(
      'Unknown Status "9" of order SO43659 in AdventureWorks.Sales.SalesOrderHeader key {"SalesOrderID":43659}; map it under transforms.aw_sales_order_header.statusMap in the pipeline config',
    );
  });
});

describe('aw_sales_order_detail', () => {
  const stage = stageOf(salesOrderDetail);
  const line: Row = {
    SalesOrderID: 43659,
    SalesOrderDetailID: 2,
    OrderQty: 3,
    ProductID: 777,
    UnitPrice: '2024.9940',
    UnitPriceDiscount: '0.0000',
    LineTotal: '0.000000',
  };
  const detail = (op: (typeof OP)[keyof typeof OP], rows: { before?: Row; after?: Row }) =>
    changeOf(DETAIL, op, { ...rows, key: { SalesOrderID: 43659, SalesOrderDetailID: 2 } });

  it("keys a line to its header's order number, SO<SalesOrderID>", () => {
    expect(eventsOf(stage.apply(detail(OP.create, { after: line })))).toEqual([
      orderLineChanged('SO43659', {
        orderNumber: 'SO43659',
        lineNo: 2,
        sku: '777',
        quantity: '3.000',
        unitPrice: '2024.9940',
        lineStatus: 'OPEN',
        location: null,
        removed: false,
      }),
    ]);
  });

  it('removes a deleted line', () => {
    const [event] = eventsOf(stage.apply(detail(OP.delete, { before: line })));
    expect(event?.payload).toMatchObject({ orderNumber: 'SO43659', lineNo: 2, removed: true });
  });
});
