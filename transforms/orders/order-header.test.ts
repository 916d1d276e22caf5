import { describe, expect, it } from 'vitest';
import { OP } from '../../core/envelope.js';
import { TransformError } from '../../core/errors.js';
import { changeOf, eventsOf, expectEvent, failureOf, SNAPSHOT_POSITION, stageOf } from '../testing.js';
import { orderHeader, orderHeaderConfigSchema } from './order-header.js';

const stage = stageOf(orderHeader);
const orderAccepted = expectEvent('SalesOrderHeader', 'OrderAccepted');
const orderHeaderChanged = expectEvent('SalesOrderHeader', 'OrderHeaderChanged');
const orderStatusChanged = expectEvent('SalesOrderHeader', 'OrderStatusChanged');
const orderCancelled = expectEvent('SalesOrderHeader', 'OrderCancelled');
const orderDeleted = expectEvent('SalesOrderHeader', 'OrderDeleted');

/** A web order as the ERP inserts it. */
const so1001 = {
  OrderNumber: 'SO-1001',
  CustomerId: 'C-20417',
  CustomerEmail: 'ada@example.com',
  Channel: 'WEB',
  StatusCode: 'NW',
  CurrencyCode: 'EUR',
  OrderTotal: '74.4800',
  PlacedAt: '2026-11-27T10:15:30.1234567+01:00',
  RowGuid: '6F9619FF-8B86-D011-B42D-00C04FC964FF',
  ModifiedAt: '2026-11-27T09:15:30.1234567',
};

const SO1001_KEY = '{"OrderNumber":"SO-1001"}';

/** SO-1001's header as OrderHeaderChanged carries it, with `changes` applied. */
function so1001Header(changes: Partial<Parameters<typeof orderHeaderChanged>[1]> = {}) {
  return {
    orderNumber: 'SO-1001',
    customerId: 'C-20417',
    customerEmail: 'ada@example.com',
    channel: 'WEB',
    currency: 'EUR',
    orderTotal: '74.4800',
    placedAt: '2026-11-27T10:15:30.1234567+01:00',
    ...changes,
  };
}

