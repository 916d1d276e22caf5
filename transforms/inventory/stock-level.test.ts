import { describe, expect, it } from 'vitest';
import { OP } from '../../core/envelope.js';
import { TransformError } from '../../core/errors.js';
import { changeOf, eventsOf, expectEvent, failureOf, SNAPSHOT_POSITION, stageOf } from '../testing.js';
import { stockLevel } from './stock-level.js';

const stage = stageOf(stockLevel);
const stockLevelChanged = expectEvent('InventoryBalance', 'StockLevelChanged');

/** TSHIRT-ORG-BLK-M at WH-EAST, as the sample ERP seeds it. */
const tshirtAtEast = {
  Sku: 'TSHIRT-ORG-BLK-M',
  LocationCode: 'WH-EAST',
  QtyOnHand: '480.000',
  QtyAllocated: '12.000',
  SafetyStock: '50.000',
  LastCountedAt: '2025-01-06T07:30:00.0000000+01:00',
  ModifiedAt: '2025-01-06T06:31:12.5000000',
};

/** Espresso beans, sold by the kilogram: fractional quantities must survive exactly. */
const coffeeAtEast = {
  Sku: 'COFFEE-ESP-BULK',
  LocationCode: 'WH-EAST',
  QtyOnHand: '212.750',
  QtyAllocated: '3.500',
  SafetyStock: '25.000',
  LastCountedAt: null,
  ModifiedAt: '2025-01-06T07:10:00.0000000',
};

const TSHIRT_KEY = '{"Sku":"TSHIRT-ORG-BLK-M","LocationCode":"WH-EAST"}';

