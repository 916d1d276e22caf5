import { describe, expect, it } from 'vitest';
import { OP } from '../core/envelope.js';
import { TransformError } from '../core/errors.js';
import { defineStagePackage, stageRegistry } from '../core/stage.js';
import { constant, fromColumn, fromColumns, sumOfColumns } from './column-values.js';
import { orderHeaderStage } from './order-header-stage.js';
import { orderLineStage } from './order-line-stage.js';
import { defineOrderNumber, type OrderNumber } from './order-number.js';
import { COLUMN } from './rows.js';
import { changeOf, eventsOf, expectEvent, failureOf, SNAPSHOT_POSITION, stageOf } from './testing.js';

const TABLE = 'erp.AdventureWorks.Sales.SalesOrderHeader';

/** AdventureWorks' order number, declared once for its header and line stages. */
const salesOrderNumber = defineOrderNumber(
  fromColumns({ SalesOrderID: COLUMN.integerId }, (row) => `SO${row.SalesOrderID}`),
);

const ADVENTURE_WORKS_STATUSES = {
  '1': 'PENDING',
  '2': 'ACCEPTED',
  '3': 'ACCEPTED',
  '4': 'CANCELLED',
  '5': 'SHIPPED',
  '6': 'CANCELLED',
} as const;

/** `Sales.SalesOrderHeader`: TINYINT status, INT customer, zone-less DATETIME, computed TotalDue. */
const salesOrderHeader = orderHeaderStage({
  name: 'sales_order_header',
  summary: 'SalesOrderHeader rows become order lifecycle events',
  table: 'Sales.SalesOrderHeader',
  orderNumber: salesOrderNumber,
  columns: {
    status: fromColumn('Status', COLUMN.integerId),
    customerId: fromColumn('CustomerID', COLUMN.integerId),
    customerEmail: constant(null),
    channel: fromColumns({ OnlineOrderFlag: COLUMN.bit }, (row) => (row.OnlineOrderFlag ? 'WEB' : 'STORE')),
    currency: constant('USD'),
    total: sumOfColumns('SubTotal', 'TaxAmt', 'Freight'),
    placedAt: fromColumn('OrderDate', COLUMN.localDateTime('America/Los_Angeles')),
  },
  statusMap: ADVENTURE_WORKS_STATUSES,
  milestones: { shipped: { codes: ['5'], at: fromColumn('ShipDate', COLUMN.localDateTime('America/Los_Angeles')) } },
});

const stage = stageOf(salesOrderHeader);
const orderAccepted = expectEvent(TABLE, 'OrderAccepted');
const orderStatusChanged = expectEvent(TABLE, 'OrderStatusChanged');
const orderCancelled = expectEvent(TABLE, 'OrderCancelled');
const orderHeaderChanged = expectEvent(TABLE, 'OrderHeaderChanged');
const orderDeleted = expectEvent(TABLE, 'OrderDeleted');

/** Order 43659 as streamed: CDC captures the computed TotalDue as 0. */
const so43659 = {
  SalesOrderID: 43659,
  RevisionNumber: 8,
  OrderDate: '2011-05-31T00:00:00',
  DueDate: '2011-06-12T00:00:00',
  ShipDate: null,
  Status: 1,
  OnlineOrderFlag: false,
  CustomerID: 29825,
  CurrencyRateID: null,
  SubTotal: '20565.6206',
  TaxAmt: '1971.5149',
  Freight: '616.0984',
  TotalDue: '0.0000',
  ModifiedDate: '2011-06-07T00:00:00',
};
const key = { SalesOrderID: 43659 };
const KEY_JSON = '{"SalesOrderID":43659}';

const header = {
  orderNumber: 'SO43659',
  customerId: '29825',
  customerEmail: null,
  channel: 'STORE',
  currency: 'USD',
  orderTotal: '23153.2339',
  placedAt: '2011-05-31T00:00:00-07:00',
};