describe('order_header: given SalesOrderHeader changes, expect order lifecycle events', () => {
  it.each([
    {
      given: 'an order inserted as new',
      change: changeOf('SalesOrderHeader', OP.create, { after: so1001 }),
      expected: [
        orderAccepted('SO-1001', {
          orderNumber: 'SO-1001',
          customerId: 'C-20417',
          customerEmail: 'ada@example.com',
          channel: 'WEB',
          status: 'PENDING',
          erpStatus: 'NW',
          currency: 'EUR',
          orderTotal: '74.4800',
          placedAt: '2026-11-27T10:15:30.1234567+01:00',
        }),
      ],
    },
    {
      given: 'an accepted store order without e-mail read by the initial snapshot',
      change: changeOf('SalesOrderHeader', OP.read, {
        after: { ...so1001, OrderNumber: 'SO-0998', Channel: 'STORE', CustomerEmail: null, StatusCode: 'AC' },
      }),
      expected: [
        orderAccepted(
          'SO-0998',
          {
            orderNumber: 'SO-0998',
            customerId: 'C-20417',
            customerEmail: null,
            channel: 'STORE',
            status: 'ACCEPTED',
            erpStatus: 'AC',
            currency: 'EUR',
            orderTotal: '74.4800',
            placedAt: '2026-11-27T10:15:30.1234567+01:00',
          },
          {
            position: SNAPSHOT_POSITION,
            correlationId: `erp.ErpDemo.dbo.SalesOrderHeader@${SNAPSHOT_POSITION}`,
          },
        ),
      ],
    },
    {
      given: 'an order inserted already cancelled: accepted as cancelled, no OrderCancelled',
      change: changeOf('SalesOrderHeader', OP.create, { after: { ...so1001, StatusCode: 'CX' } }),
      expected: [
        orderAccepted('SO-1001', {
          orderNumber: 'SO-1001',
          customerId: 'C-20417',
          customerEmail: 'ada@example.com',
          channel: 'WEB',
          status: 'CANCELLED',
          erpStatus: 'CX',
          currency: 'EUR',
          orderTotal: '74.4800',
          placedAt: '2026-11-27T10:15:30.1234567+01:00',
        }),
      ],
    },
    {
      given: 'StatusCode NW → AC',
      change: changeOf('SalesOrderHeader', OP.update, { before: so1001, after: { ...so1001, StatusCode: 'AC' } }),
      expected: [
        orderStatusChanged('SO-1001', {
          orderNumber: 'SO-1001',
          fromStatus: 'PENDING',
          toStatus: 'ACCEPTED',
          fromErpStatus: 'NW',
          toErpStatus: 'AC',
        }),
      ],
    },
    {
      given: 'StatusCode SH → CL with the total corrected in the same update: the status change, then the header',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: { ...so1001, StatusCode: 'SH' },
        after: { ...so1001, StatusCode: 'CL', OrderTotal: '70.0000' },
      }),
      expected: [
        orderStatusChanged('SO-1001', {
          orderNumber: 'SO-1001',
          fromStatus: 'SHIPPED',
          toStatus: 'CLOSED',
          fromErpStatus: 'SH',
          toErpStatus: 'CL',
        }),
        orderHeaderChanged('SO-1001', so1001Header({ orderTotal: '70.0000' })),
      ],
    },
    {
      given: 'StatusCode AC with the total raised after placement (a line added)',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: { ...so1001, StatusCode: 'AC', OrderTotal: '48.2300' },
        after: { ...so1001, StatusCode: 'AC', OrderTotal: '64.7300', ModifiedAt: '2026-11-27T09:20:00.0000000' },
      }),
      expected: [orderHeaderChanged('SO-1001', so1001Header({ orderTotal: '64.7300' }))],
    },
    {
      given: 'the customer’s e-mail corrected',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: { ...so1001, StatusCode: 'AC' },
        after: { ...so1001, StatusCode: 'AC', CustomerEmail: 'ada.l@example.com' },
      }),
      expected: [orderHeaderChanged('SO-1001', so1001Header({ customerEmail: 'ada.l@example.com' }))],
    },
    {
      given: 'the customer’s e-mail removed',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: so1001,
        after: { ...so1001, CustomerEmail: null },
      }),
      expected: [orderHeaderChanged('SO-1001', so1001Header({ customerEmail: null }))],
    },
    {
      given: 'the order moved to another channel and currency, re-priced, under another customer',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: so1001,
        after: { ...so1001, Channel: 'STORE', CurrencyCode: 'CHF', OrderTotal: '71.9', CustomerId: 'C-20418' },
      }),
      expected: [
        orderHeaderChanged(
          'SO-1001',
          so1001Header({ channel: 'STORE', currency: 'CHF', orderTotal: '71.9000', customerId: 'C-20418' }),
        ),
      ],
    },
    {
      given: 'the placement time corrected',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: so1001,
        after: { ...so1001, PlacedAt: '2026-11-27T10:15:00+01:00' },
      }),
      expected: [orderHeaderChanged('SO-1001', so1001Header({ placedAt: '2026-11-27T10:15:00+01:00' }))],
    },
    {
      given: 'StatusCode PK → CX with the total zeroed: the status change, the cancellation, then the header',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: { ...so1001, StatusCode: 'PK' },
        after: { ...so1001, StatusCode: 'CX', OrderTotal: '0.0000' },
      }),
      expected: [
        orderStatusChanged('SO-1001', {
          orderNumber: 'SO-1001',
          fromStatus: 'PICKING',
          toStatus: 'CANCELLED',
          fromErpStatus: 'PK',
          toErpStatus: 'CX',
        }),
        orderCancelled('SO-1001', { orderNumber: 'SO-1001', fromStatus: 'PICKING' }),
        orderHeaderChanged('SO-1001', so1001Header({ orderTotal: '0.0000' })),
      ],
    },
    {
      given: 'StatusCode PK → CX: the status change, then the cancellation',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: { ...so1001, StatusCode: 'PK' },
        after: { ...so1001, StatusCode: 'CX' },
      }),
      expected: [
        orderStatusChanged('SO-1001', {
          orderNumber: 'SO-1001',
          fromStatus: 'PICKING',
          toStatus: 'CANCELLED',
          fromErpStatus: 'PK',
          toErpStatus: 'CX',
        }),
        orderCancelled('SO-1001', { orderNumber: 'SO-1001', fromStatus: 'PICKING' }),
      ],
    },
    {
      given: 'an order deleted',
      change: changeOf('SalesOrderHeader', OP.delete, { before: { ...so1001, StatusCode: 'CX' } }),
      expected: [orderDeleted('SO-1001', { orderNumber: 'SO-1001' })],
    },
  ])('$given', ({ change, expected }) => {
    expect(stage.apply(change)).toEqual({ kind: 'emit', events: expected });
  });

  describe('with the ERP’s own status codes in config', () => {
    const custom = stageOf(orderHeader, {
      statusMap: { OPEN: 'PENDING', RELEASED: 'ACCEPTED', VOID: 'CANCELLED', REJECTED: 'CANCELLED' },
      cancelledCodes: ['VOID', 'REJECTED'],
    });

    it.each([
      {
        given: 'blank-padded CHAR code OPEN → RELEASED',
        change: changeOf('SalesOrderHeader', OP.update, {
          before: { ...so1001, StatusCode: 'OPEN    ' },
          after: { ...so1001, StatusCode: 'RELEASED' },
        }),
        expected: [
          orderStatusChanged('SO-1001', {
            orderNumber: 'SO-1001',
            fromStatus: 'PENDING',
            toStatus: 'ACCEPTED',
            fromErpStatus: 'OPEN',
            toErpStatus: 'RELEASED',
          }),
        ],
      },
      {
        given: 'OPEN → VOID',
        change: changeOf('SalesOrderHeader', OP.update, {
          before: { ...so1001, StatusCode: 'OPEN' },
          after: { ...so1001, StatusCode: 'VOID' },
        }),
        expected: [
          orderStatusChanged('SO-1001', {
            orderNumber: 'SO-1001',
            fromStatus: 'PENDING',
            toStatus: 'CANCELLED',
            fromErpStatus: 'OPEN',
            toErpStatus: 'VOID',
          }),
          orderCancelled('SO-1001', { orderNumber: 'SO-1001', fromStatus: 'PENDING' }),
        ],
      },
      {
        given: 'VOID → REJECTED: cancelled already, so no second OrderCancelled',
        change: changeOf('SalesOrderHeader', OP.update, {
          before: { ...so1001, StatusCode: 'VOID' },
          after: { ...so1001, StatusCode: 'REJECTED' },
        }),
        expected: [
          orderStatusChanged('SO-1001', {
            orderNumber: 'SO-1001',
            fromStatus: 'CANCELLED',
            toStatus: 'CANCELLED',
            fromErpStatus: 'VOID',
            toErpStatus: 'REJECTED',
          }),
        ],
      },
    ])('$given', ({ change, expected }) => {
      expect(custom.apply(change)).toEqual({ kind: 'emit', events: expected });
    });
  });

  it.each([
    {
      given: 'an update that changes only ModifiedAt and RowGuid',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: { ...so1001, StatusCode: 'AC' },
        after: {
          ...so1001,
          StatusCode: 'AC',
          ModifiedAt: '2026-11-27T09:30:00.0000000',
          RowGuid: '7A9619FF-8B86-D011-B42D-00C04FC964FF',
        },
      }),
      reason: 'Neither StatusCode AC nor a header field changed',
    },
    {
      given: 'an update that changes only CHAR padding and decimal scale, not the values',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: { ...so1001, Channel: 'WEB   ', CurrencyCode: 'EUR', OrderTotal: '74.48' },
        after: { ...so1001, Channel: 'WEB', CurrencyCode: 'EUR ', OrderTotal: '74.4800' },
      }),
      reason: 'Neither StatusCode NW nor a header field changed',
    },
    {
      given: 'a truncate of the table',
      change: changeOf('SalesOrderHeader', OP.truncate, { key: {} }),
      reason:
        'Truncate of ErpDemo.dbo.SalesOrderHeader carries no rows; re-snapshot the table to rebuild what was derived from it',
    },
  ])('skips $given', ({ change, reason }) => {
    expect(stage.apply(change)).toEqual({ kind: 'skip', reason });
  });

  it.each([
    {
      given: 'an update without a before image, even though after says CX',
      change: changeOf('SalesOrderHeader', OP.update, { after: { ...so1001, StatusCode: 'CX' } }),
      message: `No before image in ErpDemo.dbo.SalesOrderHeader key ${SO1001_KEY}, so the StatusCode transition of order SO-1001 cannot be detected; the source must log full before images (PostgreSQL: ALTER TABLE … REPLICA IDENTITY FULL)`,
    },
    {
      given:
        'an update without a before image that changes only the total: status and header changes are both undetectable',
      change: changeOf('SalesOrderHeader', OP.update, { after: { ...so1001, OrderTotal: '80.0000' } }),
      message: `No before image in ErpDemo.dbo.SalesOrderHeader key ${SO1001_KEY}, so the StatusCode transition of order SO-1001 cannot be detected; the source must log full before images (PostgreSQL: ALTER TABLE … REPLICA IDENTITY FULL)`,
    },
    {
      given: 'an update whose after image has a total decoded as a float',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: so1001,
        after: { ...so1001, OrderTotal: 80.5 },
      }),
      message: `Invalid column OrderTotal in ErpDemo.dbo.SalesOrderHeader key ${SO1001_KEY}: expected a decimal string with at most 4 decimals, got 80.5`,
    },
    {
      given: 'an update whose before image lacks a header column',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: { ...so1001, Channel: undefined },
        after: { ...so1001, StatusCode: 'AC' },
      }),
      message: `Missing column Channel in the before image of ErpDemo.dbo.SalesOrderHeader key ${SO1001_KEY}`,
    },
    {
      given: 'an update whose before image holds only the key',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: { OrderNumber: 'SO-1001' },
        after: { ...so1001, StatusCode: 'AC' },
      }),
      message: `Missing column StatusCode in the before image of ErpDemo.dbo.SalesOrderHeader key ${SO1001_KEY}`,
    },
    {
      given: 'an insert with a status code statusMap lacks',
      change: changeOf('SalesOrderHeader', OP.create, { after: { ...so1001, StatusCode: 'ZZ' } }),
      message: `Unknown StatusCode "ZZ" of order SO-1001 in ErpDemo.dbo.SalesOrderHeader key ${SO1001_KEY}; map it under transforms.order_header.statusMap in the pipeline config`,
    },
    {
      given: 'an update from a status code statusMap lacks',
      change: changeOf('SalesOrderHeader', OP.update, {
        before: { ...so1001, StatusCode: 'HD' },
        after: { ...so1001, StatusCode: 'AC' },
      }),
      message: `Unknown StatusCode "HD" of order SO-1001 in the before image of ErpDemo.dbo.SalesOrderHeader key ${SO1001_KEY}; map it under transforms.order_header.statusMap in the pipeline config`,
    },
    {
      given: 'an order total decoded as a float',
      change: changeOf('SalesOrderHeader', OP.create, { after: { ...so1001, OrderTotal: 74.48 } }),
      message: `Invalid column OrderTotal in ErpDemo.dbo.SalesOrderHeader key ${SO1001_KEY}: expected a decimal string with at most 4 decimals, got 74.48`,
    },
    {
      given: 'a placement time without its offset (a DATETIME2, not a DATETIMEOFFSET)',
      change: changeOf('SalesOrderHeader', OP.create, {
        after: { ...so1001, PlacedAt: '2026-11-27T10:15:30.1234567' },
      }),
      message: `Invalid column PlacedAt in ErpDemo.dbo.SalesOrderHeader key ${SO1001_KEY}: expected an ISO-8601 timestamp with offset, got "2026-11-27T10:15:30.1234567"`,
    },
  ])('fails $given', ({ change, message }) => {
    const error = failureOf(stage.apply(change));
    expect(error).toBeInstanceOf(TransformError);
    expect(error.message).toBe(message);
    expect(error.location).toEqual({ stage: 'order_header' });
  });

  it('gives each event type of one change its own id, and a replay the same ids', () => {
    const change = changeOf('SalesOrderHeader', OP.update, {
      before: { ...so1001, StatusCode: 'AC' },
      after: { ...so1001, StatusCode: 'CX', OrderTotal: '0.0000' },
    });
    const ids = eventsOf(stage.apply(change)).map((event) => event.meta.eventId);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect(eventsOf(stage.apply(structuredClone(change))).map((event) => event.meta.eventId)).toEqual(ids);
  });
});

