import {
  COLUMN,
  constant,
  defineOrderNumber,
  fromColumn,
  fromColumns,
  ORDER_STATUS,
  orderHeaderStage,
  orderLineStage,
  sumOfColumns,
} from 'cdc-sync/stages';

/**
 * The IANA zone of AdventureWorks' zone-less `datetime` columns (Adventure Works Cycles is in Bothell, Washington).
 * Each local time is read with the offset that applied at that moment, daylight saving included.
 */
export const ADVENTUREWORKS_ZONE = 'America/Los_Angeles';

/**
 * The order number, as AdventureWorks computes `SalesOrderNumber`: `SO` and the `SalesOrderID`. Declared once and
 * shared by the header and the detail stage, so a line can never be keyed to another order than its header.
 * (`SalesOrderNumber` itself is a computed column, which CDC captures as empty while streaming.)
 */
export const ORDER_NUMBER = defineOrderNumber(
  fromColumns({ SalesOrderID: COLUMN.integerId }, (row) => `SO${row.SalesOrderID}`),
);

/**
 * `Sales.SalesOrderHeader` → the order lifecycle events. `Status` as AdventureWorks defines it: 1 in process,
 * 2 approved, 3 backordered, 4 rejected, 5 shipped (which also sets the `shipped` milestone at `ShipDate`),
 * 6 cancelled. `TotalDue` is a computed column, so the total is
 * recomputed as `SubTotal + TaxAmt + Freight`; the customer is the integer `CustomerID`; the channel comes from
 * `OnlineOrderFlag`; AdventureWorks has no e-mail on the header and sells in US dollars (orders with a
 * `CurrencyRateID` are priced in USD too).
 */
export const salesOrderHeader = orderHeaderStage({
  name: 'aw_sales_order_header',
  summary: 'AdventureWorks SalesOrderHeader rows become the order lifecycle events, keyed SO<SalesOrderID>',
  table: 'Sales.SalesOrderHeader',
  orderNumber: ORDER_NUMBER,
  columns: {
    status: fromColumn('Status', COLUMN.integerId),
    customerId: fromColumn('CustomerID', COLUMN.integerId),
    customerEmail: constant(null),
    channel: fromColumns({ OnlineOrderFlag: COLUMN.bit }, (row) => (row.OnlineOrderFlag ? 'ONLINE' : 'SALES_REP')),
    currency: constant('USD'),
    total: sumOfColumns('SubTotal', 'TaxAmt', 'Freight'),
    placedAt: fromColumn('OrderDate', COLUMN.localDateTime(ADVENTUREWORKS_ZONE)),
  },
  statusMap: {
    '1': ORDER_STATUS.pending,
    '2': ORDER_STATUS.accepted,
    '3': ORDER_STATUS.accepted,
    '4': ORDER_STATUS.cancelled,
    '5': ORDER_STATUS.shipped,
    '6': ORDER_STATUS.cancelled,
  },
  // AdventureWorks marks shipping on the header: Status 5 and its ShipDate set the shipped milestone.
  milestones: { shipped: { codes: ['5'], at: fromColumn('ShipDate', COLUMN.localDateTime(ADVENTUREWORKS_ZONE)) } },
});

/**
 * `Sales.SalesOrderDetail` → `OrderLineChanged`: the line number is `SalesOrderDetailID`, the SKU the `ProductID`,
 * the quantity the integer `OrderQty`. AdventureWorks has no line status or allocated location.
 */
export const salesOrderDetail = orderLineStage({
  name: 'aw_sales_order_detail',
  summary: 'AdventureWorks SalesOrderDetail rows become OrderLineChanged, keyed SO<SalesOrderID>',
  table: 'Sales.SalesOrderDetail',
  orderNumber: ORDER_NUMBER,
  columns: {
    lineNo: fromColumn('SalesOrderDetailID', COLUMN.integer),
    sku: fromColumn('ProductID', COLUMN.integerId),
    quantity: fromColumn('OrderQty', COLUMN.integerQuantity),
    unitPrice: 'UnitPrice',
    lineStatus: constant('OPEN'),
    location: constant(null),
  },
});