describe('orderHeaderStage: given AdventureWorks SalesOrderHeader changes, expect order lifecycle events', () => {
  it.each([
    {
      given: 'an order read by the snapshot: TotalDue recomputed, OrderDate in Pacific time',
      change: changeOf(TABLE, OP.read, {
        after: { ...so43659, Status: 5, ShipDate: '2011-06-07T00:00:00', TotalDue: '23153.2339' },
        key,
      }),
      expected: [
        orderAccepted(
          'SO43659',
          {
            orderNumber: 'SO43659',
            customerId: '29825',
            customerEmail: null,
            channel: 'STORE',
            status: 'SHIPPED',
            erpStatus: '5',
            currency: 'USD',
            orderTotal: '23153.2339',
            placedAt: '2011-05-31T00:00:00-07:00',
            milestone: 'shipped',
            milestoneAt: '2011-06-07T00:00:00-07:00',
          },
          { position: SNAPSHOT_POSITION, correlationId: `${TABLE}@${SNAPSHOT_POSITION}` },
        ),
      ],
    },
    {
      given: 'Status 1 → 2 (approved)',
      change: changeOf(TABLE, OP.update, { before: so43659, after: { ...so43659, Status: 2 }, key }),
      expected: [
        orderStatusChanged('SO43659', {
          orderNumber: 'SO43659',
          fromStatus: 'PENDING',
          toStatus: 'ACCEPTED',
          fromErpStatus: '1',
          toErpStatus: '2',
        }),
      ],
    },
    {
      given: 'Status 2 → 3 (backordered): both ACCEPTED, still a status change',
      change: changeOf(TABLE, OP.update, { before: { ...so43659, Status: 2 }, after: { ...so43659, Status: 3 }, key }),
      expected: [
        orderStatusChanged('SO43659', {
          orderNumber: 'SO43659',
          fromStatus: 'ACCEPTED',
          toStatus: 'ACCEPTED',
          fromErpStatus: '2',
          toErpStatus: '3',
        }),
      ],
    },
    {
      given: 'Status 2 → 5 (shipped): the status sets the shipped milestone at ShipDate, in Pacific time',
      change: changeOf(TABLE, OP.update, {
        before: { ...so43659, Status: 2 },
        after: { ...so43659, Status: 5, ShipDate: '2011-06-07T00:00:00' },
        key,
      }),
      expected: [
        orderStatusChanged('SO43659', {
          orderNumber: 'SO43659',
          fromStatus: 'ACCEPTED',
          toStatus: 'SHIPPED',
          fromErpStatus: '2',
          toErpStatus: '5',
          milestone: 'shipped',
          milestoneAt: '2011-06-07T00:00:00-07:00',
        }),
      ],
    },
    {
      given: 'Status 5 → 6 (cancelled after shipping): no milestone, the order was shipped already',
      change: changeOf(TABLE, OP.update, {
        before: { ...so43659, Status: 5, ShipDate: '2011-06-07T00:00:00' },
        after: { ...so43659, Status: 6, ShipDate: '2011-06-07T00:00:00' },
        key,
      }),
      expected: [
        orderStatusChanged('SO43659', {
          orderNumber: 'SO43659',
          fromStatus: 'SHIPPED',
          toStatus: 'CANCELLED',
          fromErpStatus: '5',
          toErpStatus: '6',
        }),
        orderCancelled('SO43659', { orderNumber: 'SO43659', fromStatus: 'SHIPPED' }),
      ],
    },
    {
      given: 'Status 1 → 4 (rejected): cancelled, as the derived cancelledCodes say',
      change: changeOf(TABLE, OP.update, { before: so43659, after: { ...so43659, Status: 4 }, key }),
      expected: [
        orderStatusChanged('SO43659', {
          orderNumber: 'SO43659',
          fromStatus: 'PENDING',
          toStatus: 'CANCELLED',
          fromErpStatus: '1',
          toErpStatus: '4',
        }),
        orderCancelled('SO43659', { orderNumber: 'SO43659', fromStatus: 'PENDING' }),
      ],
    },
    {
      given: 'the freight corrected: the recomputed total changes',
      change: changeOf(TABLE, OP.update, { before: so43659, after: { ...so43659, Freight: '600.0000' }, key }),
      expected: [orderHeaderChanged('SO43659', { ...header, orderTotal: '23137.1355' })],
    },
    {
      given: 'an order deleted: only the order number is read',
      change: changeOf(TABLE, OP.delete, { before: { SalesOrderID: 43659 }, key }),
      expected: [orderDeleted('SO43659', { orderNumber: 'SO43659' })],
    },
  ])('$given', ({ change, expected }) => {
    expect(stage.apply(change)).toEqual({ kind: 'emit', events: expected });
  });

  it('skips an update of columns outside the canonical header, naming the status column', () => {
    const change = changeOf(TABLE, OP.update, {
      before: so43659,
      after: { ...so43659, RevisionNumber: 9, ModifiedDate: '2011-06-08T00:00:00' },
      key,
    });
    expect(stage.apply(change)).toEqual({ kind: 'skip', reason: 'Neither Status 1 nor a header field changed' });
  });

  it.each([
    {
      given: 'a status the status map lacks',
      change: changeOf(TABLE, OP.create, { after: { ...so43659, Status: 7 }, key }),
      message: `Unknown Status "7" of order SO43659 in AdventureWorks.Sales.SalesOrderHeader key ${KEY_JSON}; map it under transforms.sales_order_header.statusMap in the pipeline config`,
    },
    {
      given: 'an update without a before image',
      change: changeOf(TABLE, OP.update, { after: { ...so43659, Status: 5 }, key }),
      message: `No before image in AdventureWorks.Sales.SalesOrderHeader key ${KEY_JSON}, so the Status transition of order SO43659 cannot be detected; the source must log full before images (PostgreSQL: ALTER TABLE … REPLICA IDENTITY FULL)`,
    },
    {
      given: 'Status 2 → 5 without a ShipDate: the milestone has no time',
      change: changeOf(TABLE, OP.update, { before: { ...so43659, Status: 2 }, after: { ...so43659, Status: 5 }, key }),
      message: `Invalid column ShipDate in AdventureWorks.Sales.SalesOrderHeader key ${KEY_JSON}: expected a date and time without offset (local time in America/Los_Angeles), got null`,
    },
    {
      given: 'a freight decoded as a float',
      change: changeOf(TABLE, OP.create, { after: { ...so43659, Freight: 616.1 }, key }),
      message: `Invalid column Freight in AdventureWorks.Sales.SalesOrderHeader key ${KEY_JSON}: expected a decimal string with at most 4 decimals, got 616.1`,
    },
  ])('fails $given', ({ change, message }) => {
    const error = failureOf(stage.apply(change));
    expect(error).toBeInstanceOf(TransformError);
    expect(error.message).toBe(message);
    expect(error.location).toEqual({ stage: 'sales_order_header' });
  });

  it('defaults its settings from the spec, cancelledCodes being the codes mapped to CANCELLED', () => {
    expect(salesOrderHeader.configSchema.parse({})).toEqual({
      statusMap: ADVENTURE_WORKS_STATUSES,
      cancelledCodes: ['4', '6'],
      milestones: { shipped: ['5'] },
    });
  });

  it.each([
    { given: 'a cancelled code missing', config: { cancelledCodes: ['4'] }, paths: ['statusMap.6'] },
    {
      given: 'a milestone code missing from statusMap',
      config: { milestones: { shipped: ['5', '9'] } },
      paths: ['milestones.shipped.1'],
    },
    {
      given: 'a milestone the stage does not declare',
      config: { milestones: { refunded: ['6'] } },
      paths: ['milestones'],
    },
  ])('refuses settings with $given', ({ config, paths }) => {
    const parsed = salesOrderHeader.configSchema.safeParse(config);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual(paths);
  });

  it('sets the milestone from the codes of the settings, when a pipeline overrides them', () => {
    const backorderShips = stageOf(salesOrderHeader, { milestones: { shipped: ['3', '5'] } });
    const change = changeOf(TABLE, OP.update, {
      before: { ...so43659, Status: 2 },
      after: { ...so43659, Status: 3, ShipDate: '2011-06-03T00:00:00' },
      key,
    });
    expect(eventsOf(backorderShips.apply(change)).map((event) => event.payload)).toEqual([
      {
        orderNumber: 'SO43659',
        fromStatus: 'ACCEPTED',
        toStatus: 'ACCEPTED',
        fromErpStatus: '2',
        toErpStatus: '3',
        milestone: 'shipped',
        milestoneAt: '2011-06-03T00:00:00-07:00',
      },
    ]);
  });
});