describe('order_header config', () => {
  it('defaults to the sample ERP’s codes', () => {
    expect(orderHeaderConfigSchema.parse({})).toEqual({
      statusMap: {
        NW: 'PENDING',
        AC: 'ACCEPTED',
        PK: 'PICKING',
        SH: 'SHIPPED',
        CL: 'CLOSED',
        CX: 'CANCELLED',
      },
      cancelledCodes: ['CX'],
    });
  });

  it('accepts an ERP without a cancelled status', () => {
    const config = { statusMap: { OPEN: 'PENDING', DONE: 'CLOSED' }, cancelledCodes: [] };
    expect(orderHeaderConfigSchema.parse(config)).toEqual(config);
  });

  it.each([
    { given: 'an unknown canonical status', config: { statusMap: { NW: 'NEW' } }, paths: ['statusMap.NW'] },
    {
      given: 'a cancelled code that does not map to CANCELLED',
      config: { cancelledCodes: ['CL'] },
      paths: ['cancelledCodes.0', 'statusMap.CX'],
    },
    {
      given: 'a code mapped to CANCELLED but not listed as cancelled',
      config: { statusMap: { NW: 'PENDING', CX: 'CANCELLED', VD: 'CANCELLED' } },
      paths: ['statusMap.VD'],
    },
    { given: 'no cancelled codes while CX maps to CANCELLED', config: { cancelledCodes: [] }, paths: ['statusMap.CX'] },
    { given: 'a misspelt key', config: { statusMapping: {} }, paths: [''] },
  ])('rejects $given', ({ config, paths }) => {
    const parsed = orderHeaderConfigSchema.safeParse(config);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual(paths);
  });
});