describe('stock_level: given InventoryBalance changes, expect StockLevelChanged', () => {
  it.each([
    {
      given: 'a balance inserted',
      change: changeOf('InventoryBalance', OP.create, { after: tshirtAtEast }),
      expected: [
        stockLevelChanged('TSHIRT-ORG-BLK-M@WH-EAST', {
          sku: 'TSHIRT-ORG-BLK-M',
          location: 'WH-EAST',
          onHand: '480.000',
          reserved: '12.000',
          safetyStock: '50.000',
          available: '418.000',
          removed: false,
        }),
      ],
    },
    {
      given: 'a balance read by the initial snapshot',
      change: changeOf('InventoryBalance', OP.read, { after: coffeeAtEast }),
      expected: [
        stockLevelChanged(
          'COFFEE-ESP-BULK@WH-EAST',
          {
            sku: 'COFFEE-ESP-BULK',
            location: 'WH-EAST',
            onHand: '212.750',
            reserved: '3.500',
            safetyStock: '25.000',
            available: '184.250',
            removed: false,
          },
          {
            position: SNAPSHOT_POSITION,
            correlationId: `erp.ErpDemo.dbo.InventoryBalance@${SNAPSHOT_POSITION}`,
          },
        ),
      ],
    },
    {
      given: 'goods picked: on hand and allocated both drop',
      change: changeOf('InventoryBalance', OP.update, {
        before: tshirtAtEast,
        after: { ...tshirtAtEast, QtyOnHand: '478.000', QtyAllocated: '10.000' },
      }),
      expected: [
        stockLevelChanged('TSHIRT-ORG-BLK-M@WH-EAST', {
          sku: 'TSHIRT-ORG-BLK-M',
          location: 'WH-EAST',
          onHand: '478.000',
          reserved: '10.000',
          safetyStock: '50.000',
          available: '418.000',
          removed: false,
        }),
      ],
    },
    {
      given: 'only the safety stock raised',
      change: changeOf('InventoryBalance', OP.update, {
        before: tshirtAtEast,
        after: { ...tshirtAtEast, SafetyStock: '80.000' },
      }),
      expected: [
        stockLevelChanged('TSHIRT-ORG-BLK-M@WH-EAST', {
          sku: 'TSHIRT-ORG-BLK-M',
          location: 'WH-EAST',
          onHand: '480.000',
          reserved: '12.000',
          safetyStock: '80.000',
          available: '388.000',
          removed: false,
        }),
      ],
    },
    {
      given: 'an oversold balance: available goes negative',
      change: changeOf('InventoryBalance', OP.update, {
        before: tshirtAtEast,
        after: { ...tshirtAtEast, QtyOnHand: '10.000', QtyAllocated: '12.000', SafetyStock: '6.000' },
      }),
      expected: [
        stockLevelChanged('TSHIRT-ORG-BLK-M@WH-EAST', {
          sku: 'TSHIRT-ORG-BLK-M',
          location: 'WH-EAST',
          onHand: '10.000',
          reserved: '12.000',
          safetyStock: '6.000',
          available: '-8.000',
          removed: false,
        }),
      ],
    },
    {
      given: 'quantities with fewer decimals than scale 3',
      change: changeOf('InventoryBalance', OP.create, {
        after: { ...coffeeAtEast, QtyOnHand: '24', QtyAllocated: '0.5', SafetyStock: '5.25' },
      }),
      expected: [
        stockLevelChanged('COFFEE-ESP-BULK@WH-EAST', {
          sku: 'COFFEE-ESP-BULK',
          location: 'WH-EAST',
          onHand: '24.000',
          reserved: '0.500',
          safetyStock: '5.250',
          available: '18.250',
          removed: false,
        }),
      ],
    },
    {
      given: 'an update without a before image (the after image is the whole state)',
      change: changeOf('InventoryBalance', OP.update, { after: { ...coffeeAtEast, QtyOnHand: '200.000' } }),
      expected: [
        stockLevelChanged('COFFEE-ESP-BULK@WH-EAST', {
          sku: 'COFFEE-ESP-BULK',
          location: 'WH-EAST',
          onHand: '200.000',
          reserved: '3.500',
          safetyStock: '25.000',
          available: '171.500',
          removed: false,
        }),
      ],
    },
    {
      given: 'a balance deleted: the last known quantities, removed',
      change: changeOf('InventoryBalance', OP.delete, { before: tshirtAtEast }),
      expected: [
        stockLevelChanged('TSHIRT-ORG-BLK-M@WH-EAST', {
          sku: 'TSHIRT-ORG-BLK-M',
          location: 'WH-EAST',
          onHand: '480.000',
          reserved: '12.000',
          safetyStock: '50.000',
          available: '418.000',
          removed: true,
        }),
      ],
    },
  ])('$given', ({ change, expected }) => {
    expect(stage.apply(change)).toEqual({ kind: 'emit', events: expected });
  });

  it.each([
    {
      given: 'a recount that changes no quantity',
      change: changeOf('InventoryBalance', OP.update, {
        before: tshirtAtEast,
        after: { ...tshirtAtEast, LastCountedAt: '2026-11-27T07:00:00.0000000+01:00' },
      }),
      reason: 'QtyOnHand, QtyAllocated, SafetyStock unchanged',
    },
    {
      given: 'quantities rewritten with another scale but the same value',
      change: changeOf('InventoryBalance', OP.update, {
        before: tshirtAtEast,
        after: { ...tshirtAtEast, QtyOnHand: '480', QtyAllocated: '12.0' },
      }),
      reason: 'QtyOnHand, QtyAllocated, SafetyStock unchanged',
    },
    {
      given: 'a truncate of the table',
      change: changeOf('InventoryBalance', OP.truncate, { key: {} }),
      reason:
        'Truncate of ErpDemo.dbo.InventoryBalance carries no rows; re-snapshot the table to rebuild what was derived from it',
    },
  ])('skips $given', ({ change, reason }) => {
    expect(stage.apply(change)).toEqual({ kind: 'skip', reason });
  });

  it.each([
    {
      given: 'an insert without QtyOnHand',
      change: changeOf('InventoryBalance', OP.create, {
        after: { Sku: 'TSHIRT-ORG-BLK-M', LocationCode: 'WH-EAST', QtyAllocated: '12.000', SafetyStock: '50.000' },
      }),
      message: `Missing column QtyOnHand in ErpDemo.dbo.InventoryBalance key ${TSHIRT_KEY}`,
    },
    {
      given: 'a quantity decoded as a float',
      change: changeOf('InventoryBalance', OP.create, { after: { ...tshirtAtEast, QtyAllocated: 12.5 } }),
      message: `Invalid column QtyAllocated in ErpDemo.dbo.InventoryBalance key ${TSHIRT_KEY}: expected a decimal string with at most 3 decimals, got 12.5`,
    },
    {
      given: 'a quantity with more decimals than scale 3',
      change: changeOf('InventoryBalance', OP.create, { after: { ...tshirtAtEast, SafetyStock: '50.0005' } }),
      message: `Invalid column SafetyStock in ErpDemo.dbo.InventoryBalance key ${TSHIRT_KEY}: expected a decimal string with at most 3 decimals, got "50.0005"`,
    },
    {
      given: 'a blank SKU',
      change: changeOf('InventoryBalance', OP.create, { after: { ...tshirtAtEast, Sku: '  ' } }),
      message:
        'Invalid column Sku in ErpDemo.dbo.InventoryBalance key {"Sku":"  ","LocationCode":"WH-EAST"}: expected a non-blank string, got "  "',
    },
    {
      given: 'an update whose before image lacks QtyOnHand',
      change: changeOf('InventoryBalance', OP.update, {
        before: { Sku: 'TSHIRT-ORG-BLK-M', LocationCode: 'WH-EAST' },
        after: tshirtAtEast,
      }),
      message: `Missing column QtyOnHand in the before image of ErpDemo.dbo.InventoryBalance key ${TSHIRT_KEY}`,
    },
    {
      given: 'a delete without a before image',
      change: changeOf('InventoryBalance', OP.delete, {
        key: { Sku: 'TSHIRT-ORG-BLK-M', LocationCode: 'WH-EAST' },
      }),
      message: `No before image in ErpDemo.dbo.InventoryBalance key ${TSHIRT_KEY}; the source must log full before images (PostgreSQL: ALTER TABLE … REPLICA IDENTITY FULL)`,
    },
  ])('fails $given, naming column, table and key', ({ change, message }) => {
    const error = failureOf(stage.apply(change));
    expect(error).toBeInstanceOf(TransformError);
    expect(error.message).toBe(message);
    expect(error.location).toEqual({ stage: 'stock_level' });
  });

  it('gives a replayed change the same events, ids included', () => {
    const change = changeOf('InventoryBalance', OP.update, {
      before: tshirtAtEast,
      after: { ...tshirtAtEast, QtyOnHand: '470.000' },
    });
    expect(stage.apply(structuredClone(change))).toEqual(stage.apply(change));
  });

  it('gives the same row change at another position another id', () => {
    const idAt = (position: string) =>
      eventsOf(stage.apply(changeOf('InventoryBalance', OP.create, { after: tshirtAtEast, position })))[0]?.meta
        .eventId;
    expect(idAt('mssql:000000270000075800050000002700000750000300000001')).not.toBe(
      idAt('mssql:000000270000076000020000002700000760000100000001'),
    );
  });
});