describe('orderLineStage, keyed by the header’s shared order number', () => {
  /** AdventureWorks' line stage, keyed by `orderNumber`. */
  const detailStage = (orderNumber: OrderNumber) =>
    orderLineStage({
      name: 'sales_order_detail',
      summary: 'SalesOrderDetail rows become OrderLineChanged',
      table: 'Sales.SalesOrderDetail',
      orderNumber,
      columns: {
        lineNo: 'SalesOrderDetailID',
        sku: fromColumn('ProductID', COLUMN.integerId),
        quantity: fromColumn('OrderQty', COLUMN.integerQuantity),
        unitPrice: 'UnitPrice',
        lineStatus: constant('OPEN'),
        location: constant(null),
      },
    });
  const salesOrderDetail = detailStage(salesOrderNumber);

  const detailTable = 'erp.AdventureWorks.Sales.SalesOrderDetail';
  const orderLineChanged = expectEvent(detailTable, 'OrderLineChanged');
  const line = { SalesOrderID: 43659, SalesOrderDetailID: 1, OrderQty: 1, ProductID: 776, UnitPrice: '2024.9940' };
  const lineKey = { SalesOrderID: 43659, SalesOrderDetailID: 1 };

  it.each([
    { given: 'a line inserted', change: changeOf(detailTable, OP.create, { after: line, key: lineKey }), qty: '1.000' },
    {
      given: 'a line’s quantity raised',
      change: changeOf(detailTable, OP.update, { before: line, after: { ...line, OrderQty: 3 }, key: lineKey }),
      qty: '3.000',
    },
    {
      given: 'a line deleted',
      change: changeOf(detailTable, OP.delete, { before: line, key: lineKey }),
      qty: '1.000',
      removed: true,
    },
  ])('keys $given by the header’s order number', ({ change, qty, removed = false }) => {
    expect(stageOf(salesOrderDetail).apply(change)).toEqual({
      kind: 'emit',
      events: [
        orderLineChanged('SO43659', {
          orderNumber: 'SO43659',
          lineNo: 1,
          sku: '776',
          quantity: qty,
          unitPrice: '2024.9940',
          lineStatus: 'OPEN',
          location: null,
          removed,
        }),
      ],
    });
    const header = eventsOf(stage.apply(changeOf(TABLE, OP.create, { after: so43659, key })));
    expect(header.map((event) => event.meta.aggregateKey)).toEqual(['SO43659']);
  });

  it('is accepted by a registry and a stage package when every stage holds the same definition', () => {
    expect(Object.keys(stageRegistry(salesOrderHeader, salesOrderDetail))).toEqual([
      'sales_order_header',
      'sales_order_detail',
    ]);
    expect(defineStagePackage({ name: 'adventureworks', stages: [salesOrderHeader, salesOrderDetail] }).stages).toEqual(
      [salesOrderHeader, salesOrderDetail],
    );
  });

  it('is refused when two stages hold different definitions, even of the same format', () => {
    const copy = detailStage(
      defineOrderNumber(fromColumns({ SalesOrderID: COLUMN.integerId }, (row) => `SO${row.SalesOrderID}`)),
    );
    const message =
      'Stages sales_order_header and sales_order_detail of the stage package adventureworks hold different orderNumber settings; declare it once and pass the same one to both';
    expect(() => defineStagePackage({ name: 'adventureworks', stages: [salesOrderHeader, copy] })).toThrow(
      new TypeError(message),
    );
    expect(() => stageRegistry(salesOrderHeader, copy)).toThrow(
      new TypeError(message.replace('stage package adventureworks', 'registry')),
    );
  });

  it('takes only a declared definition, never a column name or format of its own', () => {
    // @ts-expect-error: a string would be a second, independent copy of the order number
    expect(() => detailStage('SalesOrderID')).toThrow(
      new TypeError(
        'Stage sales_order_detail needs an orderNumber made once by defineOrderNumber(…) and shared by every order stage, got "SalesOrderID"',
      ),
    );
  });
});
