import { describe, expect, it } from 'vitest';
import { OP } from '../../core/envelope.js';
import { TransformError } from '../../core/errors.js';
import { changeOf, expectEvent, failureOf, SNAPSHOT_POSITION, stageOf } from '../testing.js';
import { orderLine } from './order-line.js';

const stage = stageOf(orderLine);
const orderLineChanged = expectEvent('SalesOrderLine', 'OrderLineChanged');

/** Line 2 of SO-1001: 1.5 kg of espresso beans, not yet allocated to a location. */
const coffeeLine = {
  OrderNumber: 'SO-1001',
  LineNo: 2,
  ItemId: 1004,
  Sku: 'COFFEE-ESP-BULK',
  Qty: '1.500',
  UnitPrice: '23.8000',
  LineStatus: 'NW',
  LocationCode: null,
  ModifiedAt: '2026-11-27T09:15:30.1234567',
};

describe('order_line: given SalesOrderLine changes, expect OrderLineChanged', () => {
  it.each([
    {
      given: 'a line inserted before allocation',
      change: changeOf('SalesOrderLine', OP.create, { after: coffeeLine }),
      expected: [
        orderLineChanged('SO-1001', {
          orderNumber: 'SO-1001',
          lineNo: 2,
          sku: 'COFFEE-ESP-BULK',
          quantity: '1.500',
          unitPrice: '23.8000',
          lineStatus: 'NW',
          location: null,
          removed: false,
        }),
      ],
    },
    {
      given: 'a line read by the initial snapshot',
      change: changeOf('SalesOrderLine', OP.read, { after: { ...coffeeLine, LineStatus: 'AC' } }),
      expected: [
        orderLineChanged(
          'SO-1001',
          {
            orderNumber: 'SO-1001',
            lineNo: 2,
            sku: 'COFFEE-ESP-BULK',
            quantity: '1.500',
            unitPrice: '23.8000',
            lineStatus: 'AC',
            location: null,
            removed: false,
          },
          { position: SNAPSHOT_POSITION, correlationId: `erp.ErpDemo.dbo.SalesOrderLine@${SNAPSHOT_POSITION}` },
        ),
      ],
    },
    {
      given: 'a line allocated to WH-EAST and moved to picking',
      change: changeOf('SalesOrderLine', OP.update, {
        before: coffeeLine,
        after: { ...coffeeLine, LineStatus: 'PK', LocationCode: 'WH-EAST' },
      }),
      expected: [
        orderLineChanged('SO-1001', {
          orderNumber: 'SO-1001',
          lineNo: 2,
          sku: 'COFFEE-ESP-BULK',
          quantity: '1.500',
          unitPrice: '23.8000',
          lineStatus: 'PK',
          location: 'WH-EAST',
          removed: false,
        }),
      ],
    },
    {
      given: 'a quantity change without a before image (the line carries its whole state)',
      change: changeOf('SalesOrderLine', OP.update, { after: { ...coffeeLine, Qty: '2.25' } }),
      expected: [
        orderLineChanged('SO-1001', {
          orderNumber: 'SO-1001',
          lineNo: 2,
          sku: 'COFFEE-ESP-BULK',
          quantity: '2.250',
          unitPrice: '23.8000',
          lineStatus: 'NW',
          location: null,
          removed: false,
        }),
      ],
    },
    {
      given: 'a line deleted',
      change: changeOf('SalesOrderLine', OP.delete, { before: coffeeLine }),
      expected: [
        orderLineChanged('SO-1001', {
          orderNumber: 'SO-1001',
          lineNo: 2,
          sku: 'COFFEE-ESP-BULK',
          quantity: '1.500',
          unitPrice: '23.8000',
          lineStatus: 'NW',
          location: null,
          removed: true,
        }),
      ],
    },
  ])('$given', ({ change, expected }) => {
    expect(stage.apply(change)).toEqual({ kind: 'emit', events: expected });
  });

  it('skips a truncate of the table', () => {
    expect(stage.apply(changeOf('SalesOrderLine', OP.truncate, { key: {} }))).toEqual({
      kind: 'skip',
      reason:
        'Truncate of ErpDemo.dbo.SalesOrderLine carries no rows; re-snapshot the table to rebuild what was derived from it',
    });
  });

  it.each([
    {
      given: 'an insert without Qty',
      change: changeOf('SalesOrderLine', OP.create, {
        after: { OrderNumber: 'SO-1001', LineNo: 2, Sku: 'COFFEE-ESP-BULK', UnitPrice: '23.8000', LineStatus: 'NW' },
      }),
      message: 'Missing column Qty in ErpDemo.dbo.SalesOrderLine key {"OrderNumber":"SO-1001","LineNo":2}',
    },
    {
      given: 'a line number decoded as a string',
      change: changeOf('SalesOrderLine', OP.create, { after: { ...coffeeLine, LineNo: '2' } }),
      message:
        'Invalid column LineNo in ErpDemo.dbo.SalesOrderLine key {"OrderNumber":"SO-1001","LineNo":"2"}: expected an integer, got "2"',
    },
    {
      given: 'a unit price with more decimals than scale 4',
      change: changeOf('SalesOrderLine', OP.create, { after: { ...coffeeLine, UnitPrice: '23.80001' } }),
      message:
        'Invalid column UnitPrice in ErpDemo.dbo.SalesOrderLine key {"OrderNumber":"SO-1001","LineNo":2}: expected a decimal string with at most 4 decimals, got "23.80001"',
    },
  ])('fails $given', ({ change, message }) => {
    const error = failureOf(stage.apply(change));
    expect(error).toBeInstanceOf(TransformError);
    expect(error.message).toBe(message);
    expect(error.location).toEqual({ stage: 'order_line' });
  });

  it('gives a replayed change the same events, ids included', () => {
    const change = changeOf('SalesOrderLine', OP.delete, { before: coffeeLine });
    expect(stage.apply(structuredClone(change))).toEqual(stage.apply(change));
  });
});
